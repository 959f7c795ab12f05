//! A rule's condition compiled against the records: field paths become slots, string literals
//! and named lists become interned ids, threshold references become numbers. Evaluation is
//! three-valued (FORMAT.md): a missing value, or one of the wrong type, makes a comparison
//! unknown; `exists` is always true or false.

use super::records::{Cell, Kind, Records};
use super::schema::Slot;
use super::span::Span;
use super::timestamp;
use crate::condition::{AggFn, Condition, Op, Operand};
use crate::lists::named_list;
use crate::TimeWindow;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Truth {
    False,
    True,
    Unknown,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::True => Truth::False,
            Truth::Unknown => Truth::Unknown,
        }
    }

    fn from(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// A set of literal values for `in` / `not_in`.
#[derive(Debug, Default)]
pub(crate) struct ValueSet {
    strings: Vec<u32>,
    numbers: Vec<f64>,
    booleans: [bool; 2],
}

impl ValueSet {
    fn contains(&self, cell: Cell) -> bool {
        match cell.kind {
            Kind::Str => self.strings.binary_search(&(cell.bits as u32)).is_ok(),
            Kind::Number => self.numbers.contains(&f64::from_bits(cell.bits)),
            Kind::Bool => self.booleans[cell.bits as usize],
            _ => false,
        }
    }
}

/// A comparison's test of one value.
#[derive(Debug)]
pub(crate) enum Test {
    /// `eq` / `ne` with a string or a boolean (`None`: a string no record holds).
    Same {
        cell: Option<Cell>,
        negate: bool,
    },
    /// `eq` / `ne` with a number: numbers compare numerically.
    SameNumber {
        value: f64,
        negate: bool,
    },
    Order {
        op: Op,
        value: f64,
    },
    Between(f64, f64),
    Member {
        set: ValueSet,
        negate: bool,
    },
    Contains(Value),
}

/// A number compared with an aggregate's result.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NumberTest {
    Order(Op, f64),
    Between(f64, f64),
}

impl NumberTest {
    pub(crate) fn check(self, v: f64) -> bool {
        match self {
            NumberTest::Order(op, x) => compare(op, v, x),
            NumberTest::Between(lo, hi) => lo <= v && v <= hi,
        }
    }
}

fn compare(op: Op, v: f64, x: f64) -> bool {
    match op {
        Op::Eq => v == x,
        Op::Ne => v != x,
        Op::Gt => v > x,
        Op::Gte => v >= x,
        Op::Lt => v < x,
        Op::Lte => v <= x,
        _ => false,
    }
}

/// A deadline's length: fixed units add as durations, calendar units follow the calendar.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Deadline {
    Fixed(i64),
    Calendar(TimeWindow),
}

impl Deadline {
    fn of(w: TimeWindow) -> Deadline {
        match w.fixed_duration().and_then(|d| d.num_microseconds()) {
            Some(micros) => Deadline::Fixed(micros),
            None => Deadline::Calendar(w),
        }
    }

    /// The deadline for something that started at `from` (saturating: a deadline past the
    /// representable range is never missed).
    pub(crate) fn end(self, from: i64) -> i64 {
        match self {
            Deadline::Fixed(d) => from.saturating_add(d),
            Deadline::Calendar(w) => timestamp::to_datetime(from)
                .and_then(|t| w.end_from(t))
                .map_or(i64::MAX, timestamp::from_datetime),
        }
    }
}

/// An aggregate of a rule, computed for every record before the rules are evaluated.
#[derive(Debug)]
pub(crate) struct AggregateSpec<'r> {
    pub(crate) func: AggFn,
    pub(crate) field: Option<Slot>,
    pub(crate) group_by: Vec<Slot>,
    pub(crate) filter: Option<Node<'r>>,
    pub(crate) test: NumberTest,
    pub(crate) span: Span,
    pub(crate) window: TimeWindow,
}

/// A compiled condition; `source` is what findings quote.
#[derive(Debug)]
pub(crate) enum Node<'r> {
    All(Vec<Node<'r>>),
    Any(Vec<Node<'r>>),
    Not(Box<Node<'r>>),
    Compare {
        slot: Slot,
        test: Test,
        source: &'r Condition,
    },
    Exists {
        slot: Slot,
        want: bool,
        source: &'r Condition,
    },
    Aggregate {
        index: usize,
        source: &'r Condition,
    },
    Within {
        from: Slot,
        to: Option<Slot>,
        deadline: Deadline,
        window: TimeWindow,
        source: &'r Condition,
    },
}

/// What evaluation reads besides the record: the aggregates' results and the time "now".
pub(crate) struct Context<'a, 's> {
    pub(crate) records: &'a Records<'s>,
    pub(crate) aggregates: &'a [Vec<Truth>],
    pub(crate) now: i64,
}

impl<'r> Node<'r> {
    pub(crate) fn eval(&self, r: usize, ctx: &Context) -> Truth {
        match self {
            Node::All(members) => {
                let mut unknown = false;
                for m in members {
                    match m.eval(r, ctx) {
                        Truth::False => return Truth::False,
                        Truth::Unknown => unknown = true,
                        Truth::True => {}
                    }
                }
                if unknown {
                    Truth::Unknown
                } else {
                    Truth::True
                }
            }
            Node::Any(members) => {
                let mut unknown = false;
                for m in members {
                    match m.eval(r, ctx) {
                        Truth::True => return Truth::True,
                        Truth::Unknown => unknown = true,
                        Truth::False => {}
                    }
                }
                if unknown {
                    Truth::Unknown
                } else {
                    Truth::False
                }
            }
            Node::Not(inner) => inner.eval(r, ctx).not(),
            Node::Exists { slot, want, .. } => {
                Truth::from(ctx.records.get(r, *slot).is_some() == *want)
            }
            Node::Compare { slot, test, .. } => match ctx.records.get(r, *slot) {
                None => Truth::Unknown,
                Some(cell) if cell.kind == Kind::Invalid => Truth::Unknown,
                Some(cell) => test.check(cell, ctx.records),
            },
            Node::Aggregate { index, .. } => ctx.aggregates[*index][r],
            Node::Within {
                from, to, deadline, ..
            } => {
                within(ctx, r, *from, *to, *deadline).map_or(Truth::Unknown, |w| Truth::from(w.met))
            }
        }
    }
}

impl Node<'_> {
    /// The fields whose presence can change the node's truth for a record (an aggregate's
    /// subject needs its group and its time, so those count).
    pub(crate) fn reads(&self, specs: &[AggregateSpec], time: Option<Slot>) -> u128 {
        let bit = |slot: Slot| 1u128 << slot;
        match self {
            Node::All(members) | Node::Any(members) => members
                .iter()
                .fold(0, |mask, m| mask | m.reads(specs, time)),
            Node::Not(inner) => inner.reads(specs, time),
            Node::Compare { slot, .. } | Node::Exists { slot, .. } => bit(*slot),
            Node::Within { from, to, .. } => bit(*from) | to.map_or(0, bit),
            Node::Aggregate { index, .. } => {
                let spec = &specs[*index];
                let filter = spec.filter.as_ref().map_or(0, |f| f.reads(specs, time));
                spec.group_by.iter().fold(filter, |mask, g| mask | bit(*g))
                    | spec.field.map_or(0, bit)
                    | time.map_or(0, bit)
            }
        }
    }

    /// The node's truth for a record that has none of the fields it reads.
    pub(crate) fn when_absent(&self) -> Truth {
        match self {
            Node::All(members) => {
                members
                    .iter()
                    .fold(Truth::True, |acc, m| match (acc, m.when_absent()) {
                        (Truth::False, _) | (_, Truth::False) => Truth::False,
                        (Truth::Unknown, _) | (_, Truth::Unknown) => Truth::Unknown,
                        _ => Truth::True,
                    })
            }
            Node::Any(members) => {
                members
                    .iter()
                    .fold(Truth::False, |acc, m| match (acc, m.when_absent()) {
                        (Truth::True, _) | (_, Truth::True) => Truth::True,
                        (Truth::Unknown, _) | (_, Truth::Unknown) => Truth::Unknown,
                        _ => Truth::False,
                    })
            }
            Node::Not(inner) => inner.when_absent().not(),
            Node::Exists { want, .. } => Truth::from(!*want),
            Node::Compare { .. } | Node::Aggregate { .. } | Node::Within { .. } => Truth::Unknown,
        }
    }
}

/// A deadline as one record meets it or not.
pub(crate) struct WithinOutcome {
    pub(crate) from: i64,
    /// The `to` time, or `None` when "now" stood in for it.
    pub(crate) to: Option<i64>,
    pub(crate) deadline: i64,
    pub(crate) met: bool,
}

pub(crate) fn within(
    ctx: &Context,
    r: usize,
    from: Slot,
    to: Option<Slot>,
    deadline: Deadline,
) -> Option<WithinOutcome> {
    let from = ctx.records.get(r, from)?.as_time()?;
    let to = match to.and_then(|slot| ctx.records.get(r, slot)) {
        None => None,
        Some(cell) => Some(cell.as_time()?),
    };
    let end = deadline.end(from);
    Some(WithinOutcome {
        from,
        to,
        deadline: end,
        met: to.unwrap_or(ctx.now) <= end,
    })
}

impl Test {
    fn check(&self, cell: Cell, records: &Records) -> Truth {
        match self {
            Test::Same { cell: lit, negate } => Truth::from((Some(cell) == *lit) != *negate),
            Test::SameNumber { value, negate } => {
                let same = cell.as_number().is_some_and(|v| v == *value);
                Truth::from(same != *negate)
            }
            Test::Order { op, value } => cell
                .as_number()
                .map_or(Truth::Unknown, |v| Truth::from(compare(*op, v, *value))),
            Test::Between(lo, hi) => cell
                .as_number()
                .map_or(Truth::Unknown, |v| Truth::from(*lo <= v && v <= *hi)),
            Test::Member { set, negate } => Truth::from(set.contains(cell) != *negate),
            Test::Contains(needle) => match cell.kind {
                Kind::Str => match needle {
                    Value::String(n) => {
                        Truth::from(records.strings.text(cell.bits as u32).contains(n.as_str()))
                    }
                    _ => Truth::False,
                },
                Kind::Array => Truth::from(
                    records
                        .array(cell)
                        .iter()
                        .any(|item| literal_cell(needle, records) == Some(*item)),
                ),
                _ => Truth::Unknown,
            },
        }
    }
}

/// The cell a scalar literal would be stored as (`None` for a string no record holds).
fn literal_cell(v: &Value, records: &Records) -> Option<Cell> {
    match v {
        Value::Bool(b) => Some(Cell::boolean(*b)),
        Value::Number(n) => n.as_f64().map(Cell::number),
        Value::String(s) => records
            .strings
            .get(s)
            .map(|id| Cell::of(Kind::Str, u64::from(id))),
        _ => None,
    }
}

/// Compiles rules against one set of records.
pub(crate) struct Compiler<'a, 'r, 's> {
    pub(crate) records: &'a Records<'s>,
    pub(crate) aggregates: Vec<AggregateSpec<'r>>,
}

impl<'a, 'r, 's> Compiler<'a, 'r, 's> {
    pub(crate) fn new(records: &'a Records<'s>) -> Self {
        Compiler {
            records,
            aggregates: Vec::new(),
        }
    }

    pub(crate) fn rule(
        &mut self,
        c: &'r Condition,
        threshold: Option<f64>,
        window: Option<TimeWindow>,
    ) -> Result<Node<'r>, String> {
        let compile = |this: &mut Self, c| this.rule(c, threshold, window);
        Ok(match c {
            Condition::All(members) => Node::All(
                members
                    .iter()
                    .map(|m| compile(self, m))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Any(members) => Node::Any(
                members
                    .iter()
                    .map(|m| compile(self, m))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Not(inner) => Node::Not(Box::new(compile(self, inner)?)),
            Condition::Compare { field, op, value } => {
                let slot = self.slot(field)?;
                if *op == Op::Exists {
                    let want = matches!(value, Operand::Literal(Value::Bool(true)));
                    return Ok(Node::Exists {
                        slot,
                        want,
                        source: c,
                    });
                }
                Node::Compare {
                    slot,
                    test: self.test(*op, value, threshold)?,
                    source: c,
                }
            }
            Condition::Aggregate {
                func,
                field,
                group_by,
                filter,
                op,
                value,
            } => {
                let window = window.ok_or("an aggregate needs the rule's time_window")?;
                let spec = AggregateSpec {
                    func: *func,
                    field: field.as_deref().map(|f| self.slot(f)).transpose()?,
                    group_by: group_by
                        .iter()
                        .map(|g| self.slot(g))
                        .collect::<Result<_, _>>()?,
                    filter: filter.as_deref().map(|f| compile(self, f)).transpose()?,
                    test: number_test(*op, value, threshold)?,
                    span: Span::of(window),
                    window,
                };
                self.aggregates.push(spec);
                Node::Aggregate {
                    index: self.aggregates.len() - 1,
                    source: c,
                }
            }
            Condition::Within { from, to } => {
                let window = window.ok_or("'within' needs the rule's time_window")?;
                Node::Within {
                    from: self.slot(from)?,
                    to: to.as_deref().map(|t| self.slot(t)).transpose()?,
                    deadline: Deadline::of(window),
                    window,
                    source: c,
                }
            }
        })
    }

    fn slot(&self, field: &str) -> Result<Slot, String> {
        self.records
            .schema
            .slot(field)
            .ok_or_else(|| format!("field '{field}' is not in the records' schema"))
    }

    fn test(&self, op: Op, value: &Operand, threshold: Option<f64>) -> Result<Test, String> {
        let records = self.records;
        Ok(match (op, value) {
            (Op::Eq | Op::Ne, Operand::Literal(Value::Number(n))) => Test::SameNumber {
                value: n.as_f64().unwrap_or(f64::NAN),
                negate: op == Op::Ne,
            },
            (Op::Eq | Op::Ne, Operand::Literal(v)) => Test::Same {
                cell: literal_cell(v, records),
                negate: op == Op::Ne,
            },
            (Op::Eq | Op::Ne, Operand::Threshold { factor }) => Test::SameNumber {
                value: resolve(threshold, *factor)?,
                negate: op == Op::Ne,
            },
            (Op::Gt | Op::Gte | Op::Lt | Op::Lte, Operand::Literal(Value::Number(n))) => {
                Test::Order {
                    op,
                    value: n.as_f64().unwrap_or(f64::NAN),
                }
            }
            (Op::Gt | Op::Gte | Op::Lt | Op::Lte, Operand::Threshold { factor }) => Test::Order {
                op,
                value: resolve(threshold, *factor)?,
            },
            (Op::Between, Operand::Literal(v)) => {
                let (lo, hi) = bounds(v)?;
                Test::Between(lo, hi)
            }
            (Op::In | Op::NotIn, operand) => Test::Member {
                set: self.set(operand)?,
                negate: op == Op::NotIn,
            },
            (Op::Contains, Operand::Literal(v)) => Test::Contains(v.clone()),
            _ => return Err(format!("operator '{op}' cannot take {}", value.to_json())),
        })
    }

    fn set(&self, operand: &Operand) -> Result<ValueSet, String> {
        let mut set = ValueSet::default();
        let mut add = |v: &Value| match literal_cell(v, self.records) {
            Some(c) if c.kind == Kind::Str => set.strings.push(c.bits as u32),
            Some(c) if c.kind == Kind::Number => set.numbers.push(f64::from_bits(c.bits)),
            Some(c) if c.kind == Kind::Bool => set.booleans[c.bits as usize] = true,
            _ => {}
        };
        match operand {
            Operand::Literal(Value::Array(items)) => items.iter().for_each(&mut add),
            Operand::List(name) => {
                let list =
                    named_list(name).ok_or_else(|| format!("unknown named list '{name}'"))?;
                list.values
                    .iter()
                    .for_each(|v| add(&Value::String((*v).to_string())));
            }
            other => {
                return Err(format!(
                    "'in' takes an array or a list, not {}",
                    other.to_json()
                ))
            }
        }
        set.strings.sort_unstable();
        Ok(set)
    }
}

fn resolve(threshold: Option<f64>, factor: f64) -> Result<f64, String> {
    threshold
        .map(|t| t * factor)
        .ok_or_else(|| "a condition refers to the threshold, but the rule has none".into())
}

fn bounds(v: &Value) -> Result<(f64, f64), String> {
    match v.as_array().map(Vec::as_slice) {
        Some([lo, hi]) => lo
            .as_f64()
            .zip(hi.as_f64())
            .ok_or_else(|| "between takes two numbers".to_string()),
        _ => Err("between takes [low, high]".into()),
    }
}

fn number_test(op: Op, value: &Operand, threshold: Option<f64>) -> Result<NumberTest, String> {
    Ok(match value {
        Operand::Literal(Value::Number(n)) => NumberTest::Order(op, n.as_f64().unwrap_or(f64::NAN)),
        Operand::Threshold { factor } => NumberTest::Order(op, resolve(threshold, *factor)?),
        Operand::Literal(v) if op == Op::Between => {
            let (lo, hi) = bounds(v)?;
            NumberTest::Between(lo, hi)
        }
        other => {
            return Err(format!(
                "an aggregate is compared with a number, not {}",
                other.to_json()
            ))
        }
    })
}
