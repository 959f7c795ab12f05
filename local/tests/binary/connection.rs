//! Keep-alive as pooled clients see it: a refusal sent before the request body was read closes
//! the connection and says `Connection: close`; an answer after the body was read keeps it.
//! Raw HTTP/1.1 on one socket, so what is checked is the connection itself, not a client's
//! retries.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::server::start;

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn send(stream: &mut TcpStream, method: &str, path: &str, key: Option<&str>, body: &[u8]) {
    send_part(stream, method, path, key, body.len(), body);
}

/// A request announcing `declared` bytes of body and sending `body` of them (all, or the start
/// of a large upload still on its way).
fn send_part(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    key: Option<&str>,
    declared: usize,
    body: &[u8],
) {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n"
    );
    if let Some(key) = key {
        head.push_str(&format!("X-API-Key: {key}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
}

fn read_answer(reader: &mut BufReader<TcpStream>) -> Answer {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let answer = Answer { status, headers };
    let length: usize = answer
        .header("content-length")
        .map(|v| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    answer
}

fn connect(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let reader = BufReader::new(stream.try_clone().unwrap());
    (stream, reader)
}

/// The server closes the connection: the next read ends.
fn assert_closed(reader: &mut BufReader<TcpStream>, what: &str) {
    let mut rest = Vec::new();
    let read = reader.read_to_end(&mut rest);
    assert!(
        matches!(read, Ok(0)) || read.is_err(),
        "{what}: the connection stayed open ({} more bytes)",
        rest.len()
    );
}

#[test]
fn refusals_before_the_body_is_read_say_connection_close() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let key = server.admin_key.clone();

    // No credential: refused before the body is read.
    let (mut stream, mut reader) = connect(server.port);
    send(&mut stream, "POST", "/api/repos", None, &[b' '; 4096]);
    let answer = read_answer(&mut reader);
    assert_eq!(answer.status, 401);
    assert_eq!(answer.header("connection"), Some("close"));
    assert_closed(&mut reader, "after a 401");

    // Over the endpoint's body limit (256 KiB for custom frameworks): refused once 300 KiB of a
    // 2 MiB upload have come, the rest unread.
    let (mut stream, mut reader) = connect(server.port);
    send_part(
        &mut stream,
        "POST",
        "/api/compliance/custom-frameworks",
        Some(&key),
        2 * 1024 * 1024,
        &vec![b' '; 300 * 1024],
    );
    let answer = read_answer(&mut reader);
    assert_eq!(answer.status, 413);
    assert_eq!(answer.header("connection"), Some("close"));
    assert_closed(&mut reader, "after a 413");
}

#[test]
fn answers_after_the_body_is_read_keep_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let key = server.admin_key.clone();

    let (mut stream, mut reader) = connect(server.port);
    for name in ["kept-alive-1", "kept-alive-2"] {
        let body = format!(r#"{{"name":"{name}"}}"#);
        send(
            &mut stream,
            "POST",
            "/api/repos",
            Some(&key),
            body.as_bytes(),
        );
        let answer = read_answer(&mut reader);
        assert_eq!(answer.status, 201);
        assert_eq!(answer.header("connection"), None);
    }
    // A 400 for a body read whole keeps the connection too.
    send(&mut stream, "POST", "/api/repos", Some(&key), b"{not json");
    let answer = read_answer(&mut reader);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.header("connection"), None);
    send(&mut stream, "GET", "/api/health", None, b"");
    assert_eq!(read_answer(&mut reader).status, 200);
}
