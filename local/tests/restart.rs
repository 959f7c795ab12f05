//! The README's run command, as a newcomer meets it: the binary starts on the embedded store,
//! prints a working admin key once, and keeps its data across a restart.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
    printed: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path, port: u16) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_compliance-local"))
        .env("COMPLIANCE_DATA_DIR", data_dir)
        .env("COMPLIANCE_ADDR", format!("127.0.0.1:{port}"))
        .env_remove("COMPLIANCE_STORE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start compliance-local");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    Server {
        child,
        printed: rx.try_iter().collect(),
    }
}

fn status(port: u16, key: Option<&str>) -> u16 {
    let client = reqwest::blocking::Client::new();
    let mut req = client.get(format!("http://127.0.0.1:{port}/api/api-keys"));
    if let Some(key) = key {
        req = req.header("X-API-Key", key);
    }
    req.send().unwrap().status().as_u16()
}

#[test]
fn printed_key_works_and_data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let first = start(dir.path(), port);
    let key = first
        .printed
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("csk_"))
        .expect("the first start prints an admin key")
        .to_string();
    assert_eq!(status(port, Some(&key)), 200);
    assert_eq!(status(port, None), 401);
    drop(first);

    let port = free_port();
    let second = start(dir.path(), port);
    assert!(
        !second.printed.iter().any(|l| l.contains("csk_")),
        "no second demo org on restart"
    );
    assert_eq!(
        status(port, Some(&key)),
        200,
        "the key survived the restart"
    );
}
