//! Safe GSSAPI: acceptor credentials from a copy of a keytab in memory with an explicit
//! replay cache, one accept step with the verified PAC, and (feature `initiator`) client
//! tokens for tests. Every call here is synchronous CPU work with small file reads and writes
//! (the replay cache) that the appliance keeps on a tmpfs; see `source.rs` for where it runs.

mod ffi;

use std::fmt;
use std::path::Path;

/// A GSSAPI failure: the major and minor (Kerberos) status and what we were doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GssError {
    pub major: u32,
    pub minor: u32,
    pub during: &'static str,
}

/// How a failure is reported to the caller and in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Not a token GSSAPI can parse.
    Defective,
    /// The caller's clock is more than the allowed skew (5 minutes) away from ours.
    ClockSkew,
    /// The ticket's end time, plus the allowed skew, is past by our clock. MIT's initiator
    /// never sends a ticket that its own clock sees expired, so this is a token kept (or
    /// captured) too long, or our clock running ahead of the domain controller's.
    Expired,
    /// The ticket's start time is more than the allowed skew ahead of our clock: the ticket
    /// was issued by a KDC whose clock is ahead of ours, a clock problem of its own.
    NotYetValid,
    /// The same authenticator was presented before.
    Replayed,
    /// The ticket is for a principal (SPN) or key version our keytab does not have.
    WrongKey,
    /// The ticket failed its integrity check (wrong key or tampered).
    Integrity,
    /// Anything else.
    Other,
}

// MIT krb5 error codes (krb5.h, error table base -1765328384), as minor status values.
const KRB5KRB_AP_ERR_BAD_INTEGRITY: i32 = -1765328353;
const KRB5KRB_AP_ERR_TKT_EXPIRED: i32 = -1765328352;
const KRB5KRB_AP_ERR_TKT_NYV: i32 = -1765328351;
const KRB5KRB_AP_ERR_REPEAT: i32 = -1765328350;
const KRB5KRB_AP_ERR_NOT_US: i32 = -1765328349;
const KRB5KRB_AP_ERR_SKEW: i32 = -1765328347;
const KRB5KRB_AP_ERR_MODIFIED: i32 = -1765328343;
const KRB5KRB_AP_ERR_BADKEYVER: i32 = -1765328340;
const KRB5KRB_AP_ERR_NOKEY: i32 = -1765328339;
const KRB5KRB_AP_WRONG_PRINC: i32 = -1765328240;
const KRB5_RC_REPLAY: i32 = -1765328221;
const KRB5_KT_NOTFOUND: i32 = -1765328203;
const KRB5_KT_KVNONOTFOUND: i32 = -1765328154;

// Routine errors (RFC 2744), in bits 16..24 of the major status.
const GSS_S_DEFECTIVE_TOKEN: u32 = 9 << 16;
const GSS_S_CREDENTIALS_EXPIRED: u32 = 11 << 16;
const GSS_S_CONTEXT_EXPIRED: u32 = 12 << 16;
// Supplementary bits.
const GSS_S_DUPLICATE_TOKEN: u32 = 1 << 1;

impl GssError {
    pub(crate) fn new(major: u32, minor: u32, during: &'static str) -> Self {
        Self {
            major,
            minor,
            during,
        }
    }

    pub(crate) fn invalid_argument(during: &'static str) -> Self {
        // GSS_S_CALL_BAD_STRUCTURE: a calling error, never sent to the library.
        Self::new(3 << 24, 0, during)
    }

    /// Classifies the failure by the Kerberos minor status first (most precise), then by the
    /// GSSAPI major status.
    pub fn kind(&self) -> FailureKind {
        match self.minor as i32 {
            KRB5KRB_AP_ERR_SKEW => return FailureKind::ClockSkew,
            KRB5KRB_AP_ERR_TKT_EXPIRED => return FailureKind::Expired,
            KRB5KRB_AP_ERR_TKT_NYV => return FailureKind::NotYetValid,
            KRB5KRB_AP_ERR_REPEAT | KRB5_RC_REPLAY => return FailureKind::Replayed,
            KRB5KRB_AP_ERR_NOT_US
            | KRB5KRB_AP_ERR_BADKEYVER
            | KRB5KRB_AP_ERR_NOKEY
            | KRB5KRB_AP_WRONG_PRINC
            | KRB5_KT_NOTFOUND
            | KRB5_KT_KVNONOTFOUND => return FailureKind::WrongKey,
            KRB5KRB_AP_ERR_BAD_INTEGRITY | KRB5KRB_AP_ERR_MODIFIED => {
                return FailureKind::Integrity
            }
            _ => {}
        }
        // Through SPNEGO, MIT's mechglue renumbers mechanism minor codes per process, so the
        // krb5 codes above rarely match; the com_err text of the minor code is stable.
        if let Some(kind) = kind_from_text(&ffi::status_text(self.minor, 2)) {
            return kind;
        }
        match self.major & 0x00ff_0000 {
            GSS_S_DEFECTIVE_TOKEN => FailureKind::Defective,
            GSS_S_CREDENTIALS_EXPIRED | GSS_S_CONTEXT_EXPIRED => FailureKind::Expired,
            _ if self.major & GSS_S_DUPLICATE_TOKEN != 0 => FailureKind::Replayed,
            _ => FailureKind::Other,
        }
    }

    /// The library's own text for both statuses (for logs and events, never for callers).
    pub fn detail(&self) -> String {
        format!(
            "{}: {} ({})",
            self.during,
            ffi::status_text(self.major, 1),
            ffi::status_text(self.minor, 2)
        )
    }
}

/// Classifies MIT krb5's error texts (its com_err table, stable across releases).
fn kind_from_text(text: &str) -> Option<FailureKind> {
    let text = text.to_ascii_lowercase();
    let has = |needle: &str| text.contains(needle);
    if has("clock skew too great") {
        Some(FailureKind::ClockSkew)
    } else if has("ticket expired") {
        Some(FailureKind::Expired)
    } else if has("ticket not yet valid") {
        Some(FailureKind::NotYetValid)
    } else if has("replay") {
        Some(FailureKind::Replayed)
    } else if has("wrong principal")
        || has("key version number")
        || has("no key table entry")
        || has("cannot find key")
        || has("not found in keytab")
    {
        Some(FailureKind::WrongKey)
    } else if has("integrity check failed") || has("message stream modified") {
        Some(FailureKind::Integrity)
    } else {
        None
    }
}

impl fmt::Display for GssError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GSSAPI failure while {} (major {:#x}, minor {})",
            self.during, self.major, self.minor as i32
        )
    }
}

impl std::error::Error for GssError {}

/// Acceptor credentials for the principals of one keytab.
pub struct AcceptorCredential {
    // Declared before the keys, so it is released before they are removed.
    credential: ffi::Credential,
    /// The keytab's entries, in memory for as long as the credential accepts.
    _keys: ffi::MemoryKeytab,
    /// Keeps krb5.conf parsed for as long as the credential accepts (see `ConfigHold`).
    _config: Option<ffi::ConfigHold>,
}

impl fmt::Debug for AcceptorCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AcceptorCredential")
    }
}

fn path_str(path: &Path) -> Result<&str, GssError> {
    path.to_str()
        .ok_or(GssError::invalid_argument("a path that is not UTF-8"))
}

impl AcceptorCredential {
    /// Credentials for `principal` (`HTTP/<connector name>@REALM`) from the keytab file
    /// `keytab`, using the file replay cache `rcache` (MIT's `file2` type), so a token
    /// presented twice is refused. Tickets for any other principal are refused. The file's
    /// entries are copied into memory: the file may be removed once this returns, and later
    /// changes to it are not seen.
    pub fn from_keytab(keytab: &Path, rcache: &Path, principal: &str) -> Result<Self, GssError> {
        let keys = ffi::MemoryKeytab::copy_of(path_str(keytab)?)?;
        let rcache = format!("file2:{}", path_str(rcache)?);
        Ok(Self {
            credential: ffi::acceptor_credential(keys.name(), &rcache, principal)?,
            _keys: keys,
            _config: ffi::ConfigHold::new(),
        })
    }
}

/// A context that needs another token from the caller (a multi-leg SPNEGO negotiation).
pub struct PendingContext(ffi::Context);

impl fmt::Debug for PendingContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PendingContext")
    }
}

/// The result of feeding one token to the acceptor.
#[derive(Debug)]
pub enum Accepted {
    /// The caller is authenticated.
    Complete {
        /// `name@REALM`.
        principal: String,
        /// The verified `urn:mspac:logon-info` buffer; `None` when the ticket has no PAC.
        logon_info: Option<Vec<u8>>,
        /// A PAC was present but not verified by the library (never used).
        unverified_pac: bool,
        /// Token for the caller (mutual authentication), if any.
        output_token: Vec<u8>,
    },
    /// Send `output_token` back with a 401 and continue on the same connection.
    Continue {
        context: PendingContext,
        output_token: Vec<u8>,
    },
}

/// Feeds `token` to a new context, or to `pending` when the negotiation continues.
pub fn accept(
    credential: &AcceptorCredential,
    pending: Option<PendingContext>,
    token: &[u8],
) -> Result<Accepted, GssError> {
    let mut context = pending.map_or_else(ffi::Context::new, |p| p.0);
    let result = ffi::accept_step(&mut context, &credential.credential, token)?;
    if result.complete {
        Ok(Accepted::Complete {
            principal: result.principal.unwrap_or_default(),
            logon_info: result.logon_info,
            unverified_pac: result.unverified_pac,
            output_token: result.output_token,
        })
    } else {
        Ok(Accepted::Continue {
            context: PendingContext(context),
            output_token: result.output_token,
        })
    }
}

/// The client side, for tests and the load generator: SPNEGO tokens from a credential cache.
#[cfg(feature = "initiator")]
pub struct Initiator {
    credential: ffi::Credential,
    /// Keeps krb5.conf parsed for as long as the initiator makes tokens (see `ConfigHold`).
    _config: Option<ffi::ConfigHold>,
}

#[cfg(feature = "initiator")]
impl fmt::Debug for Initiator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Initiator")
    }
}

#[cfg(feature = "initiator")]
impl Initiator {
    /// Uses the tickets in the credential cache file `ccache` (for example from `kinit -c`).
    /// Service tickets are fetched from the KDC named by the process's krb5.conf.
    pub fn from_ccache(ccache: &Path) -> Result<Self, GssError> {
        let ccache = format!("FILE:{}", path_str(ccache)?);
        Ok(Self {
            credential: ffi::initiator_credential(&ccache)?,
            _config: ffi::ConfigHold::new(),
        })
    }

    /// As [`Initiator::from_ccache`], from a copy of the cache's tickets in this process's
    /// memory (an MIT `MEMORY:` cache), so that a token costs no file reads: what the load
    /// generator needs to make thousands per second. Later changes to the file are not seen.
    pub fn from_ccache_in_memory(ccache: &Path) -> Result<Self, GssError> {
        let from_file = Self::from_ccache(ccache)?;
        // Named after the file, which is unique to its kinit, so two copies never collide.
        let memory = format!("MEMORY:rmsc-{}", path_str(ccache)?);
        ffi::store_initiator_credential(&from_file.credential, &memory)?;
        Ok(Self {
            credential: ffi::initiator_credential(&memory)?,
            _config: from_file._config,
        })
    }

    /// A fresh SPNEGO token for `HTTP@<host>` (a new authenticator each call).
    pub fn token_for(&self, host: &str) -> Result<Vec<u8>, GssError> {
        ffi::initiate(&self.credential, &format!("HTTP@{host}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mit_error_texts_are_classified() {
        assert_eq!(
            kind_from_text("Clock skew too great"),
            Some(FailureKind::ClockSkew)
        );
        assert_eq!(kind_from_text("Ticket expired"), Some(FailureKind::Expired));
        assert_eq!(
            kind_from_text("Ticket not yet valid"),
            Some(FailureKind::NotYetValid)
        );
        assert_eq!(
            kind_from_text("Request is a replay"),
            Some(FailureKind::Replayed)
        );
        assert_eq!(
            kind_from_text("Key version number for principal in key table is incorrect"),
            Some(FailureKind::WrongKey)
        );
        assert_eq!(
            kind_from_text("Decrypt integrity check failed"),
            Some(FailureKind::Integrity)
        );
        assert_eq!(kind_from_text("Unknown code 12"), None);
    }
}
