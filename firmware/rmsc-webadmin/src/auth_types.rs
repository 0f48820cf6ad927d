//! The public types around [`crate::AdminAuth`]: its settings, its errors, and what a
//! sign-in or session check tells the caller.

use crate::error::WebAdminError;
use crate::password::PasswordCost;
use crate::rate_limit::RateLimitConfig;
use crate::sessions::SessionView;
use std::time::Duration;

/// Session and sign-in settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// A session unused this long ends (default 15 min).
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however busy (default 8 h).
    pub session_lifetime: Duration,
    /// Sessions kept at most; the longest idle goes first (default 32).
    pub max_sessions: usize,
    /// Failed-attempt limits.
    pub rate_limit: RateLimitConfig,
    /// Argon2id cost of new password hashes.
    pub password_cost: PasswordCost,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            idle_timeout: Duration::from_secs(15 * 60),
            session_lifetime: Duration::from_secs(8 * 3600),
            max_sessions: 32,
            rate_limit: RateLimitConfig::default(),
            password_cost: PasswordCost::default(),
        }
    }
}

/// Why a sign-in, setup or session check was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the setup code is wrong")]
    WrongSetupCode,
    #[error("the administrator account is already set up")]
    AlreadySetUp,
    #[error("setup is not done yet")]
    SetupRequired,
    #[error("weak password: {0}")]
    WeakPassword(&'static str),
    #[error("invalid username")]
    InvalidUsername,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("no session, or the session expired")]
    SessionExpired,
    #[error(transparent)]
    Internal(#[from] WebAdminError),
}

/// Whether the first run is done and whether a request is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    SetupRequired,
    SignedOut,
    SignedIn(SessionView),
}

/// A session just started: the cookie value and what the browser is told.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session id (the `rmsc_session` cookie value).
    pub id: String,
    pub user: String,
    pub csrf_token: String,
}
