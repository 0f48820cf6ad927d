//! Response helpers shared by the handlers: JSON bodies and the contract's error shape.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rmsc_contract::{CloudError, ErrorCode};
use serde::Serialize;

/// A JSON answer.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A control-plane error: `{"error": code, "error_description": ...}`.
pub fn cloud_error(
    status: StatusCode,
    code: ErrorCode,
    description: impl Into<String>,
) -> Response {
    json(
        status,
        &CloudError {
            error: code,
            error_description: description.into(),
        },
    )
}

/// `400 invalid_request`.
pub fn invalid_request(description: impl Into<String>) -> Response {
    cloud_error(
        StatusCode::BAD_REQUEST,
        ErrorCode::InvalidRequest,
        description,
    )
}

/// A control-plane error on its way to becoming a response; small enough to pass around in
/// `Result`s (a `Response` is not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub description: String,
    /// Adds `WWW-Authenticate: Bearer` (RFC 6750) to 401 answers.
    pub bearer_challenge: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, description: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            description: description.into(),
            bearer_challenge: false,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            description,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = cloud_error(self.status, self.code, self.description);
        if self.bearer_challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
