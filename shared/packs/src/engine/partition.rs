//! Partitioned evaluation: the records split so that each part can be evaluated on its own (on
//! another thread here; in another process later), and the parts' results merged into exactly
//! the [`Evaluation`] of [`evaluate`] over all the records.
//!
//! A windowed aggregate only counts records that share the subject's value of every `group_by`
//! field, and a record without a scalar value for one of them is in no group (`aggregate::group`).
//! So for a rule whose aggregates all group by a field `f`, records routed by a hash of their
//! `f` value keep every group whole: each part computes each aggregate as the whole would. A
//! record without a scalar `f` is in no group of that rule and is judged on its own, so it can go
//! to any part. A rule without aggregates judges every record alone, so any split serves it. A
//! rule with an aggregate over all records (no `group_by`), or whose aggregates share no field,
//! needs every record: it is evaluated whole, beside the parts.
//!
//! Rules that can share a routing field are evaluated together (one split of the records per
//! field), and each part keeps its first `keep` findings per rule in canonical order; merging
//! adds the counts and takes, rule after rule, the first findings of all parts in the canonical
//! order of the whole record set, which depends only on the records' content (`merge`, shared
//! with `spill`, which splits records streamed from disk by the same classes).

use std::cmp::Reverse;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::compile::Compiler;
use super::merge::Merge;
use super::records::Records;
use super::schema::Slot;
use super::{evaluate, evaluate_with_subjects, Evaluation, Finding, RuleRun};

/// How many parts (and threads) a run uses by default: the cores this process may use.
pub fn default_partitions() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How the records are split for a set of rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Split {
    /// By a hash of the field's value.
    By(Slot),
    /// In runs of consecutive records: the rules judge each record alone.
    Anyhow,
    /// Not at all: the rules aggregate over records of different values of every field.
    Whole,
}

/// Rules evaluated together, over one split of the records.
pub(crate) struct Class {
    pub(crate) split: Split,
    /// Indices into the run's rules, ascending.
    pub(crate) rules: Vec<usize>,
}

/// One evaluation to run: a class's rules over one part of the records (`None`: all of them).
struct Job {
    class: usize,
    picks: Option<Vec<u32>>,
}

/// What a job found: per rule (of the run) its counts, and its findings with their subjects (as
/// indices into the whole record set).
struct Found {
    counts: Vec<(usize, [u64; 3])>,
    findings: Vec<(usize, usize, Finding)>,
}

/// [`evaluate`], with the records split into `partitions` parts evaluated on as many threads;
/// the result is the same, to the order of the findings and the `keep` cut.
pub fn evaluate_partitioned(
    rules: &[RuleRun],
    records: &Records,
    now: DateTime<Utc>,
    keep: usize,
    partitions: usize,
) -> Result<Evaluation, String> {
    if partitions <= 1 {
        return evaluate(rules, records, now, keep);
    }
    let classes = classes(rules, records)?;
    let mut jobs = Vec::new();
    for (c, class) in classes.iter().enumerate() {
        match class.split {
            Split::Whole => jobs.push(Job {
                class: c,
                picks: None,
            }),
            split => jobs.extend(split_records(records, split, partitions).into_iter().map(
                |picks| Job {
                    class: c,
                    picks: Some(picks),
                },
            )),
        }
    }

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Result<Found, String>>> = Mutex::new(Vec::with_capacity(jobs.len()));
    std::thread::scope(|scope| {
        for _ in 0..partitions.min(jobs.len()) {
            // Each thread takes the next job until none is left, so a slow part (a large
            // group) does not hold up the jobs behind it.
            scope.spawn(|| {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let found = run(job, &classes[job.class].rules, rules, records, now, keep);
                    results
                        .lock()
                        .expect("no job panics holding it")
                        .push(found);
                }
            });
        }
    });

    let mut merge = Merge::new(rules, keep);
    let by_content = |a: &usize, b: &usize| records.compare(*a, *b);
    for result in results.into_inner().expect("no job panicked") {
        let result = result?;
        for (rule, counts) in result.counts {
            merge.count(rule, counts);
        }
        for (rule, record, finding) in result.findings {
            merge.find(rule, record, finding, by_content);
        }
    }
    Ok(merge.finish(rules, records.len() as u64, by_content))
}

/// Evaluates a job's rules over its records.
fn run(
    job: &Job,
    class: &[usize],
    rules: &[RuleRun],
    records: &Records,
    now: DateTime<Utc>,
    keep: usize,
) -> Result<Found, String> {
    let subset;
    let part = match &job.picks {
        Some(picks) => {
            subset = records.subset(picks);
            &subset
        }
        None => records,
    };
    let runs: Vec<RuleRun> = class.iter().map(|&i| rules[i]).collect();
    let (evaluation, subjects) = evaluate_with_subjects(&runs, part, now, keep)?;
    let whole = |r: usize| job.picks.as_ref().map_or(r, |p| p[r] as usize);
    Ok(Found {
        counts: class
            .iter()
            .zip(&evaluation.rules)
            .map(|(&i, o)| (i, [o.evaluated - o.findings, o.findings, o.not_evaluable]))
            .collect(),
        findings: subjects
            .into_iter()
            .zip(evaluation.findings)
            .map(|((rule, r), finding)| (class[rule], whole(r), finding))
            .collect(),
    })
}

/// The rules grouped by how the records can be split for them. Each rule is compiled as
/// [`evaluate`] compiles it, so a rule that reads a field the schema lacks is the same error.
pub(crate) fn classes(rules: &[RuleRun], records: &Records) -> Result<Vec<Class>, String> {
    // The fields each rule's aggregates all group by (None: the rule has no aggregate).
    let mut keys: Vec<Option<Vec<Slot>>> = Vec::with_capacity(rules.len());
    for run in rules {
        let mut compiler = Compiler::new(records);
        compiler
            .rule(&run.rule.conditions, run.threshold, run.rule.time_window)
            .map_err(|e| format!("rule {}: {e}", run.rule.rule_id))?;
        let mut specs = compiler.aggregates.iter();
        keys.push(specs.next().map(|first| {
            let mut common = first.group_by.clone();
            for spec in specs {
                common.retain(|slot| spec.group_by.contains(slot));
            }
            common
        }));
    }
    // A field per rule, the fewest fields in all (greedily: the field most rules can use, the
    // first such field on a tie), so the records are split as few times as possible.
    let mut classes: Vec<Class> = Vec::new();
    let mut left: Vec<usize> = (0..rules.len())
        .filter(|&i| keys[i].as_ref().is_some_and(|k| !k.is_empty()))
        .collect();
    while !left.is_empty() {
        let mut fields: Vec<Slot> = left
            .iter()
            .flat_map(|&i| keys[i].iter().flatten().copied())
            .collect();
        fields.sort_unstable();
        fields.dedup();
        let uses = |f: Slot| {
            left.iter()
                .filter(|&&i| keys[i].as_ref().is_some_and(|k| k.contains(&f)))
                .count()
        };
        let field = fields
            .iter()
            .copied()
            .max_by_key(|&f| (uses(f), Reverse(f)))
            .expect("a rule left has a field");
        let (taken, rest) = left
            .iter()
            .partition(|&&i| keys[i].as_ref().is_some_and(|k| k.contains(&field)));
        classes.push(Class {
            split: Split::By(field),
            rules: taken,
        });
        left = rest;
    }
    // Rules without aggregates ride along with any split; with none, a split of their own.
    let alone: Vec<usize> = (0..rules.len()).filter(|&i| keys[i].is_none()).collect();
    if !alone.is_empty() {
        match classes.first_mut() {
            Some(class) => {
                class.rules.extend(alone);
                class.rules.sort_unstable();
            }
            None => classes.push(Class {
                split: Split::Anyhow,
                rules: alone,
            }),
        }
    }
    let whole: Vec<usize> = (0..rules.len())
        .filter(|&i| keys[i].as_ref().is_some_and(|k| k.is_empty()))
        .collect();
    if !whole.is_empty() {
        classes.push(Class {
            split: Split::Whole,
            rules: whole,
        });
    }
    Ok(classes)
}

/// The records of each part, in their order in the whole set (so that ties in time order within
/// a group fall as they do in the whole).
fn split_records(records: &Records, split: Split, parts: usize) -> Vec<Vec<u32>> {
    let n = records.len();
    let mut picks: Vec<Vec<u32>> = (0..parts)
        .map(|_| Vec::with_capacity(n / parts + 1))
        .collect();
    for r in 0..n {
        let part = match split {
            // A string's id stands for the string: the parts share the whole set's strings.
            Split::By(slot) => match records.get(r, slot).filter(|c| c.is_scalar()) {
                Some(c) => (mix(c.bits ^ ((c.kind as u64) << 56)) % parts as u64) as usize,
                // In no group of these rules: judged alone, wherever it goes.
                None => r % parts,
            },
            Split::Anyhow | Split::Whole => r * parts / n.max(1),
        };
        picks[part].push(r as u32);
    }
    picks
}

/// SplitMix64's finaliser: consecutive string ids and nearby numbers spread over the parts.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
