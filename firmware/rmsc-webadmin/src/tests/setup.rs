//! The first run: setup code, console.env, the administrator account, password reset.

use super::support::{browser_from, get_request, json_request, Harness, PASSWORD};
use crate::ACCOUNT_SETTING;
use axum::http::{header, Method, StatusCode};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

fn setup_body(code: &str, password: &str) -> serde_json::Value {
    json!({ "setup_code": code, "username": "admin", "password": password })
}

#[tokio::test]
async fn a_fresh_appliance_requires_setup_and_shows_the_code_on_the_console() {
    let h = Harness::new().await;
    let answer = h.send(get_request("/api/v1/session", None)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json["state"], "setup_required");
    assert_eq!(answer.json["idle_timeout_secs"], 900);

    let code = h.auth.setup_code().expect("code");
    let text = std::fs::read_to_string(h.console.path()).expect("console.env");
    assert_eq!(text, format!("SETUP_CODE={code}\n"));
    let mode = std::fs::metadata(h.console.path())
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn a_wrong_setup_code_is_refused_and_sets_no_password() {
    let h = Harness::new().await;
    let answer = h
        .send(json_request(
            Method::POST,
            "/api/v1/setup",
            setup_body("0000-0000-0000-0000", PASSWORD),
            None,
        ))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.error_code(), "wrong_setup_code");
    assert!(answer.headers.get(header::SET_COOKIE).is_none());
    let account: Option<serde_json::Value> = h.store.setting(ACCOUNT_SETTING).expect("setting");
    assert!(account.is_none());
    assert!(h.auth.setup_code().is_some());
}

#[tokio::test]
async fn setup_signs_in_removes_the_code_and_a_second_setup_conflicts() {
    let h = Harness::new().await;
    let code = h.auth.setup_code().expect("code");
    let browser = h.set_up().await;
    assert!(h.auth.setup_code().is_none());
    let text = std::fs::read_to_string(h.console.path()).expect("console.env");
    assert!(!text.contains("SETUP_CODE"), "{text}");

    let state = h.send(get_request("/api/v1/session", Some(&browser))).await;
    assert_eq!(state.json["state"], "signed_in");
    assert_eq!(state.json["user"], "admin");
    assert_eq!(state.json["csrf_token"], browser.csrf.as_str());

    let again = h
        .send(json_request(
            Method::POST,
            "/api/v1/setup",
            setup_body(&code, PASSWORD),
            None,
        ))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error_code(), "already_set_up");

    let stored: serde_json::Value = h
        .store
        .setting(ACCOUNT_SETTING)
        .expect("setting")
        .expect("account");
    assert!(stored["password_hash"]
        .as_str()
        .expect("hash")
        .starts_with("$argon2id$"));
    assert!(!stored.to_string().contains(PASSWORD));
    let setup_events: Vec<_> = h
        .admin_events()
        .into_iter()
        .filter(|e| e.fields.get("action").map(String::as_str) == Some("setup"))
        .collect();
    assert_eq!(setup_events.len(), 1);
    assert_eq!(setup_events[0].fields["user"], "admin");
}

#[tokio::test]
async fn a_weak_password_is_refused_and_the_code_stays_valid() {
    let h = Harness::new().await;
    let code = h.auth.setup_code().expect("code");
    let answer = h
        .send(json_request(
            Method::POST,
            "/api/v1/setup",
            setup_body(&code, "short"),
            None,
        ))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error_code(), "weak_password");
    let answer = h
        .send(json_request(
            Method::POST,
            "/api/v1/setup",
            setup_body(&code, PASSWORD),
            None,
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn setup_needs_a_json_content_type() {
    let h = Harness::new().await;
    let code = h.auth.setup_code().expect("code");
    let mut request = json_request(
        Method::POST,
        "/api/v1/setup",
        setup_body(&code, PASSWORD),
        None,
    );
    request.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/x-www-form-urlencoded".parse().expect("value"),
    );
    let answer = h.send(request).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(h.auth.setup_code().is_some());
}

#[tokio::test]
async fn guessing_setup_codes_is_rate_limited() {
    let h = Harness::new().await;
    for _ in 0..5 {
        let answer = h
            .send(json_request(
                Method::POST,
                "/api/v1/setup",
                setup_body("0000-0000-0000-0000", PASSWORD),
                None,
            ))
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
    }
    let code = h.auth.setup_code().expect("code");
    let answer = h
        .send(json_request(
            Method::POST,
            "/api/v1/setup",
            setup_body(&code, PASSWORD),
            None,
        ))
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn the_console_reset_ends_sessions_and_issues_a_new_code() {
    let h = Harness::new().await;
    let first_code = h.auth.setup_code().expect("code");
    let browser = h.set_up().await;
    let new_code = h.auth.reset_admin_password().await.expect("reset");
    assert_ne!(new_code, first_code);
    assert_eq!(h.auth.setup_code().as_deref(), Some(new_code.as_str()));
    let text = std::fs::read_to_string(h.console.path()).expect("console.env");
    assert!(text.contains(&format!("SETUP_CODE={new_code}")), "{text}");

    let state = h.send(get_request("/api/v1/session", Some(&browser))).await;
    assert_eq!(state.json["state"], "setup_required");
    let old = h
        .send(json_request(
            Method::POST,
            "/api/v1/setup",
            setup_body(&first_code, PASSWORD),
            None,
        ))
        .await;
    assert_eq!(old.error_code(), "wrong_setup_code");
    let fresh = h
        .send(json_request(
            Method::POST,
            "/api/v1/setup",
            setup_body(&new_code, PASSWORD),
            None,
        ))
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
    browser_from(&fresh);
}
