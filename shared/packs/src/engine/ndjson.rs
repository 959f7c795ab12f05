//! NDJSON records, read without building a JSON tree: each line's keys are looked up in the
//! schema's path tree and only the values of fields a rule reads are kept.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::input::{id_problem, InputError, Position};
use super::records::{Cell, Kind, Records};
use super::schema::{FieldType, PathNode, PathTree, Slot, ID_FIELD};

/// Reads one JSON object per line; blank lines are skipped.
pub fn parse_ndjson<'s>(
    schema: &'s crate::engine::Schema,
    body: &[u8],
) -> Result<Records<'s>, InputError> {
    let mut records = Records::new(schema);
    let mut id = String::new();
    for (index, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let position = Position::Line(index + 1);
        id.clear();
        let mut de = serde_json::Deserializer::from_slice(line);
        let read = ObjectSeed {
            tree: &schema.tree,
            records: &mut records,
            id: Some(&mut id),
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        if let Err(e) = read {
            records.abandon();
            return Err(InputError::at(position, None, json_message(&e)));
        }
        if id.is_empty() {
            records.abandon();
            return Err(InputError::at(
                position,
                Some(ID_FIELD),
                "required: a string or an integer that names the record",
            ));
        }
        if let Some(problem) = id_problem(&id) {
            records.abandon();
            return Err(InputError::at(position, Some(ID_FIELD), problem));
        }
        records.finish(&id);
    }
    Ok(records)
}

/// serde_json's message without its "at line 1 column N" (every line is line 1 to it).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    if e.is_data() {
        text.to_string()
    } else {
        format!("not a JSON object ({text} at column {})", e.column())
    }
}

/// A JSON object at some depth of the path tree; at the top it also reads the `id`.
struct ObjectSeed<'a, 's> {
    tree: &'a PathTree,
    records: &'a mut Records<'s>,
    id: Option<&'a mut String>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(target) = map.next_key_seed(KeySeed {
            tree: self.tree,
            top: self.id.is_some(),
        })? {
            match target {
                Target::Field(slot) => map.next_value_seed(ValueSeed {
                    slot,
                    records: self.records,
                })?,
                Target::Object(tree) => {
                    // A scalar where an object of fields was expected holds none of them.
                    map.next_value_seed(NestedSeed(ObjectSeed {
                        tree,
                        records: self.records,
                        id: None,
                    }))?
                }
                Target::Id => {
                    let id = self.id.as_deref_mut().expect("only at the top");
                    map.next_value_seed(IdSeed(id))?
                }
                Target::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A nested object of a dotted path: anything else there is ignored.
struct NestedSeed<'a, 's>(ObjectSeed<'a, 's>);

impl<'de> DeserializeSeed<'de> for NestedSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NestedSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.visit_map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

enum Target<'a> {
    Field(Slot),
    Object(&'a PathTree),
    Id,
    Skip,
}

struct KeySeed<'a> {
    tree: &'a PathTree,
    top: bool,
}

impl<'de, 'a> DeserializeSeed<'de> for KeySeed<'a> {
    type Value = Target<'a>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Target<'a>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'a> Visitor<'de> for KeySeed<'a> {
    type Value = Target<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Target<'a>, E> {
        Ok(match self.tree.children.get(key) {
            Some(PathNode::Leaf(slot)) => Target::Field(*slot),
            Some(PathNode::Branch(tree)) => Target::Object(tree),
            None if self.top && key == ID_FIELD => Target::Id,
            None => Target::Skip,
        })
    }
}

struct IdSeed<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for IdSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // A key given twice keeps its last value, as for every field.
        self.0.clear();
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for IdSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the record's id as a string or an integer")
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.push_str(&v.to_string());
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.0.push_str(&v.to_string());
        Ok(())
    }
}

/// A field's value, stored as its schema's type says (or as a wrong type).
struct ValueSeed<'a, 's> {
    slot: Slot,
    records: &'a mut Records<'s>,
}

impl ValueSeed<'_, '_> {
    fn ty(&self) -> FieldType {
        self.records.schema.spec(self.slot).ty
    }

    fn value_read(&self) -> bool {
        self.records.schema.spec(self.slot).value_read
    }

    /// Stores `cell` if its kind is what the field takes, or the value as a wrong type.
    fn store(self, cell: Cell, shown: impl FnOnce() -> String) {
        let fits = match self.ty() {
            FieldType::Number => cell.kind == Kind::Number,
            FieldType::Boolean => cell.kind == Kind::Bool,
            FieldType::Any => true,
            FieldType::String | FieldType::Timestamp => false,
        };
        match (fits, self.value_read()) {
            (true, true) => self.records.put(self.slot, cell),
            (true, false) => self.records.put(self.slot, Cell::of(Kind::Present, 0)),
            (false, _) => self.records.put_invalid(self.slot, &shown()),
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.store(Cell::boolean(v), || v.to_string());
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.store(Cell::number(v as f64), || v.to_string());
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.store(Cell::number(v as f64), || v.to_string());
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.store(Cell::number(v), || v.to_string());
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.records.put_text(self.slot, v);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        // null is a missing value.
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Scalar>()? {
            items.extend(item.0);
        }
        if self.ty() != FieldType::Any {
            self.records.put_invalid(self.slot, "(an array)");
        } else if !self.value_read() {
            self.records.put(self.slot, Cell::of(Kind::Present, 0));
        } else {
            let cells = items
                .into_iter()
                .map(|s| match s {
                    ScalarValue::Cell(c) => c,
                    ScalarValue::Text(t) => {
                        Cell::of(Kind::Str, u64::from(self.records.strings.intern(&t)))
                    }
                })
                .collect();
            self.records.put_array(self.slot, cells);
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        match self.ty() {
            FieldType::Any => self.records.put(self.slot, Cell::of(Kind::Other, 0)),
            _ => self.records.put_invalid(self.slot, "(an object)"),
        }
        Ok(())
    }
}

/// An array element: a scalar is kept (for `contains`), anything else skipped.
struct Scalar(Option<ScalarValue>);

enum ScalarValue {
    Cell(Cell),
    Text(String),
}

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(Some(ScalarValue::Cell(Cell::boolean(v)))))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(ScalarValue::Cell(Cell::number(v as f64)))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(ScalarValue::Cell(Cell::number(v as f64)))))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(Some(ScalarValue::Cell(Cell::number(v)))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(Some(ScalarValue::Text(v.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
        }
        d.deserialize_any(V)
    }
}
