//! Starts the local server binary, as the README's run command does, on a data folder of the
//! test's own and a free loopback port.

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

pub struct Server {
    child: Child,
    pub port: u16,
    /// The admin key the first start printed (empty on a restart).
    pub admin_key: String,
}

impl Server {
    /// SIGKILL: no shutdown, no flush, as a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server's command on the embedded store in `data_dir`, listening on a free loopback port,
/// its standard output piped.
pub fn command(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_compliance-local"));
    command
        .env("COMPLIANCE_DATA_DIR", data_dir)
        .env("COMPLIANCE_ADDR", format!("127.0.0.1:{}", free_port()))
        .env_remove("COMPLIANCE_STORE")
        .env("RUST_LOG", "warn")
        .env("COMPLIANCE_SNAPSHOT_INTERVAL_SECONDS", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

fn start_on(data_dir: &std::path::Path, port: u16) -> Server {
    let mut child = command(data_dir)
        .env("COMPLIANCE_ADDR", format!("127.0.0.1:{port}"))
        .spawn()
        .expect("start compliance-local");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Everything the server prints on a start comes before the line saying where it listens.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with("Listening on http://") => break,
            Ok(line) => printed.push(line),
            Err(_) => panic!("the server did not start within 60 s: {printed:?}"),
        }
    }
    let admin_key = printed
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("csk_"))
        .unwrap_or_default()
        .to_string();
    Server {
        child,
        port,
        admin_key,
    }
}

pub fn start(data_dir: &std::path::Path) -> Server {
    start_on(data_dir, free_port())
}
