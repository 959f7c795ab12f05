//! Tests of [`summarise_sarif_stream`]: the same outcome as [`summarise_sarif`] on the same
//! bytes, errors word for word, with the SHA-256 of the bytes. Every other test of the crate
//! that parses a log checks this too (`stream::assert_same_as_slice`, called by `ingest`); the
//! ones here read real files, put `results` before the run's other properties, break
//! documents at every kind of place, and fail the source.

use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::stream::assert_same_as_slice;
use super::{summarise_sarif, summarise_sarif_stream, ReportSource, StreamError};
use crate::ingest::native::Signals;
use crate::ingest::test_support::samples_dir;

/// Both entry points on `bytes`, the stream reading them from a temp file: the same outcome.
fn same_from_a_file(bytes: &[u8], name: &str) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    let streamed = summarise_sarif_stream(file.path(), &Signals::default());
    match (summarise_sarif(bytes, &Signals::default()), streamed) {
        (Ok(want), Ok(got)) => {
            assert_eq!(got.summary, want, "{name}");
            assert_eq!(got.sha256, hex::encode(Sha256::digest(bytes)), "{name}");
        }
        (Err(want), Err(StreamError::Invalid(got))) => assert_eq!(got, want, "{name}"),
        (want, got) => panic!("{name}: slice {want:?}, stream {got:?}"),
    }
}

#[test]
fn every_sample_reads_the_same_from_a_file() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("samples dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "sarif" || e == "json") {
                out.push(p);
            }
        }
    }
    // The samples are the repository's neighbours, not the crate's: read only when present.
    let dir = Path::new(samples_dir!());
    if !dir.is_dir() {
        eprintln!("{} absent: skipped", dir.display());
        return;
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    let (mut accepted, mut refused) = (0, 0);
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        same_from_a_file(&bytes, &file.display().to_string());
        match summarise_sarif(&bytes, &Signals::default()) {
            Ok(_) => accepted += 1,
            Err(_) => refused += 1,
        }
    }
    eprintln!("{accepted} accepted and {refused} refused samples read alike");
    assert!(accepted >= 20 && refused >= 5, "{accepted} / {refused}");
}

/// A run with `results` first, its other properties after (semgrep writes `tool` last;
/// serde_json writes keys sorted).
fn results_first(results: Value, rest: &[(&str, Value)]) -> Vec<u8> {
    let mut run = format!("{{\"results\":{results}");
    for (k, v) in rest {
        run.push_str(&format!(",\"{k}\":{v}"));
    }
    run.push('}');
    format!("{{\"runs\":[{run}],\"version\":\"2.1.0\"}}").into_bytes()
}

fn rule_results() -> Value {
    json!([
        { "ruleId": "R1", "level": "error", "message": { "text": "one" },
          "locations": [{ "physicalLocation": { "artifactLocation": { "index": 0 },
                                                "region": { "startLine": 3 } } }] },
        { "ruleIndex": 1, "message": { "text": "two" } },
        { "ruleId": "R1", "message": { "text": "three" }, "suppressions": [{ "kind": "inSource" }] },
    ])
}

fn tool() -> Value {
    json!({ "driver": { "name": "semgrep", "rules": [
        { "id": "R1", "properties": { "tags": ["CWE-89", "security"], "security-severity": "9.1" } },
        { "id": "R2", "defaultConfiguration": { "level": "note" } },
    ] } })
}

#[test]
fn results_before_the_run_properties_they_need() {
    let artifacts = json!([{ "location": { "uri": "src/app.py" } }]);
    let invocations = json!([{ "executionSuccessful": true, "ruleConfigurationOverrides": [
        { "descriptor": { "id": "R2" }, "configuration": { "level": "error" } } ] }]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("tool last", results_first(rule_results(), &[("tool", tool())])),
        (
            "every property after the results",
            results_first(
                rule_results(),
                &[
                    ("artifacts", artifacts.clone()),
                    ("invocations", invocations.clone()),
                    ("tool", tool()),
                ],
            ),
        ),
        (
            "two runs, results first in the second",
            serde_json::to_vec(&json!({ "version": "2.1.0", "runs": [
                { "tool": tool(), "results": rule_results() },
                { "results": rule_results(), "invocations": invocations, "tool": tool() },
            ] }))
            .unwrap(),
        ),
        ("results null, tool last", results_first(Value::Null, &[("tool", tool())])),
        ("no tool after the results", results_first(rule_results(), &[])),
        (
            "a result the tool's rules refuse",
            results_first(
                json!([{ "ruleId": "R1", "level": "loud", "message": { "text": "x" } }]),
                &[("tool", tool())],
            ),
        ),
        (
            "a broken result after a refused one",
            results_first(
                json!([{ "ruleId": "R1", "level": "loud", "message": { "text": "x" } },
                       { "ruleId": "R1", "message": 7 }]),
                &[("tool", tool())],
            ),
        ),
        (
            "a refused tool after the results",
            results_first(rule_results(), &[("tool", json!({ "driver": {} }))]),
        ),
        (
            "a run written as an array (serde reads it as the struct's fields in order)",
            br#"{"version":"2.1.0","runs":[[{"driver":{"name":"bandit"}},null,[{"message":{"text":"m"},"level":"error"}]]]}"#.to_vec(),
        ),
    ];
    for (name, bytes) in cases {
        same_from_a_file(&bytes, name);
    }
}

#[test]
fn a_byte_order_mark_is_read_but_hashed() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(results_first(rule_results(), &[("tool", tool())]));
    same_from_a_file(&bytes, "BOM");
    same_from_a_file(b"\xEF\xBB\xBF", "BOM alone");
    same_from_a_file(b"\xEF\xBB", "half a BOM");
}

#[test]
fn broken_documents_are_explained_alike() {
    let cases: &[&[u8]] = &[
        b"",
        b"   \n ",
        b"\x0c{}",
        b"[]",
        b"7",
        b"{",
        b"{\"version\": \"2.1.0\", \"runs\": [ ]} x",
        b"{\"version\": \"2.1.0\", \"runs\": 12\n}",
        b"{\"version\": \"2.1.0\", \"runs\": [1\n]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": 42 }]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": {} }]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": [[]] }]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": [{\"message\": 1.5e3}] }]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": [{\"message\": true}] }]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": [{\"message\": \"m\"}] }]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": [{\"message\": {\"text\": \"m\"}, \"ruleIndex\": -7\r\n}] }]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": [{\"message\": {\"text\": \"m\"}, \"ruleIndex\": 1e400}] }]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": [], \"results\": []}]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": [], \"tool\": {\"driver\": {\"name\": \"\xff\"}}}]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": [], \"tool\": {\"driver\": {\"name\": \"x\"}}, \"x\": \"\xff\"}]}",
        b"{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"x\"}}, \"results\": [{\"message\": {\"text\": \"m\"}, \"level\": \"error\"}]}], \"version\": 1}",
        // Where the stream passes find results (see `scan`): keys written with escapes, results
        // whose strings hold brackets, quotes and backslashes, a `results` key that is not a
        // run's, and commas out of place between results.
        br#"{"version":"2.1.0","r\u0075ns":[{"tool":{"driver":{"name":"x"}},"r\u0065sults":[{"message":{"text":"a]}\"[{\\"},"level":"error"}]}]}"#,
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x","properties":{"results":[1,2]}}},"results":[ {"message":{"text":"m"},"level":"error","properties":{"results":[[{}]]}} , {"message":{"text":"n"}} ]}]}"#,
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"}},]}]}"#,
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[,{"message":{"text":"m"}}]}]}"#,
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"}},,{"message":{"text":"m"}}]}]}"#,
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"}} {"message":{"text":"m"}}]}]}"#,
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"}}"#,
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":"[]"}]}"#,
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[7]}]}"#,
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[]},{"tool":{"driver":{"name":"y"}}},{"results":[{"message":{"text":"m"},"level":"error"}],"tool":{"driver":{"name":"z"}}}]}"#,
        br#"{"version":"2.1.0","runs":[7,{"tool":{"driver":{"name":"x"}},"results":[]}]}"#,
        br#"{"version":"2.1.0","runs":[[{"driver":{"name":"x"}},null,7]]}"#,
        br#"{"version":"2.1.0","runs":[[{"driver":{"name":"x"}},null,[{"message":{"text":"m"},"level":"error"}],[]]]}"#,
    ];
    for bytes in cases {
        same_from_a_file(bytes, &String::from_utf8_lossy(bytes));
    }
}

/// A valid log whose bytes are broken at one place by one JSON-significant byte (not the
/// opening brace: see "One difference is left" in `stream`).
fn broken(doc: &[u8], at: usize, with: u8) -> Vec<u8> {
    let mut bytes = doc.to_vec();
    let at = 1 + at % (bytes.len() - 1);
    bytes[at] = with;
    bytes
}

fn pretty_doc() -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({ "version": "2.1.0", "runs": [
        { "results": rule_results(), "tool": tool(),
          "invocations": [{ "executionSuccessful": true }] }
    ] }))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Wherever a document breaks, and however, both paths say the same thing (this is what
    /// keeps the reader's error positions the slice's).
    #[test]
    fn a_document_broken_anywhere_is_explained_alike(
        at in 0usize..10_000,
        with in prop::sample::select(b" \n\t,:{}[]\"0-1.eEtnux\\\xff".to_vec()),
        pretty in any::<bool>(),
    ) {
        let doc = if pretty { pretty_doc() } else { results_first(rule_results(), &[("tool", tool())]) };
        assert_same_as_slice(&broken(&doc, at, with));
    }

    /// The run's properties in any order around its results.
    #[test]
    fn run_properties_in_any_order(order in Just(vec![0usize, 1, 2, 3]).prop_shuffle()) {
        let props = [
            ("results", rule_results()),
            ("tool", tool()),
            ("artifacts", json!([{ "location": { "uri": "a.py" } }])),
            ("invocations", json!([{ "executionSuccessful": false }])),
        ];
        let run: Vec<String> = order.iter().map(|&i| format!("\"{}\":{}", props[i].0, props[i].1)).collect();
        let doc = format!("{{\"version\":\"2.1.0\",\"runs\":[{{{}}}]}}", run.join(","));
        assert_same_as_slice(doc.as_bytes());
    }
}

/// A source whose reads fail after `ok` bytes.
struct Failing {
    bytes: Vec<u8>,
    ok: usize,
}

impl ReportSource for Failing {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone"))
            }
        }
        Ok(Box::new(self.bytes[..self.ok].chain(Broken)))
    }
}

#[test]
fn a_source_that_fails_is_a_read_error_not_an_invalid_report() {
    let bytes = results_first(rule_results(), &[("tool", tool())]);
    for ok in [0, 1, 10, bytes.len() - 1] {
        let source = Failing {
            bytes: bytes.clone(),
            ok,
        };
        match summarise_sarif_stream(&source, &Signals::default()) {
            Err(StreamError::Read(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            other => panic!("after {ok} bytes: {other:?}"),
        }
    }
    let missing = Path::new("/nonexistent/report.sarif");
    match summarise_sarif_stream(missing, &Signals::default()) {
        Err(StreamError::Read(e)) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_buffered_reader_over_a_temp_file_is_a_source() {
    /// What a caller might hand over: a file it buffers itself.
    struct Buffered(tempfile::NamedTempFile);
    impl ReportSource for Buffered {
        fn open(&self) -> io::Result<Box<dyn Read + '_>> {
            Ok(Box::new(BufReader::new(self.0.reopen()?)))
        }
    }
    let bytes = results_first(rule_results(), &[("tool", tool())]);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&bytes).unwrap();
    let got = summarise_sarif_stream(&Buffered(file), &Signals::default()).unwrap();
    assert_eq!(
        got.summary,
        summarise_sarif(&bytes, &Signals::default()).unwrap()
    );
    assert_eq!(got.sha256, hex::encode(Sha256::digest(&bytes)));
    assert!(got.summary.totals.findings > 0, "{:?}", got.summary.totals);
}
