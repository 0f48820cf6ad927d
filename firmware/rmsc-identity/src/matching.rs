//! Matching a caller against the authorized-server list. An entry with a SID matches only by
//! SID (the caller's own or one of its groups), so renaming an account keeps it authorized and
//! a new account that reuses an old name does not inherit its rights. An entry without a SID
//! (added by name before the directory could be browsed) matches the caller's account name.

use crate::{same_account, CallerIdentity};
use rmsc_contract::{AuthorizedEntry, Role};

/// How an entry matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// The caller's own SID.
    AccountSid,
    /// One of the caller's group SIDs.
    GroupSid,
    /// The caller's account name (entry without a SID).
    AccountName,
}

/// The entry that authorizes a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationMatch<'a> {
    pub entry: &'a AuthorizedEntry,
    pub role: Role,
    pub matched_by: MatchedBy,
}

/// Finds the entry that authorizes `caller`, or `None` (refuse). When several entries match,
/// the most privileged role wins (Exchange, then SharePoint, then file server): the original
/// grants super-user rights to every account of an Exchange entry whatever else lists it.
pub fn authorize<'a>(
    caller: &CallerIdentity,
    entries: &'a [AuthorizedEntry],
) -> Option<AuthorizationMatch<'a>> {
    entries
        .iter()
        .filter_map(|entry| match_entry(caller, entry).map(|by| (entry, by)))
        .min_by_key(|(entry, _)| entry.role)
        .map(|(entry, matched_by)| AuthorizationMatch {
            entry,
            role: entry.role,
            matched_by,
        })
}

fn match_entry(caller: &CallerIdentity, entry: &AuthorizedEntry) -> Option<MatchedBy> {
    match &entry.sid {
        Some(sid) if sid.eq_ignore_ascii_case(&caller.sid) => Some(MatchedBy::AccountSid),
        Some(sid) => caller
            .group_sids
            .iter()
            .any(|g| g.eq_ignore_ascii_case(sid))
            .then_some(MatchedBy::GroupSid),
        None => same_account(&entry.account, &caller.account).then_some(MatchedBy::AccountName),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmsc_contract::EntryKind;

    fn entry(account: &str, sid: Option<&str>, role: Role, kind: EntryKind) -> AuthorizedEntry {
        AuthorizedEntry {
            account: account.into(),
            sid: sid.map(Into::into),
            kind,
            role,
            added_by: String::new(),
            added_at: 0,
        }
    }

    fn caller(account: &str, sid: &str, groups: &[&str]) -> CallerIdentity {
        CallerIdentity {
            account: account.into(),
            sid: sid.into(),
            group_sids: groups.iter().map(|g| (*g).into()).collect(),
            mechanism: "test",
        }
    }

    #[test]
    fn group_sid_grants_its_role() {
        let list = [entry(
            "CONTOSO\\Exchange Servers",
            Some("S-1-5-21-1-2-3-1100"),
            Role::Exchange,
            EntryKind::Group,
        )];
        let c = caller(
            "CONTOSO\\EXCH01$",
            "S-1-5-21-1-2-3-2001",
            &["S-1-5-21-1-2-3-515", "S-1-5-21-1-2-3-1100"],
        );
        let m = authorize(&c, &list).expect("authorized");
        assert_eq!(m.role, Role::Exchange);
        assert_eq!(m.matched_by, MatchedBy::GroupSid);
    }

    #[test]
    fn sid_entries_survive_renames_and_ignore_reused_names() {
        let list = [entry(
            "CONTOSO\\old-name",
            Some("S-1-5-21-1-2-3-3000"),
            Role::SharePoint,
            EntryKind::Account,
        )];
        let renamed = caller("CONTOSO\\new-name", "S-1-5-21-1-2-3-3000", &[]);
        assert!(authorize(&renamed, &list).is_some());
        let impostor = caller("CONTOSO\\old-name", "S-1-5-21-1-2-3-9999", &[]);
        assert!(authorize(&impostor, &list).is_none());
    }

    #[test]
    fn name_only_entries_match_the_account() {
        let list = [entry(
            "CONTOSO\\FS01$",
            None,
            Role::FileServer,
            EntryKind::Computer,
        )];
        assert!(authorize(&caller("contoso\\fs01$", "S-1-5-21-1-2-3-4000", &[]), &list).is_some());
        assert!(authorize(&caller("CONTOSO\\FS02$", "S-1-5-21-1-2-3-4001", &[]), &list).is_none());
    }

    #[test]
    fn most_privileged_role_wins() {
        let list = [
            entry(
                "CONTOSO\\svc",
                Some("S-1-5-21-1-2-3-5000"),
                Role::SharePoint,
                EntryKind::Account,
            ),
            entry(
                "CONTOSO\\Exchange Servers",
                Some("S-1-5-21-1-2-3-1100"),
                Role::Exchange,
                EntryKind::Group,
            ),
        ];
        let c = caller(
            "CONTOSO\\svc",
            "S-1-5-21-1-2-3-5000",
            &["S-1-5-21-1-2-3-1100"],
        );
        assert_eq!(authorize(&c, &list).map(|m| m.role), Some(Role::Exchange));
    }

    #[test]
    fn empty_list_refuses_everyone() {
        assert!(authorize(&caller("CONTOSO\\x", "S-1-5-21-1", &[]), &[]).is_none());
    }
}
