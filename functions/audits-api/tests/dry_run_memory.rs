//! The dry run's JSON envelope is read in memory bounded by the records it keeps (a few fields
//! of each), not by a JSON tree of the whole body: heap counted by a wrapper around the system
//! allocator, per thread, so that only the reading itself is measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use compliance_packs::PolicyType;
use serde_json::{json, Value};

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // try_with: the allocator also runs while the thread's locals are torn down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        track(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `f`'s result and the most heap it held at once on this thread, what it returns included.
fn peak_heap<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    let out = f();
    (out, PEAK.with(Cell::get).max(0) as usize)
}

/// A transaction as exports carry them: the fields the AML rules read, and twenty they do not.
fn record(i: usize) -> Value {
    let mut r = json!({
        "id": format!("t{i}"), "timestamp": "2025-03-03T09:00:00Z",
        "customer_id": format!("C{}", i % 100), "direction": "in", "instrument": "cash",
        "amount_usd": i,
    });
    for k in 0..20 {
        r[format!("memo_{k}")] = json!(format!("free text {k} of record {i}"));
    }
    r
}

#[test]
fn an_envelope_is_read_in_memory_bounded_by_its_records() {
    let records: Vec<Value> = (0..10_000).map(record).collect();
    let body = serde_json::to_vec(&json!({"records": records, "findings_limit": 5})).unwrap();
    drop(records);
    let schema = PolicyType::Aml.schema();
    let (envelope, peak) = peak_heap(|| audits_api::envelope::read(schema, &body));
    let envelope = envelope.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(envelope.records.unwrap().len(), 10_000);
    assert_eq!(envelope.findings_limit, Some(5));
    println!("body: {} bytes, peak heap: {peak} bytes", body.len());
    assert!(
        peak <= body.len() / 4,
        "reading a body of {} bytes held {peak} bytes at once",
        body.len()
    );
}
