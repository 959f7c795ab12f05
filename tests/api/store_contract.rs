//! The storage port's contract, run against both adapters: the embedded redb file and Amazon's
//! DynamoDB Local (started by scripts/test.sh).

use std::sync::Arc;

use compliance_store::{
    Condition, Cursor, Item, Key, Query, SortKeyRange, Store, StoreError, WriteOp,
};
use serde_json::{json, Value};
use test_support::{store_for, Backend};

fn item(pk: &str, sk: &str, extra: Value) -> Item {
    let mut m = Item::new();
    m.insert("PK".into(), json!(pk));
    m.insert("SK".into(), json!(sk));
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    m
}

async fn create_once(store: Arc<dyn Store>) {
    let first = item("P", "A", json!({"v": 1}));
    store
        .write(vec![WriteOp::put_if(first, Condition::NotExists)])
        .await
        .unwrap();
    let again = store
        .write(vec![WriteOp::put_if(
            item("P", "A", json!({"v": 2})),
            Condition::NotExists,
        )])
        .await;
    match again {
        Err(StoreError::ConditionFailed { index: 0, key }) => assert_eq!(key, Key::new("P", "A")),
        other => panic!("expected a condition failure, got {other:?}"),
    }
    let stored = store.get(&Key::new("P", "A")).await.unwrap().unwrap();
    assert_eq!(stored["v"], json!(1), "the failed create changed nothing");
    assert!(store
        .get(&Key::new("P", "missing"))
        .await
        .unwrap()
        .is_none());
}

async fn version_conflict(store: Arc<dyn Store>) {
    store
        .write(vec![WriteOp::put(item(
            "P",
            "S",
            json!({"version": 1, "x": "a"}),
        ))])
        .await
        .unwrap();
    // Writer one read version 1 and wins.
    store
        .write(vec![WriteOp::put_if(
            item("P", "S", json!({"version": 2, "x": "b"})),
            Condition::Equals("version".into(), json!(1)),
        )])
        .await
        .unwrap();
    // Writer two also read version 1: refused.
    let stale = store
        .write(vec![WriteOp::put_if(
            item("P", "S", json!({"version": 2, "x": "c"})),
            Condition::Equals("version".into(), json!(1)),
        )])
        .await;
    assert!(
        matches!(stale, Err(StoreError::ConditionFailed { index: 0, .. })),
        "{stale:?}"
    );
    let stored = store.get(&Key::new("P", "S")).await.unwrap().unwrap();
    assert_eq!(stored["x"], json!("b"));
    // Equals on a missing item fails; Exists / delete_if behave as in DynamoDB.
    let missing = store
        .write(vec![WriteOp::put_if(
            item("P", "none", json!({"version": 1})),
            Condition::Equals("version".into(), json!(0)),
        )])
        .await;
    assert!(matches!(missing, Err(StoreError::ConditionFailed { .. })));
    let gone = store
        .write(vec![WriteOp::delete_if(
            Key::new("P", "none"),
            Condition::Exists,
        )])
        .await;
    assert!(matches!(
        gone,
        Err(StoreError::ConditionFailed { index: 0, .. })
    ));
    store
        .write(vec![WriteOp::delete_if(
            Key::new("P", "S"),
            Condition::Exists,
        )])
        .await
        .unwrap();
    assert!(store.get(&Key::new("P", "S")).await.unwrap().is_none());
}

/// An item stored before it had a version gets its first one under `Missing`: once, by one
/// writer.
async fn first_version(store: Arc<dyn Store>) {
    store
        .write(vec![WriteOp::put(item("P", "M", json!({"x": "a"})))])
        .await
        .unwrap();
    let first = |x: &str| {
        WriteOp::put_if(
            item("P", "M", json!({"version": 1, "x": x})),
            Condition::Missing("version".into()),
        )
    };
    store.write(vec![first("b")]).await.unwrap();
    // A second writer who also read it without a version: refused.
    let stale = store.write(vec![first("c")]).await;
    assert!(
        matches!(stale, Err(StoreError::ConditionFailed { index: 0, .. })),
        "{stale:?}"
    );
    let stored = store.get(&Key::new("P", "M")).await.unwrap().unwrap();
    assert_eq!((&stored["x"], &stored["version"]), (&json!("b"), &json!(1)));
    // Missing does not create an item.
    let absent = store
        .write(vec![WriteOp::put_if(
            item("P", "none", json!({"version": 1})),
            Condition::Missing("version".into()),
        )])
        .await;
    assert!(
        matches!(absent, Err(StoreError::ConditionFailed { index: 0, .. })),
        "{absent:?}"
    );
    assert!(store.get(&Key::new("P", "none")).await.unwrap().is_none());
}

async fn all_or_nothing(store: Arc<dyn Store>) {
    store
        .write(vec![WriteOp::put(item("P", "existing", json!({"n": 0})))])
        .await
        .unwrap();
    let ops = vec![
        WriteOp::put(item("P", "new-1", json!({"n": 1}))),
        WriteOp::put(item("P", "new-2", json!({"n": 2}))),
        WriteOp::delete(Key::new("P", "existing")),
        // The last item's condition fails: nothing above may be written.
        WriteOp::put_if(item("P", "existing-too", json!({})), Condition::Exists),
    ];
    match store.write(ops).await {
        Err(StoreError::ConditionFailed { index, key }) => {
            assert_eq!(index, 3);
            assert_eq!(key, Key::new("P", "existing-too"));
        }
        other => panic!("expected the last condition to fail, got {other:?}"),
    }
    assert!(store.get(&Key::new("P", "new-1")).await.unwrap().is_none());
    assert!(store.get(&Key::new("P", "new-2")).await.unwrap().is_none());
    assert!(store
        .get(&Key::new("P", "existing"))
        .await
        .unwrap()
        .is_some());
    // A check-only condition guards a write too, and a passing set applies entirely.
    let ops = vec![
        WriteOp::check(Key::new("P", "existing"), Condition::Exists),
        WriteOp::put(item("P", "new-1", json!({"n": 1}))),
        WriteOp::put(item("P", "new-2", json!({"n": 2}))),
    ];
    store.write(ops).await.unwrap();
    assert!(store.get(&Key::new("P", "new-2")).await.unwrap().is_some());
    // Malformed writes are refused before anything is sent.
    let twice = store
        .write(vec![
            WriteOp::put(item("P", "d", json!({}))),
            WriteOp::delete(Key::new("P", "d")),
        ])
        .await;
    assert!(matches!(twice, Err(StoreError::Invalid(_))));
    let huge = store
        .write(vec![WriteOp::put(item(
            "P",
            "big",
            json!({"blob": "x".repeat(500 * 1024)}),
        ))])
        .await;
    assert!(matches!(huge, Err(StoreError::ItemTooLarge { .. })));
    // Items that fit one by one but not together (DynamoDB's 4 MB per transaction): refused
    // whole; just under the limit, written whole.
    let items = |n: usize| {
        (0..n)
            .map(|i| {
                WriteOp::put(item(
                    "P",
                    &format!("part-{i}"),
                    json!({"blob": "x".repeat(380 * 1024)}),
                ))
            })
            .collect::<Vec<_>>()
    };
    let over = store.write(items(11)).await;
    assert!(matches!(over, Err(StoreError::Invalid(_))), "{over:?}");
    assert!(store.get(&Key::new("P", "part-0")).await.unwrap().is_none());
    store.write(items(10)).await.unwrap();
    assert!(store.get(&Key::new("P", "part-9")).await.unwrap().is_some());
}

async fn read_all(store: &dyn Store, base: Query) -> (Vec<String>, usize) {
    let mut cursor: Option<Cursor> = None;
    let mut sks = Vec::new();
    let mut pages = 0;
    loop {
        let page = store
            .query(&base.clone().after(cursor.take()))
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= base.limit);
        sks.extend(
            page.items
                .iter()
                .map(|i| i["SK"].as_str().unwrap().to_string()),
        );
        match page.next {
            Some(c) => {
                // Cursors are opaque strings that survive a round trip through a client.
                cursor = Some(Cursor::decode(&c.encode()).unwrap());
            }
            None => break,
        }
        assert!(pages < 100, "pagination does not terminate");
    }
    (sks, pages)
}

async fn pagination(store: Arc<dyn Store>) {
    let mut ops = Vec::new();
    for i in 0..23 {
        ops.push(WriteOp::put(item(
            "Q",
            &format!("ITEM#{i:03}"),
            json!({"i": i}),
        )));
    }
    ops.push(WriteOp::put(item("Q", "OTHER#1", json!({}))));
    ops.push(WriteOp::put(item("Q2", "ITEM#000", json!({}))));
    store.write(ops).await.unwrap();
    let expected: Vec<String> = (0..23).map(|i| format!("ITEM#{i:03}")).collect();

    let forward = Query::new("Q", SortKeyRange::Prefix("ITEM#".into())).limit(5);
    let (sks, pages) = read_all(store.as_ref(), forward.clone()).await;
    assert_eq!(sks, expected);
    assert_eq!(
        pages, 5,
        "23 items in pages of 5, and no empty trailing page"
    );

    let (sks, _) = read_all(store.as_ref(), forward.backward()).await;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(sks, reversed);

    let between = Query::new(
        "Q",
        SortKeyRange::Between("ITEM#005".into(), "ITEM#014".into()),
    )
    .limit(4);
    let (sks, pages) = read_all(store.as_ref(), between.clone()).await;
    assert_eq!(sks, expected[5..=14].to_vec());
    assert_eq!(pages, 3);
    let (sks, _) = read_all(store.as_ref(), between.backward()).await;
    assert_eq!(
        sks,
        expected[5..=14].iter().rev().cloned().collect::<Vec<_>>()
    );

    let (all, _) = read_all(store.as_ref(), Query::new("Q", SortKeyRange::All).limit(7)).await;
    assert_eq!(all.len(), 24, "the whole partition, and only it");

    // A cursor pointing outside the queried range is refused, not followed.
    let forged = Query::new("Q", SortKeyRange::Prefix("ITEM#".into()))
        .after(Some(Cursor::from_sort_key("OTHER#1")));
    assert!(matches!(
        store.query(&forged).await,
        Err(StoreError::InvalidCursor)
    ));
    assert!(Cursor::decode("not base64!").is_err());

    let empty = store
        .query(&Query::new("nothing-here", SortKeyRange::All))
        .await
        .unwrap();
    assert!(empty.items.is_empty() && empty.next.is_none());
}

async fn counter(store: Arc<dyn Store>) {
    let key = Key::new("C", "COUNTER");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..10 {
                seen.push(store.increment(&key, "n", 1).await.unwrap());
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    assert_eq!(
        all,
        (1..=80).collect::<Vec<i64>>(),
        "every increment got its own value"
    );
    assert_eq!(store.get(&key).await.unwrap().unwrap()["n"], json!(80));
}

async fn values_round_trip(store: Arc<dyn Store>) {
    let original = item(
        "V",
        "1",
        json!({"s": "text", "i": -42, "f": 1.5, "b": true, "null": null,
               "list": [1, "two", {"three": 3}], "map": {"nested": {"deep": [true]}}, "empty": ""}),
    );
    store
        .write(vec![WriteOp::put(original.clone())])
        .await
        .unwrap();
    assert_eq!(
        store.get(&Key::new("V", "1")).await.unwrap().unwrap(),
        original
    );
}

async fn batch_read(store: Arc<dyn Store>) {
    for sk in ["A", "B", "C"] {
        store
            .write(vec![WriteOp::put(item("G", sk, json!({"v": sk})))])
            .await
            .unwrap();
    }
    let keys = [
        Key::new("G", "C"),
        Key::new("G", "missing"),
        Key::new("G", "A"),
        Key::new("G", "C"),
    ];
    let got = store.get_many(&keys, None).await.unwrap();
    let values: Vec<Option<Value>> = got
        .iter()
        .map(|i| i.as_ref().map(|i| i["v"].clone()))
        .collect();
    assert_eq!(
        values,
        vec![Some(json!("C")), None, Some(json!("A")), Some(json!("C"))],
        "in the order asked, absent as None, a key asked twice answered twice"
    );
    assert!(store.get_many(&[], None).await.unwrap().is_empty());
    // DynamoDB's limit of 100 keys, enforced by both adapters.
    let many: Vec<Key> = (0..101).map(|i| Key::new("G", format!("k{i}"))).collect();
    assert!(matches!(
        store.get_many(&many, None).await,
        Err(StoreError::Invalid(_))
    ));
    let hundred = &many[..100];
    assert_eq!(store.get_many(hundred, None).await.unwrap().len(), 100);
}

async fn projected_reads(store: Arc<dyn Store>) {
    use compliance_store::Projection;
    let full = json!({"name": "n", "version": 3, "big": "x".repeat(1000),
                      "scan": {"scan_id": "s1", "summary": {"a": 1}}});
    store
        .write(vec![WriteOp::put(item("J", "A", full))])
        .await
        .unwrap();
    store
        .write(vec![WriteOp::put(item(
            "J",
            "B",
            json!({"version": 1, "scan": null}),
        ))])
        .await
        .unwrap();
    // Reserved words (name), a member of a map, a member of a null, a missing attribute.
    let projection = Projection::new(["name", "version", "scan.scan_id", "absent"]);
    let got = store
        .get_many(&[Key::new("J", "A"), Key::new("J", "B")], Some(&projection))
        .await
        .unwrap();
    assert_eq!(
        got[0].clone().unwrap(),
        item(
            "J",
            "A",
            json!({"name": "n", "version": 3, "scan": {"scan_id": "s1"}})
        )
    );
    assert_eq!(
        got[1].clone().unwrap(),
        item("J", "B", json!({"version": 1}))
    );
    let page = store
        .query(
            &Query::new("J", SortKeyRange::All)
                .limit(1)
                .project(projection),
        )
        .await
        .unwrap();
    assert_eq!(page.items, vec![got[0].clone().unwrap()]);
    assert_eq!(
        page.next.map(|c| c.sort_key().to_string()),
        Some("A".into())
    );
}

async fn counted_changes(store: Arc<dyn Store>) {
    use compliance_domain::ids::OrgId;
    use compliance_store::keys;
    let org = OrgId::parse("counted").unwrap();
    let versions = keys::org_versions(&org);
    let count = |item: &Option<Item>, attr: &str| {
        item.as_ref()
            .and_then(|i| i.get(attr))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    // Nothing counted yet: no item.
    assert!(store.get(&versions).await.unwrap().is_none());
    // A change to an exception and one to a setting in one write: each part counted once.
    let exception = item("ORG#counted", "EXCEPTION#ORG#e1", json!({}));
    let selection = item("ORG#counted", "SETTINGS", json!({}));
    let other = item("ORG#counted", "WEBHOOK#w1", json!({}));
    store
        .write(vec![
            WriteOp::put(exception),
            WriteOp::put(selection),
            WriteOp::put(other),
        ])
        .await
        .unwrap();
    let after = store.get(&versions).await.unwrap();
    assert_eq!(count(&after, "exceptions"), 1);
    assert_eq!(count(&after, "settings"), 1);
    assert_eq!(count(&after, "attestations"), 0);
    // A single write (PutItem on DynamoDB without counting) is counted too, and so is a delete.
    store
        .write(vec![WriteOp::delete(Key::new(
            "ORG#counted",
            "EXCEPTION#ORG#e1",
        ))])
        .await
        .unwrap();
    assert_eq!(count(&store.get(&versions).await.unwrap(), "exceptions"), 2);
    // A refused write counts nothing; a condition failure still names the caller's operation.
    let refused = store
        .write(vec![
            WriteOp::put(item("ORG#counted", "ATTESTATION#f#c", json!({}))),
            WriteOp::put_if(
                item("ORG#counted", "SETTINGS", json!({})),
                Condition::NotExists,
            ),
        ])
        .await;
    match refused {
        Err(StoreError::ConditionFailed { index: 1, .. }) => {}
        other => panic!("expected operation 1 to fail, got {other:?}"),
    }
    let now = store.get(&versions).await.unwrap();
    assert_eq!(count(&now, "attestations"), 0);
    assert_eq!(count(&now, "settings"), 1);
    // Items of other partitions and of other kinds are not counted.
    store
        .write(vec![
            WriteOp::put(item(
                "ORG#counted#REPO#0000000001",
                "EXCEPTION#x",
                json!({}),
            )),
            WriteOp::put(item("ORG#counted", "ATTESTATIONLOG#f#c#000001", json!({}))),
        ])
        .await
        .unwrap();
    assert_eq!(store.get(&versions).await.unwrap(), now);
    // Concurrent changes of one org all count: none lost, none refused.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(vec![
                    WriteOp::put(item("ORG#counted", &format!("CUSTOMFW#f{i}"), json!({}))),
                    WriteOp::put(item("ORG#counted#AUDIT", &format!("e{i}"), json!({}))),
                ])
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        count(&store.get(&versions).await.unwrap(), "custom_frameworks"),
        8
    );
}

mod embedded {
    use super::*;
    async fn store() -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
        let s = store_for(Backend::Embedded).await;
        (s.store, s.dir)
    }
    include!("cases/store.rs");
}

mod dynamodb_local {
    use super::*;
    async fn store() -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
        let s = store_for(Backend::Dynamo).await;
        (s.store, s.dir)
    }
    include!("cases/store.rs");
}

/// The embedded store's change feed: DynamoDB Streams' records (kind, new and old image) in
/// commit order, written with the change itself, checkpoints that survive a reopen, trimming
/// that never reuses a sequence number.
mod change_feed {
    use super::*;
    use compliance_store::embedded::EmbeddedStore;
    use compliance_store::{ChangeFeed, ChangeKind};

    #[tokio::test]
    async fn records_every_committed_change_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.redb");
        let store = EmbeddedStore::open(&path).unwrap();
        store
            .write(vec![WriteOp::put(item("P", "A", json!({"v": 1})))])
            .await
            .unwrap();
        store
            .write(vec![
                WriteOp::put(item("P", "A", json!({"v": 2}))),
                WriteOp::put(item("P", "B", json!({}))),
            ])
            .await
            .unwrap();
        // A failed condition, and a delete of nothing, leave no record.
        let refused = store
            .write(vec![
                WriteOp::put(item("P", "C", json!({}))),
                WriteOp::put_if(item("P", "A", json!({})), Condition::NotExists),
            ])
            .await;
        assert!(matches!(refused, Err(StoreError::ConditionFailed { .. })));
        store
            .write(vec![WriteOp::delete(Key::new("P", "nothing"))])
            .await
            .unwrap();
        store
            .write(vec![WriteOp::delete(Key::new("P", "B"))])
            .await
            .unwrap();
        store
            .increment(&Key::new("P", "N"), "value", 1)
            .await
            .unwrap();

        let changes = store.changes_after(0, 100).await.unwrap();
        let seen: Vec<(u64, ChangeKind, &str)> = changes
            .iter()
            .map(|c| (c.sequence, c.kind, c.key.sk.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (1, ChangeKind::Insert, "A"),
                (2, ChangeKind::Modify, "A"),
                (3, ChangeKind::Insert, "B"),
                (4, ChangeKind::Remove, "B"),
                (5, ChangeKind::Insert, "N"),
            ]
        );
        assert_eq!(changes[1].old_image.as_ref().unwrap()["v"], json!(1));
        assert_eq!(changes[1].new_image.as_ref().unwrap()["v"], json!(2));
        assert!(changes[3].new_image.is_none() && changes[3].old_image.is_some());
        assert_eq!(*store.latest().borrow(), 5);

        // Checkpoints are per consumer and survive a reopen.
        store.set_checkpoint("a", 3).await.unwrap();
        drop(store);
        let store = EmbeddedStore::open(&path).unwrap();
        assert_eq!(store.checkpoint("a").await.unwrap(), 3);
        assert_eq!(store.checkpoint("b").await.unwrap(), 0);
        let rest: Vec<u64> = store
            .changes_after(3, 100)
            .await
            .unwrap()
            .iter()
            .map(|c| c.sequence)
            .collect();
        assert_eq!(rest, vec![4, 5]);
        assert_eq!(store.changes_after(0, 2).await.unwrap().len(), 2, "limit");

        // Trimming drops what is older than the cutoff; numbering goes on from where it was.
        let later = chrono::Utc::now().timestamp() + 1;
        assert_eq!(store.trim(later - 3600).await.unwrap(), 0);
        assert_eq!(store.trim(later).await.unwrap(), 5);
        assert!(store.changes_after(0, 100).await.unwrap().is_empty());
        drop(store);
        let store = EmbeddedStore::open(&path).unwrap();
        store
            .write(vec![WriteOp::put(item("P", "D", json!({})))])
            .await
            .unwrap();
        let after = store.changes_after(0, 100).await.unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].sequence, 6);
    }
}
