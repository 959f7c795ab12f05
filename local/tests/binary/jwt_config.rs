//! The local server's start with JWT settings it refuses: a JWKS without an issuer and an
//! audience to check. The operator gets a message naming the variables and a failed exit, not a
//! panic; `JWT_ACCEPT_ANY_AUDIENCE=true` says any will do, and the server starts.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const JWT_VARIABLES: [&str; 4] = [
    "JWT_JWKS_URL",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_ACCEPT_ANY_AUDIENCE",
];

fn spawn(data_dir: &std::path::Path, jwt: &[(&str, &str)]) -> Child {
    let mut command = crate::server::command(data_dir);
    for name in JWT_VARIABLES {
        command.env_remove(name);
    }
    command
        .envs(jwt.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start compliance-local")
}

/// The lines the server prints on standard output, as they come.
fn printed(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// The refusal: exit status and standard error (a server that starts instead fails the test).
fn refused(jwt: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(dir.path(), jwt);
    let lines = printed(&mut child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let listening = lines
            .try_iter()
            .any(|l| l.starts_with("Listening on http://"));
        if listening || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started with {jwt:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stderr)
}

#[test]
fn a_jwks_without_issuer_and_audience_is_refused_at_start_with_a_message() {
    let jwks = ("JWT_JWKS_URL", "https://idp.test/.well-known/jwks.json");
    for (jwt, missing) in [
        (vec![jwks], "JWT_ISSUER and JWT_AUDIENCE are not"),
        (
            vec![jwks, ("JWT_ISSUER", "https://idp.test/")],
            "JWT_AUDIENCE is not",
        ),
        (
            vec![jwks, ("JWT_AUDIENCE", "compliance-api")],
            "JWT_ISSUER is not",
        ),
    ] {
        let (code, stderr) = refused(&jwt);
        assert_eq!(code, Some(2), "{jwt:?}: {stderr}");
        assert!(
            stderr.starts_with("compliance-local: configuration: JWT_JWKS_URL is set but ")
                && stderr.contains(missing)
                && stderr.contains("JWT_ACCEPT_ANY_AUDIENCE=true"),
            "{jwt:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Not a boolean: refused too, naming the variable.
    let (code, stderr) = refused(&[jwks, ("JWT_ACCEPT_ANY_AUDIENCE", "yes")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("JWT_ACCEPT_ANY_AUDIENCE=yes is not a valid value"),
        "{stderr}"
    );
}

#[test]
fn a_jwks_with_any_audience_accepted_explicitly_starts() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(
        dir.path(),
        &[
            ("JWT_JWKS_URL", "https://idp.test/.well-known/jwks.json"),
            ("JWT_ACCEPT_ANY_AUDIENCE", "true"),
        ],
    );
    let lines = printed(&mut child);
    let listening = loop {
        match lines.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.starts_with("Listening on http://") => break true,
            Ok(_) => continue,
            Err(_) => break false,
        }
    };
    let _ = child.kill();
    let status = child.wait().unwrap();
    assert!(listening, "the server did not start: {status:?}");
}
