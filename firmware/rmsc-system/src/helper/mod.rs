//! The privileged system helper: a small root process that carries out the few system
//! changes the unprivileged daemon may ask for (network settings, reboot, power-off, factory
//! reset) and nothing else. The daemon talks to it over a Unix socket (group `rmsc`, mode
//! 0660): one bounded JSON request per connection, the peer's uid checked with SO_PEERCRED,
//! the request parsed into a closed set of actions and validated again here, because the
//! helper must not trust a compromised daemon more than its own checks. Actions use std and
//! `nix` only; no shell is ever run.
//!
//! Wire format (one line of JSON each way, the client half-closes after its request):
//! `{"action":"reboot"}`, `{"action":"shutdown"}`, `{"action":"erase_data"}`,
//! `{"action":"apply_network","settings":{...}}`; answers `{"ok":true}` or
//! `{"ok":false,"error":"..."}`.

mod actions;
mod client;
mod request;
mod server;

pub use actions::{Deferred, InitPower, PowerControl, RestartTarget, SystemOps};
pub use client::SystemHelperClient;
pub use request::{is_host_name, NetworkMode, NetworkRequest, Request, MAX_DNS, MAX_NTP};
pub use server::{serve_system_helper, service_account, HelperConfig, SystemHelper};

use serde::{Deserialize, Serialize};

/// The largest request the helper reads; a network request is a few hundred bytes.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024;

/// The helper's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Response {
    pub fn ok() -> Self {
        Self {
            ok: true,
            error: None,
        }
    }

    pub fn refused(error: impl Into<String>) -> Self {
        Self {
            ok: false,
            error: Some(error.into()),
        }
    }
}

/// What went wrong between the daemon and the helper, or inside the helper.
#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    /// The helper refused the request (the message says why; safe to show an administrator).
    #[error("{0}")]
    Refused(String),
    /// The request itself is not acceptable (parsing or validation).
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("the system helper at {socket} is not reachable: {source}")]
    Unreachable {
        socket: String,
        source: std::io::Error,
    },
    #[error("talking to the system helper failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the system helper answered something unexpected: {0}")]
    BadAnswer(String),
    #[error("system call failed: {0}")]
    Errno(#[from] nix::errno::Errno),
}
