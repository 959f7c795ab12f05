//! The browser-based upload of S3 ("POST Object" with a policy, AWS Signature Version 4): the
//! form fields a client posts with its file, signed here, and checked here too when the local
//! server is the target, by the rules S3 applies, so both targets refuse the same forms.
//!
//! The AWS SDK for Rust presigns GET and PUT but not POST, whose signature is simpler: the
//! HMAC-SHA256, under the SigV4 signing key of the day, region and `s3`, of the base64 policy
//! document. The key derivation and the HMAC are the SDK's own (`aws-sigv4`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The credentials a policy is signed with: the function's role (its session token then goes
/// into the form), or the local server's own key.
#[derive(Clone)]
pub struct SigningKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// What the policy pins.
#[derive(Debug, Clone)]
pub struct PolicyTerms<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub content_type: &'a str,
    pub max_bytes: u64,
    pub expires_at: DateTime<Utc>,
}

/// The form fields to post before the file (`file` last, as S3 requires).
pub fn sign(
    signer: &SigningKey,
    terms: &PolicyTerms<'_>,
    now: DateTime<Utc>,
) -> BTreeMap<String, String> {
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let credential = format!(
        "{}/{}/{}/s3/aws4_request",
        signer.access_key_id,
        now.format("%Y%m%d"),
        signer.region
    );
    let mut fields = BTreeMap::from([
        ("key".to_string(), terms.key.to_string()),
        ("Content-Type".to_string(), terms.content_type.to_string()),
        ("x-amz-algorithm".to_string(), ALGORITHM.to_string()),
        ("x-amz-credential".to_string(), credential.clone()),
        ("x-amz-date".to_string(), amz_date.clone()),
    ]);
    let mut conditions = vec![
        json!({"bucket": terms.bucket}),
        json!(["eq", "$key", terms.key]),
        json!(["eq", "$Content-Type", terms.content_type]),
        json!(["content-length-range", 1, terms.max_bytes]),
        json!({"x-amz-algorithm": ALGORITHM}),
        json!({"x-amz-credential": credential}),
        json!({"x-amz-date": amz_date}),
    ];
    if let Some(token) = &signer.session_token {
        fields.insert("x-amz-security-token".into(), token.clone());
        conditions.push(json!({"x-amz-security-token": token}));
    }
    let document = json!({
        "expiration": terms.expires_at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "conditions": conditions,
    });
    let policy = STANDARD.encode(serde_json::to_vec(&document).expect("JSON"));
    let signature = signature(&signer.secret_access_key, now, &signer.region, &policy);
    fields.insert("policy".into(), policy);
    fields.insert("x-amz-signature".into(), signature);
    fields
}

fn signature(secret: &str, day: DateTime<Utc>, region: &str, policy_b64: &str) -> String {
    let time = SystemTime::from(day);
    let key = aws_sigv4::sign::v4::generate_signing_key(secret, time, region, "s3");
    aws_sigv4::sign::v4::calculate_signature(key, policy_b64.as_bytes())
}

/// Why a form is refused, with the error code S3 answers it with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct PolicyError {
    pub code: &'static str,
    pub message: String,
}

impl PolicyError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        PolicyError {
            code,
            message: message.into(),
        }
    }

    fn condition(message: impl Into<String>) -> Self {
        Self::new(
            "AccessDenied",
            format!(
                "Invalid according to Policy: Policy Condition failed: {}",
                message.into()
            ),
        )
    }

    /// The HTTP status S3 answers the code with.
    pub fn status(&self) -> u16 {
        match self.code {
            "AccessDenied" | "SignatureDoesNotMatch" | "InvalidAccessKeyId" => 403,
            _ => 400,
        }
    }
}

/// A form whose policy held: the object's key, its content type, and the size range its file
/// must fall in (checked while the file is read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub key: String,
    pub content_type: Option<String>,
    pub length_range: Option<(u64, u64)>,
}

#[derive(Deserialize)]
struct Document {
    expiration: String,
    conditions: Vec<Value>,
}

/// Checks a form's fields (every field but `file`, names as posted) against its policy and
/// signature as S3 does: the signature over the policy, the credential's scope, the expiry, and
/// every condition; and, as S3 requires, every field but `policy`, `x-amz-signature` and
/// `x-ignore-*` covered by a condition. `bucket` is the target's bucket name.
pub fn verify(
    signer: &SigningKey,
    bucket: &str,
    fields: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Result<Accepted, PolicyError> {
    // Field names are case-insensitive in S3's form handling.
    let fields: BTreeMap<String, &String> = fields
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let field = |name: &str| fields.get(name).map(|v| v.as_str());
    let required = |name: &str| {
        field(name).ok_or_else(|| {
            PolicyError::new(
                "InvalidArgument",
                format!("Bucket POST must contain a field named '{name}'"),
            )
        })
    };
    let key = required("key")?;
    let policy = required("policy")?;
    if required("x-amz-algorithm")? != ALGORITHM {
        return Err(PolicyError::new(
            "InvalidArgument",
            format!("x-amz-algorithm must be {ALGORITHM}"),
        ));
    }
    let credential = required("x-amz-credential")?;
    let amz_date = required("x-amz-date")?;
    let given = required("x-amz-signature")?;
    let signed_at = chrono::NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| PolicyError::new("InvalidArgument", "x-amz-date is not YYYYMMDDTHHMMSSZ"))?
        .and_utc();
    let scope = format!(
        "{}/{}/{}/s3/aws4_request",
        signer.access_key_id,
        signed_at.format("%Y%m%d"),
        signer.region
    );
    if credential != scope {
        return Err(PolicyError::new(
            "InvalidAccessKeyId",
            "The credential in x-amz-credential is not this target's",
        ));
    }
    let expected = signature(&signer.secret_access_key, signed_at, &signer.region, policy);
    if !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(PolicyError::new(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided",
        ));
    }
    let document: Document = STANDARD
        .decode(policy)
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .ok_or_else(|| PolicyError::new("InvalidPolicyDocument", "Invalid Policy: not JSON"))?;
    let expiration = DateTime::parse_from_rfc3339(&document.expiration)
        .map_err(|_| PolicyError::new("InvalidPolicyDocument", "Invalid Policy: bad expiration"))?;
    if now >= expiration {
        return Err(PolicyError::new(
            "AccessDenied",
            "Invalid according to Policy: Policy expired.",
        ));
    }
    let mut covered = vec!["bucket".to_string()];
    let mut length_range = None;
    for condition in &document.conditions {
        match condition {
            Value::Object(map) => {
                for (name, value) in map {
                    let value = value.as_str().unwrap_or_default();
                    let actual = if name.eq_ignore_ascii_case("bucket") {
                        Some(bucket)
                    } else {
                        field(&name.to_ascii_lowercase())
                    };
                    if actual != Some(value) {
                        return Err(PolicyError::condition(format!(
                            "[\"eq\", \"${name}\", \"{value}\"]"
                        )));
                    }
                    covered.push(name.to_ascii_lowercase());
                }
            }
            Value::Array(items) => match items.as_slice() {
                [op, low, high] if op == "content-length-range" => {
                    let (Some(low), Some(high)) = (low.as_u64(), high.as_u64()) else {
                        return Err(PolicyError::new(
                            "InvalidPolicyDocument",
                            "Invalid Policy: content-length-range needs two integers",
                        ));
                    };
                    length_range = Some((low, high));
                }
                [op, name, value] if op == "eq" || op == "starts-with" => {
                    let (Some(name), Some(value)) = (name.as_str(), value.as_str()) else {
                        return Err(PolicyError::new(
                            "InvalidPolicyDocument",
                            "Invalid Policy: a condition's field and value must be strings",
                        ));
                    };
                    let name = name.trim_start_matches('$').to_ascii_lowercase();
                    let actual = if name == "bucket" {
                        Some(bucket)
                    } else {
                        field(&name)
                    };
                    let holds = match (op.as_str(), actual) {
                        (Some("eq"), Some(actual)) => actual == value,
                        (Some("starts-with"), Some(actual)) => actual.starts_with(value),
                        _ => false,
                    };
                    if !holds {
                        return Err(PolicyError::condition(format!(
                            "[{op}, \"${name}\", \"{value}\"]"
                        )));
                    }
                    covered.push(name);
                }
                _ => {
                    return Err(PolicyError::new(
                        "InvalidPolicyDocument",
                        format!("Invalid Policy: unknown condition {condition}"),
                    ))
                }
            },
            _ => {
                return Err(PolicyError::new(
                    "InvalidPolicyDocument",
                    "Invalid Policy: a condition is neither an object nor an array",
                ))
            }
        }
    }
    for name in fields.keys() {
        let exempt =
            ["policy", "x-amz-signature"].contains(&name.as_str()) || name.starts_with("x-ignore-");
        if !exempt && !covered.contains(name) {
            return Err(PolicyError::new(
                "AccessDenied",
                format!("Invalid according to Policy: Extra input fields: {name}"),
            ));
        }
    }
    Ok(Accepted {
        key: key.to_string(),
        content_type: field("content-type").map(str::to_string),
        length_range,
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn signer() -> SigningKey {
        SigningKey {
            access_key_id: "local".into(),
            secret_access_key: "secret".into(),
            session_token: None,
            region: "local".into(),
        }
    }

    fn form(now: DateTime<Utc>) -> BTreeMap<String, String> {
        let terms = PolicyTerms {
            bucket: "b",
            key: "uploads/o1/u1",
            content_type: "text/csv",
            max_bytes: 100,
            expires_at: now + Duration::minutes(15),
        };
        sign(&signer(), &terms, now)
    }

    #[test]
    fn a_signed_form_verifies_with_its_terms() {
        let now = Utc::now();
        let accepted = verify(&signer(), "b", &form(now), now).unwrap();
        assert_eq!(accepted.key, "uploads/o1/u1");
        assert_eq!(accepted.content_type.as_deref(), Some("text/csv"));
        assert_eq!(accepted.length_range, Some((1, 100)));
    }

    #[test]
    fn the_signature_matches_aws_documented_example() {
        // AWS's "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)":
        // the signing key of 20151229/us-east-1/s3 and its HMAC of the example's base64 policy.
        let policy = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
        let day = DateTime::parse_from_rfc3339("2015-12-29T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            signature(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                day,
                "us-east-1",
                policy
            ),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
    }

    #[test]
    fn each_broken_promise_is_refused_with_s3s_code() {
        let now = Utc::now();
        let refused = |fields: BTreeMap<String, String>, at: DateTime<Utc>| {
            verify(&signer(), "b", &fields, at).unwrap_err().code
        };
        assert_eq!(
            refused(form(now), now + Duration::minutes(16)),
            "AccessDenied"
        );
        let mut key = form(now);
        key.insert("key".into(), "uploads/o2/u1".into());
        assert_eq!(refused(key, now), "AccessDenied");
        let mut ct = form(now);
        ct.insert("Content-Type".into(), "application/json".into());
        assert_eq!(refused(ct, now), "AccessDenied");
        let mut forged = form(now);
        forged.insert("x-amz-signature".into(), "0".repeat(64));
        assert_eq!(refused(forged, now), "SignatureDoesNotMatch");
        let mut extra = form(now);
        extra.insert("acl".into(), "public-read".into());
        assert_eq!(refused(extra, now), "AccessDenied");
        let mut other_key = form(now);
        other_key.insert(
            "x-amz-credential".into(),
            other_key["x-amz-credential"].replace("local/", "AKIA/"),
        );
        assert_eq!(refused(other_key, now), "InvalidAccessKeyId");
        assert_eq!(
            verify(&signer(), "other-bucket", &form(now), now)
                .unwrap_err()
                .code,
            "AccessDenied"
        );
    }
}
