//! Where clients send uploads, and the key their forms are signed with: an S3 bucket (in AWS,
//! signed with the function's own role credentials, which is what authorises the POST), or the
//! local server itself (signed with a key of its own, kept in its data folder).

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::policy::SigningKey;

/// The form's URL: fixed (the bucket's), or the local server's own path on whatever host the
/// client reached it by.
#[derive(Debug, Clone)]
pub enum FormUrl {
    Fixed(String),
    SameHost { path: &'static str },
}

/// The local server's upload path.
pub const LOCAL_UPLOAD_PATH: &str = "/local-uploads";
/// The bucket name the local target signs its policies for (S3's `bucket` condition).
pub const LOCAL_BUCKET: &str = "local";

enum Keys {
    Fixed(SigningKey),
    Aws {
        credentials: aws_credential_types::provider::SharedCredentialsProvider,
        region: String,
    },
}

pub struct UploadTarget {
    pub bucket: String,
    pub url: FormUrl,
    keys: Keys,
    /// The local target's folder (its signing key, and its objects under `objects/`).
    local_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("the upload target cannot sign: {0}")]
    Credentials(String),
    #[error("upload signing key {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
}

/// Another S3 endpoint than the region's: `S3_ENDPOINT` (an S3-compatible server), else the
/// SDKs' standard variables (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`). Objects are then
/// addressed path-style.
pub fn s3_endpoint() -> Option<String> {
    let ours = std::env::var("S3_ENDPOINT").ok().filter(|e| !e.is_empty());
    compliance_store::aws::endpoint_from_env(ours.as_deref(), "S3")
}

impl UploadTarget {
    /// The bucket named by `UPLOADS_BUCKET` (`None` without it: uploads are then off), signed
    /// with the environment's credentials; [`s3_endpoint`] points at an S3-compatible server
    /// (path-style URLs) instead of AWS.
    pub async fn from_env() -> Option<Self> {
        let bucket = std::env::var("UPLOADS_BUCKET")
            .ok()
            .filter(|b| !b.is_empty())?;
        let endpoint = s3_endpoint();
        // The SDK has no HTTP client of its own here (no default features): the store's, though
        // signing with credentials from the environment makes no request.
        let shared = compliance_store::aws::sdk_config().await;
        let region = shared
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        let credentials = shared.credentials_provider()?;
        Some(Self::s3(bucket, endpoint.as_deref(), region, credentials))
    }

    pub fn s3(
        bucket: String,
        endpoint: Option<&str>,
        region: String,
        credentials: aws_credential_types::provider::SharedCredentialsProvider,
    ) -> Self {
        let url = match endpoint {
            Some(endpoint) => format!("{}/{bucket}", endpoint.trim_end_matches('/')),
            None => format!("https://{bucket}.s3.{region}.amazonaws.com/"),
        };
        UploadTarget {
            bucket,
            url: FormUrl::Fixed(url),
            keys: Keys::Aws {
                credentials,
                region,
            },
            local_dir: None,
        }
    }

    /// The local server as its own target in `dir` (the data folder): its signing key read
    /// from (or, the first time, written to) `upload-signing.key` there, readable by its owner
    /// only, and the objects it receives under `objects/`.
    pub fn local(dir: &Path) -> Result<Self, TargetError> {
        let key_file = dir.join("upload-signing.key");
        let secret = local_secret(&key_file).map_err(|source| TargetError::KeyFile {
            path: key_file.display().to_string(),
            source,
        })?;
        Ok(Self::local_with(dir, secret))
    }

    pub fn local_with(dir: &Path, secret: String) -> Self {
        UploadTarget {
            local_dir: Some(dir.to_path_buf()),
            bucket: LOCAL_BUCKET.into(),
            url: FormUrl::SameHost {
                path: LOCAL_UPLOAD_PATH,
            },
            keys: Keys::Fixed(SigningKey {
                access_key_id: "compliance-local".into(),
                secret_access_key: secret,
                session_token: None,
                region: "local".into(),
            }),
        }
    }

    /// The key forms are signed with now (role credentials rotate: read each time; the SDK
    /// caches them).
    pub async fn signing_key(&self) -> Result<SigningKey, TargetError> {
        match &self.keys {
            Keys::Fixed(key) => Ok(key.clone()),
            Keys::Aws {
                credentials,
                region,
            } => {
                use aws_credential_types::provider::ProvideCredentials;
                let c = credentials
                    .provide_credentials()
                    .await
                    .map_err(|e| TargetError::Credentials(e.to_string()))?;
                Ok(SigningKey {
                    access_key_id: c.access_key_id().to_string(),
                    secret_access_key: c.secret_access_key().to_string(),
                    session_token: c.session_token().map(str::to_string),
                    region: region.clone(),
                })
            }
        }
    }

    /// The local target's objects folder.
    pub fn local_objects(&self) -> Option<std::path::PathBuf> {
        self.local_dir.as_ref().map(|d| d.join("objects"))
    }

    /// The local target's key (the local server verifies its own forms with it).
    pub fn local_key(&self) -> Option<&SigningKey> {
        match &self.keys {
            Keys::Fixed(key) => Some(key),
            Keys::Aws { .. } => None,
        }
    }

    /// The form's URL for a request that reached the API at `host` (its `Host` header).
    pub fn form_url(&self, scheme_and_host: Option<&str>) -> String {
        match &self.url {
            FormUrl::Fixed(url) => url.clone(),
            FormUrl::SameHost { path } => {
                format!(
                    "{}{path}",
                    scheme_and_host.unwrap_or("http://127.0.0.1:8080")
                )
            }
        }
    }

    /// When a policy signed now expires.
    pub fn expiry(now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::minutes(crate::model::POLICY_MINUTES)
    }
}

fn local_secret(path: &Path) -> std::io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().len() >= 32 => return Ok(text.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    Ok(secret)
}
