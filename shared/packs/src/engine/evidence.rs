//! Why a record is a finding: the conditions that decided it (for a false `all`, its false
//! members; for a false `any`, every member; through a `not`, the members that made the inner
//! condition true), each with what was observed, worded into one message.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::aggregate::{members, Grouping};
use super::compile::{within, AggregateSpec, Context, Node, Truth};
use super::outcome::{Finding, FindingWindow, Observation};
use super::records::NO_TIME;
use super::timestamp::format_micros;
use super::RuleRun;
use crate::condition::{Condition, Operand};

/// At most this many record ids per finding, the subject's included.
const MAX_RECORD_IDS: usize = 10;
/// How far back in a window the other records are looked for.
const MAX_SCAN: usize = 1_000;

pub(crate) struct Explainer<'a, 'r, 's> {
    pub(crate) ctx: &'a Context<'a, 's>,
    pub(crate) specs: &'a [AggregateSpec<'r>],
    pub(crate) values: &'a [Vec<f64>],
    pub(crate) groupings: &'a [Grouping],
    pub(crate) grouping_of: &'a [usize],
}

impl Explainer<'_, '_, '_> {
    pub(crate) fn finding(&self, run: &RuleRun, node: &Node, r: usize) -> Finding {
        let records = self.ctx.records;
        let mut leaves = Vec::new();
        decisive(node, r, self.ctx, Truth::False, &mut leaves);
        let threshold = run.threshold;
        let mut observed = Vec::new();
        let mut phrases = Vec::new();
        let mut record_ids = vec![records.id(r).to_string()];
        let mut group = None;
        let mut window = None;
        for (leaf, holds) in leaves {
            let condition = describe(leaf_source(leaf), threshold, run.rule.time_window);
            let (value, phrase) =
                match leaf {
                    Node::Compare { slot, .. } | Node::Exists { slot, .. } => {
                        let field = &records.schema.spec(*slot).field;
                        let cell = records.get(r, *slot);
                        let value = records.render(cell);
                        let phrase = match (cell, leaf) {
                            (None, _) => format!("{field} is missing"),
                            (Some(_), Node::Exists { .. }) => format!("{field} is present"),
                            (Some(_), _) => format!("{field} = {value}"),
                        };
                        (value, phrase)
                    }
                    Node::Aggregate { index, source } => {
                        let spec = &self.specs[*index];
                        let v = self.values[*index][r];
                        let value = if v.is_nan() { Value::Null } else { json!(v) };
                        let Condition::Aggregate {
                            op, value: operand, ..
                        } = source
                        else {
                            unreachable!("an aggregate node comes from an aggregate condition")
                        };
                        let limit = format!("{op} {}", operand_text(operand, threshold));
                        let phrase = format!(
                            "{} = {} ({}{limit})",
                            aggregate_text(source, spec),
                            number_text(v),
                            if holds { "" } else { "needs " }
                        );
                        if group.is_none() {
                            group = Some(self.group_of(spec, r));
                            let t = records.times[r];
                            if t != NO_TIME {
                                window = Some(FindingWindow {
                                    from: format_micros(spec.span.opening(t)),
                                    to: format_micros(t),
                                });
                            }
                            let grouping = &self.groupings[self.grouping_of[*index]];
                            let others = members(
                                spec,
                                r,
                                records,
                                grouping,
                                self.ctx,
                                MAX_RECORD_IDS,
                                MAX_SCAN,
                            );
                            record_ids.extend(
                                others
                                    .into_iter()
                                    .filter(|&o| o != r)
                                    .take(MAX_RECORD_IDS - 1)
                                    .map(|o| records.id(o).to_string()),
                            );
                        }
                        (value, phrase)
                    }
                    Node::Within {
                        from,
                        to,
                        deadline,
                        window: w,
                        ..
                    } => {
                        let field = |slot| records.schema.spec(slot).field.as_str();
                        match within(self.ctx, r, *from, *to, *deadline) {
                            Some(o) => {
                                if window.is_none() {
                                    window = Some(FindingWindow {
                                        from: format_micros(o.from),
                                        to: format_micros(o.deadline),
                                    });
                                }
                                let start =
                                    format!("{w} after {} {}", field(*from), format_micros(o.from));
                                let deadline = format_micros(o.deadline);
                                let phrase =
                                    match (o.to, to) {
                                        (Some(t), Some(slot)) => format!(
                                            "{} {} is {} the deadline {deadline} ({start})",
                                            field(*slot),
                                            format_micros(t),
                                            if o.met { "within" } else { "after" }
                                        ),
                                        (_, Some(slot)) => format!(
                                    "{} is missing and the deadline {deadline} ({start}) {}",
                                    field(*slot),
                                    if o.met { "has not passed" } else { "has passed" }
                                ),
                                        (_, None) => format!(
                                            "the deadline {deadline} ({start}) {}",
                                            if o.met {
                                                "has not passed"
                                            } else {
                                                "has passed"
                                            }
                                        ),
                                    };
                                let value = json!({
                                    "from": format_micros(o.from),
                                    "to": o.to.map(format_micros),
                                    "deadline": deadline,
                                });
                                (value, phrase)
                            }
                            None => (Value::Null, format!("{} is missing", field(*from))),
                        }
                    }
                    Node::All(_) | Node::Any(_) | Node::Not(_) => unreachable!("leaves only"),
                };
            observed.push(Observation {
                condition,
                value,
                holds,
            });
            // A scoped rule can read one field twice (its scope and its requirement).
            if !phrases.contains(&phrase) {
                phrases.push(phrase);
            }
        }
        let rule = run.rule;
        let t = records.times[r];
        Finding {
            rule_id: rule.rule_id.clone(),
            severity: rule.severity,
            category: rule.category.clone(),
            record_ids,
            group,
            window,
            at: (t != NO_TIME).then(|| format_micros(t)),
            observed,
            threshold,
            message: format!("{}: {}", rule.name, phrases.join("; ")),
            policy_section: rule.policy_section.clone(),
            policy_excerpt: rule.policy_excerpt.clone(),
        }
    }

    fn group_of(&self, spec: &AggregateSpec, r: usize) -> BTreeMap<String, Value> {
        let records = self.ctx.records;
        spec.group_by
            .iter()
            .map(|&slot| {
                let field = records.schema.spec(slot).field.clone();
                (field, records.render(records.get(r, slot)))
            })
            .collect()
    }
}

/// The leaves that gave `node` the truth `want`, each with whether it held.
fn decisive<'n, 'r>(
    node: &'n Node<'r>,
    r: usize,
    ctx: &Context,
    want: Truth,
    out: &mut Vec<(&'n Node<'r>, bool)>,
) {
    match node {
        Node::All(members) | Node::Any(members) => {
            let every = matches!(
                (node, want),
                (Node::All(_), Truth::True) | (Node::Any(_), Truth::False)
            );
            for m in members {
                if every || m.eval(r, ctx) == want {
                    decisive(m, r, ctx, want, out);
                }
            }
        }
        Node::Not(inner) => {
            let flipped = if want == Truth::False {
                Truth::True
            } else {
                Truth::False
            };
            decisive(inner, r, ctx, flipped, out);
        }
        leaf => out.push((leaf, want == Truth::True)),
    }
}

fn leaf_source<'r>(node: &Node<'r>) -> &'r Condition {
    match node {
        Node::Compare { source, .. }
        | Node::Exists { source, .. }
        | Node::Aggregate { source, .. }
        | Node::Within { source, .. } => source,
        _ => unreachable!("leaves only"),
    }
}

fn number_text(v: f64) -> String {
    if v.is_nan() {
        "unknown".into()
    } else {
        format!("{v}")
    }
}

fn operand_text(operand: &Operand, threshold: Option<f64>) -> String {
    match operand {
        Operand::Literal(v) => v.to_string(),
        Operand::List(name) => format!("list {name}"),
        Operand::Threshold { factor } => {
            let t = threshold.unwrap_or(f64::NAN);
            if *factor == 1.0 {
                format!("{} (threshold)", number_text(t))
            } else {
                format!("{} ({factor} × threshold)", number_text(t * factor))
            }
        }
    }
}

fn aggregate_text(c: &Condition, spec: &AggregateSpec) -> String {
    let Condition::Aggregate {
        func,
        field,
        group_by,
        ..
    } = c
    else {
        return String::new();
    };
    let mut text = format!(
        "{func}({}) over {}",
        field.as_deref().unwrap_or("*"),
        spec.window
    );
    if !group_by.is_empty() {
        text.push_str(&format!(" by {}", group_by.join(", ")));
    }
    text
}

/// A condition in one line, with the threshold resolved.
pub(crate) fn describe(
    c: &Condition,
    threshold: Option<f64>,
    window: Option<crate::TimeWindow>,
) -> String {
    let join = |members: &[Condition], word: &str| {
        let parts: Vec<String> = members
            .iter()
            .map(|m| describe(m, threshold, window))
            .collect();
        format!("({})", parts.join(&format!(" {word} ")))
    };
    match c {
        Condition::All(members) => join(members, "and"),
        Condition::Any(members) => join(members, "or"),
        Condition::Not(inner) => format!("not {}", describe(inner, threshold, window)),
        Condition::Compare {
            field,
            op: crate::Op::Exists,
            value,
        } => match value {
            Operand::Literal(Value::Bool(false)) => format!("{field} does not exist"),
            _ => format!("{field} exists"),
        },
        Condition::Compare { field, op, value } => {
            format!("{field} {op} {}", operand_text(value, threshold))
        }
        Condition::Aggregate {
            func,
            field,
            group_by,
            filter,
            op,
            value,
        } => {
            let mut text = format!("{func}({})", field.as_deref().unwrap_or("*"));
            if let Some(w) = window {
                text.push_str(&format!(" over {w}"));
            }
            if !group_by.is_empty() {
                text.push_str(&format!(" by {}", group_by.join(", ")));
            }
            if let Some(filter) = filter {
                text.push_str(&format!(" where {}", describe(filter, threshold, window)));
            }
            format!("{text} {op} {}", operand_text(value, threshold))
        }
        Condition::Within { from, to } => format!(
            "{} within {} of {from}",
            to.as_deref().unwrap_or("now"),
            window.map(|w| w.to_string()).unwrap_or_default()
        ),
    }
}
