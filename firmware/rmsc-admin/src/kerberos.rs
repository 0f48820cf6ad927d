//! Keytab management: upload (validated: principal `HTTP/<connector name>`, AES keys), sealed
//! storage, hot replacement of the acceptor credential, status. Runs the same for the CLI and
//! the web UI.

use crate::error::AdminError;
use crate::ops::Admin;
use rmsc_kerberos::keytab::{self, KeytabProblem};
use rmsc_kerberos::{KerberosSource, KeytabInstaller};
use rmsc_telemetry::EventId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Name of the sealed secret holding the keytab file.
pub(crate) const KEYTAB_SECRET: &str = "kerberos.keytab";
/// Setting with what the installed keytab holds (shown without unsealing it).
const KEYTAB_SETTING: &str = "kerberos.keytab.status";
/// Keytabs are small (a few hundred bytes per key); anything bigger is not a keytab.
pub const MAX_KEYTAB_BYTES: usize = 64 * 1024;

/// The Kerberos acceptor the admin operations control.
pub struct KerberosControl {
    pub source: Arc<KerberosSource>,
    pub installer: Arc<KeytabInstaller>,
}

/// What the appliance reports about its keytab.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeytabStatus {
    pub present: bool,
    /// The acceptor is using it right now.
    pub active: bool,
    pub principal: Option<String>,
    pub realm: Option<String>,
    pub kvno: Option<u32>,
    pub enctypes: Vec<String>,
    pub warnings: Vec<String>,
    pub problems: Vec<String>,
    pub installed_by: Option<String>,
    pub installed_at: Option<i64>,
}

fn refused(code: &'static str, message: impl Into<String>) -> AdminError {
    AdminError::Refused {
        code,
        message: message.into(),
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Writes the keytab and acquires credentials on the blocking pool (file I/O and GSSAPI).
async fn install_blocking(
    control: &KerberosControl,
    bytes: Vec<u8>,
    principal: String,
) -> Result<rmsc_kerberos::AcceptorCredential, AdminError> {
    let installer = control.installer.clone();
    tokio::task::spawn_blocking(move || installer.install(&bytes, &principal))
        .await
        .map_err(|e| AdminError::Store(format!("keytab installation task failed: {e}")))?
        .map_err(|e| refused("unusable", e.to_string()))
}

/// Parses and validates a keytab for `HTTP/<connector_name>` with AES keys.
pub(crate) fn check_keytab(
    bytes: &[u8],
    connector_name: &str,
) -> Result<keytab::KeytabSummary, AdminError> {
    if bytes.len() > MAX_KEYTAB_BYTES {
        return Err(refused(
            "unreadable",
            format!(
                "That file is too large to be a keytab ({} bytes).",
                bytes.len()
            ),
        ));
    }
    let parsed = keytab::parse(bytes).map_err(|e| {
        refused(
            "unreadable",
            format!("That file is not a Kerberos keytab ({e}). Export it with ktpass or ktutil."),
        )
    })?;
    keytab::validate(&parsed, connector_name).map_err(|p| {
        let code = match p {
            KeytabProblem::NoEntries => "unreadable",
            KeytabProblem::WrongPrincipal { .. } => "wrong_principal",
            KeytabProblem::Rc4Only { .. } => "rc4_only",
        };
        refused(code, p.to_string())
    })
}

impl Admin {
    fn kerberos(&self) -> Result<&KerberosControl, AdminError> {
        self.kerberos.get().ok_or_else(|| {
            AdminError::Unavailable(
                "Kerberos authentication is not enabled on this appliance.".into(),
            )
        })
    }

    /// Connects the keytab operations to the running acceptor (once, at start-up).
    pub fn attach_kerberos(&self, control: KerberosControl) {
        let _ = self.kerberos.set(control);
    }

    /// What the stored keytab holds and whether the acceptor uses it.
    pub fn keytab_status(&self) -> Result<KeytabStatus, AdminError> {
        let mut status: KeytabStatus = self.store.setting(KEYTAB_SETTING)?.unwrap_or_default();
        status.active = self
            .kerberos
            .get()
            .is_some_and(|k| k.source.is_configured());
        if status.present && !status.active {
            status
                .problems
                .push("The keytab is stored but not in use; upload it again.".into());
        }
        Ok(status)
    }

    /// Validates, seals, stores and activates an uploaded keytab. Nothing changes when any
    /// check fails.
    pub async fn upload_keytab(
        &self,
        bytes: Vec<u8>,
        actor: &str,
    ) -> Result<KeytabStatus, AdminError> {
        self.kerberos()?;
        let registration = self
            .store
            .registration()?
            .ok_or(AdminError::NotRegistered)?;
        check_keytab(&bytes, &registration.connector_name)?;
        // Held across "install, then mark for sharing" so the shared-configuration follower
        // never installs an older keytab in between (see sharing.rs).
        let _guard = match self.appliance.get() {
            Some(a) => Some(a.change_lock.lock().await),
            None => None,
        };
        let status = self
            .install_keytab(bytes, &registration.connector_name, actor)
            .await?;
        // The other appliances of the connector get it too.
        self.shared_item_changed(crate::sharing::SharedItem::Keytab)
            .await;
        Ok(status)
    }

    /// Checks, proves usable (when the acceptor runs), seals, stores and activates a keytab
    /// for `connector_name`; also used by restore. Without an acceptor (a build that does not
    /// authenticate with Kerberos) the keytab is only stored.
    pub(crate) async fn install_keytab(
        &self,
        bytes: Vec<u8>,
        connector_name: &str,
        actor: &str,
    ) -> Result<KeytabStatus, AdminError> {
        let summary = check_keytab(&bytes, connector_name)?;
        // Prove MIT can use it before anything is stored.
        let credential = match self.kerberos.get() {
            Some(control) => {
                Some(install_blocking(control, bytes.clone(), summary.principal.clone()).await?)
            }
            None => None,
        };
        self.store.put_secret(KEYTAB_SECRET, &bytes).await?;
        let status = KeytabStatus {
            present: true,
            active: credential.is_some(),
            principal: Some(summary.principal.clone()),
            realm: Some(summary.realm.clone()),
            kvno: Some(summary.kvno),
            enctypes: summary.enctypes.iter().map(ToString::to_string).collect(),
            warnings: summary.warnings.iter().map(ToString::to_string).collect(),
            problems: Vec::new(),
            installed_by: Some(actor.to_owned()),
            installed_at: Some(now_secs()),
        };
        self.store.set_setting(KEYTAB_SETTING, &status).await?;
        if let (Some(control), Some(credential)) = (self.kerberos.get(), credential) {
            control.source.install(credential);
        }
        self.directory_keytab_changed(Some(bytes)).await;
        self.events
            .record(
                EventId::AdminAction,
                format!(
                    "{actor} installed the Kerberos keytab for {} (kvno {}).",
                    summary.principal, summary.kvno
                ),
                &[
                    ("actor", actor),
                    ("action", "keytab_upload"),
                    ("principal", &summary.principal),
                    ("kvno", &summary.kvno.to_string()),
                ],
            )
            .await;
        Ok(status)
    }

    /// The stored keytab file, for backups.
    pub(crate) fn keytab_bytes(&self) -> Result<Option<Vec<u8>>, AdminError> {
        Ok(self
            .store
            .secret(KEYTAB_SECRET)?
            .map(|s| s.expose().to_vec()))
    }

    /// Forgets the keytab in the store and the runtime directory (factory reset on a
    /// development host), whether or not the acceptor runs.
    pub(crate) async fn forget_keytab(&self) -> Result<(), AdminError> {
        self.store.remove_secret(KEYTAB_SECRET).await?;
        self.store.remove_setting(KEYTAB_SETTING).await?;
        if let Some(control) = self.kerberos.get() {
            control.source.remove();
            control.installer.remove_all();
        }
        self.directory_keytab_changed(None).await;
        Ok(())
    }

    /// Removes the keytab: callers are refused until a new one is uploaded.
    pub async fn remove_keytab(&self, actor: &str) -> Result<(), AdminError> {
        self.kerberos()?;
        self.forget_keytab().await?;
        self.events
            .record(
                EventId::AdminAction,
                format!("{actor} removed the Kerberos keytab."),
                &[("actor", actor), ("action", "keytab_remove")],
            )
            .await;
        Ok(())
    }

    /// At start-up: activates the stored keytab, if any. Failures are reported, not fatal:
    /// the appliance stays administrable.
    pub async fn restore_keytab(&self) -> Result<bool, AdminError> {
        let control = self.kerberos()?;
        let Some(secret) = self.store.secret(KEYTAB_SECRET)? else {
            return Ok(false);
        };
        let status: KeytabStatus = self.store.setting(KEYTAB_SETTING)?.unwrap_or_default();
        let principal = status.principal.ok_or_else(|| {
            refused(
                "unusable",
                "The stored keytab has no recorded principal; upload it again.",
            )
        })?;
        let credential = install_blocking(control, secret.expose().to_vec(), principal).await?;
        control.source.install(credential);
        self.directory_keytab_changed(Some(secret.expose().to_vec()))
            .await;
        Ok(true)
    }
}
