//! `ApiError`: an HTTP error in the API's shape, `{"error": <stable code>, "message": <for a
//! person>}`. Internal failures are logged and answered with a generic message, never their
//! details.

use crate::auth::AuthError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An error answer of the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    /// The stable code tests and the UI match on.
    pub code: &'static str,
    /// What to do, for a person.
    pub message: String,
    /// Seconds for `Retry-After` (429 only).
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub(crate) fn csrf() -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "The request lacks a valid CSRF token; reload the page.",
        )
    }

    pub(crate) fn session_expired() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "session_expired",
            "Your session has ended; sign in again.",
        )
    }

    pub(crate) fn not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "There is nothing here.")
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(crate) fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on the appliance; see the event log.",
        )
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        use StatusCode as S;
        match error {
            AuthError::WrongSetupCode => ApiError::new(
                S::FORBIDDEN,
                "wrong_setup_code",
                "The setup code is wrong. It is shown on the appliance's console.",
            ),
            AuthError::AlreadySetUp => ApiError::new(
                S::CONFLICT,
                "already_set_up",
                "The administrator account exists already; sign in instead.",
            ),
            AuthError::SetupRequired => ApiError::new(
                S::CONFLICT,
                "setup_required",
                "Finish the first-run setup with the code shown on the console.",
            ),
            AuthError::WeakPassword(why) => ApiError::new(S::BAD_REQUEST, "weak_password", why),
            AuthError::InvalidUsername => ApiError::new(
                S::BAD_REQUEST,
                "invalid_username",
                "Use 1 to 64 letters, digits, dots, dashes, underscores or @.",
            ),
            AuthError::BadCredentials => ApiError::new(
                S::UNAUTHORIZED,
                "bad_credentials",
                "Wrong username or password.",
            ),
            AuthError::RateLimited { retry_after_secs } => ApiError {
                retry_after_secs: Some(retry_after_secs),
                ..ApiError::new(
                    S::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("Too many failed attempts; try again in {retry_after_secs} seconds."),
                )
            },
            AuthError::SessionExpired => ApiError::session_expired(),
            AuthError::Internal(error) => {
                tracing::error!(%error, "admin request failed");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code, "message": self.message });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
