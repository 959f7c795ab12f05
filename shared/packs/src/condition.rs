//! The typed condition expression of a rule (`conditions`), its JSON form and its checks.
//!
//! Grammar (FORMAT.md has the semantics and examples):
//!
//! ```text
//! condition := {"all": [condition, ...]} | {"any": [condition, ...]} | {"not": condition}
//!            | {"field": path, "op": op, "value": operand}
//!            | {"aggregate": func, "field"?: path, "group_by"?: [path, ...],
//!               "filter"?: condition, "op": op, "value": operand}
//!            | {"within": {"from": path, "to"?: path}}
//! operand   := literal | {"ref": "threshold", "factor"?: number} | {"list": list-name}
//! ```

use compliance_domain::labels;
use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::lists::named_list;
use compliance_domain::labels::UnknownLabel;

labels! {
    /// A comparison operator.
    pub enum Op as "operator" {
        Eq => "eq", Ne => "ne", Gt => "gt", Gte => "gte", Lt => "lt", Lte => "lte",
        In => "in", NotIn => "not_in", Contains => "contains", Exists => "exists", Between => "between",
    }
}

impl Op {
    /// Whether the operator can compare a number (an aggregate's result): every operator but
    /// `in`, `not_in`, `contains` and `exists`.
    pub fn is_numeric(self) -> bool {
        !matches!(self, Op::In | Op::NotIn | Op::Contains | Op::Exists)
    }
}

labels! {
    /// An aggregate function over the records of a group within the rule's window.
    pub enum AggFn as "aggregate function" {
        /// Number of records (of those with `field` present, when a field is given).
        Count => "count",
        /// Sum of a numeric field.
        Sum => "sum",
        /// Mean of a numeric field.
        Avg => "avg",
        /// Smallest value of a numeric field.
        Min => "min",
        /// Largest value of a numeric field.
        Max => "max",
        /// Number of distinct values of a field.
        CountDistinct => "count_distinct",
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A JSON literal: a string, number or boolean, an array of scalars for `in`/`not_in`, `[low, high]` for
    /// `between`, a boolean for `exists`.
    Literal(Value),
    /// `{"ref": "threshold", "factor": f}`: the rule's `threshold` times `factor` (1 when absent).
    Threshold { factor: f64 },
    /// `{"list": "name"}`: a named, externally maintained list of values (see [`super::NAMED_LISTS`]).
    List(String),
}

/// A rule's condition: a typed boolean expression over records.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// True when every member is true.
    All(Vec<Condition>),
    /// True when at least one member is true.
    Any(Vec<Condition>),
    /// True when the member is false.
    Not(Box<Condition>),
    /// The record's `field` compared with `value`.
    Compare {
        field: String,
        op: Op,
        value: Operand,
    },
    /// `func` over the records that share the subject record's `group_by` values within the
    /// rule's time window (optionally only those matching `filter`), compared with `value`.
    Aggregate {
        func: AggFn,
        field: Option<String>,
        group_by: Vec<String>,
        filter: Option<Box<Condition>>,
        op: Op,
        value: Operand,
    },
    /// The timestamp in `to` (or the evaluation time, when `to` is absent or empty) is no later
    /// than the timestamp in `from` plus the rule's time window.
    Within { from: String, to: Option<String> },
}

/// The keys a condition object may have, by kind; the first key is the one that names the kind
/// (a comparison is the object with `field` and none of the others).
const SHAPES: [(&str, &[&str]); 6] = [
    ("all", &["all"]),
    ("any", &["any"]),
    ("not", &["not"]),
    (
        "aggregate",
        &["aggregate", "field", "group_by", "filter", "op", "value"],
    ),
    ("within", &["within"]),
    ("field", &["field", "op", "value"]),
];

impl Condition {
    /// Parses the JSON form. An error names the path of the offending part, starting at
    /// `conditions`, e.g. `conditions.all[1].op: unknown operator 'equals'`.
    pub fn parse(v: &Value) -> Result<Condition, String> {
        parse_node(v, "conditions", false)
    }

    /// The canonical JSON form: optional keys that are empty or default are left out, so
    /// `parse(to_json(c)) == c` and `to_json(parse(v)) == v` for canonical `v`.
    pub fn to_json(&self) -> Value {
        match self {
            Condition::All(members) => {
                json!({ "all": members.iter().map(Self::to_json).collect::<Vec<_>>() })
            }
            Condition::Any(members) => {
                json!({ "any": members.iter().map(Self::to_json).collect::<Vec<_>>() })
            }
            Condition::Not(inner) => json!({ "not": inner.to_json() }),
            Condition::Compare { field, op, value } => {
                json!({ "field": field, "op": op.as_str(), "value": value.to_json() })
            }
            Condition::Aggregate {
                func,
                field,
                group_by,
                filter,
                op,
                value,
            } => {
                let mut node = Map::new();
                node.insert("aggregate".into(), func.as_str().into());
                if let Some(field) = field {
                    node.insert("field".into(), field.as_str().into());
                }
                if !group_by.is_empty() {
                    node.insert("group_by".into(), group_by.clone().into());
                }
                if let Some(filter) = filter {
                    node.insert("filter".into(), filter.to_json());
                }
                node.insert("op".into(), op.as_str().into());
                node.insert("value".into(), value.to_json());
                Value::Object(node)
            }
            Condition::Within { from, to } => {
                let mut inner = Map::new();
                inner.insert("from".into(), from.as_str().into());
                if let Some(to) = to {
                    inner.insert("to".into(), to.as_str().into());
                }
                json!({ "within": inner })
            }
        }
    }

    /// Calls `visit` on this node and every node below it (aggregate filters included), parents
    /// before children.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Condition)) {
        visit(self);
        match self {
            Condition::All(members) | Condition::Any(members) => {
                members.iter().for_each(|m| m.walk(visit));
            }
            Condition::Not(inner) => inner.walk(visit),
            Condition::Aggregate {
                filter: Some(filter),
                ..
            } => filter.walk(visit),
            _ => {}
        }
    }

    /// Whether any node of the expression satisfies `pred`.
    pub fn any_node(&self, pred: impl Fn(&Condition) -> bool) -> bool {
        let mut found = false;
        self.walk(&mut |c| found |= pred(c));
        found
    }

    /// The operand of a comparison or an aggregate node.
    pub fn operand(&self) -> Option<&Operand> {
        match self {
            Condition::Compare { value, .. } | Condition::Aggregate { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Whether some operand refers to the rule's threshold.
    pub fn uses_threshold(&self) -> bool {
        self.any_node(|c| matches!(c.operand(), Some(Operand::Threshold { .. })))
    }

    /// Whether the expression needs the rule's time window (an aggregate or a `within`).
    pub fn uses_window(&self) -> bool {
        self.any_node(|c| matches!(c, Condition::Aggregate { .. } | Condition::Within { .. }))
    }

    /// Every record field the expression reads (compared, aggregated, grouped by, or timed).
    pub fn fields(&self) -> BTreeSet<&str> {
        let mut fields = BTreeSet::new();
        self.walk(&mut |c| match c {
            Condition::Compare { field, .. } => {
                fields.insert(field.as_str());
            }
            Condition::Aggregate {
                field, group_by, ..
            } => {
                fields.extend(field.as_deref());
                fields.extend(group_by.iter().map(String::as_str));
            }
            Condition::Within { from, to } => {
                fields.insert(from.as_str());
                fields.extend(to.as_deref());
            }
            _ => {}
        });
        fields
    }

    /// The named lists the expression refers to.
    pub fn lists(&self) -> BTreeSet<&str> {
        let mut lists = BTreeSet::new();
        self.walk(&mut |c| {
            if let Some(Operand::List(name)) = c.operand() {
                lists.insert(name.as_str());
            }
        });
        lists
    }
}

impl Operand {
    /// The JSON form of the operand.
    pub fn to_json(&self) -> Value {
        match self {
            Operand::Literal(v) => v.clone(),
            Operand::Threshold { factor } if *factor == 1.0 => json!({ "ref": "threshold" }),
            Operand::Threshold { factor } => json!({ "ref": "threshold", "factor": factor }),
            Operand::List(name) => json!({ "list": name }),
        }
    }
}

impl serde::Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(deserializer)?;
        Condition::parse(&v).map_err(serde::de::Error::custom)
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_node(v: &Value, path: &str, in_filter: bool) -> Result<Condition, String> {
    let node = v
        .as_object()
        .ok_or_else(|| format!("{path}: expected a condition object, found {}", kind_of(v)))?;
    let (kind, allowed) = SHAPES
        .iter()
        .find(|(kind, _)| node.contains_key(*kind))
        .ok_or_else(|| {
            format!(
                "{path}: a condition needs one of the keys all, any, not, field, aggregate, within"
            )
        })?;
    if let Some(key) = node.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "{path}: unexpected key '{key}' (a '{kind}' condition has the keys {})",
            allowed.join(", ")
        ));
    }
    let at = |key: &str| format!("{path}.{key}");
    let member = |key: &str| {
        node.get(key)
            .ok_or_else(|| format!("{}: required", at(key)))
    };
    match *kind {
        "all" | "any" => {
            let items = node[*kind]
                .as_array()
                .filter(|items| !items.is_empty())
                .ok_or_else(|| format!("{}: expected a non-empty array of conditions", at(kind)))?;
            let members = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_node(item, &format!("{path}.{kind}[{i}]"), in_filter))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if *kind == "all" {
                Condition::All(members)
            } else {
                Condition::Any(members)
            })
        }
        "not" => Ok(Condition::Not(Box::new(parse_node(
            &node["not"],
            &at("not"),
            in_filter,
        )?))),
        "within" => parse_within(&node["within"], &at("within")),
        "aggregate" if in_filter => Err(format!(
            "{path}: an aggregate cannot appear inside another aggregate's filter"
        )),
        "aggregate" => {
            let func =
                keyword::<AggFn>(&node["aggregate"], &at("aggregate"), "aggregate function")?;
            let field = node
                .get("field")
                .map(|f| field_path(f, &at("field")))
                .transpose()?;
            match (func, &field) {
                (AggFn::Count, _) | (_, Some(_)) => {}
                (_, None) => return Err(format!("{}: required by '{func}'", at("field"))),
            }
            let group_by = match node.get("group_by") {
                None => Vec::new(),
                Some(g) => group_by_paths(g, &at("group_by"))?,
            };
            let filter = node
                .get("filter")
                .map(|f| parse_node(f, &at("filter"), true).map(Box::new))
                .transpose()?;
            let op = keyword::<Op>(member("op")?, &at("op"), "operator")?;
            if !op.is_numeric() {
                return Err(format!(
                    "{}: operator '{op}' cannot compare an aggregate",
                    at("op")
                ));
            }
            Ok(Condition::Aggregate {
                func,
                field,
                group_by,
                filter,
                op,
                value: parse_operand(member("value")?, op, &at("value"), true)?,
            })
        }
        _ => {
            let field = field_path(&node["field"], &at("field"))?;
            let op = keyword::<Op>(member("op")?, &at("op"), "operator")?;
            let value = parse_operand(member("value")?, op, &at("value"), false)?;
            Ok(Condition::Compare { field, op, value })
        }
    }
}

/// A keyword of enum `K`, or `<path>: unknown <what> '<text>'`.
fn keyword<K: std::str::FromStr<Err = UnknownLabel>>(
    v: &Value,
    path: &str,
    what: &str,
) -> Result<K, String> {
    let text = v
        .as_str()
        .ok_or_else(|| format!("{path}: expected {what} as a string, found {}", kind_of(v)))?;
    text.parse()
        .map_err(|_| format!("{path}: unknown {what} '{text}'"))
}

/// A record field path: dot-separated lower-case identifiers (`amount_usd`, `account.owner_id`).
fn field_path(v: &Value, path: &str) -> Result<String, String> {
    let text = v.as_str().ok_or_else(|| {
        format!(
            "{path}: expected a field path as a string, found {}",
            kind_of(v)
        )
    })?;
    let valid_segment = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if text.split('.').all(valid_segment) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "{path}: '{text}' is not a field path (dot-separated lower-case identifiers)"
        ))
    }
}

fn group_by_paths(v: &Value, path: &str) -> Result<Vec<String>, String> {
    let items = v
        .as_array()
        .filter(|items| !items.is_empty())
        .ok_or_else(|| format!("{path}: expected a non-empty array of field paths"))?;
    let paths = items
        .iter()
        .enumerate()
        .map(|(i, item)| field_path(item, &format!("{path}[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    if paths.iter().collect::<BTreeSet<_>>().len() != paths.len() {
        return Err(format!("{path}: a field is listed twice"));
    }
    Ok(paths)
}

fn parse_within(v: &Value, path: &str) -> Result<Condition, String> {
    let node = v
        .as_object()
        .ok_or_else(|| format!("{path}: expected {{\"from\": field, \"to\"?: field}}"))?;
    if let Some(key) = node.keys().find(|k| !matches!(k.as_str(), "from" | "to")) {
        return Err(format!(
            "{path}: unexpected key '{key}' (expected from, to)"
        ));
    }
    let from = node
        .get("from")
        .ok_or_else(|| format!("{path}.from: required"))
        .and_then(|f| field_path(f, &format!("{path}.from")))?;
    let to = node
        .get("to")
        .map(|t| field_path(t, &format!("{path}.to")))
        .transpose()?;
    if to.as_deref() == Some(from.as_str()) {
        return Err(format!("{path}.to: must differ from 'from'"));
    }
    Ok(Condition::Within { from, to })
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// The operand of `op`; `numeric` when it is compared with an aggregate's result.
fn parse_operand(v: &Value, op: Op, path: &str, numeric: bool) -> Result<Operand, String> {
    if let Value::Object(reference) = v {
        return parse_reference(reference, op, path, numeric);
    }
    let expected = match op {
        Op::Eq | Op::Ne if numeric => v.is_number().then_some(()).ok_or("a number"),
        Op::Eq | Op::Ne | Op::Contains => is_scalar(v)
            .then_some(())
            .ok_or("a string, number or boolean"),
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => v.is_number().then_some(()).ok_or("a number"),
        Op::In | Op::NotIn => v
            .as_array()
            .filter(|items| !items.is_empty() && items.iter().all(is_scalar))
            .map(|_| ())
            .ok_or("a non-empty array of strings, numbers or booleans, or {\"list\": name}"),
        Op::Exists => v.is_boolean().then_some(()).ok_or("true or false"),
        Op::Between => match v.as_array().map(Vec::as_slice) {
            Some([lo, hi]) if lo.as_f64().zip(hi.as_f64()).is_some_and(|(l, h)| l <= h) => Ok(()),
            _ => Err("[low, high]: two numbers with low <= high"),
        },
    };
    expected
        .map(|()| Operand::Literal(v.clone()))
        .map_err(|what| format!("{path}: operator '{op}' takes {what}, found {v}"))
}

fn parse_reference(
    reference: &Map<String, Value>,
    op: Op,
    path: &str,
    numeric: bool,
) -> Result<Operand, String> {
    if let Some(name) = reference.get("list") {
        if reference.len() != 1 {
            return Err(format!("{path}: a list reference has only the key 'list'"));
        }
        if numeric || !matches!(op, Op::In | Op::NotIn) {
            return Err(format!(
                "{path}: a list reference needs the operator 'in' or 'not_in'"
            ));
        }
        let name = name.as_str().unwrap_or_default();
        return named_list(name)
            .map(|list| Operand::List(list.name.to_string()))
            .ok_or_else(|| format!("{path}.list: unknown named list '{name}'"));
    }
    match reference.get("ref").and_then(Value::as_str) {
        Some("threshold") => {}
        Some(other) => {
            return Err(format!(
                "{path}.ref: unknown reference '{other}' (expected 'threshold')"
            ))
        }
        None => {
            return Err(format!(
                "{path}: an object operand is {{\"ref\": \"threshold\"}} or {{\"list\": name}}"
            ))
        }
    }
    if let Some(key) = reference
        .keys()
        .find(|k| !matches!(k.as_str(), "ref" | "factor"))
    {
        return Err(format!(
            "{path}: unexpected key '{key}' in a threshold reference"
        ));
    }
    if !matches!(op, Op::Eq | Op::Ne | Op::Gt | Op::Gte | Op::Lt | Op::Lte) {
        return Err(format!("{path}: operator '{op}' cannot take the threshold"));
    }
    let factor = match reference.get("factor") {
        None => 1.0,
        Some(f) => f
            .as_f64()
            .filter(|f| f.is_finite() && *f > 0.0)
            .ok_or_else(|| format!("{path}.factor: expected a positive number, found {f}"))?,
    };
    Ok(Operand::Threshold { factor })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Condition, String> {
        Condition::parse(&v)
    }

    fn round_trips(v: Value) {
        let c = parse(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(c.to_json(), v, "canonical JSON comes back unchanged");
        assert_eq!(Condition::parse(&c.to_json()).unwrap(), c);
    }

    #[test]
    fn every_node_kind_round_trips() {
        round_trips(json!({"field": "mfa_enabled", "op": "eq", "value": true}));
        round_trips(json!({"not": {"field": "status", "op": "in", "value": ["a", "b"]}}));
        round_trips(json!({"any": [
            {"field": "risk", "op": "between", "value": [1, 2.5]},
            {"field": "country", "op": "not_in", "value": {"list": "fatf_call_for_action"}},
            {"field": "tags", "op": "contains", "value": "pii"},
            {"field": "deleted_at", "op": "exists", "value": false},
            {"field": "amount_usd", "op": "gte", "value": {"ref": "threshold", "factor": 0.9}}
        ]}));
        round_trips(json!({"all": [
            {"aggregate": "count", "op": "lte", "value": 3},
            {"aggregate": "sum", "field": "amount_usd", "group_by": ["customer_id", "direction"],
             "filter": {"field": "instrument", "op": "eq", "value": "cash"},
             "op": "gt", "value": {"ref": "threshold"}},
            {"within": {"from": "detected_at", "to": "notified_at"}},
            {"within": {"from": "last_review_at"}}
        ]}));
    }

    #[test]
    fn typed_form_is_what_the_json_says() {
        let c = parse(json!({"aggregate": "count_distinct", "field": "branch_id",
            "group_by": ["customer_id"], "op": "gte", "value": 2}))
        .unwrap();
        assert_eq!(
            c,
            Condition::Aggregate {
                func: AggFn::CountDistinct,
                field: Some("branch_id".into()),
                group_by: vec!["customer_id".into()],
                filter: None,
                op: Op::Gte,
                value: Operand::Literal(json!(2)),
            }
        );
        assert!(c.uses_window());
        assert!(!c.uses_threshold());
        assert_eq!(
            c.fields().into_iter().collect::<Vec<_>>(),
            ["branch_id", "customer_id"]
        );
    }

    #[test]
    fn factor_one_is_the_plain_reference() {
        let c =
            parse(json!({"field": "x", "op": "gt", "value": {"ref": "threshold", "factor": 1}}));
        assert_eq!(
            c.unwrap().to_json(),
            json!({"field": "x", "op": "gt", "value": {"ref": "threshold"}})
        );
    }

    #[test]
    fn helpers_see_inside_filters() {
        let c = parse(json!({"not": {"aggregate": "count", "group_by": ["account_id"],
            "filter": {"field": "country", "op": "in", "value": {"list": "fatf_increased_monitoring"}},
            "op": "gt", "value": {"ref": "threshold"}}}))
        .unwrap();
        assert!(c.uses_threshold());
        assert_eq!(
            c.lists().into_iter().collect::<Vec<_>>(),
            ["fatf_increased_monitoring"]
        );
        assert_eq!(
            c.fields().into_iter().collect::<Vec<_>>(),
            ["account_id", "country"]
        );
    }

    #[test]
    fn errors_name_the_path() {
        let cases = [
            (
                json!({"all": [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "equals", "value": 1}]}),
                "conditions.all[1].op: unknown operator 'equals'",
            ),
            (json!({"mfa_enabled": true}), "conditions: a condition needs one of the keys all, any, not, field, aggregate, within"),
            (json!({"all": []}), "conditions.all: expected a non-empty array of conditions"),
            (json!({"not": [1]}), "conditions.not: expected a condition object, found an array"),
            (json!({"field": "a", "op": "eq"}), "conditions.value: required"),
            (json!({"field": "a", "op": "eq", "value": 1, "note": "x"}), "conditions: unexpected key 'note' (a 'field' condition has the keys field, op, value)"),
            (json!({"all": [{"field": "a"}], "any": []}), "conditions: unexpected key 'any' (a 'all' condition has the keys all)"),
            (json!({"field": "Amount", "op": "gt", "value": 1}), "conditions.field: 'Amount' is not a field path (dot-separated lower-case identifiers)"),
            (json!({"field": "a", "op": "gt", "value": "10"}), "conditions.value: operator 'gt' takes a number, found \"10\""),
            (json!({"field": "a", "op": "between", "value": [5, 1]}), "conditions.value: operator 'between' takes [low, high]: two numbers with low <= high, found [5,1]"),
            (json!({"field": "a", "op": "in", "value": []}), "conditions.value: operator 'in' takes a non-empty array of strings, numbers or booleans, or {\"list\": name}, found []"),
            (json!({"field": "a", "op": "eq", "value": null}), "conditions.value: operator 'eq' takes a string, number or boolean, found null"),
            (json!({"field": "a", "op": "exists", "value": "yes"}), "conditions.value: operator 'exists' takes true or false, found \"yes\""),
            (json!({"field": "a", "op": "in", "value": {"list": "grey"}}), "conditions.value.list: unknown named list 'grey'"),
            (json!({"field": "a", "op": "eq", "value": {"list": "eea_countries"}}), "conditions.value: a list reference needs the operator 'in' or 'not_in'"),
            (json!({"field": "a", "op": "in", "value": {"ref": "threshold"}}), "conditions.value: operator 'in' cannot take the threshold"),
            (json!({"field": "a", "op": "gt", "value": {"ref": "limit"}}), "conditions.value.ref: unknown reference 'limit' (expected 'threshold')"),
            (json!({"field": "a", "op": "gt", "value": {"ref": "threshold", "factor": -1}}), "conditions.value.factor: expected a positive number, found -1"),
            (json!({"any": [{"aggregate": "total", "op": "gt", "value": 1}]}), "conditions.any[0].aggregate: unknown aggregate function 'total'"),
            (json!({"aggregate": "sum", "op": "gt", "value": 1}), "conditions.field: required by 'sum'"),
            (json!({"aggregate": "count", "op": "in", "value": [1]}), "conditions.op: operator 'in' cannot compare an aggregate"),
            (json!({"aggregate": "count", "op": "eq", "value": "3"}), "conditions.value: operator 'eq' takes a number, found \"3\""),
            (json!({"aggregate": "count", "group_by": "customer_id", "op": "gt", "value": 1}), "conditions.group_by: expected a non-empty array of field paths"),
            (
                json!({"aggregate": "count", "op": "gt", "value": 1,
                       "filter": {"not": {"aggregate": "count", "op": "gt", "value": 1}}}),
                "conditions.filter.not: an aggregate cannot appear inside another aggregate's filter",
            ),
            (json!({"within": {"from": "a", "until": "b"}}), "conditions.within: unexpected key 'until' (expected from, to)"),
            (json!({"within": {"to": "b"}}), "conditions.within.from: required"),
            (json!({"within": {"from": "a", "to": "a"}}), "conditions.within.to: must differ from 'from'"),
        ];
        for (input, message) in cases {
            assert_eq!(parse(input.clone()).unwrap_err(), message, "for {input}");
        }
    }

    #[test]
    fn serde_uses_the_json_form() {
        let v = json!({"field": "algorithm", "op": "eq", "value": "AES-256"});
        let c: Condition = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&c).unwrap(), v);
        let err =
            serde_json::from_value::<Condition>(json!({"field": "a", "op": "is", "value": 1}));
        assert_eq!(
            err.unwrap_err().to_string(),
            "conditions.op: unknown operator 'is'"
        );
    }
}
