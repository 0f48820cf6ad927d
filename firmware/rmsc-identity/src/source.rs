//! The interface between the relay and an authentication mechanism. The relay knows nothing
//! of Kerberos: it hands the request headers and the connection's state to an
//! [`IdentitySource`] and acts on the [`AuthOutcome`].

use crate::CallerIdentity;
use http::{HeaderMap, HeaderValue, StatusCode};
use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// A boxed future, so that identity sources can be used as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a request was not authenticated; logged, counted, and (for some) recorded as event 2000.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalReason {
    /// No Authorization header: the normal first leg of Negotiate.
    NoCredentials,
    /// An NTLM token: not validated by this appliance (Kerberos only).
    NtlmNotSupported,
    /// The token could not be decoded.
    Malformed(String),
    /// The token was well-formed but rejected (wrong SPN, expired, replayed, bad keytab, ...).
    Rejected(String),
    /// The caller's clock differs from ours by more than Kerberos allows.
    ClockSkew(String),
    /// The ticket's end time has passed (beyond the 5-minute allowance).
    Expired(String),
    /// The mechanism is not configured yet (no keytab).
    NotConfigured(String),
}

impl RefusalReason {
    /// A short stable label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            RefusalReason::NoCredentials => "no_credentials",
            RefusalReason::NtlmNotSupported => "ntlm",
            RefusalReason::Malformed(_) => "malformed",
            RefusalReason::Rejected(_) => "rejected",
            RefusalReason::ClockSkew(_) => "clock_skew",
            RefusalReason::Expired(_) => "expired",
            RefusalReason::NotConfigured(_) => "not_configured",
        }
    }

    /// Text safe to show the caller: explains what to fix without revealing internals.
    pub fn caller_message(&self) -> &'static str {
        match self {
            RefusalReason::NoCredentials => "Windows authentication is required.",
            RefusalReason::NtlmNotSupported => "NTLM is not accepted: this connector accepts Kerberos only. Check that the SPN HTTP/<connector name> is registered and that the connector's keytab matches it.",
            RefusalReason::Malformed(_) => "The authentication token could not be decoded.",
            RefusalReason::Rejected(_) => "The Kerberos ticket was rejected.",
            RefusalReason::ClockSkew(_) => "The Kerberos ticket was rejected because the clocks of the caller and the connector differ by more than 5 minutes.",
            RefusalReason::Expired(_) => "The Kerberos ticket has expired: the caller must get a new one (klist purge), or this connector's clock is ahead.",
            RefusalReason::NotConfigured(_) => "Windows authentication is not configured on this connector yet.",
        }
    }
}

/// What a source decided about one request.
#[derive(Debug, Clone)]
pub enum AuthOutcome {
    /// The caller is who it says; `response_header` (e.g. the mutual-authentication token) goes
    /// back in `WWW-Authenticate` on the response.
    Authenticated {
        identity: Arc<CallerIdentity>,
        response_header: Option<HeaderValue>,
    },
    /// Authentication is required or failed: answer with `status` (401 or 400) and these
    /// `WWW-Authenticate` values.
    Refused {
        status: StatusCode,
        www_authenticate: Vec<HeaderValue>,
        reason: RefusalReason,
    },
}

/// Authentication state of one caller connection. Kerberos authenticates a keep-alive
/// connection once, as IIS does; later requests on it reuse the identity. A new connection
/// starts empty. A mechanism that needs several round trips (a multi-leg SPNEGO negotiation)
/// parks its partial state here between requests of the same connection.
#[derive(Default)]
pub struct ConnectionAuth {
    identity: Mutex<Option<Arc<CallerIdentity>>>,
    pending: Mutex<Option<Box<dyn Any + Send>>>,
}

impl std::fmt::Debug for ConnectionAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionAuth")
            .field("identity", &self.identity())
            .finish_non_exhaustive()
    }
}

impl ConnectionAuth {
    /// The identity established earlier on this connection, if any.
    pub fn identity(&self) -> Option<Arc<CallerIdentity>> {
        self.identity.lock().map(|g| g.clone()).unwrap_or(None)
    }

    /// Remembers the identity for the rest of the connection.
    pub fn remember(&self, identity: Arc<CallerIdentity>) {
        if let Ok(mut guard) = self.identity.lock() {
            *guard = Some(identity);
        }
    }

    /// Parks a mechanism's partial negotiation until the connection's next request.
    pub fn set_pending(&self, state: Box<dyn Any + Send>) {
        if let Ok(mut guard) = self.pending.lock() {
            *guard = Some(state);
        }
    }

    /// Takes the parked negotiation, if any.
    pub fn take_pending(&self) -> Option<Box<dyn Any + Send>> {
        self.pending.lock().ok().and_then(|mut g| g.take())
    }
}

/// An authentication mechanism. Implementations must not block the async worker: run
/// blocking library calls (GSSAPI) on a blocking pool.
pub trait IdentitySource: Send + Sync + 'static {
    /// Name for logs and the identity's `mechanism` field.
    fn name(&self) -> &'static str;

    /// Authenticates one request given its headers and its connection's state.
    fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
        connection: &'a ConnectionAuth,
    ) -> BoxFuture<'a, AuthOutcome>;
}
