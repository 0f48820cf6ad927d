//! Errors of directory look-ups, told apart by cause so the admin API can answer
//! 503 `directory_unavailable` with a message the administrator can act on.

/// A directory operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// No domain controller (or KDC) could be reached.
    #[error("the directory is unreachable: {0}")]
    Unreachable(String),
    /// The connector's account could not authenticate to the directory.
    #[error("authentication to the directory failed: {0}")]
    AuthFailed(String),
    /// The directory did not answer in time.
    #[error("the directory did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    /// The configuration cannot work (no URL, unreadable keytab, ...).
    #[error("directory configuration: {0}")]
    Config(String),
    /// The query cannot be searched for (empty, too long).
    #[error("invalid directory query: {0}")]
    InvalidQuery(String),
    /// The directory answered with an error or something unexpected.
    #[error("directory error: {0}")]
    Protocol(String),
}

impl DirectoryError {
    /// True when the directory itself is unavailable (unreachable, refusing us, too slow):
    /// the cases the admin API reports as 503 `directory_unavailable`.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            DirectoryError::Unreachable(_)
                | DirectoryError::AuthFailed(_)
                | DirectoryError::TimedOut(_)
        )
    }
}

/// Hint for the AD error administrators hit first: a keytab from `samba-tool exportkeytab`
/// or a `ktpass /setupn-` export whose principal is not the account's user principal name.
pub(crate) const CLIENT_NOT_FOUND_HINT: &str = "the domain does not know the keytab's \
    principal as a client: its userPrincipalName must equal the principal (ktpass /mapuser \
    sets it), or name the account's own principal in the directory settings";

/// Sorts a GSSAPI/Kerberos failure text into unreachable (no KDC) or authentication failed.
pub(crate) fn from_gss_text(text: String) -> DirectoryError {
    let lower = text.to_ascii_lowercase();
    if lower.contains("cannot contact any kdc") || lower.contains("cannot find kdc") {
        DirectoryError::Unreachable(format!("no Kerberos KDC answered: {text}"))
    } else if lower.contains("not found in kerberos database") {
        DirectoryError::AuthFailed(format!("{text}; {CLIENT_NOT_FOUND_HINT}"))
    } else {
        DirectoryError::AuthFailed(text)
    }
}

/// Maps an ldap3 error onto our causes.
pub(crate) fn from_ldap(error: ldap3::LdapError, timeout: std::time::Duration) -> DirectoryError {
    use ldap3::LdapError as E;
    match error {
        E::Timeout { .. } => DirectoryError::TimedOut(timeout),
        E::Io { source } => DirectoryError::Unreachable(source.to_string()),
        E::GssapiOperationError(text) => from_gss_text(text),
        E::NoGssapiToken => DirectoryError::AuthFailed("the server sent no GSSAPI token".into()),
        E::LdapResult { result } => from_result_code(result.rc, &result.text),
        E::EndOfStream | E::OpSend { .. } | E::ResultRecv { .. } => {
            DirectoryError::Unreachable("the directory closed the connection".into())
        }
        other => DirectoryError::Protocol(other.to_string()),
    }
}

/// Maps a non-success LDAP result code (RFC 4511 4.1.9).
pub(crate) fn from_result_code(rc: u32, text: &str) -> DirectoryError {
    match rc {
        3 => DirectoryError::Protocol(format!("server time limit exceeded: {text}")),
        7 | 8 | 13 | 48 | 49 | 50 => DirectoryError::AuthFailed(format!("LDAP code {rc}: {text}")),
        51 | 52 => DirectoryError::Unreachable(format!("server busy or unavailable: {text}")),
        _ => DirectoryError::Protocol(format!("LDAP code {rc}: {text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kerberos_texts_are_sorted_by_cause() {
        let no_kdc = from_gss_text("Cannot contact any KDC for realm 'X'".into());
        assert!(matches!(no_kdc, DirectoryError::Unreachable(_)));
        let unknown = from_gss_text("Client 'HTTP/x@R' not found in Kerberos database".into());
        assert!(unknown.to_string().contains("userPrincipalName"));
        assert!(unknown.is_unavailable());
    }

    #[test]
    fn result_codes_are_sorted_by_cause() {
        assert!(matches!(
            from_result_code(49, "bad"),
            DirectoryError::AuthFailed(_)
        ));
        assert!(matches!(
            from_result_code(52, ""),
            DirectoryError::Unreachable(_)
        ));
        assert!(!from_result_code(32, "no such object").is_unavailable());
    }
}
