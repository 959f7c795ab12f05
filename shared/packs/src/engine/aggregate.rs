//! Windowed aggregates, computed for every record at once in O(n log n): the records are sorted
//! by time once, bucketed by group (a stable counting sort keeps each group in time order), and
//! each group is swept with two pointers: the window's end advances to the subject's time, its
//! start to the window's opening, and the aggregate is kept up to date as records enter and
//! leave (running counts and sums, monotonic deques for min and max, a multiset for distinct
//! values). Sums are kept in integer micro-units, so adding and removing a value is exact.

use std::collections::{HashMap, VecDeque};

use super::compile::{AggregateSpec, Context, Truth};
use super::records::{Cell, Kind, Records, NO_TIME};
use super::schema::Slot;
use super::work::{add, Counted, Step};
use crate::condition::AggFn;

/// Records of the same group-by values, each group in time order.
pub(crate) struct Grouping {
    /// Record indices, group after group.
    pub(crate) order: Vec<u32>,
    /// Each group's range in `order`.
    pub(crate) ranges: Vec<(u32, u32)>,
    /// Each record's position in `order` (`u32::MAX`: no timestamp or no group key).
    pub(crate) position: Vec<u32>,
    /// The records' times in `order`, so sweeps read them front to back.
    pub(crate) times: Vec<i64>,
}

const NOWHERE: u32 = u32::MAX;

/// The records that have a timestamp, in time order (ties by content, so that the records a
/// finding lists from its window do not depend on the input order).
pub(crate) fn time_order(records: &Records) -> Vec<u32> {
    let mut order: Vec<u32> = (0..records.len() as u32)
        .filter(|&r| records.times[r as usize] != NO_TIME)
        .collect();
    order.sort_by(|&a, &b| records.compare(a as usize, b as usize));
    order
}

/// A group-by value as a hashable key.
fn key_of(cell: Option<Cell>) -> Option<(Kind, u64)> {
    cell.filter(|c| c.is_scalar()).map(|c| (c.kind, c.bits))
}

/// The group id of (the group of the fields before, a value of this field).
type GroupIds = HashMap<Counted<(u32, Kind, u64)>, u32>;

pub(crate) fn group(records: &Records, slots: &[Slot], by_time: &[u32]) -> Grouping {
    // A group id per record: the group-by values folded one field at a time. The first field's
    // strings (the usual key: a customer, an account) index a table by their interned id; the
    // rest go through hash maps, keyed with a random key (std's SipHash) because the values are
    // the sender's: numbers, for one, can be chosen to collide under a fixed hash function.
    let mut by_string: Vec<u32> = vec![NOWHERE; records.strings.len()];
    let mut ids: Vec<GroupIds> = vec![HashMap::new(); slots.len()];
    let mut sizes = vec![0u32; slots.len()];
    let mut counts: Vec<u32> = Vec::new();
    let mut group_of = vec![NOWHERE; records.len()];
    for &r in by_time {
        let mut id = 0u32;
        let mut complete = true;
        for (level, &slot) in slots.iter().enumerate() {
            let Some((kind, bits)) = key_of(records.get(r as usize, slot)) else {
                complete = false;
                break;
            };
            let size = &mut sizes[level];
            let entry = if level == 0 && kind == Kind::Str {
                &mut by_string[bits as usize]
            } else {
                ids[level]
                    .entry(Counted::lookup((id, kind, bits)))
                    .or_insert(NOWHERE)
            };
            if *entry == NOWHERE {
                *entry = *size;
                *size += 1;
            }
            id = *entry;
        }
        if complete {
            if id as usize >= counts.len() {
                counts.resize(id as usize + 1, 0);
            }
            counts[id as usize] += 1;
            group_of[r as usize] = id;
        }
    }
    let mut ranges = Vec::with_capacity(counts.len());
    let mut next = Vec::with_capacity(counts.len());
    let mut at = 0u32;
    for &count in &counts {
        ranges.push((at, at + count));
        next.push(at);
        at += count;
    }
    let mut order = vec![0u32; at as usize];
    let mut position = vec![NOWHERE; records.len()];
    for &r in by_time {
        let g = group_of[r as usize];
        if g != NOWHERE {
            let slot = &mut next[g as usize];
            order[*slot as usize] = r;
            position[r as usize] = *slot;
            *slot += 1;
        }
    }
    let times = order.iter().map(|&r| records.times[r as usize]).collect();
    Grouping {
        order,
        ranges,
        position,
        times,
    }
}

/// What one record adds to the aggregates whose windows include it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Contribution {
    /// Not counted: the filter is false.
    Skip,
    /// Not counted, and as a subject its aggregate is unknown: the filter is unknown, or the
    /// record matches it without a usable value of the aggregated field.
    Unsure,
    One,
    Number(f64),
    Key(Kind, u64),
}

impl Contribution {
    fn counts(self) -> bool {
        !matches!(self, Contribution::Skip | Contribution::Unsure)
    }
}

pub(crate) fn contribution(
    spec: &AggregateSpec,
    r: usize,
    records: &Records,
    ctx: &Context,
) -> Contribution {
    let filter = spec.filter.as_ref().map_or(Truth::True, |f| f.eval(r, ctx));
    match filter {
        Truth::False => return Contribution::Skip,
        Truth::Unknown => return Contribution::Unsure,
        Truth::True => {}
    }
    let value = spec.field.map(|slot| records.get(r, slot));
    match (spec.func, value) {
        (AggFn::Count, None) => Contribution::One,
        (AggFn::Count, Some(Some(_))) => Contribution::One,
        (AggFn::CountDistinct, Some(Some(c))) if c.is_scalar() => Contribution::Key(c.kind, c.bits),
        (AggFn::Sum | AggFn::Avg | AggFn::Min | AggFn::Max, Some(Some(c))) => c
            .as_number()
            .map_or(Contribution::Unsure, Contribution::Number),
        _ => Contribution::Unsure,
    }
}

/// The aggregate over the records currently in the window (entered in time order, left in the
/// same order).
#[derive(Default)]
struct Window {
    count: u64,
    numbers: u64,
    micro_sum: i128,
    min: VecDeque<(u32, f64)>,
    max: VecDeque<(u32, f64)>,
    /// Keyed with a random key, as the groups are (see [`group`]).
    distinct: HashMap<Counted<(Kind, u64)>, u32>,
}

fn micro_units(v: f64) -> i128 {
    (v * 1e6).round() as i128
}

impl Window {
    fn add(&mut self, position: u32, c: Contribution) {
        if !c.counts() {
            return;
        }
        self.count += 1;
        match c {
            Contribution::Number(v) => {
                self.numbers += 1;
                self.micro_sum += micro_units(v);
                while self.min.back().is_some_and(|&(_, m)| m >= v) {
                    self.min.pop_back();
                }
                self.min.push_back((position, v));
                while self.max.back().is_some_and(|&(_, m)| m <= v) {
                    self.max.pop_back();
                }
                self.max.push_back((position, v));
            }
            Contribution::Key(kind, bits) => {
                *self
                    .distinct
                    .entry(Counted::lookup((kind, bits)))
                    .or_insert(0) += 1
            }
            _ => {}
        }
    }

    /// Takes out the record at `position`, the oldest in the window, which added `c`.
    fn remove(&mut self, position: u32, c: Contribution) {
        if !c.counts() {
            return;
        }
        self.count -= 1;
        match c {
            Contribution::Number(v) => {
                self.numbers -= 1;
                self.micro_sum -= micro_units(v);
                if self.min.front().is_some_and(|&(p, _)| p == position) {
                    self.min.pop_front();
                }
                if self.max.front().is_some_and(|&(p, _)| p == position) {
                    self.max.pop_front();
                }
            }
            Contribution::Key(kind, bits) => {
                if let Some(n) = self.distinct.get_mut(&Counted::lookup((kind, bits))) {
                    *n -= 1;
                    if *n == 0 {
                        self.distinct.remove(&Counted::lookup((kind, bits)));
                    }
                }
            }
            _ => {}
        }
    }

    fn value(&self, func: AggFn) -> Option<f64> {
        match func {
            AggFn::Count => Some(self.count as f64),
            AggFn::Sum => Some(self.micro_sum as f64 / 1e6),
            AggFn::Avg => {
                (self.numbers > 0).then(|| self.micro_sum as f64 / 1e6 / self.numbers as f64)
            }
            AggFn::Min => self.min.front().map(|&(_, v)| v),
            AggFn::Max => self.max.front().map(|&(_, v)| v),
            AggFn::CountDistinct => Some(self.distinct.len() as f64),
        }
    }
}

/// An aggregate's result for every record: whether its comparison holds, and its value
/// (`NaN` when unknown).
pub(crate) struct AggregateResult {
    pub(crate) truth: Vec<Truth>,
    pub(crate) value: Vec<f64>,
}

/// What each record adds to an aggregate, in input order (the records' cells are read in the
/// order they lie in memory).
pub(crate) fn contributions(
    spec: &AggregateSpec,
    records: &Records,
    ctx: &Context,
) -> Vec<Contribution> {
    (0..records.len())
        .map(|r| contribution(spec, r, records, ctx))
        .collect()
}

/// Aggregates that add the same thing per record share their contributions: the same kind of
/// value (a count, a number, a distinct key) of the same field under the same filter.
pub(crate) fn contribution_key(spec: &AggregateSpec) -> String {
    let kind = match spec.func {
        AggFn::Count => "count",
        AggFn::CountDistinct => "distinct",
        AggFn::Sum | AggFn::Avg | AggFn::Min | AggFn::Max => "number",
    };
    format!("{kind}|{:?}|{:?}", spec.field, spec.filter)
}

pub(crate) fn compute(
    spec: &AggregateSpec,
    records: &Records,
    grouping: &Grouping,
    by_record: &[Contribution],
) -> AggregateResult {
    let n = records.len();
    let mut truth = vec![Truth::Unknown; n];
    let mut value = vec![f64::NAN; n];
    // Laid out in group order beside the times, so the sweep below reads two arrays front to
    // back.
    let order = &grouping.order;
    let contributions: Vec<Contribution> = order.iter().map(|&r| by_record[r as usize]).collect();
    let times = &grouping.times;
    for &(start, end) in &grouping.ranges {
        let mut window = Window::default();
        let (mut lo, mut hi) = (start, start);
        for i in start..end {
            let t = times[i as usize];
            while hi < end && times[hi as usize] <= t {
                window.add(hi, contributions[hi as usize]);
                hi += 1;
            }
            let opening = spec.span.start(t);
            while lo < hi && times[lo as usize] < opening {
                window.remove(lo, contributions[lo as usize]);
                lo += 1;
            }
            if matches!(contributions[i as usize], Contribution::Unsure) {
                continue;
            }
            let r = order[i as usize] as usize;
            if let Some(v) = window.value(spec.func) {
                value[r] = v;
                truth[r] = if spec.test.check(v) {
                    Truth::True
                } else {
                    Truth::False
                };
            }
        }
    }
    AggregateResult { truth, value }
}

/// The records in a subject's window that the aggregate counts, most recent first: at most
/// `limit`, looking at no more than `scan` records.
pub(crate) fn members(
    spec: &AggregateSpec,
    subject: usize,
    records: &Records,
    grouping: &Grouping,
    ctx: &Context,
    limit: usize,
    scan: usize,
) -> Vec<usize> {
    let p = grouping.position[subject];
    if p == NOWHERE {
        return Vec::new();
    }
    let t = records.times[subject];
    let group = grouping.ranges.partition_point(|&(s, _)| s <= p) - 1;
    let (start, end) = grouping.ranges[group];
    // The window ends with the last record of the group at the subject's time: found by
    // bisection, as many records can share one instant and each finding asks.
    let after = grouping.times[p as usize..end as usize].partition_point(|&at| {
        add(Step::WindowRecord, 1);
        at <= t
    });
    let last = p + after as u32 - 1;
    let opening = spec.span.start(t);
    let mut found = Vec::new();
    let mut i = last as i64;
    while i >= i64::from(start) && found.len() < limit && (last as i64 - i) < scan as i64 {
        let r = grouping.order[i as usize] as usize;
        add(Step::WindowRecord, 1);
        if records.times[r] < opening {
            break;
        }
        if contribution(spec, r, records, ctx).counts() {
            found.push(r);
        }
        i -= 1;
    }
    found
}
