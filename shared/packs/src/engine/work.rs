//! Counts of the engine's unit steps, so tests can prove that the work per input byte is
//! constant on adversarial inputs by counting rather than timing (`work_tests.rs`). The counts
//! are per thread (tests run in parallel) and exist only in test builds: elsewhere `add` is
//! empty and inlined away.

/// A unit of work whose count must grow linearly with the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// A cell of the record being built looked at: stored, cleared or copied out.
    PendingCell,
    /// A hash-table lookup, and each key it compares with on the way.
    HashProbe,
    /// A record's time read while finding the records of a finding's window.
    WindowRecord,
}

#[cfg(test)]
const STEPS: usize = 3;

#[cfg(test)]
thread_local! {
    static COUNTS: [std::cell::Cell<u64>; STEPS] = const {
        [const { std::cell::Cell::new(0) }; STEPS]
    };
}

/// Counts `n` steps of `step` (test builds only).
#[inline(always)]
pub(crate) fn add(step: Step, n: usize) {
    #[cfg(test)]
    COUNTS.with(|c| {
        let cell = &c[step as usize];
        cell.set(cell.get() + n as u64);
    });
    #[cfg(not(test))]
    let _ = (step, n);
}

/// The steps `f` took on this thread, by kind.
#[cfg(test)]
pub(crate) fn count<T>(f: impl FnOnce() -> T) -> (T, Counts) {
    let before = Counts::now();
    let out = f();
    let after = Counts::now();
    let mut steps = [0; STEPS];
    for (i, s) in steps.iter_mut().enumerate() {
        *s = after.0[i] - before.0[i];
    }
    (out, Counts(steps))
}

/// Steps taken, indexed by [`Step`].
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counts([u64; STEPS]);

#[cfg(test)]
impl Counts {
    fn now() -> Counts {
        Counts(COUNTS.with(|c| std::array::from_fn(|i| c[i].get())))
    }

    pub(crate) fn of(&self, step: Step) -> u64 {
        self.0[step as usize]
    }
}

/// A hash-table key whose comparisons are counted as [`Step::HashProbe`]s; it hashes as `K`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counted<K>(pub(crate) K);

impl<K: std::hash::Hash> std::hash::Hash for Counted<K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<K> Counted<K> {
    /// The key of one lookup, counted as a probe.
    pub(crate) fn lookup(key: K) -> Self {
        add(Step::HashProbe, 1);
        Counted(key)
    }
}

impl<K: PartialEq> PartialEq for Counted<K> {
    fn eq(&self, other: &Self) -> bool {
        add(Step::HashProbe, 1);
        self.0 == other.0
    }
}

impl<K: Eq> Eq for Counted<K> {}
