//! Bearer JWT verification: HS256 with a configured secret, RS256/ES256 (and the other RSA/EC
//! variants when allowed) against a JWKS fetched lazily. The key is chosen by the algorithm
//! family itself, so an HS token is never checked against a public key (no alg confusion), and
//! `none` is not an algorithm this code knows; a JWKS key is used only for what it says it is
//! for (its `use` and `alg`, when it has them).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

use super::AuthError;
use compliance_domain::identity::{ActorKind, Principal};
use compliance_domain::ids::OrgId;
use compliance_domain::plans::Role;
use compliance_store::config::{parsed, var, ConfigError};

#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub hs256_secret: Option<String>,
    /// A Secrets Manager secret holding the HS256 secret, read at run time
    /// ([`JwtConfig::with_secret_read`]); in Lambda instead of `hs256_secret`.
    pub hs256_secret_id: Option<String>,
    pub jwks_url: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// `JWT_ACCEPT_ANY_AUDIENCE=true`: the operator accepts JWKS tokens without an issuer or an
    /// audience to check (see [`JwtConfig::check`]).
    pub accept_any_audience: bool,
    pub algorithms: Vec<Algorithm>,
    /// Claim names, dotted for nested claims (`app_metadata.org_id`).
    pub org_claim: String,
    pub role_claim: String,
    pub email_claim: String,
    /// Role for a token without a role claim: least privilege by default.
    pub default_role: Role,
    pub leeway_seconds: u64,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            hs256_secret: None,
            hs256_secret_id: None,
            jwks_url: None,
            issuer: None,
            audience: None,
            accept_any_audience: false,
            algorithms: vec![Algorithm::HS256, Algorithm::RS256, Algorithm::ES256],
            org_claim: "org_id".into(),
            role_claim: "role".into(),
            email_claim: "email".into(),
            default_role: Role::Viewer,
            leeway_seconds: 30,
        }
    }
}

impl JwtConfig {
    /// The configuration with the HS256 secret read from Secrets Manager when it is named there
    /// (and not given directly).
    pub async fn with_secret_read(mut self) -> Result<Self, ConfigError> {
        if let (None, Some(id)) = (&self.hs256_secret, &self.hs256_secret_id) {
            self.hs256_secret = Some(crate::secret::get_secret_value(id, None).await?);
        }
        Ok(self)
    }

    /// From the `JWT_*` variables (docs/configuration.md); unset ones keep their
    /// defaults. A configuration [`check`](JwtConfig::check) refuses is an error.
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = JwtConfig::default();
        let config = JwtConfig {
            hs256_secret: var("JWT_HS256_SECRET"),
            hs256_secret_id: var("JWT_HS256_SECRET_ID"),
            jwks_url: var("JWT_JWKS_URL"),
            issuer: var("JWT_ISSUER"),
            audience: var("JWT_AUDIENCE"),
            accept_any_audience: parsed("JWT_ACCEPT_ANY_AUDIENCE", false)?,
            algorithms: match var("JWT_ALGORITHMS") {
                Some(list) => parse_algorithms(&list).map_err(ConfigError)?,
                None => defaults.algorithms,
            },
            org_claim: var("JWT_ORG_CLAIM").unwrap_or(defaults.org_claim),
            role_claim: var("JWT_ROLE_CLAIM").unwrap_or(defaults.role_claim),
            email_claim: var("JWT_EMAIL_CLAIM").unwrap_or(defaults.email_claim),
            default_role: match var("JWT_DEFAULT_ROLE") {
                Some(r) => r.parse::<Role>().map_err(|e| ConfigError(e.to_string()))?,
                None => defaults.default_role,
            },
            leeway_seconds: parsed("JWT_LEEWAY_SECONDS", defaults.leeway_seconds)?,
        };
        config.check()?;
        Ok(config)
    }

    /// Refuses a JWKS without both an issuer and an audience to check, unless the operator
    /// said explicitly that any will do: an identity provider's keys sign the tokens of every
    /// application of its tenant, so without them any of those tokens that carries an org
    /// claim would be accepted here, tokens minted for other applications included.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.jwks_url.is_none() || self.accept_any_audience {
            return Ok(());
        }
        let (names, verb, claims) = match (self.issuer.is_none(), self.audience.is_none()) {
            (false, false) => return Ok(()),
            (true, false) => ("JWT_ISSUER", "is", "iss"),
            (false, true) => ("JWT_AUDIENCE", "is", "aud"),
            (true, true) => ("JWT_ISSUER and JWT_AUDIENCE", "are", "iss and aud"),
        };
        Err(ConfigError(format!(
            "JWT_JWKS_URL is set but {names} {verb} not, so every token the identity provider \
             signs with an org claim would be accepted, tokens for other applications included. \
             Set {names} to the {claims} of this API's tokens, or JWT_ACCEPT_ANY_AUDIENCE=true to \
             accept any"
        )))
    }
}

pub fn parse_algorithms(list: &str) -> Result<Vec<Algorithm>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Algorithm>()
                .map_err(|_| format!("unknown JWT algorithm '{s}'"))
        })
        .collect()
}

/// How long fetched keys are trusted, and how often an unknown `kid` may trigger a refetch
/// (so random `kid`s cannot turn us into a load generator against the identity provider).
const JWKS_TTL: Duration = Duration::from_secs(600);
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);
/// How long a failed JWKS fetch is remembered. Meanwhile a token that needs the keys is answered
/// at once as unavailable (the answer of the failed fetch), rather than each request waiting on
/// a fetch of its own, up to the 5 s timeout, while the provider is down; short, because a
/// provider that is back is only tried again after it. As long as the refetch interval: a warm
/// instance asks the provider at most once per 30 s, whether its last fetch worked or not.
const JWKS_FAILURE_MEMORY: Duration = Duration::from_secs(30);

struct CachedJwks {
    keys: JwkSet,
    fetched: Instant,
}

pub struct JwtVerifier {
    config: JwtConfig,
    http: reqwest::Client,
    jwks: RwLock<Option<Arc<CachedJwks>>>,
    /// Held across a JWKS fetch, so that one is in flight at a time and the requests that
    /// wanted it take its result; holds when the last fetch failed.
    fetch: Mutex<Option<Instant>>,
}

fn invalid(reason: impl Into<String>) -> AuthError {
    AuthError::Invalid(reason.into())
}

fn claim<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

fn family_is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

impl JwtVerifier {
    pub fn new(config: JwtConfig) -> Self {
        JwtVerifier {
            config,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            jwks: RwLock::new(None),
            fetch: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// Verifies the token and turns its claims into a principal (org not yet checked to exist).
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = decode_header(token).map_err(|_| invalid("malformed token"))?;
        if !self.config.algorithms.contains(&header.alg) {
            return Err(invalid(format!(
                "algorithm {:?} is not allowed",
                header.alg
            )));
        }
        let key = if family_is_hmac(header.alg) {
            let secret = self
                .config
                .hs256_secret
                .as_deref()
                .ok_or_else(|| invalid("HMAC tokens are not accepted here"))?;
            DecodingKey::from_secret(secret.as_bytes())
        } else {
            self.public_key(header.kid.as_deref(), header.alg).await?
        };
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.config.leeway_seconds;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &self.config.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &self.config.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let data = decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            invalid(match e.kind() {
                K::ExpiredSignature => "token expired",
                K::ImmatureSignature => "token not yet valid",
                K::InvalidAudience => "wrong audience",
                K::InvalidIssuer => "wrong issuer",
                K::InvalidSignature => "bad signature",
                K::MissingRequiredClaim(_) => "missing required claim",
                K::InvalidAlgorithm => "algorithm does not match key",
                _ => "invalid token",
            })
        })?;
        self.principal(&data.claims)
    }

    fn principal(&self, claims: &Map<String, Value>) -> Result<Principal, AuthError> {
        let text = |name: &str| claim(claims, name).and_then(Value::as_str);
        let org_id = text(&self.config.org_claim)
            .and_then(|s| OrgId::parse(s).ok())
            .ok_or_else(|| {
                invalid(format!(
                    "token has no valid '{}' claim",
                    self.config.org_claim
                ))
            })?;
        let role = match claim(claims, &self.config.role_claim) {
            None | Some(Value::Null) => self.config.default_role,
            Some(v) => v
                .as_str()
                .and_then(|s| s.parse::<Role>().ok())
                .ok_or_else(|| {
                    invalid(format!(
                        "'{}' claim is not a known role",
                        self.config.role_claim
                    ))
                })?,
        };
        let actor_id = text("sub")
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or_else(|| invalid("token has no valid 'sub' claim"))?;
        Ok(Principal {
            org_id,
            role,
            actor_id: actor_id.to_string(),
            email: text(&self.config.email_claim).map(str::to_string),
            kind: ActorKind::User,
        })
    }

    async fn public_key(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<DecodingKey, AuthError> {
        if self.config.jwks_url.is_none() {
            return Err(invalid("no JWKS configured for asymmetric tokens"));
        }
        let cached = self.jwks.read().await.clone();
        let fresh = cached.as_ref().filter(|c| c.fetched.elapsed() < JWKS_TTL);
        if let Some(key) = fresh.and_then(|c| select_key(&c.keys, kid, alg)) {
            return key;
        }
        // Unknown kid (or stale set): refetch, unless we fetched a moment ago.
        let keys = match self.recent().await {
            Some(recent) => recent,
            None => self.refresh().await?,
        };
        select_key(&keys.keys, kid, alg).unwrap_or_else(|| Err(invalid("unknown signing key")))
    }

    /// The key set, when it was fetched less than [`JWKS_MIN_REFRESH`] ago.
    async fn recent(&self) -> Option<Arc<CachedJwks>> {
        let cached = self.jwks.read().await.clone();
        cached.filter(|c| c.fetched.elapsed() < JWKS_MIN_REFRESH)
    }

    /// A new key set: fetched by one request at a time; one that waited for another's fetch
    /// takes its keys, or its failure while that is remembered.
    async fn refresh(&self) -> Result<Arc<CachedJwks>, AuthError> {
        let mut failed_at = self.fetch.lock().await;
        if let Some(recent) = self.recent().await {
            return Ok(recent);
        }
        if failed_at.is_some_and(|at| at.elapsed() < JWKS_FAILURE_MEMORY) {
            return Err(AuthError::Unavailable);
        }
        let url = self.config.jwks_url.as_deref().unwrap_or_default();
        let keys: JwkSet = match async {
            self.http
                .get(url)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        }
        .await
        {
            Ok(keys) => keys,
            Err(e) => {
                tracing::error!(error = %e, "JWKS fetch failed");
                *failed_at = Some(Instant::now());
                return Err(AuthError::Unavailable);
            }
        };
        *failed_at = None;
        let cached = Arc::new(CachedJwks {
            keys,
            fetched: Instant::now(),
        });
        *self.jwks.write().await = Some(cached.clone());
        Ok(cached)
    }
}

/// The JWKS key for this token: matched by `kid` (or the only key when the token has none), of
/// the algorithm's own family, and, when the key says so, for signatures (`use`) with this very
/// algorithm (`alg`): an RS256 key does not verify a PS256 token.
fn select_key(
    set: &JwkSet,
    kid: Option<&str>,
    alg: Algorithm,
) -> Option<Result<DecodingKey, AuthError>> {
    let jwk = match kid {
        Some(kid) => set.find(kid)?,
        None if set.keys.len() == 1 => &set.keys[0],
        None => return None,
    };
    let family_ok = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(_) => {
            matches!(alg, Algorithm::ES256 | Algorithm::ES384)
        }
        _ => false,
    };
    if !family_ok || !key_allows(jwk, alg) {
        return Some(Err(invalid("algorithm does not match key")));
    }
    Some(DecodingKey::from_jwk(jwk).map_err(|_| invalid("unusable signing key")))
}

/// Whether the key's own `use` and `alg`, those it has, allow verifying an `alg` signature.
fn key_allows(jwk: &Jwk, alg: Algorithm) -> bool {
    let use_ok = match &jwk.common.public_key_use {
        None | Some(PublicKeyUse::Signature) => true,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_)) => false,
    };
    use_ok
        && jwk
            .common
            .key_algorithm
            .is_none_or(|key| signing_algorithm(key) == Some(alg))
}

/// The signature algorithm a JWK's `alg` names (`None` for the encryption ones).
fn signing_algorithm(key: KeyAlgorithm) -> Option<Algorithm> {
    Some(match key {
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        KeyAlgorithm::RSA1_5 | KeyAlgorithm::RSA_OAEP | KeyAlgorithm::RSA_OAEP_256 => return None,
    })
}
