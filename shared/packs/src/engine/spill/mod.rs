//! Runs of any size in bounded memory: the records are streamed once into partition files on
//! disk, each file is evaluated on its own, and the parts' results are merged into exactly the
//! [`Evaluation`](super::Evaluation) that [`evaluate`](super::evaluate) gives over all the records in memory.
//!
//! The three steps are the same code whether they run here on a thread pool
//! ([`evaluate_spilled`]) or as separate processes (a Step Functions distributed map: one
//! [`partition`] function, one [`evaluate_part`] per partition file, one [`merge`]); what passes
//! between them is serde-serialisable: the [`Manifest`], a [`PartTask`] per file, a
//! [`PartResult`] per part.
//!
//! 1. [`partition`] reads NDJSON or CSV from any reader in one pass, in batches, with the same
//!    readers as a body in memory (so the same records, and for bad input the same
//!    [`InputError`]: the first bad line or row). Each record is written, as
//!    its typed cells (`codec`), into one file of each *class* of rules (`partition::classes`:
//!    one class per field the rules' aggregates group by), chosen by a hash of the record's
//!    value of that field, so that every group of every aggregate lies in one file; a record
//!    without a scalar value there is in no group and goes to a file chosen by its id.
//! 2. [`evaluate_part`] reads one file back and evaluates its class's rules, keeping each part's
//!    first `keep` findings with an *order key* made of the subject record's content (`codec`),
//!    whose order is the order the whole evaluation sorts findings by.
//! 3. [`merge`] adds the counts and keeps the first `keep` findings of all parts by (rule rank,
//!    order key), which is the whole evaluation's order (the same `engine::merge` as
//!    `evaluate_partitioned`).
//!
//! Wiring it as separate processes: the partition function calls [`partition`] on the
//! decompressed object stream with [`SpillOptions::new`] (from the object's size), uploads the
//! files of [`Manifest::tasks`] and the manifest; the distributed map hands each evaluating
//! function one [`PartTask`] (JSON), which downloads that one file and calls [`evaluate_part`];
//! its [`PartResult`] (up to `keep` findings per part: megabytes, so written to S3 rather than
//! returned in the state's payload) is read by the merge step, which feeds them one at a time to
//! a [`Merger`]. Every step is given the same rules (with the audit's thresholds), schema, `now`
//! and `keep`; the manifest, tasks and results carry the rule ids and fields they were made for,
//! and a step given another run's is refused ([`SpillError::Mismatch`]), as is a merge missing a
//! part or given one twice.
//!
//! Resources: the partition step holds a few batches ([`SpillOptions::batch_bytes`]) and keeps
//! `partitions` × classes files open; the files take about 0.35 × the NDJSON per class (AML: two
//! classes, `customer_id` and `account_id`); an evaluation holds one file's records, about
//! 96 MiB at its peak (the memory `partitions_for` plans for).
//!
//! A rule whose aggregate groups by no field (or by fields its aggregates do not share) needs
//! every record at once: it is a class of its own with a single partition file, evaluated in
//! memory like the others, so its size is bounded ([`SpillOptions::whole_max_records`]) and a
//! run past the bound is refused ([`SpillError::WholeTooLarge`]) rather than allowed to exhaust
//! memory. No rule of the built-in packs (AML, GDPR, SOC 2) is of that kind: all their
//! aggregates group by `customer_id`, `account_id`, `user_id` or `service_id`.

mod batches;
mod codec;
mod manifest;
mod merged;
mod part;
mod run;
mod write;

use std::fmt;
use std::path::PathBuf;

pub use manifest::{ClassFiles, Manifest, PartFile, PartTask, SplitBy};
pub use merged::{merge, Merger};
pub use part::{evaluate_part, PartFinding, PartResult, RuleCounts};
pub use run::evaluate_spilled;
pub use write::partition;

#[cfg(test)]
pub(crate) use codec::order_key;

/// Reads a whole partition file's records; `None` if it is not one.
#[cfg(test)]
pub(crate) fn decode_all(bytes: &[u8], records: &mut super::Records) -> Option<()> {
    let mut recent = codec::Recent::new(records);
    (codec::decode(bytes, records, &mut recent).ok()? == bytes.len()).then_some(())
}

use super::input::InputError;

/// Memory an evaluation takes per byte of NDJSON it reads, at its peak: ≈ 470 bytes per AML
/// transaction of ≈ 249 bytes (`docs/audit-runs.md`), rounded up.
const MEMORY_PER_INPUT_BYTE: u64 = 2;
/// The memory one partition's evaluation is planned to take (the brief: 64–128 MB).
const PART_MEMORY: u64 = 96 << 20;

/// How many partitions (per class of rules) keep each partition's evaluation at about
/// 96 MiB for an input of `input_bytes` (NDJSON; CSV is denser, so its partitions are
/// larger but still within twice that). One for an input up to about 48 MB.
pub fn partitions_for(input_bytes: u64) -> usize {
    let memory = input_bytes.saturating_mul(MEMORY_PER_INPUT_BYTE);
    usize::try_from(memory.div_ceil(PART_MEMORY))
        .unwrap_or(usize::MAX)
        .max(1)
}

/// How a run is spilled.
#[derive(Debug, Clone)]
pub struct SpillOptions {
    /// Where partition files are written ([`evaluate_spilled`] makes a folder of its own in it
    /// and removes it when done).
    pub dir: PathBuf,
    /// Partition files per class of rules ([`partitions_for`]).
    pub partitions: usize,
    /// Threads reading NDJSON, and partitions evaluated at once by [`evaluate_spilled`].
    pub threads: usize,
    /// Input read per batch (more for a line longer than this): the reading's memory is a few
    /// times this.
    pub batch_bytes: usize,
    /// The most records a rule that needs all of them at once is evaluated over.
    pub whole_max_records: u64,
}

impl SpillOptions {
    /// Options for an input of `input_bytes` (its length, or an estimate), read and evaluated on
    /// `threads` threads, spilled into `dir`.
    pub fn new(dir: impl Into<PathBuf>, input_bytes: u64, threads: usize) -> Self {
        SpillOptions {
            dir: dir.into(),
            partitions: partitions_for(input_bytes),
            threads: threads.max(1),
            batch_bytes: 8 << 20,
            // About 250 MB at the evaluation's peak (≈ 0.5 KB a record).
            whole_max_records: 500_000,
        }
    }
}

/// Why a spilled run failed.
#[derive(Debug)]
pub enum SpillError {
    /// The input could not be read: exactly what [`input::parse`](super::input::parse) says of
    /// the same bytes.
    Input(InputError),
    /// A rule cannot be evaluated against the schema: what [`evaluate`](super::evaluate) says.
    Rules(String),
    /// More records than [`SpillOptions::whole_max_records`] for rules that need every record
    /// at once.
    WholeTooLarge { rules: Vec<String>, limit: u64 },
    /// Reading the input, or writing or reading a partition file.
    Io {
        path: Option<PathBuf>,
        error: std::io::Error,
    },
    /// A partition file, task, or part result that does not belong to this run or is not
    /// whole: the steps were given each other's files or results, or one is missing.
    Mismatch(String),
}

impl SpillError {
    pub(crate) fn io(path: impl Into<Option<PathBuf>>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |error| SpillError::Io { path, error }
    }
}

impl fmt::Display for SpillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpillError::Input(e) => e.fmt(f),
            SpillError::Rules(e) => f.write_str(e),
            SpillError::WholeTooLarge { rules, limit } => write!(
                f,
                "rules {} aggregate over all records at once, which is possible for at most \
                 {limit} records",
                rules.join(", ")
            ),
            SpillError::Io {
                path: Some(path),
                error,
            } => write!(f, "{}: {error}", path.display()),
            SpillError::Io { path: None, error } => write!(f, "reading the input: {error}"),
            SpillError::Mismatch(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for SpillError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SpillError::Input(e) => Some(e),
            SpillError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<InputError> for SpillError {
    fn from(e: InputError) -> Self {
        SpillError::Input(e)
    }
}
