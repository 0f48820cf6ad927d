//! Errors of calls to the cloud. Each records whether retrying is safe, so the relay and the
//! background tasks can decide without inspecting the cause.

use rmsc_contract::{CloudError, ErrorCode};

/// Why a cloud call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudFailure {
    /// No connection could be made (DNS, refused, TLS handshake): nothing was sent.
    Connect(String),
    /// No answer within the deadline: the request may or may not have been processed.
    Timeout,
    /// The connection broke after the request was (partly) sent.
    Transport(String),
    /// The cloud answered with an error status (and its error body, if it had one).
    Status {
        status: u16,
        error: Option<CloudError>,
    },
    /// The answer could not be understood.
    Protocol(String),
    /// The local side is not in a state to call (e.g. not registered).
    NotReady(&'static str),
}

/// A failed cloud call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cloud call {operation} failed: {failure}")]
pub struct CloudCallError {
    /// What was being done, for logs: `token`, `tenant`, `register`, `list`, `relay`, ...
    pub operation: &'static str,
    pub failure: CloudFailure,
}

impl std::fmt::Display for CloudFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloudFailure::Connect(e) => write!(f, "cannot connect: {e}"),
            CloudFailure::Timeout => f.write_str("timed out"),
            CloudFailure::Transport(e) => write!(f, "connection failed: {e}"),
            CloudFailure::Status {
                status,
                error: Some(e),
            } => write!(f, "HTTP {status}: {}", e.error),
            CloudFailure::Status {
                status,
                error: None,
            } => write!(f, "HTTP {status}"),
            CloudFailure::Protocol(e) => write!(f, "unexpected answer: {e}"),
            CloudFailure::NotReady(e) => write!(f, "not ready: {e}"),
        }
    }
}

impl CloudCallError {
    pub(crate) fn new(operation: &'static str, failure: CloudFailure) -> Self {
        Self { operation, failure }
    }

    /// Whether sending the same request again cannot do harm: true only when the request
    /// certainly did not reach the cloud, or the cloud said it is unavailable.
    pub fn retry_safe(&self) -> bool {
        match &self.failure {
            CloudFailure::Connect(_) => true,
            CloudFailure::Status { status, .. } => *status == 503,
            _ => false,
        }
    }

    /// The contract's error code, if the cloud sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match &self.failure {
            CloudFailure::Status { error: Some(e), .. } => Some(e.error),
            _ => None,
        }
    }

    /// Whether the cloud itself could not be reached or failed (as opposed to refusing).
    pub fn is_unreachable(&self) -> bool {
        match &self.failure {
            CloudFailure::Connect(_) | CloudFailure::Timeout | CloudFailure::Transport(_) => true,
            CloudFailure::Status { status, .. } => *status >= 500,
            CloudFailure::Protocol(_) | CloudFailure::NotReady(_) => false,
        }
    }
}
