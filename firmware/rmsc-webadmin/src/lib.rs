//! The admin web listener: HTTPS, administrator sessions, the embedded web UI.
//!
//! - [`AdminAuth`]: the administrator account (Argon2id), the one-time setup code of the
//!   first run, sessions with CSRF tokens and idle timeout, login rate limiting.
//! - [`ConsoleEnv`]: `<data_dir>/console.env`, what the appliance's console screen shows.
//! - [`AdminTls`]: the listener's certificate (self-signed on first start, replaceable at run
//!   time without a restart).
//! - [`router`]: the session and setup routes, the embedded static files, and the
//!   connector's JSON API mounted behind the session and CSRF checks, with an audit event for
//!   every state-changing call.
//! - [`serve`]: the HTTPS accept loop (bounded connections, timeouts, graceful stop).
//!
//! The admin listener never shares a port with the caller listeners.

mod api_error;
mod auth;
mod auth_types;
mod clock;
mod console;
mod error;
mod guard;
mod headers;
mod password;
mod rate_limit;
mod routes;
mod serve;
mod sessions;
mod setup_code;
mod static_files;
mod tls;

pub use api_error::ApiError;
pub use auth::{AdminAuth, AuthConfig, AuthError, NewSession, SessionState};
pub use clock::{Clock, ManualClock, SystemClock};
pub use console::{ConsoleEnv, CONSOLE_ENV_FILE};
pub use error::WebAdminError;
pub use guard::{ACTOR_HEADER, CSRF_HEADER};
pub use password::{PasswordCost, ACCOUNT_SETTING, MIN_PASSWORD_CHARS};
pub use rate_limit::RateLimitConfig;
pub use routes::{router, WebAdminState, SESSION_COOKIE};
pub use serve::{serve, serve_with_limits, ServeLimits};
pub use sessions::SessionView;
pub use tls::{AdminTls, CertInfo, CertSource};

/// The admin listener's default port.
pub const DEFAULT_ADMIN_PORT: u16 = 8443;

#[cfg(test)]
mod tests;
