//! API key material: generation, hashing, and the lookup cache. Keys are 256 random bits, so a
//! plain SHA-256 is the right hash (nothing to brute-force); only the hash is ever stored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::Principal;

pub const KEY_PREFIX: &str = "csk_";
/// Longer input is rejected before any hashing or lookup.
const MAX_KEY_LEN: usize = 128;

/// A freshly generated key: the secret is shown once, then only its hash is kept.
pub struct NewKey {
    pub id: String,
    pub secret: String,
    pub hash: String,
    /// The first characters, safe to show in listings so people can tell keys apart.
    pub display_prefix: String,
}

pub fn generate() -> NewKey {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let mut id_bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut id_bytes);
    NewKey {
        id: format!("key_{}", hex::encode(id_bytes)),
        hash: hash(&secret),
        display_prefix: secret[..KEY_PREFIX.len() + 6].to_string(),
        secret,
    }
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether the text can be one of our keys at all (cheap rejection of garbage).
pub fn well_formed(secret: &str) -> bool {
    secret.starts_with(KEY_PREFIX)
        && secret.len() <= MAX_KEY_LEN
        && secret[KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A warm function's short-lived memory of resolved keys. Revocation through this process
/// evicts at once; other warm instances notice within the TTL.
pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

const MAX_CACHED_KEYS: usize = 10_000;

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        KeyCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, hash: &str) -> Option<Principal> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(p, _)| p.clone())
    }

    pub fn put(&self, hash: String, principal: Principal) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_CACHED_KEYS {
            entries.clear();
        }
        entries.insert(hash, (principal, Instant::now()));
    }

    pub fn evict(&self, hash: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(hash);
    }
}
