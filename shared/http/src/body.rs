//! Request bodies, read as a whole. A body type implements [`FromBody`] by reading its fields
//! from an [`Object`]; every problem is recorded with its path (`controls[2].check_type`) as a
//! [`Problem`] and reading goes on, so one answer names all of them. Problems are kept in words
//! neutral to the API family; each family words them its own way when the error is rendered
//! (see `error.rs`): the Compliance API in serde's style, the Audits API in Zod's.

use std::str::FromStr;

use compliance_domain::labels::UnknownLabel;
use serde_json::{json, Map, Value};

pub use crate::problem::{type_name, FieldError, Problem};

/// A body type read field by field.
pub trait FromBody: Sized {
    /// Reads the body from its top-level object; `None` when a problem was recorded.
    fn from_body(body: &mut Object<'_, '_>) -> Option<Self>;
}

/// Reads `value` (a parsed body) as `T`: every problem, or the body.
pub fn read<T: FromBody>(value: &Value) -> Result<T, Vec<FieldError>> {
    let mut problems = Vec::new();
    let read = Field {
        problems: &mut problems,
        path: Vec::new(),
        value,
    }
    .object(|o| T::from_body(o));
    match read {
        Some(body) if problems.is_empty() => Ok(body),
        _ => Err(problems),
    }
}

/// One value being read, where it is.
pub struct Field<'p, 'v> {
    problems: &'p mut Vec<FieldError>,
    path: Vec<Value>,
    value: &'v Value,
}

/// The bounds of a text field; characters are counted after trimming.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub min: usize,
    pub max: usize,
    /// Whether a newline may appear (other control characters never may).
    pub newlines: bool,
}

impl Text {
    /// `min..=max` characters, no control character.
    pub const fn chars(min: usize, max: usize) -> Self {
        Text {
            min,
            max,
            newlines: false,
        }
    }

    pub const fn with_newlines(self) -> Self {
        Text {
            newlines: true,
            ..self
        }
    }
}

impl<'p, 'v> Field<'p, 'v> {
    pub fn path(&self) -> &[Value] {
        &self.path
    }

    pub fn value(&self) -> &'v Value {
        self.value
    }

    /// Records `problem` here; `None`, so readers can `return field.fail(..)`.
    pub fn fail<T>(self, problem: Problem) -> Option<T> {
        self.problems.push(FieldError::problem(self.path, problem));
        None
    }

    /// Records a problem in the family-neutral words of `message`.
    pub fn invalid<T>(self, message: impl Into<String>) -> Option<T> {
        self.fail(Problem::Invalid(message.into()))
    }

    fn wrong_type<T>(self, expected: &'static str) -> Option<T> {
        let found = type_name(self.value);
        self.fail(Problem::WrongType { expected, found })
    }

    pub fn string(self) -> Option<&'v str> {
        match self.value {
            Value::String(s) => Some(s),
            _ => self.wrong_type("string"),
        }
    }

    pub fn boolean(self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(*b),
            _ => self.wrong_type("boolean"),
        }
    }

    /// A whole number within `min..=max` (`110.0` is one, as JSON Schema counts integers).
    pub fn integer(self, min: i64, max: i64) -> Option<i64> {
        let whole = self.value.as_i64().or_else(|| {
            self.value
                .as_f64()
                .filter(|v| v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0)
                .map(|v| v as i64)
        });
        match whole {
            Some(v) if (min..=max).contains(&v) => Some(v),
            Some(_) => self.invalid(format!("must be an integer from {min} to {max}")),
            None if self.value.is_number() => {
                self.invalid(format!("must be an integer from {min} to {max}"))
            }
            None => self.wrong_type("integer"),
        }
    }

    pub fn number(self) -> Option<f64> {
        match self.value.as_f64() {
            Some(v) => Some(v),
            None => self.wrong_type("number"),
        }
    }

    /// A text within `bounds`, trimmed.
    pub fn text(self, bounds: Text) -> Option<String> {
        let Value::String(s) = self.value else {
            return self.wrong_type("string");
        };
        let s = s.trim();
        let chars = s.chars().count();
        if chars < bounds.min {
            return self.fail(Problem::TooShort { min: bounds.min });
        }
        if chars > bounds.max {
            return self.fail(Problem::TooLong { max: bounds.max });
        }
        if s.chars()
            .any(|c| c.is_control() && !(bounds.newlines && c == '\n'))
        {
            return self.fail(Problem::ControlCharacters);
        }
        Some(s.to_string())
    }

    /// One of the labels of a `labels!` enum.
    pub fn label<E: FromStr<Err = UnknownLabel>>(self) -> Option<E> {
        let Value::String(s) = self.value else {
            return self.wrong_type("string");
        };
        match s.parse::<E>() {
            Ok(v) => Some(v),
            Err(e) => self.fail(Problem::from_label(e)),
        }
    }

    /// A text `parse` accepts; its error is the problem's message.
    pub fn parsed<T, E: std::fmt::Display>(
        self,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let Value::String(s) = self.value else {
            return self.wrong_type("string");
        };
        match parse(s) {
            Ok(v) => Some(v),
            Err(e) => self.invalid(e.to_string()),
        }
    }

    /// An array of `min..=max` items, each read by `item` (all items are read, so every
    /// problem is reported; `None` if any had one).
    pub fn array<T>(
        self,
        min: usize,
        max: usize,
        mut item: impl FnMut(Field<'_, 'v>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Value::Array(items) = self.value else {
            return self.wrong_type("array");
        };
        if items.len() < min {
            return self.fail(Problem::TooFew { min });
        }
        if items.len() > max {
            return self.fail(Problem::TooMany { max });
        }
        let mut out = Vec::with_capacity(items.len());
        let mut complete = true;
        for (i, value) in items.iter().enumerate() {
            let mut path = self.path.clone();
            path.push(json!(i));
            let field = Field {
                problems: &mut *self.problems,
                path,
                value,
            };
            match item(field) {
                Some(v) => out.push(v),
                None => complete = false,
            }
        }
        complete.then_some(out)
    }

    /// An object taken as it is (its keys are data, not fields).
    pub fn raw_object(self) -> Option<&'v Map<String, Value>> {
        match self.value {
            Value::Object(map) => Some(map),
            _ => self.wrong_type("object"),
        }
    }

    /// An object whose keys are data (at most `max` of them), each value read by `entry`.
    pub fn entries<T>(
        self,
        max: usize,
        mut entry: impl FnMut(&str, Field<'_, 'v>) -> Option<T>,
    ) -> Option<Vec<(String, T)>> {
        let Value::Object(map) = self.value else {
            return self.wrong_type("object");
        };
        if map.len() > max {
            return self.fail(Problem::TooMany { max });
        }
        let mut out = Vec::with_capacity(map.len());
        let mut complete = true;
        for (key, value) in map {
            let mut path = self.path.clone();
            path.push(json!(key));
            let field = Field {
                problems: &mut *self.problems,
                path,
                value,
            };
            match entry(key, field) {
                Some(v) => out.push((key.clone(), v)),
                None => complete = false,
            }
        }
        complete.then_some(out)
    }

    /// An object, read by `read`, its unknown fields reported.
    pub fn object<T>(self, read: impl FnOnce(&mut Object<'_, 'v>) -> Option<T>) -> Option<T> {
        let Value::Object(map) = self.value else {
            return self.wrong_type("object");
        };
        let mut object = Object {
            problems: self.problems,
            path: self.path,
            map,
            read: Vec::new(),
        };
        let value = read(&mut object);
        object.unknown_fields();
        value
    }
}

/// An object being read: each field is read once, by name; the others are unknown.
pub struct Object<'p, 'v> {
    problems: &'p mut Vec<FieldError>,
    path: Vec<Value>,
    map: &'v Map<String, Value>,
    read: Vec<&'static str>,
}

impl<'p, 'v> Object<'p, 'v> {
    fn field(&mut self, name: &'static str, value: &'v Value) -> Field<'_, 'v> {
        let mut path = self.path.clone();
        path.push(json!(name));
        Field {
            problems: &mut *self.problems,
            path,
            value,
        }
    }

    /// A field that must be present and not `null`.
    pub fn required<T>(
        &mut self,
        name: &'static str,
        read: impl FnOnce(Field<'_, 'v>) -> Option<T>,
    ) -> Option<T> {
        self.read.push(name);
        match self.map.get(name) {
            None | Some(Value::Null) => {
                self.fail_at(name, Problem::Missing);
                None
            }
            Some(value) => read(self.field(name, value)),
        }
    }

    /// A field that may be absent or `null` (`Some(None)`); `None` when it had a problem.
    pub fn optional<T>(
        &mut self,
        name: &'static str,
        read: impl FnOnce(Field<'_, 'v>) -> Option<T>,
    ) -> Option<Option<T>> {
        self.read.push(name);
        match self.map.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(value) => read(self.field(name, value)).map(Some),
        }
    }

    /// A field that must be present but may be `null` (`{"keys": null}`).
    pub fn nullable<T>(
        &mut self,
        name: &'static str,
        read: impl FnOnce(Field<'_, 'v>) -> Option<T>,
    ) -> Option<Option<T>> {
        self.read.push(name);
        match self.map.get(name) {
            None => {
                self.fail_at(name, Problem::Missing);
                None
            }
            Some(Value::Null) => Some(None),
            Some(value) => read(self.field(name, value)).map(Some),
        }
    }

    /// Records a problem of a field already read (a rule across fields).
    pub fn fail_at(&mut self, name: &'static str, problem: Problem) {
        let mut path = self.path.clone();
        path.push(json!(name));
        self.problems.push(FieldError::problem(path, problem));
    }

    /// Records a problem at a path below this object.
    pub fn fail_below(&mut self, below: Vec<Value>, problem: Problem) {
        let mut path = self.path.clone();
        path.extend(below);
        self.problems.push(FieldError::problem(path, problem));
    }

    fn unknown_fields(self) {
        for name in self.map.keys() {
            if !self.read.contains(&name.as_str()) {
                let mut path = self.path.clone();
                path.push(json!(name));
                let allowed = self.read.clone();
                self.problems
                    .push(FieldError::problem(path, Problem::UnknownField { allowed }));
            }
        }
    }
}
