//! Lambda entry point: the dashboard's embedded files on the HTTP API (`GET /`,
//! `GET /assets/{proxy+}`). No store, no credentials: the page calls the API's own routes.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(compliance_dashboard::router()).await
}

#[cfg(test)]
mod tests {
    use axum::http::{header, HeaderMap, StatusCode};
    use lambda_http::request::from_str;
    use tower::ServiceExt;

    /// One events/ fixture (what API Gateway delivers) through the router alone.
    async fn invoke(fixture: &str) -> (StatusCode, HeaderMap, String) {
        let path = format!(
            "{}/../../events/dashboard/{fixture}",
            env!("CARGO_MANIFEST_DIR")
        );
        let req = from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let resp = compliance_dashboard::router().oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 22).await.unwrap();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    #[tokio::test]
    async fn the_page_and_an_asset_from_api_gateway_events() {
        let (status, headers, html) = invoke("get-index.json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            compliance_dashboard::CONTENT_SECURITY_POLICY
        );
        assert!(html.contains("/assets/js/app.js"));
        let (status, headers, js) = invoke("get-asset.json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert!(js.contains("import"));
        let (status, _, _) = invoke("get-missing-asset.json").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
