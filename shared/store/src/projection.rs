//! Reading only some attributes of an item (DynamoDB's `ProjectionExpression`): a read that
//! needs a small part of a large item (the id of the scan a repository's copy holds, not the
//! scan) costs what it returns, on both adapters alike.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::{Item, PK, SK};

/// The attributes a read returns: top-level names, or `map.member` for one member of a map
/// attribute. `PK` and `SK` are always returned. A member of an attribute that is not a map
/// (or is absent) is not returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection(Vec<Vec<String>>);

impl Projection {
    pub fn new<S: AsRef<str>>(paths: impl IntoIterator<Item = S>) -> Projection {
        let mut all: Vec<Vec<String>> = vec![vec![PK.into()], vec![SK.into()]];
        for path in paths {
            let path: Vec<String> = path.as_ref().split('.').map(str::to_string).collect();
            if !all.contains(&path) {
                all.push(path);
            }
        }
        Projection(all)
    }

    /// The item with only the projected attributes (what DynamoDB answers).
    pub fn apply(&self, item: Item) -> Item {
        let mut out = Map::new();
        for path in &self.0 {
            if let Some(value) = member(&item, path) {
                insert(&mut out, path, value.clone());
            }
        }
        out
    }

    /// DynamoDB's expression, with a placeholder for every name (any may be a reserved word),
    /// numbered from `#p0` so that they cannot meet a query's own.
    pub fn expression(&self) -> (String, HashMap<String, String>) {
        let mut names: HashMap<String, String> = HashMap::new();
        let paths: Vec<String> = self
            .0
            .iter()
            .map(|path| {
                path.iter()
                    .map(|name| placeholder(name, &mut names))
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .collect();
        (paths.join(", "), names)
    }
}

/// The placeholder of `name`, added to `names` when new.
fn placeholder(name: &str, names: &mut HashMap<String, String>) -> String {
    if let Some((p, _)) = names.iter().find(|(_, n)| n.as_str() == name) {
        return p.clone();
    }
    let p = format!("#p{}", names.len());
    names.insert(p.clone(), name.to_string());
    p
}

fn member<'a>(item: &'a Item, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(item.get(first)?, |value, name| value.as_object()?.get(name))
}

fn insert(out: &mut Item, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            out.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = out
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(map) = entry {
                insert(map, rest, value);
            }
        }
    }
}
