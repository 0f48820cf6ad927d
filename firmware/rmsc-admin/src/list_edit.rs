//! Edits of the authorized-server list. The list lives in the cloud; an edit is a
//! read-modify-write with If-Match, repeated on conflict, so two appliances editing at once
//! never lose each other's change.

use crate::error::AdminError;
use crate::ops::{unix_now, Admin};
use rmsc_cloud::{ListRead, ListWrite};
use rmsc_contract::{AuthorizedEntry, AuthorizedList, EntryKind, Role};
use rmsc_identity::{is_valid_sid, same_account};
use serde::Deserialize;

/// Attempts before giving up on a list that keeps changing.
const MAX_ATTEMPTS: usize = 8;

/// An entry to add, as an administrator gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct NewEntry {
    pub account: String,
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub kind: EntryKind,
    pub role: Role,
}

impl Admin {
    /// Authorizes an account, computer or group (replacing an entry for the same object).
    pub async fn authorize_add(
        &self,
        entry: NewEntry,
        actor: &str,
    ) -> Result<AuthorizedList, AdminError> {
        let account = entry.account.trim().to_owned();
        if account.is_empty() || account.len() > 512 || account.chars().any(char::is_control) {
            return Err(AdminError::Invalid(
                "Enter the account as DOMAIN\\name.".into(),
            ));
        }
        let sid = entry
            .sid
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty());
        if let Some(sid) = &sid {
            if !is_valid_sid(sid) {
                return Err(AdminError::Invalid(format!(
                    "{sid:?} is not a valid SID (S-1-5-21-...)."
                )));
            }
        }
        let new = AuthorizedEntry {
            account: account.clone(),
            sid,
            kind: entry.kind,
            role: entry.role,
            added_by: actor.to_owned(),
            added_at: unix_now(),
        };
        let list = self
            .edit_list(|entries| {
                entries.retain(|e| !same_object(e, &new));
                entries.push(new.clone());
                Ok(())
            })
            .await?;
        self.audit(
            actor,
            &format!("authorized {account} with the {} role", entry.role),
        )
        .await;
        Ok(list)
    }

    /// Removes the entry whose SID or account equals `key`.
    pub async fn authorize_remove(
        &self,
        key: &str,
        actor: &str,
    ) -> Result<AuthorizedList, AdminError> {
        let key = key.trim().to_owned();
        let list = self
            .edit_list(|entries| {
                let before = entries.len();
                entries.retain(|e| {
                    !(e.sid
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(&key))
                        || same_account(&e.account, &key))
                });
                if entries.len() == before {
                    return Err(AdminError::NotFound(format!(
                        "{key} is not on the authorized-server list."
                    )));
                }
                Ok(())
            })
            .await?;
        self.audit(
            actor,
            &format!("removed {key} from the authorized-server list"),
        )
        .await;
        Ok(list)
    }

    async fn edit_list(
        &self,
        mut edit: impl FnMut(&mut Vec<AuthorizedEntry>) -> Result<(), AdminError>,
    ) -> Result<AuthorizedList, AdminError> {
        let api = self.cloud.connector().ok_or(AdminError::NotRegistered)?;
        for _ in 0..MAX_ATTEMPTS {
            let current = match api.read_list(None, None).await? {
                ListRead::Changed(list) => list,
                ListRead::Unchanged => continue,
            };
            let mut entries = current.entries.clone();
            edit(&mut entries)?;
            match api.write_list(current.version, entries).await? {
                ListWrite::Written(list) => {
                    self.sync.apply(list.clone()).await;
                    return Ok(list);
                }
                ListWrite::Conflict => tracing::info!(
                    version = current.version,
                    "list changed meanwhile; applying the edit again"
                ),
            }
        }
        Err(AdminError::Conflict)
    }
}

fn same_object(a: &AuthorizedEntry, b: &AuthorizedEntry) -> bool {
    match (&a.sid, &b.sid) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => same_account(&a.account, &b.account),
    }
}
