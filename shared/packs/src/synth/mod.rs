//! Seeded synthetic records for the packs, with known findings: the engine's ground truth and the
//! benchmark's input. Compiled for the crate's tests and with the `synthetic` feature.
//!
//! [`generate`] builds a dataset for one pack: realistic background records that comply with
//! every rule of the pack, plus, for every rule, at least two planted violating subjects and
//! compliant near misses right at the rule's boundaries (a cash sum of exactly the threshold, a
//! deadline met to the second, a weekend transaction that folds into Monday's business day, a
//! month-end deadline clamped to February's last day…). `Dataset::planted` lists, per rule, the
//! subject ids that must be findings; every other record must pass the rule or be not evaluable
//! for it. Everything is a function of the seed: no wall-clock time, no global randomness.
//!
//! [`aml_transactions_ndjson`] writes a large transaction feed quickly (no JSON tree), with
//! realistic distributions and violations that occur "naturally" rather than planted.

mod aml;
mod gdpr;
mod soc2;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, FixedOffset, SecondsFormat, TimeZone, Utc, Weekday};
use serde_json::{Map, Value};

use crate::PolicyType;

pub use aml::aml_transactions_ndjson;

/// SplitMix64: tiny, fast, and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut rng = Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B);
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A standard normal variate (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// `exp(N(mu, sigma))`.
    pub fn log_normal(&mut self, mu: f64, sigma: f64) -> f64 {
        (mu + sigma * self.normal()).exp()
    }

    /// An exponential variate with this mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An item drawn with the given weights.
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut x = self.below(total);
        for (item, w) in items {
            if x < u64::from(*w) {
                return item;
            }
            x -= u64::from(*w);
        }
        &items[items.len() - 1].0
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// A synthetic dataset and the findings it must produce.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// JSON objects, each with an `id`, in no particular order.
    pub records: Vec<Value>,
    /// rule_id -> ids of the subject records that must be findings (every rule of the pack has
    /// an entry).
    pub planted: BTreeMap<String, BTreeSet<String>>,
    /// The evaluation time the dataset was made for (open deadlines are measured against it).
    pub now: DateTime<Utc>,
}

impl Dataset {
    /// One JSON object per line.
    pub fn ndjson(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for r in &self.records {
            serde_json::to_writer(&mut out, r).expect("a JSON value serialises");
            out.push(b'\n');
        }
        out
    }

    /// A header row with the union of the records' fields (`id` first, then by name), one row
    /// per record; a missing or null value is an empty cell, an array or object its JSON text.
    pub fn csv(&self) -> Vec<u8> {
        let mut fields = BTreeSet::new();
        for r in &self.records {
            if let Value::Object(map) = r {
                fields.extend(map.keys().filter(|k| *k != "id").cloned());
            }
        }
        let header: Vec<&str> = std::iter::once("id")
            .chain(fields.iter().map(String::as_str))
            .collect();
        let mut writer = ::csv::Writer::from_writer(Vec::new());
        writer.write_record(&header).expect("write to memory");
        for r in &self.records {
            let row = header.iter().map(|field| match r.get(*field) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            });
            writer.write_record(row).expect("write to memory");
        }
        writer.into_inner().expect("write to memory")
    }

    /// The number of planted findings over all rules.
    pub fn planted_total(&self) -> usize {
        self.planted.values().map(BTreeSet::len).sum()
    }
}

/// A dataset for `policy`'s pack: about `size` compliant background records plus the planted
/// violations and near misses, all derived from `seed`.
pub fn generate(policy: PolicyType, seed: u64, size: usize) -> Dataset {
    let mut b = Builder::new(policy, seed);
    match policy {
        PolicyType::Aml => aml::generate(&mut b, size),
        PolicyType::Gdpr => gdpr::generate(&mut b, size),
        PolicyType::Soc2 => soc2::generate(&mut b, size),
    }
    b.finish()
}

/// The evaluation time of every generated dataset: a Saturday, the day after February's end, so
/// that open deadlines meet weekends and month-end clamping.
pub fn dataset_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

/// Collects records and planted findings for one pack.
pub(crate) struct Builder {
    pub(crate) rng: Rng,
    pub(crate) now: DateTime<Utc>,
    records: Vec<Value>,
    planted: BTreeMap<String, BTreeSet<String>>,
    counters: BTreeMap<&'static str, u64>,
}

impl Builder {
    fn new(policy: PolicyType, seed: u64) -> Builder {
        let planted = policy
            .pack()
            .rules
            .iter()
            .map(|r| (r.rule_id.clone(), BTreeSet::new()))
            .collect();
        Builder {
            rng: Rng::new(seed ^ (policy as u64).wrapping_mul(0x1000_0000_01B3)),
            now: dataset_now(),
            records: Vec::new(),
            planted,
            counters: BTreeMap::new(),
        }
    }

    /// Adds a record under a fresh id `<prefix>-<n>` and returns the id.
    pub(crate) fn add(&mut self, prefix: &'static str, mut record: Map<String, Value>) -> String {
        let n = self.counters.entry(prefix).or_insert(0);
        *n += 1;
        let id = format!("{prefix}-{:06}", *n);
        record.insert("id".into(), Value::String(id.clone()));
        self.records.push(Value::Object(record));
        id
    }

    /// Records that `id` must be a finding of `rule_id`.
    pub(crate) fn plant(&mut self, rule_id: &str, id: &str) {
        self.planted
            .get_mut(rule_id)
            .unwrap_or_else(|| panic!("no rule {rule_id} in the pack"))
            .insert(id.to_string());
    }

    /// Adds a record and plants it as a finding of `rule_id`.
    pub(crate) fn add_planted(
        &mut self,
        rule_id: &str,
        prefix: &'static str,
        record: Map<String, Value>,
    ) -> String {
        let id = self.add(prefix, record);
        self.plant(rule_id, &id);
        id
    }

    /// The ids of the records added so far.
    pub(crate) fn ids(&self) -> impl Iterator<Item = (&str, &Map<String, Value>)> {
        self.records.iter().filter_map(|r| {
            let map = r.as_object()?;
            Some((map.get("id")?.as_str()?, map))
        })
    }

    /// Midnight UTC of `weekday` in the week `weeks_back` weeks before the week of `now`.
    pub(crate) fn weekday(&self, weeks_back: i64, weekday: Weekday) -> DateTime<Utc> {
        let today = self.now.date_naive();
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        let day = monday - Duration::weeks(weeks_back)
            + Duration::days(i64::from(weekday.num_days_from_monday()));
        Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
    }

    /// A random number of whole weeks back (1 to 9), for scenarios that need whole past weeks.
    pub(crate) fn weeks_back(&mut self) -> i64 {
        self.rng.range(1, 9)
    }

    /// Midnight of `weekday` in a random past week, at least `extra` + 1 weeks back.
    pub(crate) fn past_weekday(&mut self, extra: i64, weekday: Weekday) -> DateTime<Utc> {
        let w = self.weeks_back() + extra;
        self.weekday(w, weekday)
    }

    fn finish(mut self) -> Dataset {
        for (rule, ids) in &self.planted {
            assert!(
                ids.len() >= 2,
                "rule {rule}: {} planted findings, at least 2 wanted",
                ids.len()
            );
        }
        let mut records = std::mem::take(&mut self.records);
        self.rng.shuffle(&mut records);
        Dataset {
            records,
            planted: self.planted,
            now: self.now,
        }
    }
}

/// An instant as RFC 3339 in UTC (`2025-03-01T12:00:00Z`, fractions only when there are some).
pub(crate) fn ts(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// The same instant written with another UTC offset (`+01:00`), as some sources write them.
pub(crate) fn ts_offset(t: DateTime<Utc>, offset_hours: i32) -> Value {
    let zone = FixedOffset::east_opt(offset_hours * 3600).expect("a valid offset");
    Value::String(
        t.with_timezone(&zone)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
    )
}

/// A UTC instant.
pub(crate) fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

pub(crate) fn secs(n: i64) -> Duration {
    Duration::seconds(n)
}

pub(crate) fn hours(n: i64) -> Duration {
    Duration::hours(n)
}

pub(crate) fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// An amount rounded to cents.
pub(crate) fn cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// A planted case: the rule it must be a finding of (`None`: a near miss that must pass) and the
/// fields to set on a compliant record.
pub(crate) type Case<'a> = (Option<&'a str>, Vec<(&'a str, Value)>);

/// Builds a JSON object from `json!({...})`.
pub(crate) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(map) => map,
        _ => panic!("an object literal"),
    }
}
