//! Authentication and tenancy over HTTP: API keys and bearer JWTs (HS256 secret; RS256/ES256
//! via the JWKS served by the harness), each failure mode, roles and org isolation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use compliance_auth::jwt::{JwtConfig, JwtVerifier};
use compliance_auth::AuthError;
use compliance_domain::plans::{Plan, Role};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{fixture, hs256_token, spawn_app, AUDIENCE, ISSUER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEYS: &str = "/api/api-keys";

fn claims(org: &str, extra: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({"sub": "user-9", "org_id": org, "role": "admin", "email": "u9@example.com",
                       "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600});
    test_support::merge(&mut c, extra);
    c
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(fixture("rsa-private.pem")).unwrap()).unwrap()
}

fn ec_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&std::fs::read(fixture("ec-private.pem")).unwrap()).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn api_key_grants_access_to_its_own_org_only() {
    let app = spawn_app().await;
    let resp = app.get(KEYS).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.body["api_keys"].as_array().unwrap().len(), 1);

    let (_, other_key) = app.new_org(Plan::Team).await;
    let other = app.call(Method::GET, KEYS, Some(&other_key), None).await;
    assert_eq!(other.status, StatusCode::OK);
    let other_ids: Vec<_> = other.body["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].clone())
        .collect();
    let own_ids: Vec<_> = resp.body["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].clone())
        .collect();
    assert!(
        other_ids.iter().all(|id| !own_ids.contains(id)),
        "orgs see disjoint keys"
    );

    // Another org's key cannot revoke this org's key.
    let own_id = own_ids[0].as_str().unwrap();
    let cross = app
        .call(
            Method::DELETE,
            &format!("{KEYS}/{own_id}"),
            Some(&other_key),
            None,
        )
        .await;
    assert_eq!(cross.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(KEYS).await.status, StatusCode::OK, "still valid");
}

#[tokio::test]
async fn missing_and_bad_credentials_get_401_in_the_compliance_shape() {
    let app = spawn_app().await;
    let none = app.call(Method::GET, KEYS, None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.body, json!({"detail": "Not authenticated"}));

    for bad in ["nope", "csk_doesnotexist", &"csk_x".repeat(100), "csk_ bad"] {
        let resp = app.call(Method::GET, KEYS, Some(bad), None).await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(resp.body, json!({"detail": "Invalid API key"}));
    }
    let garbage = app
        .send(
            app.request(Method::GET, KEYS)
                .header("Authorization", "Basic dXNlcjpwYXNz"),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    assert!(garbage.body["detail"]
        .as_str()
        .unwrap()
        .starts_with("Invalid token"));
}

#[tokio::test]
async fn revoked_key_stops_working_at_once() {
    let app = spawn_app().await;
    let created = app.post(KEYS, json!({"name": "ci", "role": "admin"})).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let (id, key) = (
        created.body["id"].as_str().unwrap(),
        created.body["key"].as_str().unwrap(),
    );
    // Used once (so a warm cache holds it), then revoked.
    assert_eq!(
        app.call(Method::GET, KEYS, Some(key), None).await.status,
        StatusCode::OK
    );
    let revoked = app.delete(&format!("{KEYS}/{id}")).await;
    assert_eq!(revoked.status, StatusCode::OK);
    let after = app.call(Method::GET, KEYS, Some(key), None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.body, json!({"detail": "Invalid API key"}));
    // Revoking twice is a 404: there is no active key with that id any more.
    assert_eq!(
        app.delete(&format!("{KEYS}/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn hs256_token_works_and_every_broken_variant_is_refused() {
    let app = spawn_app().await;
    let ok = hs256_token(&app.org_id, "admin", json!({}));
    let resp = app.with_bearer(Method::GET, KEYS, &ok, None).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);

    let now = chrono::Utc::now().timestamp();
    let cases = [
        (
            "expired",
            hs256_token(
                &app.org_id,
                "admin",
                json!({"exp": now - 3600, "iat": now - 7200, "nbf": now - 7200}),
            ),
        ),
        (
            "not yet valid",
            hs256_token(&app.org_id, "admin", json!({"nbf": now + 3600})),
        ),
        (
            "wrong audience",
            hs256_token(&app.org_id, "admin", json!({"aud": "someone-else"})),
        ),
        (
            "wrong issuer",
            hs256_token(&app.org_id, "admin", json!({"iss": "https://evil.test/"})),
        ),
        (
            "no exp",
            hs256_token(&app.org_id, "admin", json!({"exp": null})),
        ),
        (
            "no org",
            hs256_token(&app.org_id, "admin", json!({"org_id": null})),
        ),
        (
            "unknown org",
            hs256_token("00000000-0000-0000-0000-000000000000", "admin", json!({})),
        ),
        (
            "org with key syntax",
            hs256_token("ORG#x", "admin", json!({})),
        ),
        (
            "unknown role",
            hs256_token(&app.org_id, "superuser", json!({})),
        ),
        (
            "wrong secret",
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims(&app.org_id, json!({})),
                &EncodingKey::from_secret(b"not-the-secret"),
            )
            .unwrap(),
        ),
    ];
    for (name, token) in cases {
        let resp = app.with_bearer(Method::GET, KEYS, &token, None).await;
        assert_eq!(
            resp.status,
            StatusCode::UNAUTHORIZED,
            "{name}: {:?}",
            resp.body
        );
        assert!(resp.body["detail"].is_string(), "{name}");
    }

    // alg: none, hand-made (no library will sign it).
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64(claims(&app.org_id, json!({})).to_string().as_bytes());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        let resp = app.with_bearer(Method::GET, KEYS, &token, None).await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "alg none");
    }
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_refused() {
    let app = spawn_app().await;
    // The classic confusion attack: HMAC keyed with the server's public RSA key.
    let public_pem = std::fs::read(fixture("rsa-public.pem")).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("test-rsa-1".into());
    let token = jsonwebtoken::encode(
        &header,
        &claims(&app.org_id, json!({})),
        &EncodingKey::from_secret(&public_pem),
    )
    .unwrap();
    let resp = app.with_bearer(Method::GET, KEYS, &token, None).await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    // And an RS256 header over an HMAC signature does not pass either.
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"RS256","kid":"test-rsa-1"}"#),
        parts[1],
        parts[2]
    );
    let resp = app.with_bearer(Method::GET, KEYS, &forged, None).await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rs256_and_es256_verify_against_the_jwks() {
    let app = spawn_app().await;
    let rs = sign(
        Algorithm::RS256,
        Some("test-rsa-1"),
        &rsa_key(),
        &claims(&app.org_id, json!({})),
    );
    let resp = app.with_bearer(Method::GET, KEYS, &rs, None).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);

    let es = sign(
        Algorithm::ES256,
        Some("test-ec-1"),
        &ec_key(),
        &claims(&app.org_id, json!({})),
    );
    let resp = app.with_bearer(Method::GET, KEYS, &es, None).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);

    // A kid the JWKS does not have, a key of the wrong family, an algorithm off the list.
    let unknown = sign(
        Algorithm::RS256,
        Some("rotated-away"),
        &rsa_key(),
        &claims(&app.org_id, json!({})),
    );
    assert_eq!(
        app.with_bearer(Method::GET, KEYS, &unknown, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let wrong_family = sign(
        Algorithm::RS256,
        Some("test-ec-1"),
        &rsa_key(),
        &claims(&app.org_id, json!({})),
    );
    assert_eq!(
        app.with_bearer(Method::GET, KEYS, &wrong_family, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let ps = sign(
        Algorithm::PS256,
        Some("test-rsa-1"),
        &rsa_key(),
        &claims(&app.org_id, json!({})),
    );
    assert_eq!(
        app.with_bearer(Method::GET, KEYS, &ps, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let expired = sign(
        Algorithm::RS256,
        Some("test-rsa-1"),
        &rsa_key(),
        &claims(
            &app.org_id,
            json!({"exp": chrono::Utc::now().timestamp() - 3600}),
        ),
    );
    assert_eq!(
        app.with_bearer(Method::GET, KEYS, &expired, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn roles_below_admin_get_403_on_admin_routes() {
    let app = spawn_app().await;
    for role in [Role::Member, Role::Viewer] {
        let key = app.key_for(&app.org_id, role).await;
        let resp = app.call(Method::GET, KEYS, Some(&key), None).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN);
        assert_eq!(resp.body, json!({"detail": "Org admin role required"}));
    }
    let token = hs256_token(&app.org_id, "member", json!({}));
    let resp = app
        .with_bearer(Method::GET, "/api/audit-logs", &token, None)
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    // A token without a role claim gets the least privilege.
    let token = hs256_token(&app.org_id, "admin", json!({"role": null}));
    let resp = app.with_bearer(Method::GET, KEYS, &token, None).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
}

#[test]
fn a_jwks_needs_an_issuer_and_an_audience_unless_any_is_explicitly_accepted() {
    let jwks = JwtConfig {
        jwks_url: Some("https://idp.test/.well-known/jwks.json".into()),
        ..JwtConfig::default()
    };
    let refused = |config: &JwtConfig| config.check().unwrap_err().to_string();
    let neither = refused(&jwks);
    assert!(
        neither.contains("JWT_ISSUER and JWT_AUDIENCE are not")
            && neither.contains("JWT_ACCEPT_ANY_AUDIENCE=true"),
        "{neither}"
    );
    let with_issuer = JwtConfig {
        issuer: Some(ISSUER.into()),
        ..jwks.clone()
    };
    let no_audience = refused(&with_issuer);
    assert!(
        no_audience.contains("JWT_AUDIENCE is not") && !no_audience.contains("JWT_ISSUER "),
        "{no_audience}"
    );
    let with_audience = JwtConfig {
        audience: Some(AUDIENCE.into()),
        ..jwks.clone()
    };
    assert!(refused(&with_audience).contains("JWT_ISSUER is not"));
    for accepted in [
        JwtConfig {
            audience: Some(AUDIENCE.into()),
            ..with_issuer.clone()
        },
        JwtConfig {
            accept_any_audience: true,
            ..jwks.clone()
        },
        // Without a JWKS only HS256 tokens of the operator's own secret are accepted.
        JwtConfig::default(),
    ] {
        assert!(accepted.check().is_ok(), "{accepted:?}");
    }
}

/// An identity provider on a free loopback port that answers every request with `status` and
/// `body`, counting the requests it gets (each on a connection of its own).
async fn counting_provider(status: u16, body: String) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (counted, body) = (counted.clone(), body.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let answer = format!(
                    "HTTP/1.1 {status} Answer\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{addr}/.well-known/jwks.json"), requests)
}

fn verifier(jwks_url: String, algorithms: Vec<Algorithm>) -> Arc<JwtVerifier> {
    Arc::new(JwtVerifier::new(JwtConfig {
        jwks_url: Some(jwks_url),
        issuer: Some(ISSUER.into()),
        audience: Some(AUDIENCE.into()),
        algorithms,
        ..JwtConfig::default()
    }))
}

fn any_org() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The fixture's RSA public key as a JWK with this `kid` and these extra members.
fn rsa_jwk(kid: &str, extra: Value) -> Value {
    let jwks: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("jwks.json")).unwrap()).unwrap();
    let rsa = &jwks["keys"][0];
    let mut jwk = json!({"kty": "RSA", "kid": kid, "n": rsa["n"], "e": rsa["e"]});
    test_support::merge(&mut jwk, extra);
    jwk
}

#[tokio::test]
async fn a_jwks_key_verifies_only_its_own_use_and_algorithm() {
    let keys = json!({"keys": [
        rsa_jwk("rs256-sig", json!({"alg": "RS256", "use": "sig"})),
        rsa_jwk("for-encryption", json!({"use": "enc"})),
        rsa_jwk("any-rsa", json!({})),
    ]});
    let (url, _) = counting_provider(200, keys.to_string()).await;
    let verifier = verifier(
        url,
        vec![Algorithm::RS256, Algorithm::PS256, Algorithm::ES256],
    );
    let token = |alg, kid| sign(alg, Some(kid), &rsa_key(), &claims(&any_org(), json!({})));
    // A key without `alg` and `use` verifies any algorithm of its family.
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let ok = verifier.verify(&token(alg, "any-rsa")).await;
        assert!(ok.is_ok(), "{alg:?}: {ok:?}");
    }
    let ok = verifier.verify(&token(Algorithm::RS256, "rs256-sig")).await;
    assert!(ok.is_ok(), "{ok:?}");
    // The same RSA key, declared for RS256, does not verify PS256; one for encryption nothing.
    for (alg, kid) in [
        (Algorithm::PS256, "rs256-sig"),
        (Algorithm::RS256, "for-encryption"),
        (Algorithm::PS256, "for-encryption"),
    ] {
        match verifier.verify(&token(alg, kid)).await {
            Err(AuthError::Invalid(reason)) => {
                assert_eq!(reason, "algorithm does not match key", "{alg:?} {kid}")
            }
            other => panic!("{alg:?} with {kid}: {other:?}"),
        }
    }
}

/// Verifies `token` `n` times at once; the answers.
async fn at_once(
    verifier: &Arc<JwtVerifier>,
    token: &str,
    n: usize,
) -> Vec<Result<compliance_domain::identity::Principal, AuthError>> {
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (verifier, token) = (verifier.clone(), token.to_string());
        requests.spawn(async move { verifier.verify(&token).await });
    }
    requests.join_all().await
}

#[tokio::test]
async fn concurrent_cold_requests_fetch_the_jwks_once() {
    let keys = json!({"keys": [rsa_jwk("test-rsa-1", json!({"alg": "RS256", "use": "sig"}))]});
    let (url, fetches) = counting_provider(200, keys.to_string()).await;
    let verifier = verifier(url, vec![Algorithm::RS256]);
    let token = sign(
        Algorithm::RS256,
        Some("test-rsa-1"),
        &rsa_key(),
        &claims(&any_org(), json!({})),
    );
    for answer in at_once(&verifier, &token, 8).await {
        assert!(answer.is_ok(), "{answer:?}");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_jwks_outage_costs_one_fetch_and_is_remembered_with_the_same_503() {
    let (url, fetches) = counting_provider(500, "{}".into()).await;
    let (store, _dir) = test_support::embedded_store();
    let config = test_support::test_config(Some(url));
    let state = compliance_http::AppState::new(store, &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(compliance_local::serve(listener, state));
    let token = sign(
        Algorithm::RS256,
        Some("test-rsa-1"),
        &rsa_key(),
        &claims(&any_org(), json!({})),
    );
    let client = reqwest::Client::new();
    // A first wave while the provider is down, then a second within the failure's memory.
    for wave in ["first", "second"] {
        let mut requests = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let request = client
                .get(format!("{base}{KEYS}"))
                .bearer_auth(&token)
                .send();
            requests.spawn(async move {
                let response = request.await.unwrap();
                (response.status(), response.json::<Value>().await.unwrap())
            });
        }
        for (status, body) in requests.join_all().await {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{wave}: {body}");
            assert_eq!(
                body,
                json!({"detail": "Authentication is temporarily unavailable; retry"}),
                "{wave}"
            );
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1, "after the {wave} wave");
    }
}

/// Secrets Manager (checking the request as AWS would, `crate::aws_json::stand_in`): answers
/// `secret` for the secret `jwt-hs256`, AWS's not-found error for any other.
async fn secrets_manager(secret: &'static str) -> String {
    use axum::http::StatusCode as Status;
    let answer: crate::aws_json::Answer = Arc::new(move |operation, asked| {
        if operation != "GetSecretValue" || asked["SecretId"] != "jwt-hs256" {
            let missing = json!({"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."});
            return (Status::BAD_REQUEST, missing);
        }
        (
            Status::OK,
            json!({"Name": "jwt-hs256", "SecretString": secret}),
        )
    });
    crate::aws_json::stand_in(&compliance_auth::aws_json::SECRETS_MANAGER, answer)
        .await
        .0
}

/// In Lambda the HS256 secret is read at start-up from Secrets Manager, by one signed call,
/// instead of sitting in the function's environment; a secret that does not exist stops the
/// start with a message naming it.
#[tokio::test]
async fn the_hs256_secret_is_read_from_secrets_manager() {
    test_support::set_local_aws_env();
    let endpoint = secrets_manager("a-long-random-hs256-secret-from-secrets-manager").await;
    let secret = compliance_auth::secret::get_secret_value("jwt-hs256", Some(&endpoint))
        .await
        .unwrap();
    assert_eq!(secret, "a-long-random-hs256-secret-from-secrets-manager");
    let missing = compliance_auth::secret::get_secret_value("nope", Some(&endpoint))
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("JWT_HS256_SECRET_ID nope"), "{missing}");
    assert!(missing.contains("ResourceNotFoundException"), "{missing}");
}
