//! Lenient, bounded, borrowing deserialisers for SARIF's free-form corners (property bags, tag
//! lists, fingerprint maps, long arrays of which only the first element matters). Anything
//! unexpected in a property bag is skipped, never an error: property bags are tool-defined.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Most strings kept from one list-valued property (tags, cwe). The rest is skipped.
pub const LIST_MAX: usize = 64;
/// Most entries kept from one fingerprint map.
pub const MAP_MAX: usize = 16;

/// Any JSON value, keeping only scalars (borrowed when possible); arrays and objects are
/// skipped without allocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Loose<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    Bool(bool),
    Null,
    Other,
}

impl Loose<'_> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Loose::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as display text, for error messages.
    pub fn describe(&self) -> String {
        match self {
            Loose::Str(s) => format!("\"{}\"", super::model::truncate_chars(s, 40)),
            Loose::Num(n) => n.to_string(),
            Loose::Bool(b) => b.to_string(),
            Loose::Null => "null".to_owned(),
            Loose::Other => "an array or object".to_owned(),
        }
    }
}

struct LooseVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for LooseVisitor<'a> {
    type Value = Loose<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Loose::Num(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Loose::Num(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Loose::Num(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Loose::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Loose::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor(PhantomData))
    }
}

/// A list of strings from a property that may be a string, a number, or an array of them (at
/// most [`LIST_MAX`] kept; numbers become their decimal text; anything else is skipped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrList<'a>(pub Vec<Cow<'a, str>>);

impl<'a> StrList<'a> {
    fn push(&mut self, value: Loose<'a>) {
        if self.0.len() >= LIST_MAX {
            return;
        }
        match value {
            Loose::Str(s) => self.0.push(s),
            Loose::Num(n) if n.is_finite() && n.fract() == 0.0 && n >= 0.0 => {
                self.0.push(Cow::Owned(format!("{}", n as u64)))
            }
            _ => {}
        }
    }
}

struct StrListVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for StrListVisitor<'a> {
    type Value = StrList<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = StrList::default();
        while let Some(v) = seq.next_element::<Loose<'a>>()? {
            out.push(v);
        }
        Ok(out)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(StrList(vec![Cow::Borrowed(v)]))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(StrList(vec![Cow::Owned(v.to_owned())]))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(StrList(vec![Cow::Owned(v)]))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        let mut out = StrList::default();
        out.push(Loose::Num(v as f64));
        Ok(out)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let mut out = StrList::default();
        out.push(Loose::Num(v as f64));
        Ok(out)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(StrList::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(StrList::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(StrList::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(StrList::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        StrList::deserialize(d)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(StrList::default())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for StrList<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrListVisitor(PhantomData))
    }
}

/// A string-to-string map (SARIF `fingerprints`, `partialFingerprints`): at most [`MAP_MAX`]
/// entries with string (or numeric) values are kept, sorted by key so that hashing is stable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrMap<'a>(pub Vec<(Cow<'a, str>, Cow<'a, str>)>);

struct StrMapVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for StrMapVisitor<'a> {
    type Value = StrMap<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of strings")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::new();
        while let Some(key) = map.next_key::<Cow<'a, str>>()? {
            let value: Loose<'a> = map.next_value()?;
            if out.len() >= MAP_MAX {
                continue;
            }
            match value {
                Loose::Str(s) => out.push((key, s)),
                Loose::Num(n) => out.push((key, Cow::Owned(n.to_string()))),
                _ => {}
            }
        }
        out.sort();
        Ok(StrMap(out))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(StrMap::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(StrMap::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        StrMap::deserialize(d)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for StrMap<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StrMapVisitor(PhantomData))
    }
}

/// The first element of an array, the rest skipped without allocation (SARIF `locations`:
/// one location is what a finding shows).
#[derive(Debug, Clone, PartialEq)]
pub struct First<T>(pub Option<T>);

impl<T> Default for First<T> {
    fn default() -> Self {
        First(None)
    }
}

struct FirstVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for FirstVisitor<T> {
    type Value = First<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let first = seq.next_element::<T>()?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(First(first))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(First(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(First(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(FirstVisitor(PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for First<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_option(FirstVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Bag<'a> {
        #[serde(borrow, default)]
        tags: Option<StrList<'a>>,
        #[serde(borrow, default)]
        score: Option<Loose<'a>>,
        #[serde(borrow, default)]
        fp: Option<StrMap<'a>>,
        #[serde(default)]
        first: First<u32>,
    }

    #[test]
    fn loose_values_never_fail_and_borrow_plain_strings() {
        let bag: Bag = serde_json::from_str(
            r#"{"tags":["a",7,{"x":1},["y"],null,"b"],"score":"7.5","fp":{"z":"1","a":2,"o":{}},"first":[3,{"big":[1,2,3]},"x"]}"#,
        )
        .unwrap();
        let tags = bag.tags.unwrap().0;
        assert_eq!(tags, vec!["a", "7", "b"]);
        assert!(matches!(tags[0], Cow::Borrowed(_)));
        assert_eq!(bag.score.unwrap().as_str(), Some("7.5"));
        let fp = bag.fp.unwrap().0;
        assert_eq!(fp.len(), 2);
        assert_eq!(fp[0].0, "a");
        assert_eq!(bag.first.0, Some(3));

        let bag: Bag =
            serde_json::from_str(r#"{"tags":"solo","score":{"a":[1]},"first":null}"#).unwrap();
        assert_eq!(bag.tags.unwrap().0, vec!["solo"]);
        assert_eq!(bag.score, Some(Loose::Other));
        assert_eq!(bag.first.0, None);
    }

    #[test]
    fn lists_are_bounded() {
        let many: Vec<String> = (0..1000).map(|i| format!("t{i}")).collect();
        let json = serde_json::json!({ "tags": many }).to_string();
        let bag: Bag = serde_json::from_str(&json).unwrap();
        assert_eq!(bag.tags.unwrap().0.len(), LIST_MAX);
    }
}
