//! The few documented endpoints the gate calls, with typed answers. Any answer other than the
//! documented success is an [`Error`], whose message carries the API's own `detail`.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::Error;

/// One request may take this long; the whole run is bounded by `--timeout` as well.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Api {
    base: String,
    key: String,
    http: reqwest::Client,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Repo {
    pub repo_id: u64,
    pub name: String,
}

#[derive(Deserialize)]
struct RepoList {
    repos: Vec<Repo>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ScanCreated {
    pub scan_id: String,
    #[serde(default)]
    pub duplicate: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExecutiveSummary {
    pub overall_score: u32,
    pub posture: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Control {
    pub id: String,
    pub name: String,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FrameworkScore {
    pub name: String,
    pub score: Option<u32>,
    pub pass: u32,
    pub partial: u32,
    pub fail: u32,
    pub no_evidence: u32,
    pub controls: Vec<Control>,
}

/// `GET /api/compliance/score/{repo_id}`, every page of frameworks merged.
#[derive(Debug, Clone, Deserialize)]
pub struct Score {
    pub scan_id: Option<String>,
    pub executive_summary: ExecutiveSummary,
    pub frameworks: BTreeMap<String, FrameworkScore>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// Both error shapes of the API: `{"detail"}` and `{"error", "message"}`.
#[derive(Deserialize)]
struct ErrorBody {
    detail: Option<String>,
    message: Option<String>,
}

impl Api {
    pub fn new(base: &str, key: &str) -> Result<Api, Error> {
        let base = base.trim().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| Error(format!("COMPLIANCE_API_URL '{base}' is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error(format!(
                "COMPLIANCE_API_URL '{base}' must be an http(s) URL"
            )));
        }
        if key.trim().is_empty() {
            return Err(Error("COMPLIANCE_API_KEY is empty".into()));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("compliance-gate/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| Error(format!("cannot build the HTTP client: {e}")))?;
        Ok(Api {
            base,
            key: key.trim().to_string(),
            http,
        })
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("X-API-Key", &self.key)
    }

    /// Sends the request; a 2xx answer is read as `T`, anything else is an error naming the
    /// call, the status and the API's message.
    async fn send<T: DeserializeOwned>(
        &self,
        what: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, T), Error> {
        let resp = req.send().await.map_err(|e| {
            let cause = if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                format!("API unreachable at {} ({})", self.base, root_cause(&e))
            } else {
                root_cause(&e)
            };
            Error(format!("{what}: {cause}"))
        })?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error(format!("{what}: reading the answer: {}", root_cause(&e))))?;
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorBody>(&bytes)
                .ok()
                .and_then(|b| b.detail.or(b.message))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
            let hint = match status {
                StatusCode::UNAUTHORIZED => " (check COMPLIANCE_API_KEY)",
                StatusCode::FORBIDDEN => " (the key's role is too low: member or above uploads)",
                _ => "",
            };
            return Err(Error(format!(
                "{what}: HTTP {}: {message}{hint}",
                status.as_u16()
            )));
        }
        let body = serde_json::from_slice(&bytes).map_err(|e| {
            Error(format!(
                "{what}: unexpected answer (HTTP {}): {e}",
                status.as_u16()
            ))
        })?;
        Ok((status, body))
    }

    /// The repository named by id (digits) or by name (ignoring case, as the API keeps names
    /// unique).
    pub async fn resolve_repo(&self, name_or_id: &str) -> Result<Repo, Error> {
        let wanted = name_or_id.trim();
        if let Ok(id) = wanted.parse::<u64>() {
            let req = self.request(Method::GET, &format!("/api/repos/{id}"));
            return match self.send::<Repo>("GET /api/repos/{id}", req).await {
                Ok((_, repo)) => Ok(repo),
                Err(Error(m)) if m.contains("HTTP 404") => {
                    Err(Error(format!("unknown repository id {id} in this org")))
                }
                Err(e) => Err(e),
            };
        }
        let mut cursor: Option<String> = None;
        loop {
            let mut req = self
                .request(Method::GET, "/api/repos")
                .query(&[("limit", "100")]);
            if let Some(c) = &cursor {
                req = req.query(&[("cursor", c)]);
            }
            let (_, page) = self.send::<RepoList>("GET /api/repos", req).await?;
            if let Some(repo) = page
                .repos
                .into_iter()
                .find(|r| r.name.eq_ignore_ascii_case(wanted))
            {
                return Ok(repo);
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => {
                    return Err(Error(format!(
                    "unknown repository '{wanted}' in this org (register it with POST /api/repos)"
                )))
                }
            }
        }
    }

    /// Posts a SARIF log gzip-compressed.
    pub async fn upload(&self, repo_id: u64, sarif: &[u8]) -> Result<ScanCreated, Error> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(sarif)
            .and_then(|_| gz.flush())
            .map_err(|e| Error(format!("compressing the report: {e}")))?;
        let body = gz
            .finish()
            .map_err(|e| Error(format!("compressing the report: {e}")))?;
        let req = self
            .request(Method::POST, &format!("/api/repos/{repo_id}/scans"))
            .header("Content-Type", "application/sarif+json")
            .header("Content-Encoding", "gzip")
            .body(body);
        let (_, created) = self
            .send::<ScanCreated>("POST /api/repos/{id}/scans", req)
            .await?;
        Ok(created)
    }

    /// The repository's score (every page of frameworks), narrowed to `framework` when given.
    pub async fn score(&self, repo_id: u64, framework: Option<&str>) -> Result<Score, Error> {
        let path = format!("/api/compliance/score/{repo_id}");
        let mut merged: Option<Score> = None;
        let mut cursor: Option<String> = None;
        loop {
            let mut req = self.request(Method::GET, &path);
            if let Some(f) = framework {
                req = req.query(&[("framework", f)]);
            }
            if let Some(c) = &cursor {
                req = req.query(&[("cursor", c)]);
            }
            let (_, page) = self
                .send::<Score>("GET /api/compliance/score/{id}", req)
                .await?;
            cursor = page.next_cursor.clone();
            match &mut merged {
                None => merged = Some(page),
                Some(m) => m.frameworks.extend(page.frameworks),
            }
            if cursor.is_none() {
                return Ok(merged.expect("one page at least"));
            }
        }
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
