//! Property tests of the engine against a brute-force reference evaluator written straight from
//! FORMAT.md ("Evaluation model", "Conditions", "Aggregate", "Within", "Time windows").
//!
//! The reference works on the records as `serde_json::Value`s and recomputes every aggregate by
//! scanning every record (O(n²)); windows are computed with chrono. It shares nothing with the
//! engine but public types: the rules, the schema's field types (which decide what a value of
//! the wrong type is) and `TimeWindow::end_from` (which FORMAT.md names as the deadline rule).
//!
//! Properties:
//! - every rule of every pack, and random aggregate rules, give the same verdict per record as
//!   the reference (findings by subject id, evaluated and not-evaluable counts);
//! - the evaluation does not depend on the order of the records (findings, their order, their
//!   record ids and messages), with few findings kept and with all;
//! - raising the threshold of a rule whose threshold uses all loosen it never adds a finding;
//! - the partitioned evaluation is the evaluation, for any number of parts and record order.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, SecondsFormat, TimeDelta, Utc, Weekday};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Map, Value};

use super::{evaluate, evaluate_partitioned, input, Evaluation, FieldType, RuleRun, Schema};
use crate::WindowUnit;
use crate::{named_list, pack, AggFn, Condition, Op, Operand, PolicyType, Rule, TimeWindow};

// ------------------------------------------------------------------------------------------------
// The reference evaluator

/// A three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tv {
    True,
    False,
    Unknown,
}

impl Tv {
    fn of(b: bool) -> Tv {
        if b {
            Tv::True
        } else {
            Tv::False
        }
    }

    fn not(self) -> Tv {
        match self {
            Tv::True => Tv::False,
            Tv::False => Tv::True,
            Tv::Unknown => Tv::Unknown,
        }
    }
}

/// A record's value of a field, read as the field's type in the schema says.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Num(f64),
    Bool(bool),
    Str(String),
    /// A timestamp, in microseconds since the epoch.
    Time(i64),
    /// An array's scalar elements (other elements hold nothing a condition can test).
    Array(Vec<Val>),
    Object,
    /// A value of the wrong JSON type for its field: every comparison on it is unknown.
    Invalid,
}

impl Val {
    fn is_scalar(&self) -> bool {
        matches!(
            self,
            Val::Num(_) | Val::Bool(_) | Val::Str(_) | Val::Time(_)
        )
    }

    /// Equality as FORMAT.md has it: the same JSON type and value, numbers numerically.
    fn same(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Num(a), Val::Num(b)) => a == b,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::Time(a), Val::Time(b)) => a == b,
            _ => false,
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Val::Num(x) => Some(*x),
            _ => None,
        }
    }
}

/// A JSON scalar as a value (`None` for anything else).
fn scalar(v: &Value) -> Option<Val> {
    match v {
        Value::Number(n) => n.as_f64().map(Val::Num),
        Value::Bool(b) => Some(Val::Bool(*b)),
        Value::String(s) => Some(Val::Str(s.clone())),
        _ => None,
    }
}

fn parse_time(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_micros())
}

/// A present (non-null) JSON value read as type `ty`.
fn typed(raw: &Value, ty: FieldType) -> Val {
    match (ty, raw) {
        (FieldType::Number, Value::Number(n)) => Val::Num(n.as_f64().expect("finite")),
        (FieldType::Boolean, Value::Bool(b)) => Val::Bool(*b),
        (FieldType::String, Value::String(s)) => Val::Str(s.clone()),
        (FieldType::Timestamp, Value::String(s)) => parse_time(s).map_or(Val::Invalid, Val::Time),
        (FieldType::Any, Value::Array(items)) => {
            Val::Array(items.iter().filter_map(scalar).collect())
        }
        (FieldType::Any, Value::Object(_)) => Val::Object,
        (FieldType::Any, v) => scalar(v).unwrap_or(Val::Invalid),
        _ => Val::Invalid,
    }
}

/// The records, their fields' types, and the evaluation time.
struct World<'a> {
    records: &'a [Value],
    types: BTreeMap<String, FieldType>,
    now: i64,
}

/// What a rule's condition reads besides the records: its threshold and window.
#[derive(Clone, Copy)]
struct RuleCtx {
    threshold: Option<f64>,
    window: Option<TimeWindow>,
}

impl<'a> World<'a> {
    fn new(schema: &Schema, records: &'a [Value], now: DateTime<Utc>) -> World<'a> {
        World {
            records,
            types: schema
                .fields()
                .iter()
                .map(|f| (f.field.clone(), f.ty))
                .collect(),
            now: now.timestamp_micros(),
        }
    }

    /// The record's value at `path`; `None` when missing (absent or null).
    fn get(&self, r: usize, path: &str) -> Option<Val> {
        let mut v = &self.records[r];
        for key in path.split('.') {
            v = v.as_object()?.get(key)?;
        }
        if v.is_null() {
            return None;
        }
        let ty = *self
            .types
            .get(path)
            .unwrap_or_else(|| panic!("'{path}' is not in the schema"));
        Some(typed(v, ty))
    }

    fn time(&self, r: usize) -> Option<i64> {
        match self.get(r, "timestamp") {
            Some(Val::Time(t)) => Some(t),
            _ => None,
        }
    }

    /// The rule's verdict on every record.
    fn verdicts(&self, run: &RuleRun) -> Vec<Tv> {
        let rule = RuleCtx {
            threshold: run.threshold,
            window: run.rule.time_window,
        };
        (0..self.records.len())
            .map(|s| self.eval(&run.rule.conditions, s, rule))
            .collect()
    }

    fn eval(&self, c: &Condition, s: usize, rule: RuleCtx) -> Tv {
        match c {
            Condition::All(members) => {
                let mut out = Tv::True;
                for m in members {
                    match self.eval(m, s, rule) {
                        Tv::False => return Tv::False,
                        Tv::Unknown => out = Tv::Unknown,
                        Tv::True => {}
                    }
                }
                out
            }
            Condition::Any(members) => {
                let mut out = Tv::False;
                for m in members {
                    match self.eval(m, s, rule) {
                        Tv::True => return Tv::True,
                        Tv::Unknown => out = Tv::Unknown,
                        Tv::False => {}
                    }
                }
                out
            }
            Condition::Not(inner) => self.eval(inner, s, rule).not(),
            Condition::Compare { field, op, value } => self.compare(field, *op, value, s, rule),
            Condition::Aggregate { .. } => self.aggregate(c, s, rule),
            Condition::Within { from, to } => self.within(from, to.as_deref(), s, rule),
        }
    }

    fn compare(&self, field: &str, op: Op, operand: &Operand, s: usize, rule: RuleCtx) -> Tv {
        let value = self.get(s, field);
        if op == Op::Exists {
            let want = *operand == Operand::Literal(json!(true));
            return Tv::of(value.is_some() == want);
        }
        let value = match value {
            None | Some(Val::Invalid) => return Tv::Unknown,
            Some(v) => v,
        };
        match op {
            Op::Eq | Op::Ne => {
                let same = match operand {
                    Operand::Literal(lit) => scalar(lit).is_some_and(|l| value.same(&l)),
                    _ => value.number() == Some(number(operand, rule)),
                };
                Tv::of(same != (op == Op::Ne))
            }
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => match value.number() {
                None => Tv::Unknown,
                Some(x) => Tv::of(holds(op, x, number(operand, rule))),
            },
            Op::Between => {
                let (lo, hi) = bounds(operand);
                value
                    .number()
                    .map_or(Tv::Unknown, |x| Tv::of(lo <= x && x <= hi))
            }
            Op::In | Op::NotIn => {
                let members: Vec<Val> = match operand {
                    Operand::Literal(Value::Array(items)) => {
                        items.iter().filter_map(scalar).collect()
                    }
                    Operand::List(name) => named_list(name)
                        .expect("a known list")
                        .values
                        .iter()
                        .map(|v| Val::Str(v.to_string()))
                        .collect(),
                    other => panic!("'in' with {other:?}"),
                };
                let member = members.iter().any(|m| value.same(m));
                Tv::of(member != (op == Op::NotIn))
            }
            Op::Contains => {
                let Operand::Literal(needle) = operand else {
                    panic!("'contains' with {operand:?}")
                };
                match &value {
                    Val::Str(text) => Tv::of(needle.as_str().is_some_and(|n| text.contains(n))),
                    Val::Array(items) => {
                        let needle = scalar(needle);
                        Tv::of(
                            items
                                .iter()
                                .any(|i| needle.as_ref().is_some_and(|n| i.same(n))),
                        )
                    }
                    // Neither an array nor a string: nothing to look into.
                    _ => Tv::Unknown,
                }
            }
            Op::Exists => unreachable!(),
        }
    }

    fn aggregate(&self, c: &Condition, s: usize, rule: RuleCtx) -> Tv {
        let Condition::Aggregate {
            func,
            field,
            group_by,
            filter,
            op,
            value,
        } = c
        else {
            unreachable!()
        };
        let window = rule.window.expect("an aggregate needs a window");
        let Some(t) = self.time(s) else {
            return Tv::Unknown;
        };
        let mut key = Vec::new();
        for g in group_by {
            match self.get(s, g) {
                Some(v) if v.is_scalar() => key.push(v),
                _ => return Tv::Unknown,
            }
        }
        let matches = |r: usize| filter.as_ref().map_or(Tv::True, |f| self.eval(f, r, rule));
        let field_value = |r: usize| self.get(r, field.as_deref().expect("a field"));
        let usable = |r: usize| match func {
            AggFn::Count => field.as_deref().is_none_or(|f| self.get(r, f).is_some()),
            AggFn::CountDistinct => field_value(r).is_some_and(|v| v.is_scalar()),
            AggFn::Sum | AggFn::Avg | AggFn::Min | AggFn::Max => {
                field_value(r).is_some_and(|v| v.number().is_some())
            }
        };
        match matches(s) {
            Tv::Unknown => return Tv::Unknown,
            Tv::True if !usable(s) => return Tv::Unknown,
            _ => {}
        }
        let members: Vec<usize> = (0..self.records.len())
            .filter(|&r| {
                self.time(r).is_some_and(|tr| in_window(window, tr, t))
                    && group_by
                        .iter()
                        .zip(&key)
                        .all(|(g, k)| self.get(r, g).is_some_and(|v| v.is_scalar() && v.same(k)))
                    && matches(r) == Tv::True
                    && usable(r)
            })
            .collect();
        let numbers = || -> Vec<f64> {
            members
                .iter()
                .map(|&r| field_value(r).and_then(|v| v.number()).expect("usable"))
                .collect()
        };
        // Amounts are decimal: summed exactly, in millionths.
        let exact_sum =
            |xs: &[f64]| xs.iter().map(|x| (x * 1e6).round() as i128).sum::<i128>() as f64 / 1e6;
        let result = match func {
            AggFn::Count => Some(members.len() as f64),
            AggFn::Sum => Some(exact_sum(&numbers())),
            AggFn::Avg => {
                let xs = numbers();
                (!xs.is_empty()).then(|| exact_sum(&xs) / xs.len() as f64)
            }
            AggFn::Min => numbers().into_iter().reduce(f64::min),
            AggFn::Max => numbers().into_iter().reduce(f64::max),
            AggFn::CountDistinct => {
                let mut distinct: Vec<Val> = Vec::new();
                for v in members.iter().filter_map(|&r| field_value(r)) {
                    if !distinct.iter().any(|d| d.same(&v)) {
                        distinct.push(v);
                    }
                }
                Some(distinct.len() as f64)
            }
        };
        let Some(x) = result else {
            return Tv::Unknown;
        };
        Tv::of(match op {
            Op::Between => {
                let (lo, hi) = bounds(value);
                lo <= x && x <= hi
            }
            _ => holds(*op, x, number(value, rule)),
        })
    }

    fn within(&self, from: &str, to: Option<&str>, s: usize, rule: RuleCtx) -> Tv {
        let Some(Val::Time(start)) = self.get(s, from) else {
            return Tv::Unknown;
        };
        let end = match to.and_then(|f| self.get(s, f)) {
            None => self.now,
            Some(Val::Time(t)) => t,
            Some(_) => return Tv::Unknown,
        };
        let start = DateTime::from_timestamp_micros(start).expect("in range");
        match rule.window.expect("a window").end_from(start) {
            None => Tv::True,
            Some(deadline) => Tv::of(end <= deadline.timestamp_micros()),
        }
    }
}

fn number(operand: &Operand, rule: RuleCtx) -> f64 {
    match operand {
        Operand::Literal(Value::Number(n)) => n.as_f64().expect("finite"),
        Operand::Threshold { factor } => rule.threshold.expect("a threshold") * factor,
        other => panic!("not a number: {other:?}"),
    }
}

fn bounds(operand: &Operand) -> (f64, f64) {
    match operand {
        Operand::Literal(Value::Array(b)) => (b[0].as_f64().unwrap(), b[1].as_f64().unwrap()),
        other => panic!("not [low, high]: {other:?}"),
    }
}

fn holds(op: Op, x: f64, y: f64) -> bool {
    match op {
        Op::Eq => x == y,
        Op::Ne => x != y,
        Op::Gt => x > y,
        Op::Gte => x >= y,
        Op::Lt => x < y,
        Op::Lte => x <= y,
        other => panic!("not a numeric comparison: {other}"),
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn midnight(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros()
}

/// Whether a record at `tr` is in the window of a subject at `t`.
fn in_window(w: TimeWindow, tr: i64, t: i64) -> bool {
    if tr > t {
        return false;
    }
    let at = DateTime::from_timestamp_micros(t).unwrap();
    let n = w.amount;
    match w.unit {
        WindowUnit::BusinessDay => {
            // The subject's business day (a weekend belongs to the Monday after it), then n − 1
            // business days back; a Monday's period starts on the Saturday before it.
            let mut d = at.date_naive();
            while is_weekend(d) {
                d = d.succ_opt().unwrap();
            }
            for _ in 1..n {
                d = d.pred_opt().unwrap();
                while is_weekend(d) {
                    d = d.pred_opt().unwrap();
                }
            }
            if d.weekday() == Weekday::Mon {
                d -= TimeDelta::days(2);
            }
            tr >= midnight(d)
        }
        WindowUnit::Month | WindowUnit::Year => {
            // Months are counted as year × 12 + month; years start in January.
            let first = if w.unit == WindowUnit::Month {
                at.year() * 12 + at.month0() as i32 - (n as i32 - 1)
            } else {
                (at.year() - (n as i32 - 1)) * 12
            };
            let d =
                NaiveDate::from_ymd_opt(first.div_euclid(12), first.rem_euclid(12) as u32 + 1, 1)
                    .unwrap();
            tr >= midnight(d)
        }
        _ => {
            let length = w.fixed_duration().unwrap().num_microseconds().unwrap();
            tr > t - length
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Generated records

const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The first day of each generated data set: a Monday before a month's end (2025-02-24), a
/// Friday before a year's end (2024-12-27), a Thursday before a month's end (2025-03-27).
pub(super) fn base(i: usize) -> i64 {
    let days = [(2025, 2, 24), (2024, 12, 27), (2025, 3, 27)];
    let (y, m, d) = days[i % days.len()];
    midnight(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

/// How many days a data set's records span: eleven, or three for crowded windows.
fn days(b: usize) -> i64 {
    if b >= 3 {
        3
    } else {
        11
    }
}

/// The evaluation time of a data set: day 8, 09:00.
pub(super) fn now(base: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(base + 8 * DAY + 9 * HOUR).unwrap()
}

fn render_time(micros: i64, offset_hours: i32) -> Value {
    let t = DateTime::from_timestamp_micros(micros).unwrap();
    let text = if offset_hours == 0 {
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    } else {
        t.with_timezone(&FixedOffset::east_opt(offset_hours * 3600).unwrap())
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    };
    json!(text)
}

/// Record times: eleven days (or three, for crowded windows), at times of day that put records
/// exactly on (and a microsecond inside) the edges of 15-minute, 24-hour, 48-hour, 7-day and
/// calendar windows. The 09:00 instants are also written with an offset.
fn event_times(base: i64, days: i64) -> Vec<Value> {
    let times_of_day = [
        0,
        1,
        14 * MINUTE,
        15 * MINUTE,
        9 * HOUR,
        9 * HOUR + 15 * MINUTE,
        15 * HOUR,
        DAY - 1,
    ];
    let mut out = Vec::new();
    for day in 0..days {
        for (i, tod) in times_of_day.iter().enumerate() {
            let t = base + day * DAY + tod;
            out.push(render_time(t, 0));
            if i == 4 {
                out.push(render_time(t, 2));
            }
        }
    }
    out
}

/// Times of deadline fields: far enough back for year-long deadlines, some exactly a deadline
/// before another or before "now" (day 8, 09:00); day −24 of the first base is January 31st.
fn deadline_times(base: i64) -> Vec<Value> {
    let days = [
        -400, -366, -365, -364, -91, -90, -89, -31, -30, -28, -24, -16, -15, -14, -7, -3, -1, 0, 1,
        2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 16, 20, 31, 40,
    ];
    let mut out = Vec::new();
    for day in days {
        for tod in [0, 9 * HOUR, DAY - 1] {
            out.push(render_time(base + day * DAY + tod, 0));
        }
    }
    out
}

fn invalid_times() -> Vec<Value> {
    vec![
        json!("2025-02-30T09:00:00Z"),
        json!("yesterday"),
        json!("2025-03-01"),
        json!(1_740_000_000),
    ]
}

/// Transaction amounts: around the 10,000 threshold and its 80%, integer-valued (also written
/// as `10000.0`) and fractional; 4.1 and 9995.9 sum to exactly 10,000 though 4.1 × 10⁶ is not
/// a whole number in binary floating point; zero also as `-0.0`.
fn amounts() -> Vec<Value> {
    vec![
        json!(4.1),
        json!(9995.9),
        json!(0),
        json!(-0.0),
        json!(8000),
        json!(7999.99),
        json!(8000.5),
        json!(9999.99),
        json!(10000),
        json!(10000.0),
        json!(10000.01),
        json!(5000),
        json!(2999.99),
        json!(3000),
        json!(500),
        json!(0.5),
        json!(4500.25),
        json!(12000),
        json!(-100),
    ]
}

/// How one field's values are drawn.
#[derive(Debug, Clone)]
pub(super) struct FieldGen {
    path: String,
    values: Vec<Value>,
    /// Values of the wrong type, drawn now and then.
    wrong: Vec<Value>,
}

impl FieldGen {
    fn new(path: &str, values: Vec<Value>, wrong: Vec<Value>) -> FieldGen {
        FieldGen {
            path: path.to_string(),
            values,
            wrong,
        }
    }

    /// The value for a choice: absent 7% of the time, null 3%, of the wrong type 4%.
    fn draw(&self, choice: u16) -> Option<Value> {
        let (kind, index) = (choice % 100, usize::from(choice / 100));
        match kind {
            0..=6 => None,
            7..=9 => Some(Value::Null),
            10..=13 if !self.wrong.is_empty() => Some(self.wrong[index % self.wrong.len()].clone()),
            _ => Some(self.values[index % self.values.len()].clone()),
        }
    }
}

fn insert_path(object: &mut Map<String, Value>, path: &str, v: Value) {
    match path.split_once('.') {
        None => {
            object.insert(path.to_string(), v);
        }
        Some((head, rest)) => {
            let child = object.entry(head.to_string()).or_insert_with(|| json!({}));
            if let Some(child) = child.as_object_mut() {
                insert_path(child, rest, v);
            }
        }
    }
}

/// One record per row, the row's choices drawing the fields' values.
pub(super) fn build(
    gens: &[FieldGen],
    rows: &[Vec<u16>],
    id: impl Fn(usize) -> String,
) -> Vec<Value> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            assert!(row.len() >= gens.len(), "{} fields", gens.len());
            let mut record = Map::new();
            record.insert("id".into(), json!(id(i)));
            for (g, &choice) in gens.iter().zip(row) {
                if let Some(v) = g.draw(choice) {
                    insert_path(&mut record, &g.path, v);
                }
            }
            Value::Object(record)
        })
        .collect()
}

pub(super) fn unique_ids(i: usize) -> String {
    format!("r{i}")
}

/// A value rounded to cents, written as an integer when it is one.
fn cents(x: f64) -> Value {
    let x = (x * 100.0).round() / 100.0;
    if x.fract() == 0.0 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// Values of group keys and other fields only grouped, counted or tested for presence.
fn keys(path: &str) -> Vec<Value> {
    let names: &[&str] = match path {
        "customer_id" => &["C1", "C2", "C3"],
        "account_id" => &["A1", "A2"],
        "user_id" => &["U1", "U2"],
        "service_id" => &["S1", "S2"],
        "branch_id" => &["B1", "B2", "B3"],
        "account.owner_id" => &["O1", "O2"],
        _ => &["x", "y"],
    };
    names.iter().map(|n| json!(n)).collect()
}

/// The values a condition compares a field with, and values just beside them.
fn literals_of(rules: &[&Rule], threshold: Option<f64>) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for rule in rules {
        let t = threshold.or(rule.threshold);
        rule.conditions.walk(&mut |c| {
            let Condition::Compare { field, op, value } = c else {
                return;
            };
            let values = out.entry(field.clone()).or_default();
            let mut near = |x: f64| {
                for d in [-1.0, -0.01, 0.0, 0.01, 1.0] {
                    values.push(cents(x + d));
                }
            };
            match value {
                _ if *op == Op::Exists => {}
                Operand::Literal(Value::Array(items)) if *op == Op::Between => {
                    items.iter().for_each(|b| near(b.as_f64().unwrap()));
                }
                Operand::Literal(Value::Array(items)) => values.extend(items.iter().cloned()),
                Operand::Literal(Value::Number(n)) => near(n.as_f64().unwrap()),
                Operand::Literal(v) => values.push(v.clone()),
                Operand::Threshold { factor } => near(t.expect("a threshold") * factor),
                Operand::List(name) => {
                    let list = named_list(name).unwrap();
                    values.push(json!(list.values[0]));
                    values.push(json!(list.values[list.values.len() - 1]));
                }
            }
        });
    }
    out
}

/// How each field of `schema` is drawn for records `rules` read.
pub(super) fn gens_for(
    rules: &[&Rule],
    schema: &Schema,
    b: usize,
    threshold: Option<f64>,
) -> Vec<FieldGen> {
    let base = base(b);
    let literals = literals_of(rules, threshold);
    schema
        .fields()
        .iter()
        .map(|spec| {
            let path = spec.field.as_str();
            let lits = literals.get(path).cloned().unwrap_or_default();
            if path == "timestamp" {
                return FieldGen::new(path, event_times(base, days(b)), invalid_times());
            }
            match spec.ty {
                FieldType::Timestamp => FieldGen::new(path, deadline_times(base), invalid_times()),
                FieldType::Boolean => FieldGen::new(
                    path,
                    vec![json!(true), json!(false)],
                    vec![json!("true"), json!(1)],
                ),
                FieldType::Number => {
                    let mut values: Vec<Value> =
                        lits.into_iter().filter(Value::is_number).collect();
                    if path == "amount_usd" {
                        values.extend(amounts());
                    } else {
                        values.extend([json!(0), json!(1), json!(2)]);
                    }
                    FieldGen::new(
                        path,
                        values,
                        vec![json!("10000"), json!("abc"), json!(true)],
                    )
                }
                FieldType::String => {
                    let mut values: Vec<Value> =
                        lits.into_iter().filter(Value::is_string).collect();
                    values.push(json!("zz_other"));
                    FieldGen::new(path, values, vec![json!(5), json!(true)])
                }
                FieldType::Any => FieldGen::new(
                    path,
                    keys(path),
                    vec![
                        json!(1),
                        json!("1"),
                        json!(["x"]),
                        json!({"k": 1}),
                        json!(true),
                    ],
                ),
            }
        })
        .collect()
}

/// The vocabulary of the random rules' records.
pub(super) fn vocabulary(b: usize) -> Vec<FieldGen> {
    let strings = |xs: &[&str]| xs.iter().map(|x| json!(x)).collect::<Vec<_>>();
    vec![
        FieldGen::new("timestamp", event_times(base(b), days(b)), invalid_times()),
        FieldGen::new(
            "customer_id",
            keys("customer_id"),
            vec![json!(1), json!("1"), json!(["C1"]), json!({"k": 1})],
        ),
        FieldGen::new(
            "direction",
            strings(&["in", "out"]),
            vec![json!(5), json!("IN")],
        ),
        FieldGen::new(
            "instrument",
            strings(&["cash", "wire"]),
            vec![json!(5), json!("Cash")],
        ),
        FieldGen::new(
            "amount_usd",
            amounts(),
            vec![json!("10000"), json!("abc"), json!(true)],
        ),
        FieldGen::new("branch_id", keys("branch_id"), vec![json!(1), json!([1])]),
        FieldGen::new("ctr_id", strings(&["CTR-1"]), vec![json!(5), json!("")]),
        FieldGen::new(
            "tags",
            vec![
                json!(["pii"]),
                json!(["x", "pii"]),
                json!([]),
                json!(["x"]),
                json!("pii-data"),
                json!("none"),
                json!([1, "x"]),
                json!([null, "pii", [1]]),
            ],
            vec![json!(1), json!({"k": 1}), json!(true)],
        ),
        FieldGen::new("account.owner_id", keys("account.owner_id"), vec![json!(1)]),
    ]
}

/// Choices per record: enough for the widest pack schema.
pub(super) const WIDTH: usize = 64;

pub(super) fn rows() -> impl Strategy<Value = Vec<Vec<u16>>> {
    prop::collection::vec(prop::collection::vec(any::<u16>(), WIDTH), 1..=40)
}

pub(super) fn ndjson(records: &[Value]) -> Vec<u8> {
    records
        .iter()
        .map(|r| r.to_string() + "\n")
        .collect::<String>()
        .into_bytes()
}

fn run(
    runs: &[RuleRun],
    schema: &Schema,
    records: &[Value],
    now: DateTime<Utc>,
    keep: usize,
) -> Result<Evaluation, TestCaseError> {
    let parsed = input::parse_ndjson(schema, &ndjson(records))
        .map_err(|e| TestCaseError::fail(format!("records refused: {e}")))?;
    evaluate(runs, &parsed, now, keep).map_err(TestCaseError::fail)
}

fn text(records: &[Value]) -> String {
    String::from_utf8(ndjson(records)).unwrap()
}

/// The engine and the reference agree on every rule's verdict for every record.
fn agree(
    runs: &[RuleRun],
    schema: &Schema,
    records: &[Value],
    now: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    let e = run(runs, schema, records, now, usize::MAX / 2)?;
    let world = World::new(schema, records, now);
    for (run, outcome) in runs.iter().zip(&e.rules) {
        let verdicts = world.verdicts(run);
        let count = |tv| verdicts.iter().filter(|v| **v == tv).count() as u64;
        let mut expected: Vec<&str> = verdicts
            .iter()
            .enumerate()
            .filter(|(_, v)| **v == Tv::False)
            .map(|(r, _)| records[r]["id"].as_str().unwrap())
            .collect();
        expected.sort_unstable();
        let mut found: Vec<&str> = e
            .findings
            .iter()
            .filter(|f| f.rule_id == run.rule.rule_id)
            .map(|f| f.record_ids[0].as_str())
            .collect();
        found.sort_unstable();
        prop_assert_eq!(
            (outcome.evaluated, outcome.not_evaluable, &found),
            (
                count(Tv::True) + count(Tv::False),
                count(Tv::Unknown),
                &expected
            ),
            "rule {} (threshold {:?}): {}\nreference verdicts: {:?}\nrecords:\n{}",
            run.rule.rule_id,
            run.threshold,
            run.rule.conditions.to_json(),
            verdicts,
            text(records)
        );
    }
    Ok(())
}

/// Thresholds an audit may set instead of the rules' own.
const THRESHOLDS: [f64; 8] = [1.0, 2.0, 3.0, 5.0, 43.2, 8000.0, 10000.0, 15000.0];

pub(super) fn pack_runs(t: PolicyType, threshold: Option<f64>) -> Vec<RuleRun<'static>> {
    pack(t)
        .rules
        .iter()
        .map(|rule| RuleRun {
            rule,
            threshold: rule.threshold.and(threshold).or(rule.threshold),
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// Random rules

fn leaf() -> BoxedStrategy<Value> {
    let number = select(vec![
        json!(0),
        json!(1),
        json!(2),
        json!(3000),
        json!(8000),
        json!(9999.99),
        json!(10000),
        json!(10000.01),
    ]);
    let threshold = select(vec![
        json!({"ref": "threshold"}),
        json!({"ref": "threshold", "factor": 0.8}),
    ]);
    prop_oneof![
        (select(vec!["eq", "ne"]), select(vec!["in", "out"]))
            .prop_map(|(op, v)| json!({"field": "direction", "op": op, "value": v})),
        (select(vec!["eq", "ne"]), select(vec!["cash", "wire"]))
            .prop_map(|(op, v)| json!({"field": "instrument", "op": op, "value": v})),
        (
            select(vec!["in", "not_in"]),
            select(vec![json!(["in"]), json!(["out", "x"])])
        )
            .prop_map(|(op, v)| json!({"field": "direction", "op": op, "value": v})),
        (
            select(vec!["eq", "ne", "gt", "gte", "lt", "lte"]),
            prop_oneof![number, threshold]
        )
            .prop_map(|(op, v)| json!({"field": "amount_usd", "op": op, "value": v})),
        Just(json!({"field": "amount_usd", "op": "between", "value": [8000, 10000]})),
        (
            select(vec!["in", "not_in"]),
            select(vec![json!([10000, 500]), json!([0, 8000.5])])
        )
            .prop_map(|(op, v)| json!({"field": "amount_usd", "op": op, "value": v})),
        any::<bool>().prop_map(|b| json!({"field": "ctr_id", "op": "exists", "value": b})),
        select(vec![json!("pii"), json!(1)])
            .prop_map(|n| json!({"field": "tags", "op": "contains", "value": n})),
        Just(json!({"field": "account.owner_id", "op": "eq", "value": "O1"})),
    ]
    .boxed()
}

fn filter() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..=3).prop_map(|m| json!({"all": m})),
                prop::collection::vec(inner.clone(), 1..=3).prop_map(|m| json!({"any": m})),
                inner.prop_map(|c| json!({"not": c})),
            ]
        })
        .boxed()
}

fn aggregate() -> BoxedStrategy<Value> {
    let func_field = prop_oneof![
        Just(("count", None)),
        Just(("count", Some("amount_usd"))),
        Just(("count", Some("ctr_id"))),
        select(vec!["sum", "avg", "min", "max"]).prop_map(|f| (f, Some("amount_usd"))),
        select(vec!["branch_id", "amount_usd", "instrument", "tags"])
            .prop_map(|f| ("count_distinct", Some(f))),
    ];
    let group_by = proptest::sample::subsequence(
        vec![
            "customer_id",
            "direction",
            "instrument",
            "account.owner_id",
            "amount_usd",
        ],
        0..=2,
    );
    let op = select(vec!["eq", "ne", "gt", "gte", "lt", "lte", "between"]);
    (
        func_field,
        group_by,
        prop::option::of(filter()),
        op,
        0..4usize,
        any::<prop::sample::Index>(),
    )
        .prop_map(|((func, field), group_by, filter, op, kind, index)| {
            let (numbers, between): (Vec<Value>, Value) = match func {
                "count" | "count_distinct" => {
                    (vec![json!(0), json!(1), json!(2), json!(3)], json!([1, 2]))
                }
                "sum" => (
                    vec![
                        json!(0),
                        json!(8000),
                        json!(10000),
                        json!(10000.01),
                        json!(20000),
                    ],
                    json!([8000, 20000]),
                ),
                _ => (
                    vec![json!(500), json!(8000), json!(9999.99), json!(10000)],
                    json!([8000, 10000]),
                ),
            };
            let value = match (op, kind) {
                ("between", _) => between,
                (_, 0) => json!({"ref": "threshold"}),
                _ => index.get(&numbers).clone(),
            };
            let mut node = Map::new();
            node.insert("aggregate".into(), json!(func));
            if let Some(field) = field {
                node.insert("field".into(), json!(field));
            }
            if !group_by.is_empty() {
                node.insert("group_by".into(), json!(group_by));
            }
            if let Some(filter) = filter {
                node.insert("filter".into(), filter);
            }
            node.insert("op".into(), json!(op));
            node.insert("value".into(), value);
            Value::Object(node)
        })
        .boxed()
}

/// A random rule with at least one aggregate, built from JSON as pack rules are.
pub(super) fn random_rule() -> impl Strategy<Value = Rule> {
    let windows = select(vec![
        "15m",
        "24h",
        "7d",
        "1 business day",
        "3 business days",
        "1 month",
        "1 year",
    ]);
    (
        aggregate(),
        filter(),
        aggregate(),
        0..6u8,
        windows,
        select(vec![2.0, 3.0, 8000.0, 10000.0]),
    )
        .prop_map(|(a, x, b, shape, window, threshold)| {
            let conditions = match shape {
                0 => a,
                1 => json!({"not": a}),
                2 => json!({"any": [x, a]}),
                3 => json!({"all": [a, x]}),
                4 => json!({"not": {"all": [x, a, b]}}),
                _ => json!({"any": [a, {"not": b}]}),
            };
            let rule = json!({
                "rule_id": "aml-rnd-001", "name": "Random", "type": "pattern",
                "description": "d", "threshold": threshold, "time_window": window,
                "severity": "high", "conditions": conditions, "policy_excerpt": "e",
                "policy_section": "s", "category": "Random", "historical_context": "h"
            });
            serde_json::from_value::<Rule>(rule.clone()).unwrap_or_else(|e| panic!("{rule}: {e}"))
        })
}

// ------------------------------------------------------------------------------------------------
// Threshold polarity

/// Whether every `{"ref": "threshold"}` in `c` loosens the condition: raising the threshold can
/// only make it truer. `positive` is false under an odd number of `not`s. A threshold in an
/// aggregate's filter changes which records are counted, which has no single direction.
fn loosening(c: &Condition, positive: bool) -> bool {
    let direction = |op: Op| match op {
        Op::Lt | Op::Lte => positive,
        Op::Gt | Op::Gte => !positive,
        _ => false,
    };
    match c {
        Condition::All(members) | Condition::Any(members) => {
            members.iter().all(|m| loosening(m, positive))
        }
        Condition::Not(inner) => loosening(inner, !positive),
        Condition::Compare {
            op,
            value: Operand::Threshold { .. },
            ..
        } => direction(*op),
        Condition::Aggregate {
            filter, op, value, ..
        } => {
            filter.as_ref().is_none_or(|f| !f.uses_threshold())
                && (!matches!(value, Operand::Threshold { .. }) || direction(*op))
        }
        Condition::Compare { .. } | Condition::Within { .. } => true,
    }
}

/// The pack rules with a threshold whose uses all loosen them: raising the threshold can only
/// turn findings into passes (all, any and not are monotone in the threshold's atoms, and an
/// unknown atom stays unknown).
fn monotone_rules() -> Vec<&'static Rule> {
    PolicyType::ALL
        .iter()
        .flat_map(|t| &pack(*t).rules)
        .filter(|r| r.threshold.is_some() && loosening(&r.conditions, true))
        .collect()
}

#[test]
fn the_polarity_analysis_finds_the_monotone_rules() {
    let ids: Vec<&str> = monotone_rules()
        .iter()
        .map(|r| r.rule_id.as_str())
        .collect();
    // Monotone: a sum or count `lte` the threshold (aml-ctr-001, aml-tm-001, aml-tm-002,
    // aml-hrj-002, soc2-ac-007, soc2-avl-003), an amount `lt` it (aml-rec-001), `gte` it under
    // a `not` (aml-tm-003, aml-tm-004). Not monotone: the bands aml-struct-001 (`gte` 0.8×T and
    // `lt` T under a `not`, and in a filter) and aml-struct-002 (`lte` T and a sum `gt` T under
    // a `not`).
    assert_eq!(
        ids,
        [
            "aml-ctr-001",
            "aml-tm-001",
            "aml-tm-002",
            "aml-tm-003",
            "aml-tm-004",
            "aml-hrj-002",
            "aml-rec-001",
            "soc2-ac-007",
            "soc2-avl-003",
        ]
    );
    let with_threshold: Vec<&str> = PolicyType::ALL
        .iter()
        .flat_map(|t| &pack(*t).rules)
        .filter(|r| r.threshold.is_some() && !loosening(&r.conditions, true))
        .map(|r| r.rule_id.as_str())
        .collect();
    assert_eq!(with_threshold, ["aml-struct-001", "aml-struct-002"]);
}

#[test]
fn the_generated_records_fit_every_pack() {
    for t in PolicyType::ALL {
        let schema = Schema::for_rules(&pack(t).rules).unwrap();
        assert!(
            schema.fields().len() <= WIDTH,
            "{t}: {}",
            schema.fields().len()
        );
    }
    // The random rules' records read fine against any random rule.
    let gens = vocabulary(0);
    assert!(gens.len() <= WIDTH);
    assert!(gens.iter().all(|g| !g.values.is_empty()));
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Every rule of every pack, run together as an audit runs them (with their own thresholds
    /// or with one an audit set), gives each record the reference's verdict.
    #[test]
    fn pack_rules_agree_with_the_reference(
        rows in rows(),
        b in 0..6usize,
        threshold in prop::option::of(select(THRESHOLDS.to_vec())),
    ) {
        for t in PolicyType::ALL {
            let p = pack(t);
            let rules: Vec<&Rule> = p.rules.iter().collect();
            let schema = Schema::for_rules(&p.rules).unwrap();
            let records = build(&gens_for(&rules, &schema, b, threshold), &rows, unique_ids);
            agree(&pack_runs(t, threshold), &schema, &records, now(base(b)))?;
        }
    }

    /// Random aggregate rules (any function, group-by fields, filter, comparison and window)
    /// give each record the reference's verdict, and the same evaluation in any record order.
    #[test]
    fn random_rules_agree_with_the_reference(
        rule in random_rule(),
        rows in rows(),
        b in 0..6usize,
        order in prop::collection::vec(any::<u32>(), 40),
    ) {
        let schema = Schema::for_rules([&rule]).unwrap();
        let records = build(&vocabulary(b), &rows, unique_ids);
        let runs = [RuleRun::as_written(&rule)];
        agree(&runs, &schema, &records, now(base(b)))?;
        let shuffled = shuffle(&records, &order);
        for keep in [2, 1000] {
            let a = run(&runs, &schema, &records, now(base(b)), keep)?;
            let z = run(&runs, &schema, &shuffled, now(base(b)), keep)?;
            let difference = first_difference(&a, &z);
            prop_assert!(
                difference.is_none(),
                "keep {}: {}\nrule {}\nrecords:\n{}\nshuffled:\n{}",
                keep, difference.unwrap_or_default(), rule.conditions.to_json(),
                text(&records), text(&shuffled)
            );
        }
    }

    /// The order of the records changes nothing in a pack's evaluation: counts, which findings
    /// are kept (canonical order, truncated), their record ids, windows and messages. Some ids
    /// repeat, as they may in real input.
    #[test]
    fn evaluation_does_not_depend_on_record_order(
        rows in rows(),
        b in 0..6usize,
        order in prop::collection::vec(any::<u32>(), 40),
        keep in select(vec![0usize, 1, 3, 1000]),
    ) {
        for t in PolicyType::ALL {
            let p = pack(t);
            let rules: Vec<&Rule> = p.rules.iter().collect();
            let schema = Schema::for_rules(&p.rules).unwrap();
            let gens = gens_for(&rules, &schema, b, None);
            let records = build(&gens, &rows, |i| {
                if rows[i][WIDTH - 1] % 8 == 0 { "r0".to_string() } else { unique_ids(i) }
            });
            let shuffled = shuffle(&records, &order);
            let runs = pack_runs(t, None);
            let a = run(&runs, &schema, &records, now(base(b)), keep)?;
            let z = run(&runs, &schema, &shuffled, now(base(b)), keep)?;
            let difference = first_difference(&a, &z);
            prop_assert!(
                difference.is_none(),
                "{} keep {}: {}\nrecords:\n{}\nshuffled:\n{}",
                t, keep, difference.unwrap_or_default(), text(&records), text(&shuffled)
            );
        }
    }

    /// Split into 1 to 8 parts, records in any order, every pack's rules (with repeated ids and
    /// values missing or of the wrong type) and pairs of random aggregate rules (any group-by
    /// fields, or none: a rule evaluated whole) give exactly the whole evaluation.
    #[test]
    fn partitioned_evaluation_is_the_evaluation(
        rows in rows(),
        b in 0..6usize,
        order in prop::collection::vec(any::<u32>(), 40),
        keep in select(vec![0usize, 1, 3, 1000]),
        parts in 1..=8usize,
        random in (random_rule(), random_rule()),
    ) {
        let ids = |i: usize| {
            if rows[i][WIDTH - 1] % 8 == 0 { "r0".to_string() } else { unique_ids(i) }
        };
        let mut cases: Vec<(String, Vec<RuleRun>, Schema, Vec<Value>)> = Vec::new();
        for t in PolicyType::ALL {
            let p = pack(t);
            let rules: Vec<&Rule> = p.rules.iter().collect();
            let schema = Schema::for_rules(&p.rules).unwrap();
            let records = build(&gens_for(&rules, &schema, b, None), &rows, ids);
            cases.push((t.to_string(), pack_runs(t, None), schema, records));
        }
        // Two random rules may read a field as different types: then the first alone.
        let (x, y) = &random;
        let pair = match Schema::for_rules([x, y]) {
            Ok(schema) => (vec![x, y], schema),
            Err(_) => (vec![x], Schema::for_rules([x]).unwrap()),
        };
        cases.push((
            pair.0.iter().map(|r| r.conditions.to_json().to_string()).collect::<Vec<_>>().join("\n"),
            pair.0.iter().map(|r| RuleRun::as_written(r)).collect(),
            pair.1,
            build(&vocabulary(b), &rows, ids),
        ));
        for (label, runs, schema, records) in &cases {
            let whole = run(runs, schema, records, now(base(b)), keep)?;
            let shuffled = shuffle(records, &order);
            let parsed = input::parse_ndjson(schema, &ndjson(&shuffled)).unwrap();
            let split = evaluate_partitioned(runs, &parsed, now(base(b)), keep, parts)
                .map_err(TestCaseError::fail)?;
            let difference = first_difference(&whole, &split);
            prop_assert!(
                difference.is_none() && whole == split,
                "{} keep {} in {} parts: {}\nrecords:\n{}\nshuffled:\n{}",
                label, keep, parts, difference.unwrap_or_default(), text(records), text(&shuffled)
            );
        }
    }

    /// Raising the threshold of a monotone rule never adds a finding.
    #[test]
    fn raising_a_loosening_threshold_never_adds_findings(
        rows in rows(),
        b in 0..6usize,
        picks in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
    ) {
        const FACTORS: [f64; 9] = [0.05, 0.1, 0.5, 0.8, 0.9999, 1.0, 1.0001, 1.25, 2.0];
        for t in PolicyType::ALL {
            let p = pack(t);
            let monotone: Vec<&Rule> = monotone_rules()
                .into_iter()
                .filter(|r| p.rule(&r.rule_id).is_some())
                .collect();
            if monotone.is_empty() {
                continue;
            }
            let rules: Vec<&Rule> = p.rules.iter().collect();
            let schema = Schema::for_rules(&p.rules).unwrap();
            let records = build(&gens_for(&rules, &schema, b, None), &rows, unique_ids);
            let (x, y) = (*picks.0.get(&FACTORS), *picks.1.get(&FACTORS));
            let (low, high) = (x.min(y), x.max(y));
            let at = |factor: f64| -> Vec<RuleRun> {
                monotone
                    .iter()
                    .map(|&rule| RuleRun { rule, threshold: rule.threshold.map(|t| t * factor) })
                    .collect()
            };
            let lower = run(&at(low), &schema, &records, now(base(b)), usize::MAX / 2)?;
            let higher = run(&at(high), &schema, &records, now(base(b)), usize::MAX / 2)?;
            for rule in &monotone {
                let ids = |e: &Evaluation| -> Vec<String> {
                    e.findings
                        .iter()
                        .filter(|f| f.rule_id == rule.rule_id)
                        .map(|f| f.record_ids[0].clone())
                        .collect()
                };
                let (before, after) = (ids(&lower), ids(&higher));
                let added: Vec<&String> = after.iter().filter(|id| !before.contains(id)).collect();
                prop_assert!(
                    added.is_empty(),
                    "{}: threshold ×{} → ×{} adds findings {:?}\nrecords:\n{}",
                    rule.rule_id, low, high, added, text(&records)
                );
            }
        }
    }
}

/// Where two evaluations' JSON differ first: `findings[3].record_ids: [..] vs [..]`.
pub(super) fn first_difference(a: &Evaluation, b: &Evaluation) -> Option<String> {
    fn walk(path: String, a: &Value, b: &Value) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) if x.len() == y.len() => {
                x.iter().find_map(|(k, v)| {
                    walk(format!("{path}.{k}"), v, y.get(k).unwrap_or(&Value::Null))
                })
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (v, w))| walk(format!("{path}[{i}]"), v, w)),
            _ => (a != b).then(|| format!("{path}: {a} vs {b}")),
        }
    }
    let json = |e| serde_json::to_value(e).unwrap();
    walk("evaluation".into(), &json(a), &json(b))
}

/// The records in the order of `keys` (ties in input order).
pub(super) fn shuffle(records: &[Value], keys: &[u32]) -> Vec<Value> {
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| (keys[i % keys.len()], i));
    order.into_iter().map(|i| records[i].clone()).collect()
}

/// The generated records put every pack rule to the test: each rule passes some records and
/// fails others over a few data sets (so the comparison with the reference is not vacuous).
#[test]
fn generated_records_exercise_every_pack_rule() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut tally: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for i in 0..60 {
        let rows = rows().new_tree(&mut runner).unwrap().current();
        let threshold = [None, Some(1.0), Some(10000.0)][i % 3];
        for t in PolicyType::ALL {
            let p = pack(t);
            let rules: Vec<&Rule> = p.rules.iter().collect();
            let schema = Schema::for_rules(&p.rules).unwrap();
            let records = build(
                &gens_for(&rules, &schema, i % 6, threshold),
                &rows,
                unique_ids,
            );
            let world = World::new(&schema, &records, now(base(i % 6)));
            for run in pack_runs(t, threshold) {
                let counts = tally.entry(run.rule.rule_id.clone()).or_default();
                for v in world.verdicts(&run) {
                    counts[v as usize] += 1;
                }
            }
        }
    }
    let idle: Vec<_> = tally
        .iter()
        .filter(|(_, [pass, fail, _])| *pass == 0 || *fail == 0)
        .collect();
    assert!(
        idle.is_empty(),
        "rules never passed or never failed: {idle:?}"
    );
}
