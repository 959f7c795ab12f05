//! The README's run command, as a newcomer meets it: the binary starts on the embedded store,
//! prints a working admin key once, and keeps its data across a restart.

use crate::server::start;

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
    let first = start(dir.path());
    let port = first.port;
    let key = first.admin_key.clone();
    assert!(
        key.starts_with("csk_"),
        "the first start prints an admin key"
    );
    assert_eq!(status(port, Some(&key)), 200);
    assert_eq!(status(port, None), 401);
    drop(first);

    let second = start(dir.path());
    let port = second.port;
    assert!(second.admin_key.is_empty(), "no second demo org on restart");
    assert_eq!(
        status(port, Some(&key)),
        200,
        "the key survived the restart"
    );
}
