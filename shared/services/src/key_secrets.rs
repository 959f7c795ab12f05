//! API key secrets: generation and hashing. Keys are 256 random bits, so a plain SHA-256 is the
//! right hash (nothing to brute-force); only the hash is ever stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

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
