//! Request and response plumbing shared by the routes: the security headers every answer
//! carries, the session cookie, the client address and strict JSON bodies.

use crate::api_error::ApiError;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The strict content security policy of docs/admin-api.md: no inline scripts or styles.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
form-action 'self'";

/// The session cookie's name.
pub const COOKIE_NAME: &str = "rmsc_session";

/// Adds the security headers to every response, whoever made it (routes, the mounted API,
/// the fallback, extractor rejections).
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if is_api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The value of the session cookie, if the request carries one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

/// `Set-Cookie` for a new session: a browser-session cookie, never sent cross-site and never
/// visible to scripts.
pub(crate) fn set_session_cookie(id: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={id}; HttpOnly; Secure; SameSite=Strict; Path=/"
    ))
    .ok()
}

/// `Set-Cookie` that removes the session cookie.
pub(crate) fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static("rmsc_session=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0")
}

/// The client's address as the listener saw it (no forwarding headers are trusted: the admin
/// listener faces browsers directly). Unknown (in-process tests) counts as 0.0.0.0.
pub(crate) fn client_ip(request_extensions: &axum::http::Extensions) -> IpAddr {
    request_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Decodes a JSON body, insisting on `content-type: application/json`: a cross-site form
/// cannot send that type without a CORS preflight, which this server never grants.
pub(crate) fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the request body as application/json.",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("The request body is not the expected JSON."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(header::COOKIE, HeaderValue::from_str(v).expect("value"));
        }
        map
    }

    #[test]
    fn finds_the_session_cookie_among_others_and_across_headers() {
        assert_eq!(
            session_cookie(&cookies(&["a=1; rmsc_session=abc; b=2"])).as_deref(),
            Some("abc")
        );
        assert_eq!(
            session_cookie(&cookies(&["a=1", "rmsc_session=xyz"])).as_deref(),
            Some("xyz")
        );
        assert_eq!(session_cookie(&cookies(&["rmsc_session_x=1"])), None);
        assert_eq!(session_cookie(&cookies(&["rmsc_session="])), None);
        assert_eq!(session_cookie(&HeaderMap::new()), None);
    }

    #[test]
    fn the_session_cookie_is_http_only_secure_and_strict() {
        let value = set_session_cookie("id").expect("cookie");
        let text = value.to_str().expect("ascii");
        for part in [
            "rmsc_session=id",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
    }

    #[test]
    fn json_bodies_need_the_json_content_type() {
        let mut headers = HeaderMap::new();
        let parsed: Result<serde_json::Value, _> = json_body(&headers, b"{}");
        assert_eq!(parsed.expect_err("no type").code, "unsupported_media_type");
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(json_body::<serde_json::Value>(&headers, b"{}").is_ok());
        let bad: Result<serde_json::Value, _> = json_body(&headers, b"{");
        assert_eq!(bad.expect_err("bad json").code, "bad_request");
    }
}
