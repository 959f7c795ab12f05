//! Rule ids as results refer to them: exactly, or hierarchically (SARIF 2.1.0 §3.27.5: a
//! result's `ruleId` "A/B" is a sub-result of rule "A"; the longest declared prefix wins).
//!
//! An id is compared as it is kept, cut to [`RULE_ID_MAX_CHARS`], and only the prefixes that end
//! where a `/` stands *and* whose length some declared id has are looked up. So one lookup
//! hashes at most a few hundred bytes whatever the report sends: trying every `/`-prefix of an
//! uncut id made a result whose `ruleId` is a million slashes (a few hundred bytes of gzip) cost
//! half a trillion bytes hashed. Two declared ids that agree on their first
//! `RULE_ID_MAX_CHARS - 1` characters are one rule here (the first declared), as they are in
//! every finding, where the id is stored cut.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::ingest::model::{cut, RULE_ID_MAX_CHARS};
use crate::ingest::work;

/// The id as kept and compared: cut to [`RULE_ID_MAX_CHARS`] (borrowed when short enough).
pub(super) fn kept(id: &str) -> Cow<'_, str> {
    cut(id, RULE_ID_MAX_CHARS)
}

pub(super) struct RuleIds<V> {
    by_id: HashMap<String, V>,
    /// The distinct byte lengths of the ids, longest first: the only prefix lengths worth a
    /// lookup (at most a few hundred, as ids are cut).
    lengths: Vec<usize>,
}

impl<V> Default for RuleIds<V> {
    fn default() -> Self {
        RuleIds {
            by_id: HashMap::new(),
            lengths: Vec::new(),
        }
    }
}

impl<V> RuleIds<V> {
    /// Declares `id`, unless an id that is the same once cut came first (the first wins).
    pub(super) fn insert_first(&mut self, id: &str, value: V) {
        let id = kept(id);
        work::charge(id.len());
        if self.by_id.contains_key(id.as_ref()) {
            return;
        }
        if let Err(at) = self.lengths.binary_search_by(|l| id.len().cmp(l)) {
            self.lengths.insert(at, id.len());
        }
        self.by_id.insert(id.into_owned(), value);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The value of `id` itself, else of its longest declared `/`-prefix.
    pub(super) fn get(&self, id: &str) -> Option<&V> {
        let id = kept(id);
        work::charge(id.len());
        if let Some(v) = self.by_id.get(id.as_ref()) {
            return Some(v);
        }
        let bytes = id.as_bytes();
        for &len in self.lengths.iter().filter(|&&len| len < bytes.len()) {
            // A '/' byte is always a char boundary in UTF-8.
            work::charge(1);
            if bytes[len] == b'/' {
                work::charge(len);
                if let Some(v) = self.by_id.get(&id[..len]) {
                    return Some(v);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> RuleIds<usize> {
        let mut ids = RuleIds::default();
        for (i, id) in list.iter().enumerate() {
            ids.insert_first(id, i);
        }
        ids
    }

    #[test]
    fn exact_then_longest_declared_prefix() {
        let ids = ids(&["A", "A/B", "C/D", "A"]);
        assert_eq!(ids.get("A"), Some(&0));
        assert_eq!(ids.get("A/B"), Some(&1));
        assert_eq!(ids.get("A/B/C"), Some(&1));
        assert_eq!(ids.get("A/X"), Some(&0));
        assert_eq!(ids.get("C/D/E"), Some(&2));
        assert_eq!(ids.get("C"), None);
        assert_eq!(ids.get("AB"), None);
        assert_eq!(ids.get("A.B"), None);
        assert_eq!(ids.get(""), None);
    }

    #[test]
    fn ids_longer_than_kept_match_by_what_is_kept() {
        let long = "x".repeat(RULE_ID_MAX_CHARS + 50);
        let ids = ids(&[&long]);
        assert_eq!(ids.get(&long), Some(&0));
        assert_eq!(ids.get(&format!("{long}/sub")), Some(&0));
        // Differs only past the kept characters: the same rule.
        assert_eq!(ids.get(&format!("{long}yyy")), Some(&0));
        assert_eq!(ids.get(&"x".repeat(RULE_ID_MAX_CHARS - 2)), None);
    }

    #[test]
    fn non_ascii_ids_cut_on_char_boundaries() {
        let long = "é/".repeat(RULE_ID_MAX_CHARS);
        let ids = ids(&["é", &long]);
        assert_eq!(ids.get("é/x"), Some(&0));
        assert_eq!(ids.get(&long), Some(&1));
    }
}
