//! Who is calling, and may they: the caller identity an authentication mechanism produces,
//! the interface every mechanism implements (Kerberos plugs in here), and the matching of an
//! identity against the tenant's authorized-server list.

mod matching;
mod source;
#[cfg(feature = "test-identity")]
pub mod test_header;

pub use matching::{authorize, AuthorizationMatch, MatchedBy};
pub use source::{AuthOutcome, BoxFuture, ConnectionAuth, IdentitySource, RefusalReason};

use serde::Serialize;
use std::fmt;

/// An authenticated caller: its account, its SID and the SIDs of every group it belongs to
/// (transitively, as the verified Kerberos PAC lists them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallerIdentity {
    /// `DOMAIN\name`; computer accounts end in `$`.
    pub account: String,
    /// The account's own SID, `S-1-5-21-...`.
    pub sid: String,
    /// Group SIDs, including nested groups, extra SIDs and resource groups.
    pub group_sids: Vec<String>,
    /// Name of the mechanism that vouched for this identity (`kerberos`, `test-header`).
    pub mechanism: &'static str,
}

impl CallerIdentity {
    /// The account name without its domain.
    pub fn short_name(&self) -> &str {
        self.account.rsplit('\\').next().unwrap_or(&self.account)
    }
}

impl fmt::Display for CallerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.account, self.sid)
    }
}

/// Whether `s` is a syntactically valid SID string (`S-1-<authority>-<sub>...`, at most 15
/// sub-authorities, each a u32). Used to validate entries before they are stored.
pub fn is_valid_sid(s: &str) -> bool {
    let mut parts = s.split('-');
    if !matches!(parts.next(), Some("S" | "s")) || parts.next() != Some("1") {
        return false;
    }
    let Some(authority) = parts.next() else {
        return false;
    };
    if authority.parse::<u64>().map_or(true, |a| a >= 1 << 48) {
        return false;
    }
    let subs: Vec<&str> = parts.collect();
    subs.len() <= 15
        && subs
            .iter()
            .all(|p| !p.is_empty() && p.parse::<u32>().is_ok())
}

/// Compares two account names the way Windows does: case-insensitively, and treating
/// `DOMAIN\name` and a bare `name` as equal when one side has no domain.
pub fn same_account(a: &str, b: &str) -> bool {
    fn split(s: &str) -> (Option<&str>, &str) {
        match s.split_once('\\') {
            Some((d, n)) => (Some(d), n),
            None => (None, s),
        }
    }
    let (da, na) = split(a.trim());
    let (db, nb) = split(b.trim());
    if !na.eq_ignore_ascii_case(nb) {
        return false;
    }
    match (da, db) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_syntax() {
        assert!(is_valid_sid("S-1-5-21-1004336348-1177238915-682003330-512"));
        assert!(is_valid_sid("S-1-5-32-544"));
        assert!(!is_valid_sid("S-2-5-21"));
        assert!(!is_valid_sid("S-1-5-21-x"));
        assert!(!is_valid_sid("S-1-281474976710656-1"));
        assert!(!is_valid_sid(""));
        assert!(!is_valid_sid(
            "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"
        ));
    }

    #[test]
    fn account_comparison() {
        assert!(same_account("CONTOSO\\EXCH01$", "contoso\\exch01$"));
        assert!(same_account("CONTOSO\\EXCH01$", "EXCH01$"));
        assert!(!same_account("CONTOSO\\EXCH01$", "FABRIKAM\\EXCH01$"));
        assert!(!same_account("CONTOSO\\EXCH01$", "CONTOSO\\EXCH02$"));
    }
}

/// The test-only header source, when this build includes it (feature `test-identity`); the
/// release build returns `None`, so a configuration asking for it fails validation there.
pub fn test_header_source() -> Option<std::sync::Arc<dyn IdentitySource>> {
    #[cfg(feature = "test-identity")]
    {
        Some(std::sync::Arc::new(test_header::TestHeaderSource))
    }
    #[cfg(not(feature = "test-identity"))]
    {
        None
    }
}

/// A source that refuses every caller: used until Windows authentication is configured.
#[derive(Debug, Default)]
pub struct RefuseAll;

impl IdentitySource for RefuseAll {
    fn name(&self) -> &'static str {
        "none"
    }

    fn authenticate<'a>(
        &'a self,
        _: &'a http::HeaderMap,
        _: &'a ConnectionAuth,
    ) -> BoxFuture<'a, AuthOutcome> {
        Box::pin(async {
            AuthOutcome::Refused {
                status: http::StatusCode::UNAUTHORIZED,
                www_authenticate: vec![http::HeaderValue::from_static("Negotiate")],
                reason: RefusalReason::NotConfigured(
                    "no authentication mechanism configured".into(),
                ),
            }
        })
    }
}
