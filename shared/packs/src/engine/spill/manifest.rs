//! What the partition step wrote, for the steps after it (in this process or others).

use serde::{Deserialize, Serialize};

use super::super::{RuleRun, Schema};
use super::SpillError;

/// How a class's records were split over its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitBy {
    /// By a hash of the field's value (records without a scalar value: by their id).
    Field(String),
    /// By a hash of the record's id: the rules judge each record alone.
    Anyhow,
    /// Not at all: one file holds every record.
    Whole,
}

/// One partition file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartFile {
    /// Its name in the partition folder.
    pub file: String,
    pub records: u64,
    pub bytes: u64,
}

/// A class of rules evaluated over one split of the records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassFiles {
    pub split: SplitBy,
    /// The class's rules, as indices into the run's rules (ascending).
    pub rules: Vec<usize>,
    pub parts: Vec<PartFile>,
}

/// What [`partition`](super::partition) wrote: enough for another process to evaluate each file
/// and to merge the results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The schema's fields in slot order: the files' cells are by slot.
    pub fields: Vec<String>,
    /// The run's rules, in the order given.
    pub rule_ids: Vec<String>,
    /// Records read (each is in one file of every class).
    pub records: u64,
    /// Bytes read from the input.
    pub bytes_read: u64,
    pub classes: Vec<ClassFiles>,
}

/// One partition file to evaluate, with what its evaluation must check and needs: one item of a
/// distributed map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartTask {
    pub class: usize,
    pub part: usize,
    pub file: String,
    pub records: u64,
    pub bytes: u64,
    /// The class's rules, as indices into the run's rules.
    pub rules: Vec<usize>,
    pub fields: Vec<String>,
    pub rule_ids: Vec<String>,
}

impl Manifest {
    /// A task per partition file, class by class.
    pub fn tasks(&self) -> Vec<PartTask> {
        let mut tasks = Vec::new();
        for (c, class) in self.classes.iter().enumerate() {
            for (p, part) in class.parts.iter().enumerate() {
                tasks.push(PartTask {
                    class: c,
                    part: p,
                    file: part.file.clone(),
                    records: part.records,
                    bytes: part.bytes,
                    rules: class.rules.clone(),
                    fields: self.fields.clone(),
                    rule_ids: self.rule_ids.clone(),
                });
            }
        }
        tasks
    }
}

pub(crate) fn field_names(schema: &Schema) -> Vec<String> {
    schema.fields().iter().map(|f| f.field.clone()).collect()
}

pub(crate) fn rule_ids(rules: &[RuleRun]) -> Vec<String> {
    rules.iter().map(|r| r.rule.rule_id.clone()).collect()
}

/// Checks that files or results made for `fields` and `ids` are read with these rules and this
/// schema: their cells are by slot, their rules by index.
pub(crate) fn check_run(
    rules: &[RuleRun],
    schema: Option<&Schema>,
    fields: &[String],
    ids: &[String],
) -> Result<(), SpillError> {
    if rule_ids(rules) != ids {
        return Err(SpillError::Mismatch(format!(
            "made for the rules {ids:?}, not {:?}",
            rule_ids(rules)
        )));
    }
    if let Some(schema) = schema {
        if field_names(schema) != fields {
            return Err(SpillError::Mismatch(format!(
                "made for the fields {fields:?}, not {:?}",
                field_names(schema)
            )));
        }
    }
    Ok(())
}
