//! Errors of administrative operations, with a stable code and a message an administrator can
//! act on. Internals are logged, never returned.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rmsc_cloud::CloudCallError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The cloud refused, with one of the contract's error codes.
    #[error("{message}")]
    Cloud {
        code: String,
        message: String,
        status: u16,
    },
    /// The cloud could not be reached.
    #[error("The cloud service could not be reached: {0}")]
    CloudUnreachable(String),
    #[error("Sign in to the cloud service first.")]
    NotSignedIn,
    #[error("The appliance is not registered with the cloud service.")]
    NotRegistered,
    #[error("The appliance is already registered as {0}. Deregister it first.")]
    AlreadyRegistered(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("The authorized-server list kept changing on other appliances; try again.")]
    Conflict,
    #[error("The appliance could not save its state.")]
    Store(String),
    /// Input refused for a specific, documented reason (`code`), e.g. an RC4-only keytab.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// A feature this appliance was started without (e.g. Kerberos on a test build).
    #[error("{0}")]
    Unavailable(String),
    /// A setting value refused; `field` names the form field the UI marks.
    #[error("{message}")]
    InvalidSetting {
        field: &'static str,
        message: String,
    },
    /// A dependency (the directory, the proxy) did not answer usefully: 503 with `code`.
    #[error("{message}")]
    Upstream { code: &'static str, message: String },
    /// Something on the appliance itself failed (a task, the system); details are logged.
    #[error("{0}")]
    Internal(String),
}

impl AdminError {
    pub fn code(&self) -> &str {
        match self {
            AdminError::Cloud { code, .. } => code,
            AdminError::CloudUnreachable(_) => "cloud_unreachable",
            AdminError::NotSignedIn => "not_signed_in",
            AdminError::NotRegistered => "not_registered",
            AdminError::AlreadyRegistered(_) => "already_registered",
            AdminError::Invalid(_) => "invalid",
            AdminError::NotFound(_) => "not_found",
            AdminError::Conflict => "conflict",
            AdminError::Store(_) => "store",
            AdminError::Refused { code, .. } => code,
            AdminError::Unavailable(_) => "unavailable",
            AdminError::InvalidSetting { .. } => "invalid_setting",
            AdminError::Upstream { code, .. } => code,
            AdminError::Internal(_) => "internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AdminError::Cloud { status, .. } => {
                if *status == 401 || *status == 403 || *status == 400 {
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST)
                } else {
                    StatusCode::BAD_GATEWAY
                }
            }
            AdminError::CloudUnreachable(_) => StatusCode::BAD_GATEWAY,
            AdminError::NotSignedIn => StatusCode::UNAUTHORIZED,
            AdminError::NotRegistered | AdminError::AlreadyRegistered(_) | AdminError::Conflict => {
                StatusCode::CONFLICT
            }
            AdminError::Invalid(_)
            | AdminError::Refused { .. }
            | AdminError::InvalidSetting { .. } => StatusCode::BAD_REQUEST,
            AdminError::Unavailable(_) | AdminError::Upstream { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AdminError::NotFound(_) => StatusCode::NOT_FOUND,
            AdminError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<CloudCallError> for AdminError {
    fn from(error: CloudCallError) -> Self {
        match (error.code(), &error.failure) {
            (Some(code), rmsc_cloud::CloudFailure::Status { status, .. }) => AdminError::Cloud {
                code: code.as_str().to_owned(),
                message: code.admin_message().to_owned(),
                status: *status,
            },
            _ => {
                tracing::warn!(%error, "cloud call failed");
                AdminError::CloudUnreachable(error.failure.to_string())
            }
        }
    }
}

impl From<rmsc_store::StoreError> for AdminError {
    fn from(error: rmsc_store::StoreError) -> Self {
        tracing::error!(%error, "store failure in an admin operation");
        AdminError::Store(error.to_string())
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        if let AdminError::InvalidSetting { field, .. } = &self {
            body["field"] = json!(field);
        }
        (status, Json(body)).into_response()
    }
}
