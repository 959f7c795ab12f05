// Starts the local server binary for the tests of this folder (included, not a test itself).

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
    #[allow(dead_code)]
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

fn start_on(data_dir: &std::path::Path, port: u16) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_compliance-local"))
        .env("COMPLIANCE_DATA_DIR", data_dir)
        .env("COMPLIANCE_ADDR", format!("127.0.0.1:{port}"))
        .env_remove("COMPLIANCE_STORE")
        .env("RUST_LOG", "warn")
        .env("COMPLIANCE_SNAPSHOT_INTERVAL_SECONDS", "0")
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
    let printed: Vec<String> = rx.try_iter().collect();
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
