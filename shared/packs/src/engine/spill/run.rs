//! The three steps run here: partition files in a folder of their own, evaluated a few at a
//! time on threads, merged as they finish.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::super::input::Format;
use super::super::{Evaluation, RuleRun, Schema};
use super::{evaluate_part, partition, Merger, SpillError, SpillOptions};

/// [`evaluate`](super::super::evaluate) over the records of `reader` (NDJSON or CSV,
/// decompressed), which need not fit in memory: they are partitioned into files in a new folder
/// in `options.dir`, the files evaluated at most `options.threads` at a time, and the results
/// merged. The folder is removed when done, also on error. Bad input is the error
/// [`input::parse`](super::super::input::parse) gives for the same bytes.
pub fn evaluate_spilled(
    rules: &[RuleRun],
    schema: &Schema,
    format: Format,
    reader: impl Read,
    now: DateTime<Utc>,
    keep: usize,
    options: &SpillOptions,
) -> Result<Evaluation, SpillError> {
    let folder = Folder::create(options)?;
    let options = SpillOptions {
        dir: folder.0.clone(),
        ..options.clone()
    };
    let manifest = partition(rules, schema, format, reader, &options)?;
    let tasks = manifest.tasks();
    let merger = Mutex::new(Merger::new(rules, &manifest, keep)?);
    let failed: Mutex<Option<SpillError>> = Mutex::new(None);
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..options.threads.clamp(1, tasks.len().max(1)) {
            // Each thread takes the next file until none is left (or one has failed): at most
            // `threads` partitions are in memory at once.
            scope.spawn(|| {
                while let Some(task) = tasks.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if failed.lock().expect("not poisoned").is_some() {
                        return;
                    }
                    let path = options.dir.join(&task.file);
                    let part = File::open(&path)
                        .map_err(SpillError::io(path))
                        .and_then(|file| evaluate_part(rules, schema, task, file, now, keep))
                        .and_then(|part| merger.lock().expect("not poisoned").add(part));
                    if let Err(e) = part {
                        failed.lock().expect("not poisoned").get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().expect("not poisoned") {
        return Err(e);
    }
    merger.into_inner().expect("not poisoned").finish()
}

/// A folder of this run's own, removed with what it holds when dropped.
struct Folder(PathBuf);

impl Folder {
    fn create(options: &SpillOptions) -> Result<Folder, SpillError> {
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        std::fs::create_dir_all(&options.dir).map_err(SpillError::io(options.dir.clone()))?;
        let path = options.dir.join(format!(
            "spill-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&path).map_err(SpillError::io(path.clone()))?;
        Ok(Folder(path))
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
