//! Configuration backup and restore. A backup is JSON (settings, the authorized-list
//! snapshot, the connector name, the caller certificate with its key, the keytab) sealed
//! with a passphrase by `rmsc-backup`. The machine key and the cloud registration are not in
//! it. Restore checks every part before it changes anything.

use crate::certificate::{stored_caller_certificate, CertificateSource, SOURCE_SETTING};
use crate::directory::{validate_directory, DirectorySettings};
use crate::error::AdminError;
use crate::network::{validate_network, NetworkSettings};
use crate::ops::{unix_now, Admin};
use crate::proxy::{parse_proxy_url, ProxyUpdate, PROXY_PASSWORD_SECRET};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rmsc_contract::AuthorizedList;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

const FORMAT: &str = "rmsc-configuration-backup";
const VERSION: u32 = 1;
/// Written into every backup so whoever opens it knows what restoring does.
const RESTORE_NOTE: &str = "Restoring this backup on a connector appliance applies the network, proxy and directory settings, installs the HTTPS certificate of the caller listeners and the Kerberos keytab (both take effect at once). It does not restore the cloud registration: sign in to the cloud service and register the appliance again. The authorized-server list is kept here for reference only; the cloud service holds the list and the appliance fetches it once registered. The appliance's machine key is never part of a backup.";
/// Shortest passphrase accepted for a new backup.
const MIN_PASSPHRASE: usize = 8;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BackupProxy {
    url: String,
    username: String,
    password: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BackupCertificate {
    source: String,
    /// Chain and private key, PEM.
    pem: String,
}

/// What a backup file holds once opened.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BackupContents {
    format: String,
    version: u32,
    restore_note: String,
    created_at: i64,
    created_by: String,
    appliance_name: String,
    software_version: String,
    connector_name: Option<String>,
    network: Option<NetworkSettings>,
    proxy: Option<BackupProxy>,
    directory: Option<DirectorySettings>,
    authorized_list: Option<AuthorizedList>,
    caller_certificate: Option<BackupCertificate>,
    keytab_base64: Option<String>,
}

/// A backup file ready to download.
#[derive(Debug, Clone)]
pub struct BackupFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

fn bad_backup(message: impl Into<String>) -> AdminError {
    AdminError::Refused {
        code: "bad_backup",
        message: message.into(),
    }
}

/// Everything a restore will apply, checked.
struct CheckedRestore {
    contents: BackupContents,
    certificate: Option<(rmsc_certs::Uploaded, String)>,
    keytab: Option<(Vec<u8>, String)>,
}

impl Admin {
    /// Makes an encrypted backup of the configuration.
    pub async fn backup(&self, passphrase: &str, actor: &str) -> Result<BackupFile, AdminError> {
        if passphrase.chars().count() < MIN_PASSPHRASE {
            return Err(AdminError::InvalidSetting {
                field: "passphrase",
                message: format!("Use a passphrase of at least {MIN_PASSPHRASE} characters; it is needed to restore the backup."),
            });
        }
        let proxy = self.proxy_settings()?;
        let proxy_password = self.store.secret(PROXY_PASSWORD_SECRET)?;
        let source: Option<CertificateSource> = self.store.setting(SOURCE_SETTING)?;
        let contents = BackupContents {
            format: FORMAT.into(),
            version: VERSION,
            restore_note: RESTORE_NOTE.into(),
            created_at: unix_now(),
            created_by: actor.to_owned(),
            appliance_name: self.config.appliance_name.clone(),
            software_version: self.config.version.clone(),
            connector_name: self.store.registration()?.map(|r| r.connector_name),
            network: Some(self.network_settings()?),
            proxy: (!proxy.url.is_empty()).then(|| BackupProxy {
                url: proxy.url.clone(),
                username: proxy.username.clone(),
                password: proxy_password.and_then(|p| p.expose_str().map(str::to_owned)),
            }),
            directory: self.store.setting(crate::directory::DIRECTORY_SETTING)?,
            authorized_list: Some(self.authorized_list()),
            caller_certificate: stored_caller_certificate(&self.store)?.map(|c| {
                BackupCertificate {
                    source: source.map_or_else(|| "self_signed".to_owned(), |s| s.source),
                    pem: c.to_pem(),
                }
            }),
            keytab_base64: self.keytab_bytes()?.map(|k| B64.encode(k)),
        };
        let plain = serde_json::to_vec_pretty(&contents)
            .map_err(|e| AdminError::Internal(format!("cannot encode the backup: {e}")))?;
        let params = self
            .appliance
            .get()
            .map_or(rmsc_backup::KdfParams::DEFAULT, |a| a.backup_kdf);
        let passphrase = passphrase.to_owned();
        let sealed = tokio::task::spawn_blocking(move || {
            rmsc_backup::seal_with(params, &plain, &passphrase)
        })
        .await
        .map_err(|e| AdminError::Internal(format!("the backup task failed: {e}")))?
        .map_err(|e| AdminError::Internal(crate::certificate::sentence(&e.to_string())))?;
        let date = OffsetDateTime::now_utc().date();
        self.record_change(actor, "backup", "downloaded a configuration backup")
            .await;
        Ok(BackupFile {
            file_name: format!("rmsc-backup-{date}.rmscbak"),
            bytes: sealed,
        })
    }

    /// Opens and checks a backup, then applies it. Nothing changes when any check fails.
    pub async fn restore(
        &self,
        passphrase: &str,
        backup_base64: &str,
        actor: &str,
    ) -> Result<(), AdminError> {
        let compact: String = backup_base64
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let bytes = B64
            .decode(compact)
            .map_err(|_| bad_backup("The backup file did not arrive intact; upload it again."))?;
        let passphrase = passphrase.to_owned();
        let plain = tokio::task::spawn_blocking(move || rmsc_backup::open(&bytes, &passphrase))
            .await
            .map_err(|e| AdminError::Internal(format!("the restore task failed: {e}")))?
            .map_err(|e| bad_backup(crate::certificate::sentence(&e.to_string())))?;
        let contents: BackupContents = serde_json::from_slice(&plain).map_err(|_| {
            bad_backup("The backup opened but its contents are not a connector configuration.")
        })?;
        let appliance = self.appliance()?;
        let _guard = appliance.change_lock.lock().await;
        let checked = self.check_restore(contents)?;
        self.apply_restore(checked, actor).await
    }

    fn check_restore(&self, contents: BackupContents) -> Result<CheckedRestore, AdminError> {
        if contents.format != FORMAT || contents.version != VERSION {
            return Err(bad_backup(format!(
                "This backup has format {} version {}, which this connector cannot restore.",
                contents.format, contents.version
            )));
        }
        let part = |what: &str, e: AdminError| {
            bad_backup(format!("The backup's {what} cannot be restored: {e}"))
        };
        if let Some(network) = &contents.network {
            validate_network(network.clone()).map_err(|e| part("network settings", e))?;
        }
        if let Some(proxy) = &contents.proxy {
            parse_proxy_url(&proxy.url).map_err(|e| part("proxy", e))?;
        }
        if let Some(directory) = &contents.directory {
            validate_directory(directory.clone()).map_err(|e| part("directory settings", e))?;
        }
        // The registered name wins: the certificate and keytab must fit what callers use now.
        let name = self
            .store
            .registration()?
            .map(|r| r.connector_name)
            .or_else(|| contents.connector_name.clone());
        let certificate = match &contents.caller_certificate {
            None => None,
            Some(c) => {
                let name = name.as_deref().ok_or_else(|| {
                    bad_backup(
                        "The backup has a certificate but no connector name to check it against.",
                    )
                })?;
                let cert = rmsc_certs::parse_pem_bundle(c.pem.as_bytes())
                    .map_err(|e| part("HTTPS certificate", crate::certificate::cert_refused(&e)))?;
                let report = rmsc_certs::check(&cert, name, OffsetDateTime::now_utc());
                if let Some(refusal) = crate::cert_view::refused_by_report(&report) {
                    return Err(part("HTTPS certificate", refusal));
                }
                Some((cert, c.source.clone()))
            }
        };
        let keytab = match &contents.keytab_base64 {
            None => None,
            Some(b64) => {
                let name = name.as_deref().ok_or_else(|| {
                    bad_backup("The backup has a keytab but no connector name to check it against.")
                })?;
                let bytes = B64
                    .decode(b64)
                    .map_err(|_| bad_backup("The backup's keytab is damaged."))?;
                crate::kerberos::check_keytab(&bytes, name).map_err(|e| part("keytab", e))?;
                Some((bytes, name.to_owned()))
            }
        };
        Ok(CheckedRestore {
            contents,
            certificate,
            keytab,
        })
    }

    /// Applies a checked backup; the keytab goes first because activating it is the one step
    /// that can still fail (MIT refuses it), and then nothing else has changed yet.
    async fn apply_restore(&self, checked: CheckedRestore, actor: &str) -> Result<(), AdminError> {
        let CheckedRestore {
            contents,
            certificate,
            keytab,
        } = checked;
        if let Some((bytes, name)) = keytab {
            self.install_keytab(bytes, &name, actor).await?;
            self.shared_item_changed(crate::sharing::SharedItem::Keytab)
                .await;
        }
        if let Some((cert, source)) = certificate {
            self.install_certificate(cert, &source, actor).await?;
            self.shared_item_changed(crate::sharing::SharedItem::Certificate)
                .await;
        }
        if let Some(network) = contents.network {
            self.set_network_settings(network, actor).await?;
        }
        match contents.proxy {
            Some(proxy) => {
                let update = ProxyUpdate {
                    url: proxy.url,
                    username: proxy.username,
                    password: Some(proxy.password.unwrap_or_default()),
                };
                self.set_proxy_settings(update, actor).await?;
            }
            None => {
                self.set_proxy_settings(ProxyUpdate::default(), actor)
                    .await?;
            }
        }
        if let Some(directory) = contents.directory {
            self.set_directory_settings(directory, actor).await?;
        }
        self.record_change(
            actor,
            "restore",
            &format!(
                "restored the configuration backup made by {} on {} at {}",
                contents.created_by, contents.appliance_name, contents.created_at
            ),
        )
        .await;
        Ok(())
    }
}
