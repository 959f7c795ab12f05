//! Matching a scan's finding keys against the exceptions that apply costs about 100 ns a key (a
//! millisecond for 10,000 keys and 1,000 exceptions), more than scoring itself. Its result
//! depends only on the scan, whose keys never change, and on which exceptions apply, none of
//! which changes while it applies (a transition or its expiry takes it out of the set). So it is
//! kept per scan with the set it was made for, and reused while the same set applies: a read
//! then costs a comparison of exception ids, not a match.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Most bytes of memoised matches kept (past it, the memo starts over).
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// Matches by scan, each with the exception ids (in a stable order) it was made for.
pub struct MatchMemo<V> {
    inner: Mutex<Entries<V>>,
}

struct Entries<V> {
    by_scan: HashMap<String, Entry<V>>,
    bytes: usize,
}

struct Entry<V> {
    set: Vec<String>,
    value: Arc<V>,
    bytes: usize,
}

impl<V> Default for MatchMemo<V> {
    fn default() -> Self {
        MatchMemo {
            inner: Mutex::new(Entries {
                by_scan: HashMap::new(),
                bytes: 0,
            }),
        }
    }
}

impl<V> MatchMemo<V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The match kept for `scan`, when it was made for exactly the exceptions `set`.
    pub fn get(&self, scan: &str, set: &[&str]) -> Option<Arc<V>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let entry = inner.by_scan.get(scan)?;
        let same = entry.set.len() == set.len() && entry.set.iter().zip(set).all(|(a, b)| a == b);
        same.then(|| entry.value.clone())
    }

    /// Keeps `value`, the match of `scan` against the exceptions `set`, weighing about `bytes`.
    pub fn put(&self, scan: String, set: Vec<String>, value: Arc<V>, bytes: usize) {
        if bytes > MAX_BYTES {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.bytes + bytes > MAX_BYTES {
            inner.by_scan.clear();
            inner.bytes = 0;
        }
        inner.bytes += bytes;
        let entry = Entry { set, value, bytes };
        if let Some(old) = inner.by_scan.insert(scan, entry) {
            inner.bytes -= old.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_match_is_reused_only_for_the_same_exceptions() {
        let memo = MatchMemo::new();
        memo.put("s1".into(), vec!["a".into(), "b".into()], Arc::new(1), 10);
        assert_eq!(memo.get("s1", &["a", "b"]).as_deref(), Some(&1));
        assert!(memo.get("s1", &["a"]).is_none(), "one exception ended");
        assert!(
            memo.get("s1", &["a", "b", "c"]).is_none(),
            "one more applies"
        );
        assert!(memo.get("s1", &["a", "c"]).is_none(), "another applies");
        assert!(memo.get("s2", &["a", "b"]).is_none(), "another scan");
        memo.put("s1".into(), vec!["a".into()], Arc::new(2), 10);
        assert_eq!(memo.get("s1", &["a"]).as_deref(), Some(&2));
    }

    #[test]
    fn the_memo_starts_over_past_its_bound() {
        let memo = MatchMemo::new();
        memo.put("s1".into(), vec![], Arc::new(1), MAX_BYTES - 5);
        memo.put("s2".into(), vec![], Arc::new(2), 10);
        assert!(memo.get("s1", &[]).is_none());
        assert_eq!(memo.get("s2", &[]).as_deref(), Some(&2));
        memo.put("s3".into(), vec![], Arc::new(3), MAX_BYTES + 1);
        assert!(memo.get("s3", &[]).is_none(), "too big to keep");
    }
}
