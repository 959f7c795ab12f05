//! The partition step: the input streamed once into a set of files per class of rules.

use std::fs::File;
use std::hash::Hasher;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rustc_hash::FxHasher;

use super::super::input::Format;
use super::super::partition::{classes, mix, Class, Split};
use super::super::records::{Kind, Records};
use super::super::{RuleRun, Schema};
use super::batches::Batches;
use super::codec::encode;
use super::manifest::{field_names, rule_ids, ClassFiles, Manifest, PartFile, SplitBy};
use super::{SpillError, SpillOptions};

/// Streams records from `reader` (NDJSON or CSV, decompressed) into partition files in
/// `options.dir`: `options.partitions` files per class of rules (one for rules that need every
/// record at once), named `c{class}-p{part}.records`. Bad input is the error
/// [`input::parse`](super::super::input::parse) gives for the same bytes; on any error the
/// files written are removed.
pub fn partition(
    rules: &[RuleRun],
    schema: &Schema,
    format: Format,
    reader: impl Read,
    options: &SpillOptions,
) -> Result<Manifest, SpillError> {
    // Compiled as `evaluate` compiles them: a rule that reads a field the schema lacks is the
    // same error (reported before the input is read, where `evaluate` reads it first).
    let classes = classes(rules, &Records::new(schema)).map_err(SpillError::Rules)?;
    std::fs::create_dir_all(&options.dir).map_err(SpillError::io(options.dir.clone()))?;
    let mut routes: Vec<Route> = Vec::with_capacity(classes.len());
    for class in &classes {
        let first = routes.last().map_or(0, |r: &Route| r.first + r.parts);
        routes.push(Route::of(class, options.partitions.max(1), first));
    }
    let files = Files::create(&options.dir, &routes)?;
    let mut input = Batches::new(schema, format, reader, options.batch_bytes, options.threads)?;
    // The files are written on a thread of their own while the next batch is read.
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Spilled>>(1);
    let (read, files) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || {
            let mut files = files;
            for runs in receive {
                for run in &runs {
                    files.write(run)?;
                }
            }
            Ok::<Files, SpillError>(files)
        });
        let read = (|| {
            let mut whole = 0;
            while let Some(runs) = input.next(|records| Spilled::of(&records, &routes))? {
                for (class, route) in classes.iter().zip(&routes) {
                    if route.split != Split::Whole {
                        continue;
                    }
                    whole += runs.iter().map(|run| run.files[route.first].1).sum::<u64>();
                    if whole > options.whole_max_records {
                        return Err(SpillError::WholeTooLarge {
                            rules: class
                                .rules
                                .iter()
                                .map(|&i| rules[i].rule.rule_id.clone())
                                .collect(),
                            limit: options.whole_max_records,
                        });
                    }
                }
                if send.send(runs).is_err() {
                    // The writer failed: its error is the one reported.
                    break;
                }
            }
            Ok(input.bytes_read())
        })();
        drop(send);
        let files = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (read, files)
    });
    // On an error the files are dropped unfinished, which removes them.
    let files = files?;
    let bytes_read = read?;
    files.finish(&classes, &routes, schema, rules, bytes_read)
}

/// Where a class's records go.
struct Route {
    split: Split,
    parts: usize,
    /// The class's first file among all.
    first: usize,
}

impl Route {
    fn of(class: &Class, partitions: usize, first: usize) -> Route {
        Route {
            split: class.split,
            parts: match class.split {
                Split::Whole => 1,
                _ => partitions,
            },
            first,
        }
    }

    /// The part record `r` goes to. A group's records share their value of the field, so they
    /// share its hash: the value's content is hashed (a string's text, not the id it has in this
    /// batch's table). A record in no group goes where its id sends it.
    fn part(&self, records: &Records, r: usize) -> usize {
        let hash = match self.split {
            Split::Whole => return 0,
            Split::By(slot) => match records.get(r, slot).filter(|c| c.is_scalar()) {
                Some(c) if c.kind == Kind::Str => text_hash(records.strings.text(c.bits as u32)),
                Some(c) => c.bits ^ ((c.kind as u64) << 56),
                None => text_hash(records.id(r)),
            },
            Split::Anyhow => text_hash(records.id(r)),
        };
        (mix(hash) % self.parts as u64) as usize
    }
}

fn text_hash(text: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(text.as_bytes());
    h.finish()
}

/// A run of records encoded for each file they go to.
struct Spilled {
    records: u64,
    /// Per file (all classes' files, in order): the records' bytes and their count.
    files: Vec<(Vec<u8>, u64)>,
}

impl Spilled {
    fn of(records: &Records, routes: &[Route]) -> Spilled {
        let total: usize = routes.iter().map(|r| r.parts).sum();
        let mut files: Vec<(Vec<u8>, u64)> = vec![(Vec::new(), 0); total];
        let mut record = Vec::with_capacity(256);
        for r in 0..records.len() {
            record.clear();
            encode(records, r, &mut record);
            for route in routes {
                let (bytes, count) = &mut files[route.first + route.part(records, r)];
                bytes.extend_from_slice(&record);
                *count += 1;
            }
        }
        Spilled {
            records: records.len() as u64,
            files,
        }
    }
}

/// The partition files being written; removed when dropped unfinished (after an error).
struct Files {
    paths: Vec<PathBuf>,
    open: Vec<File>,
    /// Per file: records and bytes written.
    counts: Vec<(u64, u64)>,
    /// Records read.
    records: u64,
    finished: bool,
}

impl Files {
    fn create(dir: &Path, routes: &[Route]) -> Result<Files, SpillError> {
        let mut files = Files {
            paths: Vec::new(),
            open: Vec::new(),
            counts: Vec::new(),
            records: 0,
            finished: false,
        };
        for (c, route) in routes.iter().enumerate() {
            for p in 0..route.parts {
                let path = dir.join(format!("c{c}-p{p}.records"));
                let file = File::create(&path).map_err(SpillError::io(path.clone()))?;
                files.paths.push(path);
                files.open.push(file);
                files.counts.push((0, 0));
            }
        }
        Ok(files)
    }

    fn write(&mut self, run: &Spilled) -> Result<(), SpillError> {
        self.records += run.records;
        for (i, (bytes, count)) in run.files.iter().enumerate() {
            if *count > 0 {
                self.open[i]
                    .write_all(bytes)
                    .map_err(SpillError::io(self.paths[i].clone()))?;
                self.counts[i].0 += count;
                self.counts[i].1 += bytes.len() as u64;
            }
        }
        Ok(())
    }

    fn finish(
        mut self,
        classes: &[Class],
        routes: &[Route],
        schema: &Schema,
        rules: &[RuleRun],
        bytes_read: u64,
    ) -> Result<Manifest, SpillError> {
        let mut next = 0;
        let mut manifest = Manifest {
            fields: field_names(schema),
            rule_ids: rule_ids(rules),
            records: self.records,
            bytes_read,
            classes: Vec::new(),
        };
        for (class, route) in classes.iter().zip(routes) {
            let parts: Vec<PartFile> = (next..next + route.parts)
                .map(|i| PartFile {
                    file: file_name(&self.paths[i]),
                    records: self.counts[i].0,
                    bytes: self.counts[i].1,
                })
                .collect();
            next += route.parts;
            manifest.classes.push(ClassFiles {
                split: match class.split {
                    Split::By(slot) => SplitBy::Field(schema.spec(slot).field.clone()),
                    Split::Anyhow => SplitBy::Anyhow,
                    Split::Whole => SplitBy::Whole,
                },
                rules: class.rules.clone(),
                parts,
            });
        }
        self.finished = true;
        Ok(manifest)
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("a file")
        .to_string_lossy()
        .into_owned()
}

impl Drop for Files {
    fn drop(&mut self) {
        if !self.finished {
            for path in &self.paths {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
