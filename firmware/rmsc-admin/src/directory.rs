//! Directory search for the authorized-server list: the domain controllers (configuration
//! file, overridable by an admin setting), the connector's own keytab (a 0600 copy written
//! next to the acceptor's whenever a keytab is installed) and its service principal. One
//! authenticated connection is kept and reused until the keytab or the settings change.

use crate::error::AdminError;
use crate::ops::Admin;
use rmsc_directory::{
    Directory, DirectoryAuth, DirectoryConfig, DirectoryEntry, DirectoryError, EntryKind,
    GroupScope, KindFilter,
};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) const DIRECTORY_SETTING: &str = "directory.settings";

/// Where the directory is, as the administrator set it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorySettings {
    /// `ldap://dc1.contoso.com` URLs; empty uses the configuration file's.
    #[serde(default)]
    pub ldap_urls: Vec<String>,
    /// Search base such as `DC=contoso,DC=com`; empty reads it from the directory.
    #[serde(default)]
    pub base_dn: String,
}

/// One search result as the UI shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DirectoryHit {
    pub name: String,
    /// `DOMAIN\sAMAccountName`, the domain taken from the first DC= part of the DN.
    pub account: String,
    pub sid: String,
    /// `user`, `computer` or `group`.
    pub kind: &'static str,
    /// For groups: `global`, `domain_local` or `universal`.
    pub scope: Option<&'static str>,
    pub dn: String,
}

/// The connection in use and what it was made from.
pub(crate) struct CachedDirectory {
    key: (Vec<String>, String, String),
    directory: Arc<Directory>,
}

fn unavailable(message: impl Into<String>) -> AdminError {
    AdminError::Upstream {
        code: "directory_unavailable",
        message: message.into(),
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> AdminError {
    AdminError::InvalidSetting {
        field,
        message: message.into(),
    }
}

/// Checks the settings: plain `ldap://host[:port]` URLs (the GSSAPI bind seals the
/// connection) and a DN-looking base.
pub fn validate_directory(mut s: DirectorySettings) -> Result<DirectorySettings, AdminError> {
    s.ldap_urls = s
        .ldap_urls
        .iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    if s.ldap_urls.len() > 8 {
        return Err(invalid("ldap_urls", "Enter at most 8 domain controllers."));
    }
    for url in &s.ldap_urls {
        let host_port = url
            .strip_prefix("ldap://")
            .map(|r| r.strip_suffix('/').unwrap_or(r));
        let ok = host_port.is_some_and(|hp| {
            let (host, port) = hp.rsplit_once(':').unwrap_or((hp, "389"));
            crate::network::is_host_name(host) && port.parse::<u16>().is_ok_and(|p| p != 0)
        });
        if !ok {
            return Err(invalid(
                "ldap_urls",
                format!("{url:?} is not ldap://<domain controller DNS name>[:port]; use the DC's DNS name, which its Kerberos name uses."),
            ));
        }
    }
    s.base_dn = s.base_dn.trim().to_owned();
    let dn_ok = s.base_dn.is_empty()
        || (s.base_dn.contains('=')
            && s.base_dn.len() <= 512
            && !s.base_dn.chars().any(char::is_control));
    if !dn_ok {
        return Err(invalid(
            "base_dn",
            "Enter the search base as DC=contoso,DC=com, or leave it empty.",
        ));
    }
    Ok(s)
}

fn hit(entry: DirectoryEntry) -> DirectoryHit {
    let domain = entry
        .dn
        .split(',')
        .find_map(|part| {
            let (key, value) = part.trim().split_once('=')?;
            key.eq_ignore_ascii_case("DC")
                .then(|| value.to_ascii_uppercase())
        })
        .unwrap_or_default();
    let account = if domain.is_empty() {
        entry.sam_account_name.clone()
    } else {
        format!("{domain}\\{}", entry.sam_account_name)
    };
    DirectoryHit {
        name: entry.name,
        account,
        sid: entry.sid.to_string(),
        kind: match entry.kind {
            EntryKind::User => "user",
            EntryKind::Computer => "computer",
            EntryKind::Group => "group",
        },
        scope: entry.scope.map(|s| match s {
            GroupScope::Global => "global",
            GroupScope::DomainLocal => "domain_local",
            GroupScope::Universal => "universal",
        }),
        dn: entry.dn,
    }
}

fn kind_filter(kind: &str) -> Result<KindFilter, AdminError> {
    let none = KindFilter {
        users: false,
        computers: false,
        groups: false,
    };
    Ok(match kind {
        "" | "any" => KindFilter::ALL,
        "user" => KindFilter {
            users: true,
            ..none
        },
        "computer" => KindFilter {
            computers: true,
            ..none
        },
        "group" => KindFilter {
            groups: true,
            ..none
        },
        _ => {
            return Err(AdminError::Invalid(
                "kind is one of user, computer or group.".into(),
            ))
        }
    })
}

fn search_error(error: DirectoryError) -> AdminError {
    match error {
        DirectoryError::InvalidQuery(why) => {
            AdminError::Invalid(format!("That search cannot be run: {why}."))
        }
        other => {
            tracing::warn!(error = %other, "directory search failed");
            unavailable(format!("The directory could not be searched ({other}). Check the domain controllers under Settings, the keytab, and that the appliance clock is right; or enter the account by hand."))
        }
    }
}

/// Writes (or with `None` removes) the directory client's keytab copy, mode 0600, replaced
/// atomically so a search never reads half a file.
fn write_keytab_copy(path: &Path, bytes: Option<&[u8]>) -> std::io::Result<()> {
    let Some(bytes) = bytes else {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    };
    let tmp = path.with_extension("keytab.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl Admin {
    /// The directory settings in effect (the admin setting, else the configuration's URLs).
    pub fn directory_settings(&self) -> Result<DirectorySettings, AdminError> {
        let mut settings: DirectorySettings =
            self.store.setting(DIRECTORY_SETTING)?.unwrap_or_default();
        if settings.ldap_urls.is_empty() {
            settings.ldap_urls = self
                .appliance
                .get()
                .map(|a| a.default_ldap_urls.clone())
                .unwrap_or_default();
        }
        Ok(settings)
    }

    /// Stores the directory settings and drops the current connection.
    pub async fn set_directory_settings(
        &self,
        settings: DirectorySettings,
        actor: &str,
    ) -> Result<DirectorySettings, AdminError> {
        let settings = validate_directory(settings)?;
        self.store.set_setting(DIRECTORY_SETTING, &settings).await?;
        if let Some(appliance) = self.appliance.get() {
            *appliance.directory_cache.lock().await = None;
        }
        let urls = if settings.ldap_urls.is_empty() {
            "the configured ones".to_owned()
        } else {
            settings.ldap_urls.join(", ")
        };
        self.record_change(
            actor,
            "directory_settings",
            &format!("set the domain controllers to {urls}"),
        )
        .await;
        self.directory_settings()
    }

    /// Keeps the directory client's keytab copy in step with the installed keytab.
    pub(crate) async fn directory_keytab_changed(&self, bytes: Option<Vec<u8>>) {
        let Some(appliance) = self.appliance.get() else {
            return;
        };
        *appliance.directory_cache.lock().await = None;
        let Some(path) = appliance.directory_keytab.clone() else {
            return;
        };
        let written =
            tokio::task::spawn_blocking(move || write_keytab_copy(&path, bytes.as_deref())).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "cannot write the directory keytab copy"),
            Err(error) => tracing::error!(%error, "directory keytab task failed"),
        }
    }

    /// Accounts, computers and groups whose names contain `query`.
    pub async fn directory_search(
        &self,
        query: &str,
        kind: &str,
    ) -> Result<Vec<DirectoryHit>, AdminError> {
        let kinds = kind_filter(kind)?;
        let directory = self.directory().await?;
        let found = directory.search(query, kinds).await.map_err(|e| {
            if e.is_unavailable() {
                // The connection may be stale (DC restarted, ticket expired): reconnect next time.
                if let Some(appliance) = self.appliance.get() {
                    if let Ok(mut cache) = appliance.directory_cache.try_lock() {
                        *cache = None;
                    }
                }
            }
            search_error(e)
        })?;
        Ok(found.into_iter().map(hit).collect())
    }

    async fn directory(&self) -> Result<Arc<Directory>, AdminError> {
        let appliance = self.appliance()?;
        let keytab_path: PathBuf = appliance
            .directory_keytab
            .clone()
            .ok_or_else(|| unavailable("Directory search is not available on this appliance."))?;
        let principal = self
            .keytab_status()
            .ok()
            .filter(|s| s.present)
            .and_then(|s| s.principal)
            .ok_or_else(|| {
                unavailable(
                    "Upload the connector's keytab first: directory search signs in with it.",
                )
            })?;
        let settings = self.directory_settings()?;
        if settings.ldap_urls.is_empty() {
            return Err(unavailable(
                "No domain controller is set: enter them under Settings (ldap://dc1.contoso.com).",
            ));
        }
        let key = (
            settings.ldap_urls.clone(),
            settings.base_dn.clone(),
            principal.clone(),
        );
        let mut cache = appliance.directory_cache.lock().await;
        if let Some(cached) = cache.as_ref().filter(|c| c.key == key) {
            return Ok(cached.directory.clone());
        }
        let mut config = DirectoryConfig::new(
            settings.ldap_urls,
            DirectoryAuth::Keytab {
                path: keytab_path,
                principal: Some(principal),
            },
        );
        config.base_dn = (!settings.base_dn.is_empty()).then_some(settings.base_dn);
        let directory = Arc::new(Directory::connect(config).await.map_err(search_error)?);
        *cache = Some(CachedDirectory {
            key,
            directory: directory.clone(),
        });
        Ok(directory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_settings_accept_ldap_dns_urls_only() {
        let ok = validate_directory(DirectorySettings {
            ldap_urls: vec![
                " ldap://dc1.contoso.com ".into(),
                "ldap://dc2.contoso.com:3268/".into(),
            ],
            base_dn: "DC=contoso,DC=com".into(),
        })
        .expect("valid");
        assert_eq!(ok.ldap_urls[0], "ldap://dc1.contoso.com");
        for bad in [
            "ldaps://dc1.contoso.com",
            "http://dc1",
            "ldap://",
            "ldap://dc1:0",
            "ldap://a b",
        ] {
            let s = DirectorySettings {
                ldap_urls: vec![bad.into()],
                base_dn: String::new(),
            };
            assert!(validate_directory(s).is_err(), "{bad} must be refused");
        }
        let s = DirectorySettings {
            ldap_urls: vec![],
            base_dn: "contoso".into(),
        };
        assert!(validate_directory(s).is_err());
    }

    #[test]
    fn kinds_map_to_filters() {
        assert_eq!(kind_filter("").ok(), Some(KindFilter::ALL));
        assert!(kind_filter("group").is_ok_and(|k| k.groups && !k.users && !k.computers));
        assert!(kind_filter("printer").is_err());
    }

    #[test]
    fn keytab_copy_is_private_and_removable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("directory.keytab");
        write_keytab_copy(&path, Some(b"one")).expect("write");
        write_keytab_copy(&path, Some(b"two")).expect("replace");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        write_keytab_copy(&path, None).expect("remove");
        write_keytab_copy(&path, None).expect("absent is fine");
        assert!(!path.exists());
    }
}
