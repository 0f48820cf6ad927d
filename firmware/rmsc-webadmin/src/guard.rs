//! The guard in front of the mounted connector API: a live session is required, requests
//! that change state must carry the session's CSRF token, the acting administrator is passed
//! on in `x-rmsc-actor` (a client's own value is discarded), and every state-changing call is
//! recorded in the audit trail (method, path, status, user, client; never bodies).

use crate::api_error::ApiError;
use crate::headers::{client_ip, session_cookie};
use crate::routes::WebAdminState;
use crate::sessions::SessionView;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmsc_telemetry::EventId;

/// Header naming the acting administrator for the mounted API. Must equal
/// `rmsc_admin`'s `ACTOR_HEADER`, which that crate does not export yet.
pub const ACTOR_HEADER: &str = "x-rmsc-actor";

/// Header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Longest path kept in an audit event.
const MAX_AUDIT_PATH: usize = 256;

/// Whether `method` changes state (anything but the safe methods).
pub(crate) fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request carries `view`'s CSRF token.
pub(crate) fn csrf_ok(headers: &HeaderMap, view: &SessionView) -> bool {
    let mut values = headers.get_all(CSRF_HEADER).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().is_ok_and(|v| view.csrf_matches(v)),
        _ => false,
    }
}

fn audit_path(path: &str) -> String {
    match path.char_indices().nth(MAX_AUDIT_PATH) {
        Some((cut, _)) => format!("{}...", &path[..cut]),
        None => path.to_owned(),
    }
}

/// The middleware.
pub(crate) async fn require_session(
    State(state): State<WebAdminState>,
    mut request: Request,
    next: Next,
) -> Response {
    let auth = state.auth();
    let Some(view) = session_cookie(request.headers()).and_then(|id| auth.session(&id)) else {
        return ApiError::session_expired().into_response();
    };
    let method = request.method().clone();
    let client = client_ip(request.extensions());
    if changes_state(&method) && !csrf_ok(request.headers(), &view) {
        tracing::warn!(user = %view.user, %client, %method, path = request.uri().path(), "admin request without a valid CSRF token");
        return ApiError::csrf().into_response();
    }
    let Ok(actor) = HeaderValue::from_str(&view.user) else {
        return ApiError::internal().into_response();
    };
    // `insert` replaces every value a client may have sent itself.
    request.headers_mut().insert(ACTOR_HEADER, actor);
    let path = audit_path(request.uri().path());
    let response = next.run(request).await;
    if changes_state(&method) {
        let status = response.status().as_u16().to_string();
        let client = client.to_string();
        auth.events()
            .record(
                EventId::AdminAction,
                format!("{} {method} {path} -> {status}", view.user),
                &[
                    ("user", &view.user),
                    ("method", method.as_str()),
                    ("path", &path),
                    ("status", &status),
                    ("client", &client),
                ],
            )
            .await;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> SessionView {
        SessionView {
            user: "admin".into(),
            csrf_token: "token".into(),
        }
    }

    #[test]
    fn exactly_one_matching_csrf_header_passes() {
        let mut headers = HeaderMap::new();
        assert!(!csrf_ok(&headers, &view()));
        headers.insert(CSRF_HEADER, HeaderValue::from_static("wrong"));
        assert!(!csrf_ok(&headers, &view()));
        headers.insert(CSRF_HEADER, HeaderValue::from_static("token"));
        assert!(csrf_ok(&headers, &view()));
        headers.append(CSRF_HEADER, HeaderValue::from_static("token"));
        assert!(!csrf_ok(&headers, &view()));
    }

    #[test]
    fn safe_methods_do_not_change_state() {
        assert!(!changes_state(&Method::GET));
        assert!(!changes_state(&Method::HEAD));
        assert!(changes_state(&Method::POST));
        assert!(changes_state(&Method::PUT));
        assert!(changes_state(&Method::DELETE));
        assert!(changes_state(&Method::PATCH));
    }

    #[test]
    fn long_paths_are_cut_in_the_audit_trail() {
        assert_eq!(audit_path("/api/v1/status"), "/api/v1/status");
        let long = format!("/{}", "a".repeat(400));
        assert_eq!(audit_path(&long).len(), MAX_AUDIT_PATH + 3);
    }
}
