//! The dashboard: a few static files (HTML, CSS, plain ES modules, the vendored uPlot chart
//! library) compiled into the binary and served by an axum router at `/` (the page) and
//! `/assets/...` (everything else). The page is a client of the public API only: it signs in with
//! an API key or a bearer token kept in `sessionStorage` and calls the documented `/api/...`
//! endpoints with it. Nothing is fetched from elsewhere, which the Content-Security-Policy sent
//! with every file enforces.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

/// Sent with every dashboard response: scripts, styles, images and API calls from this origin
/// only, no inline script or style, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The routes the dashboard serves, as API Gateway routes (template.yaml's `DashboardFunction`).
pub const ROUTES: [&str; 2] = ["/", "/assets/{proxy+}"];

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/", $path)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file, by its path under `assets/` (the page itself is `index.html`).
static ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("app.css", CSS),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/app.js", JS),
    asset!("js/api.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/charts.js", JS),
    asset!("js/overview.js", JS),
    asset!("js/repo.js", JS),
    asset!("js/settings.js", JS),
    asset!("js/webhooks.js", JS),
    asset!("js/audit_trail.js", JS),
    asset!("js/exceptions.js", JS),
    asset!("js/alerts.js", JS),
    asset!("js/audits.js", JS),
    asset!("js/exports.js", JS),
    asset!("vendor/uplot/uPlot.esm.js", JS),
    asset!("vendor/uplot/uPlot.min.css", CSS),
    asset!("vendor/uplot/LICENSE", "text/plain; charset=utf-8"),
];

/// The strong ETag of each asset (hash of its bytes), computed once.
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| format!("\"{}\"", &hex::encode(Sha256::digest(a.body))[..32]))
            .collect()
    })
}

/// The dashboard's router: `GET /` and `GET /assets/{*path}`. It has no fallback of its own,
/// so merged with the API it shadows none of `/api/*`.
pub fn router() -> Router {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move { serve("index.html", &headers) }),
        )
        .route(
            "/assets/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move {
                // The page is served at `/` only.
                if path == "index.html" {
                    return not_found();
                }
                serve(&path, &headers)
            }),
        )
}

fn security_headers(headers: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, name, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY,
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
}

fn not_found() -> Response {
    let mut response = (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "No such dashboard file\n",
    )
        .into_response();
    security_headers(response.headers_mut());
    response
}

fn serve(path: &str, request: &HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.path == path) else {
        return not_found();
    };
    let asset = &ASSETS[i];
    let etag = &etags()[i];
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
    };
    let headers = response.headers_mut();
    // File names carry no version, so caches revalidate every time (a 304 when unchanged).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, v);
    }
    security_headers(headers);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get(path: &str, etag: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut req = Request::get(path);
        if let Some(etag) = etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        let resp = router()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        (parts.status, parts.headers, bytes)
    }

    #[tokio::test]
    async fn the_page_and_every_asset_are_served_with_their_type_and_the_policy() {
        let (status, headers, body) = get("/", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], HTML);
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
        assert!(String::from_utf8(body).unwrap().contains("<title>"));
        for asset in ASSETS.iter().filter(|a| a.path != "index.html") {
            let (status, headers, body) = get(&format!("/assets/{}", asset.path), None).await;
            assert_eq!(status, StatusCode::OK, "{}", asset.path);
            assert_eq!(headers[header::CONTENT_TYPE], asset.content_type);
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
            assert_eq!(body, asset.body);
        }
    }

    #[tokio::test]
    async fn an_unchanged_asset_answers_304_and_unknown_paths_404() {
        let (_, headers, _) = get("/assets/app.css", None).await;
        let etag = headers[header::ETAG].to_str().unwrap().to_string();
        let (status, _, body) = get("/assets/app.css", Some(&etag)).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);
        assert!(body.is_empty());
        let (status, _, _) = get("/assets/app.css", Some("\"other\"")).await;
        assert_eq!(status, StatusCode::OK);
        for path in ["/assets/nope.js", "/assets/index.html"] {
            assert_eq!(get(path, None).await.0, StatusCode::NOT_FOUND, "{path}");
        }
    }

    /// Paths out of the asset folder to files that do exist there (the crate's manifest and
    /// source, the workspace's manifest, from the asset folder or from the crate, which is also
    /// the directory the tests run in), as typed and percent-encoded: each reaches the asset
    /// handler and is refused by it, never answered with the file.
    #[tokio::test]
    async fn paths_out_of_the_asset_folder_are_refused() {
        let krate = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let assets = krate.join("assets");
        for (request, relative) in [
            ("/assets/../Cargo.toml", "../Cargo.toml"),
            ("/assets/%2e%2e/Cargo.toml", "../Cargo.toml"),
            ("/assets/..%2FCargo.toml", "../Cargo.toml"),
            ("/assets/js/../../src/lib.rs", "js/../../src/lib.rs"),
            ("/assets/../../../Cargo.toml", "../../../Cargo.toml"),
            ("/assets/../../Cargo.toml", "../../Cargo.toml"),
            ("/assets/%2e%2e%2f%2e%2e%2fCargo.toml", "../../Cargo.toml"),
        ] {
            assert!(
                [&assets, krate]
                    .iter()
                    .any(|base| base.join(relative).is_file()),
                "{relative}: no such file, so {request} proves nothing"
            );
            let (status, headers, body) = get(request, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{request}");
            assert_eq!(
                body, b"No such dashboard file\n",
                "{request}: refused by the handler"
            );
            assert_eq!(
                headers[header::CONTENT_SECURITY_POLICY],
                CONTENT_SECURITY_POLICY
            );
        }
    }

    #[test]
    fn the_policy_allows_no_inline_script_and_no_other_origin() {
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
        assert!(!CONTENT_SECURITY_POLICY.contains("http"));
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
    }

    /// Every module the page loads is embedded, and nothing the page or the modules reference is
    /// left out (a file added to assets/ and not to ASSETS would be a 404 in the browser).
    #[test]
    fn every_file_under_assets_is_embedded() {
        fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    walk(&p, base, out);
                } else {
                    out.push(
                        p.strip_prefix(base)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let mut files = Vec::new();
        walk(&base, &base, &mut files);
        files.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_string()).collect();
        embedded.sort();
        assert_eq!(files, embedded);
    }
}
