//! Figures for an audit run (run: `cargo bench -p compliance-packs --features synthetic --bench
//! audit_run`): the whole AML pack over 1,000,000 synthetic transactions (≈ 230 MB of NDJSON,
//! `synth::aml_transactions_ndjson`), on one thread:
//! - evaluation only, the records already parsed (records/s; target ≥ 1 M/s);
//! - parse + evaluate (MB/s of input; target ≥ 150 MB/s);
//! - peak heap of parse + evaluate, counted by a wrapper around the system allocator (target
//!   ≤ 2 × the input);
//! - the velocity rule `aml-tm-001` alone (its own schema: `customer_id`, `timestamp`), for the
//!   side-by-side with DuckDB in `scripts/bench-audit-runs.sh`: on one thread, and parsed on 2
//!   threads and evaluated in 2 parts on 2 threads (DuckDB's 2-thread figure's peer);
//! - the same, partitioned (`evaluate_partitioned`) into 2 parts on 2 threads, its evaluation
//!   checked equal to the one-thread one (1 part is `evaluate` itself), and its peak heap;
//! - parse alone on one thread and on 2 (`parse_ndjson_parallel`, checked equal to the
//!   one-thread parse by the evaluation), and the 2-thread parse followed by the 2-part
//!   evaluation;
//! - the spilled path (`evaluate_spilled`: the feed streamed into partition files in the
//!   temporary folder, evaluated part by part on 2 threads and merged), checked equal to the
//!   evaluation, with its time and peak heap (the input itself aside).
//!
//! The figures are printed plainly (one `audit_run:` line is for scripts) before criterion's
//! own measurements. Targets are reported, not asserted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use compliance_packs::engine::{
    evaluate, evaluate_partitioned, evaluate_spilled, input, partitions_for, Evaluation, RuleRun,
    Schema, SpillOptions,
};
use compliance_packs::synth::{aml_transactions_ndjson, dataset_now};
use compliance_packs::{pack, PolicyType, Rule};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

/// The system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, new_size);
        if !q.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SEED: u64 = 2025;
const COUNT: usize = 1_000_000;
/// Findings explained per run, as an audit keeps them.
const KEEP: usize = 100;

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// Parts (and threads) of the partitioned figures.
const PARTS: usize = 2;

/// Parses (on `parse_threads` threads) and evaluates, in `parts` parts; the evaluation and the
/// two phases' times.
fn run(
    rules: &[&Rule],
    body: &[u8],
    parse_threads: usize,
    parts: usize,
) -> (Evaluation, Duration, Duration) {
    let schema = Schema::for_rules(rules.iter().copied()).expect("the pack's schema");
    let runs: Vec<RuleRun> = rules.iter().map(|r| RuleRun::as_written(r)).collect();
    let t = Instant::now();
    let records = match parse_threads {
        1 => input::parse_ndjson(&schema, body),
        n => input::parse_ndjson_parallel(&schema, body, n),
    }
    .expect("the feed parses");
    let parsed = t.elapsed();
    let t = Instant::now();
    let e = evaluate_partitioned(&runs, &records, dataset_now(), KEEP, parts)
        .expect("the rules compile");
    (e, parsed, t.elapsed())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn audit_run(c: &mut Criterion) {
    let t = Instant::now();
    let body = aml_transactions_ndjson(SEED, COUNT);
    let input_mb = mb(body.len());
    eprintln!(
        "feed: {COUNT} transactions, {input_mb:.1} MB ({} bytes a line), generated in {:.2} s",
        body.len() / COUNT,
        t.elapsed().as_secs_f64()
    );
    let p = pack(PolicyType::Aml);
    let rules: Vec<&Rule> = p.rules.iter().collect();
    let schema = Schema::for_rules(&p.rules).unwrap();
    let runs: Vec<RuleRun> = p.rules.iter().map(RuleRun::as_written).collect();
    let now = dataset_now();

    // Peak heap of one parse + evaluate, over what was live before (the input among it).
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let records = input::parse_ndjson(&schema, &body).expect("the feed parses");
    let held = LIVE.load(Ordering::Relaxed) - before;
    let parse_peak = PEAK.load(Ordering::Relaxed) - before;
    let e = evaluate(&runs, &records, now, KEEP).expect("the rules compile");
    let peak = PEAK.load(Ordering::Relaxed);
    let extra = peak - before;
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    let split = evaluate_partitioned(&runs, &records, now, KEEP, PARTS).expect("the rules compile");
    let split_extra = PEAK.load(Ordering::Relaxed) - live;
    assert!(
        split == e,
        "the partitioned evaluation differs from the evaluation"
    );
    drop(split);
    drop(records);
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    let parallel = input::parse_ndjson_parallel(&schema, &body, PARTS).expect("the feed parses");
    let parallel_peak = PEAK.load(Ordering::Relaxed) - live;
    eprintln!(
        "parsed on {PARTS} threads: {:.1} MB at the parse's peak (the chunks' records, and the \
         first grown to hold them all)",
        mb(parallel_peak)
    );
    assert!(
        evaluate(&runs, &parallel, now, KEEP).expect("the rules compile") == e,
        "the evaluation of the records parsed on {PARTS} threads differs"
    );
    drop(parallel);
    eprintln!(
        "heap: the parsed records hold {:.1} MB ({} bytes a record; {:.1} MB at the parse's peak); \
         evaluation peaks at {:.1} MB more",
        mb(held),
        held / COUNT,
        mb(parse_peak),
        mb(extra - held),
    );
    eprintln!(
        "peak heap of parse + evaluate: {:.1} MB over the {input_mb:.1} MB input ({:.2} × the input; \
         {:.1} MB with the input, {:.2} ×) — target ≤ 2 ×",
        mb(extra),
        extra as f64 / body.len() as f64,
        mb(peak),
        peak as f64 / body.len() as f64,
    );
    eprintln!(
        "partitioned into {PARTS}: evaluation peaks at {:.1} MB over the parsed records \
         (the parts' copies of the records among it); the same evaluation",
        mb(split_extra)
    );
    // The spilled path, over the feed in memory as its reader.
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("audit-run-bench-{}", std::process::id()));
    let options = SpillOptions::new(&dir, body.len() as u64, PARTS);
    let t = Instant::now();
    let spilled = evaluate_spilled(
        &runs,
        &schema,
        input::Format::Ndjson,
        &body[..],
        now,
        KEEP,
        &options,
    )
    .expect("the feed is read");
    let spill_time = t.elapsed();
    let spill_peak = PEAK.load(Ordering::Relaxed) - live;
    let _ = std::fs::remove_dir(&dir);
    assert!(
        spilled == e,
        "the spilled evaluation differs from the evaluation"
    );
    drop(spilled);
    eprintln!(
        "spilled ({} partitions per class, {PARTS} threads): read, partitioned, evaluated and \
         merged in {:.3} s ({:.0} MB/s), peak heap {:.1} MB; the same evaluation",
        partitions_for(body.len() as u64),
        spill_time.as_secs_f64(),
        input_mb / spill_time.as_secs_f64(),
        mb(spill_peak),
    );
    eprintln!("findings: {} in total", e.findings_total);
    for r in &e.rules {
        eprintln!(
            "  {:<15} {:<14} findings {:>8}  evaluated {:>8}  not evaluable {:>8}",
            r.rule_id,
            format!("{:?}", r.status),
            r.findings,
            r.evaluated,
            r.not_evaluable
        );
    }
    drop(e);

    // Phases, three runs each, the median.
    let mut parse_times = Vec::new();
    let mut eval_times = Vec::new();
    let mut split_eval_times = Vec::new();
    let mut split_times = Vec::new();
    let mut all_parse_times = Vec::new();
    let mut all_times = Vec::new();
    for _ in 0..3 {
        let (e, parsed, evaluated) = run(&rules, &body, 1, 1);
        black_box(e);
        parse_times.push(parsed);
        eval_times.push(evaluated);
        let (e, parsed, evaluated) = run(&rules, &body, 1, PARTS);
        black_box(e);
        split_times.push(parsed + evaluated);
        split_eval_times.push(evaluated);
        let (e, parsed, evaluated) = run(&rules, &body, PARTS, PARTS);
        black_box(e);
        all_parse_times.push(parsed);
        all_times.push(parsed + evaluated);
    }
    let (parse, eval) = (median(parse_times), median(eval_times));
    let both = parse + eval;
    eprintln!(
        "whole AML pack ({} rules), one thread: parse {:.3} s ({:.0} MB/s), evaluate {:.3} s \
         ({:.2} M records/s; target ≥ 1 M/s), parse + evaluate {:.3} s ({:.0} MB/s; target ≥ 150 MB/s)",
        p.rules.len(),
        parse.as_secs_f64(),
        input_mb / parse.as_secs_f64(),
        eval.as_secs_f64(),
        COUNT as f64 / eval.as_secs_f64() / 1e6,
        both.as_secs_f64(),
        input_mb / both.as_secs_f64(),
    );

    let (split_eval, split_both) = (median(split_eval_times), median(split_times));
    eprintln!(
        "whole AML pack, {PARTS} parts on {PARTS} threads (parse on one): evaluate {:.3} s \
         ({:.2} M records/s), parse + evaluate {:.3} s ({:.0} MB/s)",
        split_eval.as_secs_f64(),
        COUNT as f64 / split_eval.as_secs_f64() / 1e6,
        split_both.as_secs_f64(),
        input_mb / split_both.as_secs_f64(),
    );

    let (all_parse, all_both) = (median(all_parse_times), median(all_times));
    eprintln!(
        "whole AML pack, parse on {PARTS} threads and {PARTS} parts on {PARTS} threads: parse {:.3} s \
         ({:.0} MB/s), parse + evaluate {:.3} s ({:.0} MB/s)",
        all_parse.as_secs_f64(),
        input_mb / all_parse.as_secs_f64(),
        all_both.as_secs_f64(),
        input_mb / all_both.as_secs_f64(),
    );

    // The velocity rule alone, for DuckDB.
    let velocity = [p.rule("aml-tm-001").unwrap()];
    let mut tm_parse = Vec::new();
    let mut tm_eval = Vec::new();
    let mut tm_findings = 0;
    let mut tm_split_eval = Vec::new();
    let mut tm_all_parse = Vec::new();
    let mut tm_all_eval = Vec::new();
    for _ in 0..3 {
        let (e, parsed, evaluated) = run(&velocity, &body, 1, 1);
        tm_findings = e.findings_total;
        tm_parse.push(parsed);
        tm_eval.push(evaluated);
        let (e, _, evaluated) = run(&velocity, &body, 1, PARTS);
        assert_eq!(e.findings_total, tm_findings);
        tm_split_eval.push(evaluated);
        let (e, parsed, evaluated) = run(&velocity, &body, PARTS, PARTS);
        assert_eq!(e.findings_total, tm_findings);
        tm_all_parse.push(parsed);
        tm_all_eval.push(evaluated);
    }
    let (tm_parse, tm_eval) = (median(tm_parse), median(tm_eval));
    let tm_split_eval = median(tm_split_eval);
    let (tm_all_parse, tm_all_eval) = (median(tm_all_parse), median(tm_all_eval));
    eprintln!(
        "aml-tm-001 alone: parse {:.3} s, evaluate {:.3} s ({:.2} M records/s), {tm_findings} findings",
        tm_parse.as_secs_f64(),
        tm_eval.as_secs_f64(),
        COUNT as f64 / tm_eval.as_secs_f64() / 1e6
    );
    eprintln!(
        "aml-tm-001 alone, {PARTS} parts on {PARTS} threads: evaluate {:.3} s ({:.2} M records/s)",
        tm_split_eval.as_secs_f64(),
        COUNT as f64 / tm_split_eval.as_secs_f64() / 1e6
    );
    eprintln!(
        "aml-tm-001 alone, parse on {PARTS} threads and {PARTS} parts on {PARTS} threads: parse {:.3} s, \
         evaluate {:.3} s, parse + evaluate {:.3} s ({:.0} MB/s)",
        tm_all_parse.as_secs_f64(),
        tm_all_eval.as_secs_f64(),
        (tm_all_parse + tm_all_eval).as_secs_f64(),
        input_mb / (tm_all_parse + tm_all_eval).as_secs_f64(),
    );
    eprintln!(
        "audit_run: records={COUNT} bytes={} threads={PARTS} tm001_findings={tm_findings} \
         tm001_parse_s={:.4} tm001_eval_s={:.4} tm001_parallel_parse_s={:.4} \
         tm001_parallel_eval_s={:.4} pack_parse_s={:.4} pack_eval_s={:.4} \
         peak_extra_bytes={extra} spill_s={:.4} spill_peak_bytes={spill_peak}",
        body.len(),
        tm_parse.as_secs_f64(),
        tm_eval.as_secs_f64(),
        tm_all_parse.as_secs_f64(),
        tm_all_eval.as_secs_f64(),
        parse.as_secs_f64(),
        eval.as_secs_f64(),
        spill_time.as_secs_f64(),
    );

    let records = input::parse_ndjson(&schema, &body).unwrap();
    let mut g = c.benchmark_group("audit_run");
    // Ten single-iteration samples each, the time they take as measured above (and a margin).
    let budget = |one: Duration| one.mul_f64(12.0).max(Duration::from_secs(5));
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(budget(eval));
    g.throughput(Throughput::Elements(COUNT as u64));
    g.bench_function("aml_pack_evaluate_1m", |b| {
        b.iter(|| evaluate(&runs, &records, now, KEEP).unwrap())
    });
    g.measurement_time(budget(both));
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("aml_pack_parse_and_evaluate_1m", |b| {
        b.iter(|| {
            let records = input::parse_ndjson(&schema, &body).unwrap();
            evaluate(&runs, &records, now, KEEP).unwrap()
        })
    });
    g.measurement_time(budget(split_eval));
    g.throughput(Throughput::Elements(COUNT as u64));
    g.bench_function("aml_pack_evaluate_1m_partitioned_2", |b| {
        b.iter(|| evaluate_partitioned(&runs, &records, now, KEEP, PARTS).unwrap())
    });
    g.measurement_time(budget(split_both));
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("aml_pack_parse_and_evaluate_1m_partitioned_2", |b| {
        b.iter(|| {
            let records = input::parse_ndjson(&schema, &body).unwrap();
            evaluate_partitioned(&runs, &records, now, KEEP, PARTS).unwrap()
        })
    });
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.measurement_time(budget(parse));
    g.bench_function("aml_pack_parse_1m", |b| {
        b.iter(|| input::parse_ndjson(&schema, &body).unwrap())
    });
    g.measurement_time(budget(all_parse));
    g.bench_function("aml_pack_parse_1m_parallel_2", |b| {
        b.iter(|| input::parse_ndjson_parallel(&schema, &body, PARTS).unwrap())
    });
    g.measurement_time(budget(all_both));
    g.bench_function(
        "aml_pack_parallel_parse_and_evaluate_1m_partitioned_2",
        |b| {
            b.iter(|| {
                let records = input::parse_ndjson_parallel(&schema, &body, PARTS).unwrap();
                evaluate_partitioned(&runs, &records, now, KEEP, PARTS).unwrap()
            })
        },
    );
    g.finish();
}

criterion_group!(benches, audit_run);
criterion_main!(benches);
