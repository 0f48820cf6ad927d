//! Sign-in, sessions, CSRF and the audit trail around the mounted connector API.

use super::support::{get_request, json_request, with_csrf, Browser, Harness, PASSWORD};
use crate::headers::CSP;
use axum::http::{header, Method, StatusCode};
use serde_json::json;
use std::time::Duration;

fn sign_in_request(password: &str) -> axum::http::Request<axum::body::Body> {
    json_request(
        Method::POST,
        "/api/v1/session",
        json!({ "username": "admin", "password": password }),
        None,
    )
}

fn add_entry(browser: &Browser, csrf: Option<&str>) -> axum::http::Request<axum::body::Body> {
    with_csrf(
        json_request(Method::POST, "/api/v1/authorized", json!({}), Some(browser)),
        csrf,
    )
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_a_bad_password_is_refused() {
    let h = Harness::new().await;
    h.set_up().await;
    let ok = h.send(sign_in_request(PASSWORD)).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json["user"], "admin");
    let cookie = ok.headers[header::SET_COOKIE].to_str().expect("ascii");
    for part in [
        "rmsc_session=",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let bad = h.send(sign_in_request("not the password")).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.error_code(), "bad_credentials");
    assert!(bad.headers.get(header::SET_COOKIE).is_none());
    let wrong_user = h
        .send(json_request(
            Method::POST,
            "/api/v1/session",
            json!({ "username": "root", "password": PASSWORD }),
            None,
        ))
        .await;
    assert_eq!(wrong_user.error_code(), "bad_credentials");
}

#[tokio::test]
async fn the_sixth_failure_from_one_client_is_rate_limited_others_still_sign_in() {
    let h = Harness::new().await;
    h.set_up().await;
    for _ in 0..5 {
        let bad = h.send(sign_in_request("not the password")).await;
        assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    }
    let limited = h.send(sign_in_request(PASSWORD)).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.error_code(), "rate_limited");
    let retry: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=300).contains(&retry), "{retry}");

    let elsewhere = h
        .send_from("198.51.100.7:40000", sign_in_request(PASSWORD))
        .await;
    assert_eq!(elsewhere.status, StatusCode::OK);

    h.clock.advance(Duration::from_secs(301));
    let later = h.send(sign_in_request(PASSWORD)).await;
    assert_eq!(later.status, StatusCode::OK);
    assert!(h
        .admin_events()
        .iter()
        .any(|e| e.fields.get("action").map(String::as_str) == Some("rate_limited")));
}

#[tokio::test]
async fn the_api_needs_a_session() {
    let h = Harness::new().await;
    h.set_up().await;
    let answer = h.send(get_request("/api/v1/authorized", None)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.error_code(), "session_expired");
    let forged = Browser {
        cookie: "rmsc_session=forged".into(),
        csrf: "forged".into(),
    };
    let answer = h.send(add_entry(&forged, Some("forged"))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.calls(), 0);
}

#[tokio::test]
async fn a_missing_or_wrong_csrf_token_is_refused_before_the_handler() {
    let h = Harness::new().await;
    let browser = h.set_up().await;
    let missing = h.send(add_entry(&browser, None)).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(missing.error_code(), "csrf");
    let wrong = h.send(add_entry(&browser, Some("not-the-token"))).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.error_code(), "csrf");
    assert_eq!(h.calls(), 0);

    let ok = h.send(add_entry(&browser, Some(&browser.csrf))).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(h.calls(), 1);
    // Reading needs no token.
    let read = h
        .send(get_request("/api/v1/authorized", Some(&browser)))
        .await;
    assert_eq!(read.status, StatusCode::OK);
}

#[tokio::test]
async fn the_actor_comes_from_the_session_and_the_change_is_audited() {
    let h = Harness::new().await;
    let browser = h.set_up().await;
    let mut request = add_entry(&browser, Some(&browser.csrf));
    request
        .headers_mut()
        .insert(crate::ACTOR_HEADER, "mallory".parse().expect("value"));
    let answer = h.send(request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json["actor"], "admin");

    let events = h.admin_events();
    let audit = events
        .iter()
        .find(|e| e.fields.get("path").map(String::as_str) == Some("/api/v1/authorized"))
        .expect("audit event");
    assert_eq!(audit.fields["user"], "admin");
    assert_eq!(audit.fields["method"], "POST");
    assert_eq!(audit.fields["status"], "200");
    assert_eq!(audit.fields["client"], "192.0.2.10");
    // Reads are not audited.
    h.send(get_request("/api/v1/authorized", Some(&browser)))
        .await;
    let after = h.admin_events();
    assert_eq!(
        after
            .iter()
            .filter(|e| e.fields.contains_key("path"))
            .count(),
        1
    );
}

#[tokio::test]
async fn an_idle_session_expires_and_activity_keeps_it_alive() {
    let h = Harness::new().await;
    let browser = h.set_up().await;
    h.clock.advance(Duration::from_secs(14 * 60));
    let alive = h
        .send(get_request("/api/v1/authorized", Some(&browser)))
        .await;
    assert_eq!(alive.status, StatusCode::OK);
    h.clock.advance(Duration::from_secs(14 * 60));
    let still = h
        .send(get_request("/api/v1/authorized", Some(&browser)))
        .await;
    assert_eq!(still.status, StatusCode::OK);

    h.clock.advance(Duration::from_secs(15 * 60 + 1));
    let expired = h.send(add_entry(&browser, Some(&browser.csrf))).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.error_code(), "session_expired");
    assert_eq!(h.calls(), 0);
    let state = h.send(get_request("/api/v1/session", Some(&browser))).await;
    assert_eq!(state.json["state"], "signed_out");
}

#[tokio::test]
async fn sign_out_needs_the_token_and_ends_the_session() {
    let h = Harness::new().await;
    let browser = h.set_up().await;
    let delete = |csrf: Option<&str>| {
        with_csrf(
            json_request(Method::DELETE, "/api/v1/session", json!({}), Some(&browser)),
            csrf,
        )
    };
    let refused = h.send(delete(None)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let done = h.send(delete(Some(&browser.csrf))).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT);
    assert!(done.headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .contains("Max-Age=0"));
    let after = h
        .send(get_request("/api/v1/authorized", Some(&browser)))
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    // Signing out without a session is harmless.
    let again = h.send(delete(None)).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_ends_other_sessions() {
    let h = Harness::new().await;
    let browser = h.set_up().await;
    let other = super::support::browser_from(&h.send(sign_in_request(PASSWORD)).await);
    let change = |current: &str, new: &str| {
        with_csrf(
            json_request(
                Method::POST,
                "/api/v1/session/password",
                json!({ "current": current, "new": new }),
                Some(&browser),
            ),
            Some(&browser.csrf),
        )
    };
    let wrong = h
        .send(change("wrong password!", "another long password"))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error_code(), "bad_credentials");
    let weak = h.send(change(PASSWORD, "short")).await;
    assert_eq!(weak.error_code(), "weak_password");
    let done = h.send(change(PASSWORD, "another long password")).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT);

    let mine = h
        .send(get_request("/api/v1/authorized", Some(&browser)))
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    let theirs = h
        .send(get_request("/api/v1/authorized", Some(&other)))
        .await;
    assert_eq!(theirs.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        h.send(sign_in_request(PASSWORD)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.send(sign_in_request("another long password"))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn api_answers_carry_the_security_headers_and_no_store() {
    let h = Harness::new().await;
    for request in [
        get_request("/api/v1/session", None),
        get_request("/api/v1/authorized", None),
        get_request("/api/v1/nope", None),
    ] {
        let answer = h.send(request).await;
        assert_eq!(answer.headers[header::CONTENT_SECURITY_POLICY], CSP);
        assert_eq!(answer.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(answer.headers[header::REFERRER_POLICY], "no-referrer");
        assert!(answer
            .headers
            .contains_key(header::STRICT_TRANSPORT_SECURITY));
        assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    }
}

#[tokio::test]
async fn sign_in_before_setup_is_a_conflict() {
    let h = Harness::new().await;
    let answer = h.send(sign_in_request(PASSWORD)).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.error_code(), "setup_required");
}
