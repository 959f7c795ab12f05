//! A count of the work ingestion does per input, for the tests that prove it linear.
//!
//! A report is hostile input: a few hundred gzip bytes can decompress to a `ruleId` of a million
//! slashes or a rule with a hundred thousand tags. The tests in `sarif/work_tests.rs` feed such
//! shapes at growing sizes and check that this count grows no faster than the input; wall-clock
//! time would say the same on a quiet machine and nothing on a busy one. Each lookup, copy or
//! hash whose size depends on the input charges what it touches, in bytes or items. Outside
//! tests the count compiles to nothing.

#[cfg(test)]
thread_local! {
    static UNITS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Records `units` of work (bytes hashed or compared, items copied or probed).
#[inline(always)]
pub(crate) fn charge(units: usize) {
    #[cfg(test)]
    UNITS.with(|u| u.set(u.get() + units as u64));
    #[cfg(not(test))]
    let _ = units;
}

/// The work recorded on this thread since the last call, and a fresh count.
#[cfg(test)]
pub(crate) fn take() -> u64 {
    UNITS.with(|u| u.replace(0))
}
