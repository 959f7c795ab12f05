//! Authentication: an `X-API-Key` (looked up by hash) or a bearer JWT, resolved to a
//! [`Principal`] whose org exists.

pub mod aws_json;
pub mod jwt;
mod key_cache;
pub mod secret;

use std::sync::Arc;
use std::time::Duration;

use compliance_domain::identity::{ActorKind, Principal};
use compliance_services::{api_keys, key_secrets};
use compliance_store::{Store, StoreError};
use http::HeaderMap;
use jwt::{JwtConfig, JwtVerifier};
use key_cache::KeyCache;

pub const API_KEY_HEADER: &str = "x-api-key";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Not authenticated")]
    Missing,
    #[error("Invalid API key")]
    BadKey,
    #[error("Invalid token: {0}")]
    Invalid(String),
    #[error("Unknown org")]
    UnknownOrg,
    /// The identity provider's keys could not be fetched: not the caller's fault.
    #[error("authentication temporarily unavailable")]
    Unavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Authenticator {
    store: Arc<dyn Store>,
    jwt: JwtVerifier,
    keys: KeyCache,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>, jwt: JwtConfig, key_cache_ttl: Duration) -> Self {
        Authenticator {
            store,
            jwt: JwtVerifier::new(jwt),
            keys: KeyCache::new(key_cache_ttl),
        }
    }

    pub fn jwt_config(&self) -> &JwtConfig {
        self.jwt.config()
    }

    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        if let Some(value) = headers.get(API_KEY_HEADER) {
            let key = value.to_str().map_err(|_| AuthError::BadKey)?.trim();
            return self.api_key(key).await;
        }
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Err(AuthError::Missing);
        };
        let value = value
            .to_str()
            .map_err(|_| AuthError::Invalid("malformed Authorization header".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AuthError::Invalid("expected 'Bearer <token>'".into()))?;
        let principal = self.jwt.verify(token).await?;
        if compliance_services::orgs::get(self.store.as_ref(), &principal.org_id)
            .await?
            .is_none()
        {
            return Err(AuthError::UnknownOrg);
        }
        Ok(principal)
    }

    async fn api_key(&self, secret: &str) -> Result<Principal, AuthError> {
        if !key_secrets::well_formed(secret) {
            return Err(AuthError::BadKey);
        }
        let hash = key_secrets::hash(secret);
        if let Some(p) = self.keys.get(&hash) {
            return Ok(p);
        }
        let found = api_keys::lookup(self.store.as_ref(), &hash)
            .await?
            .ok_or(AuthError::BadKey)?;
        let principal = Principal {
            org_id: found.org_id,
            role: found.role,
            actor_id: found.key_id.to_string(),
            email: None,
            kind: ActorKind::ApiKey,
        };
        self.keys.put(hash, principal.clone());
        Ok(principal)
    }

    /// Called on revocation, so this process stops accepting the key at once.
    pub fn forget_key(&self, hash: &str) {
        self.keys.evict(hash);
    }
}
