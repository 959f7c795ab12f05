//! The key design as documented is the key design as built: `docs/single-table.md` lists exactly
//! the item types of `keys::ITEM_TYPES`, once each, with the same keys, and every row's keys are
//! what the keys module builds for its sample values.

use std::collections::BTreeMap;

use compliance_store::keys::{samples::PLACEHOLDERS, ITEM_TYPES};

/// The documented rows: item → (PK, SK), backticks removed, `\|` read as `|`.
fn documented() -> BTreeMap<String, (String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/single-table.md");
    let text = std::fs::read_to_string(path).unwrap();
    let mut rows = BTreeMap::new();
    for line in text
        .lines()
        .skip_while(|l| !l.starts_with("| item |"))
        .skip(2)
    {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<String> = line
            .replace("\\|", "\u{1}")
            .split('|')
            .map(|c| c.trim().trim_matches('`').replace('\u{1}', "|"))
            .collect();
        let (item, pk, sk) = (cells[1].clone(), cells[2].clone(), cells[3].clone());
        assert!(
            rows.insert(item.clone(), (pk, sk)).is_none(),
            "{item} is documented twice"
        );
    }
    rows
}

fn filled(pattern: &str) -> String {
    PLACEHOLDERS
        .iter()
        .fold(pattern.to_string(), |p, (name, value)| {
            p.replace(name, value)
        })
}

#[test]
fn the_documented_table_is_the_built_one() {
    let documented = documented();
    let built: BTreeMap<String, (String, String)> = ITEM_TYPES
        .iter()
        .map(|t| (t.item.to_string(), (t.pk.to_string(), t.sk.to_string())))
        .collect();
    assert_eq!(
        built.len(),
        ITEM_TYPES.len(),
        "an item type listed twice in keys.rs"
    );
    assert_eq!(documented, built);
}

#[test]
fn every_row_is_what_the_key_functions_build() {
    for t in ITEM_TYPES {
        let key = (t.sample)();
        assert_eq!(key.pk, filled(t.pk), "{}: PK", t.item);
        // A pattern with a choice (`{sha256|key}`) is filled with its first choice.
        assert_eq!(key.sk, filled(t.sk), "{}: SK", t.item);
        assert!(
            !key.pk.contains('{') && !key.sk.contains('{'),
            "{}: a placeholder without a sample value",
            t.item
        );
    }
}
