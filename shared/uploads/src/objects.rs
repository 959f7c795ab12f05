//! Where uploaded objects (and a large run's partitions) are kept: a folder (the local server's
//! data folder) or an S3 bucket. What reads an object gets it as a local file, read as a stream
//! from there: S3's body is copied to scratch space (`/tmp` in Lambda) as it arrives, so neither
//! path holds an object in memory.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("object {0} not found")]
    NotFound(String),
    #[error("object storage: {0}")]
    Backend(String),
}

impl From<std::io::Error> for ObjectError {
    fn from(e: std::io::Error) -> Self {
        ObjectError::Backend(e.to_string())
    }
}

/// An object as a local file, with its size; a downloaded copy is removed when this is dropped.
pub struct Fetched {
    pub path: PathBuf,
    pub size: u64,
    _copy: Option<tempfile::TempPath>,
}

#[async_trait]
pub trait Objects: Send + Sync {
    async fn fetch(&self, key: &str) -> Result<Fetched, ObjectError>;
    /// Deletes the object; deleting one that is not there is not an error.
    async fn delete(&self, key: &str) -> Result<(), ObjectError>;
    async fn put_file(&self, key: &str, path: &Path) -> Result<(), ObjectError>;
    /// The keys under `prefix`, in key order.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError>;
    /// Where temporary files go (a partitioned run's parts, downloaded objects).
    fn scratch(&self) -> &Path;
}

/// Objects as files under a folder: key `a/b/c` is `<root>/a/b/c`. Keys are made by this product
/// (`model::object_key`), never taken from a client as they are.
pub struct FolderObjects {
    root: PathBuf,
    scratch: PathBuf,
}

impl FolderObjects {
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        let scratch = root.join("scratch");
        std::fs::create_dir_all(&scratch)?;
        Ok(FolderObjects { root, scratch })
    }

    /// The file of `key`; `None` for a key that could leave the folder.
    pub fn path_of(&self, key: &str) -> Option<PathBuf> {
        let safe = !key.is_empty()
            && key.split('/').all(|part| {
                !part.is_empty() && part != "." && part != ".." && !part.contains('\\')
            });
        safe.then(|| self.root.join(key))
    }

    fn path(&self, key: &str) -> Result<PathBuf, ObjectError> {
        self.path_of(key)
            .ok_or_else(|| ObjectError::Backend(format!("unsafe object key {key:?}")))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[async_trait]
impl Objects for FolderObjects {
    async fn fetch(&self, key: &str) -> Result<Fetched, ObjectError> {
        let path = self.path(key)?;
        match std::fs::metadata(&path) {
            Ok(meta) => Ok(Fetched {
                path,
                size: meta.len(),
                _copy: None,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(ObjectError::NotFound(key.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        match std::fs::remove_file(self.path(key)?) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn put_file(&self, key: &str, path: &Path) -> Result<(), ObjectError> {
        let to = self.path(key)?;
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(path, to)?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let mut keys = Vec::new();
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            for entry in entries {
                let path = entry?.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(rel) = path.strip_prefix(&self.root) {
                    let key = rel.to_string_lossy().replace('\\', "/");
                    if key.starts_with(prefix) {
                        keys.push(key);
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn scratch(&self) -> &Path {
        &self.scratch
    }
}

#[cfg(feature = "s3")]
pub use s3::S3Objects;

#[cfg(feature = "s3")]
mod s3 {
    use super::*;
    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::Client;
    use tokio::io::AsyncWriteExt;

    /// Objects in an S3 bucket (or a server that speaks S3, for the tests).
    pub struct S3Objects {
        client: Client,
        bucket: String,
        scratch: PathBuf,
    }

    fn backend(e: impl std::fmt::Display) -> ObjectError {
        ObjectError::Backend(e.to_string())
    }

    impl S3Objects {
        pub fn new(client: Client, bucket: impl Into<String>, scratch: impl Into<PathBuf>) -> Self {
            S3Objects {
                client,
                bucket: bucket.into(),
                scratch: scratch.into(),
            }
        }

        /// A client from the standard AWS environment; `endpoint` (path-style) for an
        /// S3-compatible server.
        pub async fn client_from_env(endpoint: Option<&str>) -> Client {
            let shared = compliance_store::aws::service_config("S3", endpoint).await;
            let config = aws_sdk_s3::config::Builder::from(&shared.build())
                .force_path_style(endpoint.is_some())
                .build();
            Client::from_conf(config)
        }

        /// The bucket of `UPLOADS_BUCKET` (on `S3_ENDPOINT` when set), downloads to the
        /// system's temporary folder (`/tmp` in Lambda): what the functions read objects from.
        pub async fn from_env() -> Result<Self, String> {
            let bucket = std::env::var("UPLOADS_BUCKET")
                .ok()
                .filter(|b| !b.is_empty())
                .ok_or("UPLOADS_BUCKET is not set")?;
            let endpoint = crate::target::s3_endpoint();
            let client = Self::client_from_env(endpoint.as_deref()).await;
            Ok(S3Objects::new(client, bucket, std::env::temp_dir()))
        }

        pub fn bucket(&self) -> &str {
            &self.bucket
        }
    }

    #[async_trait]
    impl Objects for S3Objects {
        async fn fetch(&self, key: &str) -> Result<Fetched, ObjectError> {
            let out = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| {
                    let service = e.as_service_error();
                    if service.is_some_and(|s| s.is_no_such_key()) {
                        ObjectError::NotFound(key.to_string())
                    } else {
                        backend(aws_sdk_s3::error::DisplayErrorContext(e))
                    }
                })?;
            std::fs::create_dir_all(&self.scratch)?;
            let copy = tempfile::NamedTempFile::new_in(&self.scratch)?.into_temp_path();
            let mut file = tokio::fs::File::create(&copy).await?;
            let mut body = out.body;
            let mut size = 0u64;
            while let Some(chunk) = body.try_next().await.map_err(backend)? {
                size += chunk.len() as u64;
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            Ok(Fetched {
                path: copy.to_path_buf(),
                size,
                _copy: Some(copy),
            })
        }

        async fn delete(&self, key: &str) -> Result<(), ObjectError> {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| backend(aws_sdk_s3::error::DisplayErrorContext(e)))?;
            Ok(())
        }

        async fn put_file(&self, key: &str, path: &Path) -> Result<(), ObjectError> {
            let body = ByteStream::from_path(path).await.map_err(backend)?;
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .body(body)
                .send()
                .await
                .map_err(|e| backend(aws_sdk_s3::error::DisplayErrorContext(e)))?;
            Ok(())
        }

        async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
            let mut keys = Vec::new();
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| backend(aws_sdk_s3::error::DisplayErrorContext(e)))?;
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key().map(str::to_string)),
                );
            }
            keys.sort();
            Ok(keys)
        }

        fn scratch(&self) -> &Path {
            &self.scratch
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_keys_never_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let objects = FolderObjects::new(dir.path()).unwrap();
        assert!(objects.path_of("uploads/o1/u1").is_some());
        for bad in [
            "",
            "../x",
            "uploads/../../x",
            "/etc/passwd",
            "a//b",
            "a\\..\\b",
            "./a",
        ] {
            assert!(objects.path_of(bad).is_none(), "{bad}");
        }
    }
}
