//! The Kerberos identity source: HTTP Negotiate in, a caller identity built from the PAC that
//! MIT verified out. The accept step runs inline on the connection's task, as the TLS
//! handshake before it does: both are CPU work of about 100 µs (the keys are in memory, the
//! replay cache is a file on a tmpfs), and the hop to the blocking pool and back cost more than it
//! protected: 50-73 µs of CPU per new connection in W3 (two A/B pairs, 540-629 µs a call).
//! A bounded number of workers accept at once. The acceptor credential can be replaced at
//! run time (keytab upload) without a restart.

use crate::gss::{accept, Accepted, AcceptorCredential, FailureKind, GssError, PendingContext};
use crate::negotiate::{classify, negotiate_token, TokenError, TokenKind};
use crate::pac::decode_logon_info;
use base64::Engine;
use http::{HeaderMap, HeaderValue, StatusCode};
use rmsc_identity::{
    AuthOutcome, BoxFuture, CallerIdentity, ConnectionAuth, IdentitySource, RefusalReason,
};
use std::sync::{Arc, RwLock};
use tokio::sync::Semaphore;

/// Verifies callers with the installed acceptor credential.
pub struct KerberosSource {
    credential: RwLock<Option<Arc<AcceptorCredential>>>,
    /// Bounds how many workers accept tokens at once, so a flood of new connections leaves
    /// workers for the callers already authenticated.
    permits: Semaphore,
}

impl std::fmt::Debug for KerberosSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KerberosSource")
            .field("configured", &self.is_configured())
            .finish()
    }
}

fn negotiate_challenge() -> Vec<HeaderValue> {
    vec![HeaderValue::from_static("Negotiate")]
}

fn refuse(status: StatusCode, reason: RefusalReason) -> AuthOutcome {
    AuthOutcome::Refused {
        status,
        www_authenticate: negotiate_challenge(),
        reason,
    }
}

fn negotiate_header(token: &[u8]) -> Option<HeaderValue> {
    if token.is_empty() {
        return None;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(token);
    HeaderValue::from_str(&format!("Negotiate {encoded}")).ok()
}

impl KerberosSource {
    /// A source with no keytab yet: every caller is refused as not configured.
    pub fn new(max_concurrent_calls: usize) -> Self {
        Self {
            credential: RwLock::new(None),
            permits: Semaphore::new(max_concurrent_calls.max(1)),
        }
    }

    /// Uses `credential` for every later authentication; calls in flight finish with the
    /// previous one.
    pub fn install(&self, credential: AcceptorCredential) {
        if let Ok(mut guard) = self.credential.write() {
            *guard = Some(Arc::new(credential));
        }
    }

    /// Forgets the credential (keytab removed): callers are refused as not configured.
    pub fn remove(&self) {
        if let Ok(mut guard) = self.credential.write() {
            *guard = None;
        }
    }

    pub fn is_configured(&self) -> bool {
        self.current().is_some()
    }

    fn current(&self) -> Option<Arc<AcceptorCredential>> {
        self.credential.read().ok().and_then(|g| g.clone())
    }

    async fn authenticate_request(
        &self,
        headers: &HeaderMap,
        connection: &ConnectionAuth,
    ) -> AuthOutcome {
        let token = match negotiate_token(headers) {
            Ok(Some(token)) => token,
            Ok(None) => {
                // Kerberos authenticates the connection, not each request (as IIS does).
                return match connection.identity() {
                    Some(identity) => AuthOutcome::Authenticated {
                        identity,
                        response_header: None,
                    },
                    None => refuse(StatusCode::UNAUTHORIZED, RefusalReason::NoCredentials),
                };
            }
            Err(TokenError::NtlmScheme) => {
                return refuse(StatusCode::UNAUTHORIZED, RefusalReason::NtlmNotSupported)
            }
            Err(e) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    RefusalReason::Malformed(e.to_string()),
                )
            }
        };
        let kind = match classify(&token) {
            Ok(kind) => kind,
            Err(e) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    RefusalReason::Malformed(e.to_string()),
                )
            }
        };
        if kind.is_ntlm_only() {
            return refuse(StatusCode::UNAUTHORIZED, RefusalReason::NtlmNotSupported);
        }
        let Some(credential) = self.current() else {
            return refuse(
                StatusCode::UNAUTHORIZED,
                RefusalReason::NotConfigured("no Kerberos keytab is installed".into()),
            );
        };
        // Only a continuation leg may resume a parked negotiation; a fresh offer starts over.
        let parked = connection.take_pending();
        let pending = match kind {
            TokenKind::SpnegoResponse => parked.and_then(|p| p.downcast::<PendingContext>().ok()),
            _ => None,
        }
        .map(|boxed| *boxed);
        let Ok(_permit) = self.permits.acquire().await else {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                RefusalReason::NotConfigured("shutting down".into()),
            );
        };
        match accept(&credential, pending, &token) {
            Ok(accepted) => finish(accepted, connection),
            Err(error) => gss_refusal(&error),
        }
    }
}

/// Acts on a completed or continuing accept step.
fn finish(accepted: Accepted, connection: &ConnectionAuth) -> AuthOutcome {
    match accepted {
        Accepted::Continue {
            context,
            output_token,
        } => {
            connection.set_pending(Box::new(context));
            AuthOutcome::Refused {
                status: StatusCode::UNAUTHORIZED,
                www_authenticate: negotiate_header(&output_token)
                    .map_or_else(negotiate_challenge, |h| vec![h]),
                // A normal intermediate leg, not a failure.
                reason: RefusalReason::NoCredentials,
            }
        }
        Accepted::Complete {
            principal,
            logon_info,
            unverified_pac,
            output_token,
        } => match identity_from_pac(&principal, logon_info.as_deref(), unverified_pac) {
            Ok(identity) => {
                let identity = Arc::new(identity);
                connection.remember(identity.clone());
                AuthOutcome::Authenticated {
                    identity,
                    response_header: negotiate_header(&output_token),
                }
            }
            Err(reason) => refuse(StatusCode::UNAUTHORIZED, RefusalReason::Rejected(reason)),
        },
    }
}

/// Builds the caller identity from the verified PAC. A ticket without a verified PAC carries
/// no trustworthy group membership, so it is refused rather than authorized by name alone.
fn identity_from_pac(
    principal: &str,
    logon_info: Option<&[u8]>,
    unverified_pac: bool,
) -> Result<CallerIdentity, String> {
    let Some(buffer) = logon_info else {
        return Err(if unverified_pac {
            format!("the ticket of {principal} carries a PAC that could not be verified")
        } else {
            format!("the ticket of {principal} carries no PAC (not issued by Active Directory?)")
        });
    };
    let info = decode_logon_info(buffer)
        .map_err(|e| format!("the PAC of {principal} could not be decoded: {e}"))?;
    Ok(CallerIdentity {
        account: format!("{}\\{}", info.logon_domain_name, info.effective_name),
        sid: info.user_sid.to_string(),
        group_sids: info.group_sids.iter().map(ToString::to_string).collect(),
        mechanism: "kerberos",
    })
}

fn gss_refusal(error: &GssError) -> AuthOutcome {
    let detail = error.detail();
    match error.kind() {
        FailureKind::Defective => refuse(
            StatusCode::BAD_REQUEST,
            RefusalReason::Malformed(detail),
        ),
        FailureKind::ClockSkew => {
            refuse(StatusCode::UNAUTHORIZED, RefusalReason::ClockSkew(detail))
        }
        // MIT checks the ticket's times before the authenticator's, so an expired ticket is
        // reported as such even though its authenticator is necessarily old as well.
        FailureKind::Expired => refuse(
            StatusCode::UNAUTHORIZED,
            RefusalReason::Expired(format!(
                "expired ticket (its end time is more than 5 minutes past by this connector's clock: a token kept too long, or this connector's clock is ahead of the domain controllers'): {detail}"
            )),
        ),
        FailureKind::NotYetValid => refuse(
            StatusCode::UNAUTHORIZED,
            RefusalReason::ClockSkew(format!(
                "ticket not yet valid (it starts more than 5 minutes after this connector's time: this connector's clock is behind the domain controllers'): {detail}"
            )),
        ),
        FailureKind::Replayed => refuse(
            StatusCode::UNAUTHORIZED,
            RefusalReason::Rejected(format!("replayed token: {detail}")),
        ),
        FailureKind::WrongKey => refuse(
            StatusCode::UNAUTHORIZED,
            RefusalReason::Rejected(format!(
                "ticket for a principal or key version not in the keytab (check the SPN and the keytab's kvno): {detail}"
            )),
        ),
        FailureKind::Integrity => refuse(
            StatusCode::UNAUTHORIZED,
            RefusalReason::Rejected(format!("ticket failed its integrity check: {detail}")),
        ),
        FailureKind::Other => refuse(StatusCode::UNAUTHORIZED, RefusalReason::Rejected(detail)),
    }
}

impl IdentitySource for KerberosSource {
    fn name(&self) -> &'static str {
        "kerberos"
    }

    fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
        connection: &'a ConnectionAuth,
    ) -> BoxFuture<'a, AuthOutcome> {
        Box::pin(self.authenticate_request(headers, connection))
    }
}
