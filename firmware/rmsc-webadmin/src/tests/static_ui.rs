//! The embedded web UI through the router: content types, headers, refusals.

use super::support::{get_request, Harness};
use crate::headers::CSP;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};

#[tokio::test]
async fn the_root_serves_index_html_with_a_strict_csp() {
    let h = Harness::new().await;
    let answer = h.send(get_request("/", None)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    assert_eq!(answer.headers[header::CONTENT_SECURITY_POLICY], CSP);
    assert!(CSP.contains("script-src 'self'"));
    assert!(!CSP.contains("unsafe-inline"));
    assert_eq!(answer.headers[header::X_FRAME_OPTIONS], "DENY");
}

#[tokio::test]
async fn every_embedded_asset_is_served() {
    let h = Harness::new().await;
    let assets = super::super::static_files::embedded_assets();
    for path in assets {
        let answer = h.send(get_request(&format!("/{path}"), None)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.headers[header::CONTENT_SECURITY_POLICY], CSP);
    }
}

#[tokio::test]
async fn traversal_attempts_never_reach_a_file() {
    let h = Harness::new().await;
    for path in [
        "/assets/../index.html",
        "/assets/../../Cargo.toml",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/assets/%2E%2E%2FCargo.toml",
        "/assets/..%5c..%5cCargo.toml",
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/index.html",
        "/Cargo.toml",
        "/src/lib.rs",
        "/assets/",
    ] {
        let answer = h.send(get_request(path, None)).await;
        assert!(
            answer.status == StatusCode::NOT_FOUND || answer.status == StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.status
        );
        assert_eq!(answer.headers[header::CONTENT_SECURITY_POLICY], CSP);
    }
}

#[tokio::test]
async fn only_get_and_head_reach_static_files() {
    let h = Harness::new().await;
    let post = Request::builder()
        .method(Method::POST)
        .uri("/")
        .body(Body::empty())
        .expect("request");
    assert_eq!(h.send(post).await.status, StatusCode::NOT_FOUND);
    let head = Request::builder()
        .method(Method::HEAD)
        .uri("/")
        .body(Body::empty())
        .expect("request");
    assert_eq!(h.send(head).await.status, StatusCode::OK);
}
