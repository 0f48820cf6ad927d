//! The router: session and first-run routes (docs/admin-api.md), the connector API mounted
//! behind the session guard, the embedded static files, and security headers on everything.

use crate::api_error::ApiError;
use crate::auth::{AdminAuth, NewSession, SessionState};
use crate::guard::{csrf_ok, require_session};
use crate::headers::{
    clear_session_cookie, client_ip, json_body, security_headers, session_cookie,
    set_session_cookie,
};
use crate::static_files::serve_static;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

pub use crate::headers::COOKIE_NAME as SESSION_COOKIE;

/// Largest body the session routes accept (credentials only).
const SESSION_BODY_LIMIT: usize = 16 * 1024;

/// What the admin routes need. Cheap to clone.
#[derive(Clone, Debug)]
pub struct WebAdminState {
    auth: AdminAuth,
}

impl WebAdminState {
    pub fn new(auth: AdminAuth) -> Self {
        WebAdminState { auth }
    }

    pub fn auth(&self) -> &AdminAuth {
        &self.auth
    }
}

/// The admin listener's router. `api` (the connector's JSON API and any further routes) is
/// served only to signed-in administrators, with CSRF checks and an audit event for every
/// state-changing call; `api` must not set a fallback of its own.
pub fn router(state: WebAdminState, api: Router) -> Router {
    let guarded = api.layer(from_fn_with_state(state.clone(), require_session));
    let session_routes = Router::new()
        .route(
            "/api/v1/session",
            get(session_state).post(sign_in).delete(sign_out),
        )
        .route("/api/v1/setup", post(setup))
        .route("/api/v1/session/password", post(change_password))
        .layer(DefaultBodyLimit::max(SESSION_BODY_LIMIT))
        .with_state(state);
    session_routes
        .merge(guarded)
        .fallback(serve_static)
        .layer(from_fn(security_headers))
}

fn signed_in(session: NewSession) -> Response {
    let Some(cookie) = set_session_cookie(&session.id) else {
        return ApiError::internal().into_response();
    };
    let body = Json(json!({ "user": session.user, "csrf_token": session.csrf_token }));
    ([(header::SET_COOKIE, cookie)], body).into_response()
}

async fn session_state(State(state): State<WebAdminState>, headers: HeaderMap) -> Response {
    let auth = state.auth();
    let cookie = session_cookie(&headers);
    let idle = auth.idle_timeout().as_secs();
    let answer = match auth.state(cookie.as_deref()) {
        Ok(answer) => answer,
        Err(error) => return ApiError::from(crate::AuthError::from(error)).into_response(),
    };
    let body = match answer {
        SessionState::SetupRequired => {
            json!({ "state": "setup_required", "idle_timeout_secs": idle })
        }
        SessionState::SignedOut => json!({ "state": "signed_out", "idle_timeout_secs": idle }),
        SessionState::SignedIn(view) => json!({
            "state": "signed_in",
            "user": view.user,
            "csrf_token": view.csrf_token,
            "idle_timeout_secs": idle,
        }),
    };
    Json(body).into_response()
}

#[derive(Deserialize)]
struct SetupBody {
    setup_code: String,
    username: String,
    password: String,
}

async fn setup(State(state): State<WebAdminState>, request: Request) -> Response {
    let client = client_ip(request.extensions());
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, SESSION_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return ApiError::bad_request("The request body is too large.").into_response(),
    };
    let body: SetupBody = match json_body(&parts.headers, &bytes) {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    match state
        .auth()
        .complete_setup(&body.setup_code, &body.username, &body.password, client)
        .await
    {
        Ok(session) => signed_in(session),
        Err(error) => ApiError::from(error).into_response(),
    }
}

#[derive(Deserialize)]
struct SignInBody {
    username: String,
    password: String,
}

async fn sign_in(State(state): State<WebAdminState>, request: Request) -> Response {
    let client = client_ip(request.extensions());
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, SESSION_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return ApiError::bad_request("The request body is too large.").into_response(),
    };
    let body: SignInBody = match json_body(&parts.headers, &bytes) {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    match state
        .auth()
        .sign_in(&body.username, &body.password, client)
        .await
    {
        Ok(session) => signed_in(session),
        Err(error) => ApiError::from(error).into_response(),
    }
}

async fn sign_out(State(state): State<WebAdminState>, request: Request) -> Response {
    let client = client_ip(request.extensions());
    let auth = state.auth();
    if let Some(id) = session_cookie(request.headers()) {
        if let Some(view) = auth.session(&id) {
            if !csrf_ok(request.headers(), &view) {
                return ApiError::csrf().into_response();
            }
            auth.sign_out(&id, client).await;
        }
    }
    (
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_session_cookie())],
    )
        .into_response()
}

#[derive(Deserialize)]
struct PasswordBody {
    current: String,
    new: String,
}

async fn change_password(State(state): State<WebAdminState>, request: Request) -> Response {
    let client = client_ip(request.extensions());
    let auth = state.auth();
    let Some((id, view)) =
        session_cookie(request.headers()).and_then(|id| auth.session(&id).map(|v| (id, v)))
    else {
        return ApiError::session_expired().into_response();
    };
    if !csrf_ok(request.headers(), &view) {
        return ApiError::csrf().into_response();
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, SESSION_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return ApiError::bad_request("The request body is too large.").into_response(),
    };
    let body: PasswordBody = match json_body(&parts.headers, &bytes) {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    match auth
        .change_password(&id, &body.current, &body.new, client)
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}
