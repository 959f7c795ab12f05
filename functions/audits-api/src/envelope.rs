//! The dry run's JSON envelope, `{"records": [...], "thresholds": {...}, "rule_ids": [...],
//! "findings_limit": n}`, read without a JSON tree: the records go straight into the engine's
//! compact records, as a run's NDJSON lines do, so a body of up to 64 MiB costs the records it
//! keeps rather than a tree several times its size.
//!
//! Two passes over the bytes. The first checks the document as every JSON body is checked
//! (`compliance_http::parse_json`: syntax, then no key twice in an object), with the same
//! errors. The second reads the fields and records every problem as the body readers of
//! `compliance_http::body` word them, in the order they would (records, thresholds, rule_ids,
//! findings_limit, then unknown fields in key order), so the answers are those of reading a
//! tree.

use std::fmt;

use compliance_http::body::Problem;
use compliance_http::{ApiError, FieldError};
use compliance_packs::engine::input::RecordReader;
use compliance_packs::engine::{InputError, Position, Records, Schema};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Value};

use crate::packs::MAX_DRY_RUN_FINDINGS;

/// The envelope as read: the options, and the records or the first that cannot be read (which
/// is reported only once the options are known to be valid).
pub struct Envelope {
    pub records: Result<Records<'static>, InputError>,
    /// In key order.
    pub thresholds: Vec<(String, f64)>,
    pub rule_ids: Option<Vec<String>>,
    pub findings_limit: Option<u32>,
}

/// The envelope may carry this many records (the body limit bounds it anyway).
const MAX_ENVELOPE_RECORDS: usize = 100_000;
const MAX_THRESHOLDS: usize = 100;
const MAX_RULE_IDS: usize = 100;
const FIELDS: [&str; 4] = ["records", "thresholds", "rule_ids", "findings_limit"];

/// Reads the (decompressed) envelope against the pack's schema.
pub fn read(schema: &'static Schema, bytes: &[u8]) -> Result<Envelope, ApiError> {
    compliance_http::check_json(bytes)?;
    let mut fields = Fields::new(schema);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let top = TopSeed(&mut fields)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    // The check above read the same bytes with the same reader: nothing is left to fail here.
    top.map_err(compliance_http::json_problem)?;
    fields.finish()
}

/// A value read as one JSON type: `null`, that type's value, or another type (skipped, named
/// as `compliance_http::body::type_name` names it).
enum Got<T> {
    Null,
    Value(T),
    Wrong(&'static str),
}

impl<T> Got<T> {
    /// An item of an array or an object, where `null` is a value of the wrong type.
    fn item(self) -> Result<T, &'static str> {
        match self {
            Got::Value(v) => Ok(v),
            Got::Null => Err("null"),
            Got::Wrong(found) => Err(found),
        }
    }
}

/// The visit methods of the JSON types a visitor does not take.
macro_rules! other_types {
    ($de:lifetime; $($kind:ident)*) => { $(other_types!(@ $de $kind);)* };
    (@ $de:lifetime bool) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Got::Wrong("boolean"))
        }
    };
    (@ $de:lifetime number) => {
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Got::Wrong("number"))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Got::Wrong("number"))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Got::Wrong("number"))
        }
    };
    (@ $de:lifetime string) => {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Got::Wrong("string"))
        }
    };
    (@ $de:lifetime null) => {
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Got::Null)
        }
    };
    (@ $de:lifetime array) => {
        fn visit_seq<A: SeqAccess<$de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Got::Wrong("array"))
        }
    };
    (@ $de:lifetime object) => {
        fn visit_map<A: MapAccess<$de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Got::Wrong("object"))
        }
    };
}

/// What the second pass found, field by field (`None`: absent).
struct Fields {
    top: Option<&'static str>,
    records: Option<Got<Items>>,
    reader: RecordReader<'static>,
    thresholds: Option<Got<Entries>>,
    rule_ids: Option<Got<Strings>>,
    findings_limit: Option<Got<Option<u32>>>,
    unknown: Vec<String>,
}

/// The records array: how many items, and those that are not objects (`[index, JSON type]`)
/// while there are not too many to list.
struct Items {
    count: usize,
    not_objects: Vec<(usize, &'static str)>,
}

/// The thresholds object: its entries while there are not too many, and how many.
struct Entries {
    count: usize,
    kept: Vec<(String, Result<f64, &'static str>)>,
}

/// The rule ids: the items while there are not too many, and how many.
struct Strings {
    count: usize,
    kept: Vec<Result<String, &'static str>>,
}

impl Fields {
    fn new(schema: &'static Schema) -> Self {
        Fields {
            top: None,
            records: None,
            reader: RecordReader::new(schema),
            thresholds: None,
            rule_ids: None,
            findings_limit: None,
            unknown: Vec::new(),
        }
    }

    /// The envelope, or every problem in the order the tree's reader reports them.
    fn finish(self) -> Result<Envelope, ApiError> {
        if let Some(found) = self.top {
            return Err(problems(vec![(
                vec![],
                Problem::WrongType {
                    expected: "object",
                    found,
                },
            )]));
        }
        let mut problems_found: Vec<(Vec<Value>, Problem)> = Vec::new();
        let mut at = |path: Vec<Value>, problem| problems_found.push((path, problem));
        let wrong = |expected, found| Problem::WrongType { expected, found };

        match self.records {
            None | Some(Got::Null) => at(vec![json!("records")], Problem::Missing),
            Some(Got::Wrong(found)) => at(vec![json!("records")], wrong("array", found)),
            Some(Got::Value(items)) if items.count < 1 => {
                at(vec![json!("records")], Problem::TooFew { min: 1 })
            }
            Some(Got::Value(items)) if items.count > MAX_ENVELOPE_RECORDS => at(
                vec![json!("records")],
                Problem::TooMany {
                    max: MAX_ENVELOPE_RECORDS,
                },
            ),
            Some(Got::Value(items)) => {
                for (i, found) in items.not_objects {
                    at(vec![json!("records"), json!(i)], wrong("object", found));
                }
            }
        }

        let mut thresholds = Vec::new();
        match self.thresholds {
            None | Some(Got::Null) => {}
            Some(Got::Wrong(found)) => at(vec![json!("thresholds")], wrong("object", found)),
            Some(Got::Value(entries)) if entries.count > MAX_THRESHOLDS => at(
                vec![json!("thresholds")],
                Problem::TooMany {
                    max: MAX_THRESHOLDS,
                },
            ),
            Some(Got::Value(mut entries)) => {
                entries.kept.sort_by(|a, b| a.0.cmp(&b.0));
                for (key, value) in entries.kept {
                    match value {
                        Ok(v) => thresholds.push((key, v)),
                        Err(found) => at(
                            vec![json!("thresholds"), json!(key)],
                            wrong("number", found),
                        ),
                    }
                }
            }
        }

        let mut rule_ids = None;
        match self.rule_ids {
            None | Some(Got::Null) => {}
            Some(Got::Wrong(found)) => at(vec![json!("rule_ids")], wrong("array", found)),
            Some(Got::Value(ids)) if ids.count < 1 => {
                at(vec![json!("rule_ids")], Problem::TooFew { min: 1 })
            }
            Some(Got::Value(ids)) if ids.count > MAX_RULE_IDS => at(
                vec![json!("rule_ids")],
                Problem::TooMany { max: MAX_RULE_IDS },
            ),
            Some(Got::Value(ids)) => {
                let mut kept = Vec::with_capacity(ids.kept.len());
                for (i, id) in ids.kept.into_iter().enumerate() {
                    match id {
                        Ok(id) => kept.push(id),
                        Err(found) => at(vec![json!("rule_ids"), json!(i)], wrong("string", found)),
                    }
                }
                rule_ids = Some(kept);
            }
        }

        let mut findings_limit = None;
        match self.findings_limit {
            None | Some(Got::Null) => {}
            Some(Got::Value(Some(n))) => findings_limit = Some(n),
            Some(Got::Value(None) | Got::Wrong(_)) => at(
                vec![json!("findings_limit")],
                Problem::Invalid(format!(
                    "Expected an integer between 0 and {MAX_DRY_RUN_FINDINGS}"
                )),
            ),
        }

        let mut unknown = self.unknown;
        unknown.sort();
        for name in unknown {
            at(
                vec![json!(name)],
                Problem::UnknownField {
                    allowed: FIELDS.to_vec(),
                },
            );
        }

        if !problems_found.is_empty() {
            return Err(problems(problems_found));
        }
        Ok(Envelope {
            records: self.reader.finish(),
            thresholds,
            rule_ids,
            findings_limit,
        })
    }
}

fn problems(found: Vec<(Vec<Value>, Problem)>) -> ApiError {
    ApiError::Validation(
        found
            .into_iter()
            .map(|(path, problem)| FieldError::problem(path, problem))
            .collect(),
    )
}

/// The envelope itself: an object of the fields.
struct TopSeed<'a>(&'a mut Fields);

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let got = d.deserialize_any(TopVisitor(&mut *self.0))?;
        self.0.top = match got {
            Got::Value(()) => None,
            Got::Null => Some("null"),
            Got::Wrong(found) => Some(found),
        };
        Ok(())
    }
}

struct TopVisitor<'a>(&'a mut Fields);

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = Got<()>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Got<()>, A::Error> {
        let fields = self.0;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "records" => {
                    fields.records = Some(map.next_value_seed(RecordsSeed(&mut fields.reader))?)
                }
                "thresholds" => fields.thresholds = Some(map.next_value_seed(ThresholdsSeed)?),
                "rule_ids" => fields.rule_ids = Some(map.next_value_seed(RuleIdsSeed)?),
                "findings_limit" => fields.findings_limit = Some(map.next_value_seed(LimitSeed)?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    fields.unknown.push(key);
                }
            }
        }
        Ok(Got::Value(()))
    }

    other_types!('de; bool number string null array);
}

/// `records`: an array whose objects are read as records, the others named.
struct RecordsSeed<'a>(&'a mut RecordReader<'static>);

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_> {
    type Value = Got<Items>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Got<Items>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_> {
    type Value = Got<Items>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Got<Items>, A::Error> {
        let mut items = Items {
            count: 0,
            not_objects: Vec::new(),
        };
        loop {
            // Past the cap the array is refused whole: its items are only counted.
            if items.count >= MAX_ENVELOPE_RECORDS {
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    break;
                }
            } else {
                // Each item is one record, located as the NDJSON line it stands for.
                let position = Position::Line(items.count + 1);
                match seq.next_element_seed(self.0.record(position))? {
                    None => break,
                    Some(Ok(())) => {}
                    Some(Err(found)) => items.not_objects.push((items.count, found)),
                }
            }
            items.count += 1;
        }
        Ok(Got::Value(items))
    }

    other_types!('de; bool number string null object);
}

/// `thresholds`: an object of numbers by rule id.
struct ThresholdsSeed;

impl<'de> DeserializeSeed<'de> for ThresholdsSeed {
    type Value = Got<Entries>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Got<Entries>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ThresholdsSeed {
    type Value = Got<Entries>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of thresholds")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Got<Entries>, A::Error> {
        let mut entries = Entries {
            count: 0,
            kept: Vec::new(),
        };
        while let Some(key) = map.next_key::<String>()? {
            if entries.count < MAX_THRESHOLDS {
                let value = map.next_value_seed(NumberSeed)?.item();
                entries.kept.push((key, value));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            entries.count += 1;
        }
        Ok(Got::Value(entries))
    }

    other_types!('de; bool number string null array);
}

struct NumberSeed;

impl<'de> DeserializeSeed<'de> for NumberSeed {
    type Value = Got<f64>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Got<f64>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NumberSeed {
    type Value = Got<f64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_i64<E>(self, v: i64) -> Result<Got<f64>, E> {
        Ok(Got::Value(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Got<f64>, E> {
        Ok(Got::Value(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Got<f64>, E> {
        Ok(Got::Value(v))
    }

    other_types!('de; bool string null array object);
}

/// `rule_ids`: an array of strings.
struct RuleIdsSeed;

impl<'de> DeserializeSeed<'de> for RuleIdsSeed {
    type Value = Got<Strings>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Got<Strings>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RuleIdsSeed {
    type Value = Got<Strings>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of rule ids")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Got<Strings>, A::Error> {
        let mut ids = Strings {
            count: 0,
            kept: Vec::new(),
        };
        loop {
            if ids.count < MAX_RULE_IDS {
                match seq.next_element_seed(StringSeed)? {
                    Some(id) => ids.kept.push(id.item()),
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            ids.count += 1;
        }
        Ok(Got::Value(ids))
    }

    other_types!('de; bool number string null object);
}

struct StringSeed;

impl<'de> DeserializeSeed<'de> for StringSeed {
    type Value = Got<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Got<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringSeed {
    type Value = Got<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E>(self, v: &str) -> Result<Got<String>, E> {
        Ok(Got::Value(v.to_string()))
    }

    other_types!('de; bool number null array object);
}

/// `findings_limit`: a whole number up to the cap (`Value(None)`: a number that is not one).
struct LimitSeed;

impl<'de> DeserializeSeed<'de> for LimitSeed {
    type Value = Got<Option<u32>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Got<Option<u32>>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LimitSeed {
    type Value = Got<Option<u32>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number of findings")
    }

    fn visit_u64<E>(self, v: u64) -> Result<Got<Option<u32>>, E> {
        let fits = v <= u64::from(MAX_DRY_RUN_FINDINGS);
        Ok(Got::Value(fits.then_some(v as u32)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Got<Option<u32>>, E> {
        // A tree holds a non-negative i64 as an unsigned number.
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Ok(Got::Value(None)),
        }
    }
    fn visit_f64<E>(self, _: f64) -> Result<Got<Option<u32>>, E> {
        Ok(Got::Value(None))
    }

    other_types!('de; bool string null array object);
}
