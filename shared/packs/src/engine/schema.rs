//! The record fields a rule set reads, with their types: what `GET /api/policy-packs/{type}`
//! publishes, how CSV cells are typed, and what a value of the wrong type is measured against.
//!
//! A field's type follows from how the conditions use it: ordered comparisons, `between`, sums,
//! averages, minima and maxima need a number; `within` needs timestamps; `eq`, `ne`, `in`,
//! `not_in` take the type of their literal (strings for named lists). `exists`, `count` with a
//! field, group keys and `count_distinct` accept any value. Two rules of a pack that read one
//! field as different types are an error in the pack.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::Value;

use crate::condition::{AggFn, Condition, Op, Operand};
use crate::Rule;

/// The type a field's values must have for the rules to read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Number,
    Boolean,
    String,
    /// An RFC 3339 date-time string, e.g. `2025-03-03T10:00:00Z`.
    Timestamp,
    /// Any JSON value: only its presence, or its equality with other values, matters.
    Any,
}

impl FieldType {
    fn of_literal(v: &Value) -> FieldType {
        match v {
            Value::Bool(_) => FieldType::Boolean,
            Value::Number(_) => FieldType::Number,
            Value::String(_) => FieldType::String,
            _ => FieldType::Any,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::String => "string",
            FieldType::Timestamp => "timestamp",
            FieldType::Any => "any",
        }
    }
}

/// The field every record is cited by in findings.
pub const ID_FIELD: &str = "id";
/// The field windowed rules read a record's time from.
pub const TIME_FIELD: &str = "timestamp";
/// A pack may read at most this many fields (a record's present fields are one bit mask).
pub const MAX_FIELDS: usize = 128;

/// A slot: the index of a field in its schema.
pub(crate) type Slot = u8;

/// One field of a schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldSpec {
    /// The field path (`amount_usd`, `account.owner_id`).
    pub field: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// The rules that read it, in rule order.
    pub rules: Vec<String>,
    /// Whether some rule reads the value rather than only testing presence.
    #[serde(skip)]
    pub(crate) value_read: bool,
}

/// How a JSON object's keys lead to slots: a leaf is a field, a branch the object of a dotted
/// path's prefix. The sender's keys are only looked up here, never inserted, so a table holds the
/// pack's fields alone and a lookup compares with at most that many keys, however the key hashes.
#[derive(Debug, Default)]
pub(crate) struct PathTree {
    pub(crate) children: FxHashMap<String, PathNode>,
}

#[derive(Debug)]
pub(crate) enum PathNode {
    Leaf(Slot),
    Branch(PathTree),
}

/// The fields a rule set reads, sorted by path; a field's slot is its position.
#[derive(Debug)]
pub struct Schema {
    fields: Vec<FieldSpec>,
    slots: FxHashMap<String, Slot>,
    pub(crate) tree: PathTree,
}

impl Schema {
    /// The schema of `rules`; an error names the field and the rules that disagree on its type.
    pub fn for_rules<'r>(rules: impl IntoIterator<Item = &'r Rule>) -> Result<Schema, String> {
        let mut fields: BTreeMap<String, FieldSpec> = BTreeMap::new();
        for rule in rules {
            let mut uses = Vec::new();
            uses_of(&rule.conditions, &mut uses);
            if rule
                .conditions
                .any_node(|c| matches!(c, Condition::Aggregate { .. }))
            {
                uses.push((TIME_FIELD, FieldType::Timestamp, true));
            }
            for (path, ty, value_read) in uses {
                if path == ID_FIELD {
                    return Err(format!(
                        "rule {}: '{ID_FIELD}' is the record's id, not a field rules read",
                        rule.rule_id
                    ));
                }
                let spec = fields.entry(path.to_string()).or_insert_with(|| FieldSpec {
                    field: path.to_string(),
                    ty,
                    rules: Vec::new(),
                    value_read: false,
                });
                spec.ty = match (spec.ty, ty) {
                    (a, b) if a == b => a,
                    (FieldType::Any, b) => b,
                    (a, FieldType::Any) => a,
                    (a, b) => {
                        return Err(format!(
                            "field '{path}': read as {} by {} and as {} by {}",
                            a.as_str(),
                            spec.rules.join(", "),
                            b.as_str(),
                            rule.rule_id
                        ))
                    }
                };
                spec.value_read |= value_read;
                if spec.rules.last() != Some(&rule.rule_id) {
                    spec.rules.push(rule.rule_id.clone());
                }
            }
        }
        if fields.len() > MAX_FIELDS {
            return Err(format!(
                "the rules read {} fields, more than {MAX_FIELDS}",
                fields.len()
            ));
        }
        let fields: Vec<FieldSpec> = fields.into_values().collect();
        let mut slots = FxHashMap::default();
        let mut tree = PathTree::default();
        for (slot, spec) in fields.iter().enumerate() {
            let slot = slot as Slot;
            slots.insert(spec.field.clone(), slot);
            insert_path(&mut tree, &spec.field, slot)?;
        }
        Ok(Schema {
            fields,
            slots,
            tree,
        })
    }

    /// The fields, sorted by path.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    pub(crate) fn slot(&self, path: &str) -> Option<Slot> {
        self.slots.get(path).copied()
    }

    pub(crate) fn spec(&self, slot: Slot) -> &FieldSpec {
        &self.fields[usize::from(slot)]
    }
}

fn insert_path(tree: &mut PathTree, path: &str, slot: Slot) -> Result<(), String> {
    let conflict = || format!("field '{path}': a field and an object path at once");
    match path.split_once('.') {
        None => match tree.children.insert(path.to_string(), PathNode::Leaf(slot)) {
            None => Ok(()),
            Some(_) => Err(conflict()),
        },
        Some((head, rest)) => {
            let node = tree
                .children
                .entry(head.to_string())
                .or_insert_with(|| PathNode::Branch(PathTree::default()));
            match node {
                PathNode::Branch(sub) => insert_path(sub, rest, slot),
                PathNode::Leaf(_) => Err(conflict()),
            }
        }
    }
}

/// Every field a condition reads: `(path, type, whether the value is read)`.
fn uses_of<'c>(c: &'c Condition, uses: &mut Vec<(&'c str, FieldType, bool)>) {
    c.walk(&mut |node| match node {
        Condition::Compare { field, op, value } => {
            let (ty, value_read) = match (op, value) {
                (Op::Exists, _) => (FieldType::Any, false),
                (Op::Gt | Op::Gte | Op::Lt | Op::Lte | Op::Between, _) => (FieldType::Number, true),
                (_, Operand::Threshold { .. }) => (FieldType::Number, true),
                (_, Operand::List(_)) => (FieldType::String, true),
                (Op::Contains, _) => (FieldType::Any, true),
                (_, Operand::Literal(Value::Array(items))) => {
                    let first = items.first().map_or(FieldType::Any, FieldType::of_literal);
                    let same = items.iter().all(|i| FieldType::of_literal(i) == first);
                    (if same { first } else { FieldType::Any }, true)
                }
                (_, Operand::Literal(v)) => (FieldType::of_literal(v), true),
            };
            uses.push((field, ty, value_read));
        }
        Condition::Aggregate {
            func,
            field,
            group_by,
            ..
        } => {
            if let Some(field) = field {
                let use_ = match func {
                    AggFn::Count => (FieldType::Any, false),
                    AggFn::CountDistinct => (FieldType::Any, true),
                    AggFn::Sum | AggFn::Avg | AggFn::Min | AggFn::Max => (FieldType::Number, true),
                };
                uses.push((field, use_.0, use_.1));
            }
            uses.extend(group_by.iter().map(|g| (g.as_str(), FieldType::Any, true)));
        }
        Condition::Within { from, to } => {
            uses.push((from, FieldType::Timestamp, true));
            uses.extend(to.iter().map(|t| (t.as_str(), FieldType::Timestamp, true)));
        }
        _ => {}
    });
}
