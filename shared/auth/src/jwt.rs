//! Bearer JWT verification: HS256 with a configured secret, RS256/ES256 (and the other RSA/EC
//! variants when allowed) against a JWKS fetched lazily. The key is chosen by the algorithm
//! family itself, so an HS token is never checked against a public key (no alg confusion), and
//! `none` is not an algorithm this code knows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use tokio::sync::RwLock;

use super::AuthError;
use compliance_domain::identity::{ActorKind, Principal};
use compliance_domain::ids::OrgId;
use compliance_domain::plans::Role;
use compliance_store::config::{parsed, var, ConfigError};

#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub hs256_secret: Option<String>,
    pub jwks_url: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
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
            jwks_url: None,
            issuer: None,
            audience: None,
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
    /// From the `JWT_*` variables (the README's configuration table); unset ones keep their
    /// defaults.
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = JwtConfig::default();
        Ok(JwtConfig {
            hs256_secret: var("JWT_HS256_SECRET"),
            jwks_url: var("JWT_JWKS_URL"),
            issuer: var("JWT_ISSUER"),
            audience: var("JWT_AUDIENCE"),
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
        })
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

struct CachedJwks {
    keys: JwkSet,
    fetched: Instant,
}

pub struct JwtVerifier {
    config: JwtConfig,
    http: reqwest::Client,
    jwks: RwLock<Option<Arc<CachedJwks>>>,
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
        let recently = cached
            .as_ref()
            .is_some_and(|c| c.fetched.elapsed() < JWKS_MIN_REFRESH);
        let keys = if recently {
            cached.expect("checked above")
        } else {
            self.refresh().await?
        };
        select_key(&keys.keys, kid, alg).unwrap_or_else(|| Err(invalid("unknown signing key")))
    }

    async fn refresh(&self) -> Result<Arc<CachedJwks>, AuthError> {
        let url = self.config.jwks_url.as_deref().unwrap_or_default();
        let keys: JwkSet = async {
            self.http
                .get(url)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        }
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "JWKS fetch failed");
            AuthError::Unavailable
        })?;
        let cached = Arc::new(CachedJwks {
            keys,
            fetched: Instant::now(),
        });
        *self.jwks.write().await = Some(cached.clone());
        Ok(cached)
    }
}

/// The JWKS key for this token: matched by `kid` (or the only key when the token has none), and
/// of the algorithm's own family.
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
    if !family_ok {
        return Some(Err(invalid("algorithm does not match key")));
    }
    Some(DecodingKey::from_jwk(jwk).map_err(|_| invalid("unusable signing key")))
}
