//! The appliance around the connector: its operating system (network, power, the data
//! partition) behind [`SystemControl`], its metrics, the live caller certificate and the
//! directory settings. The daemon attaches one [`ApplianceControl`] to the [`Admin`] at
//! start-up; operations that need a part that is missing answer 503 `unavailable`.

use crate::error::AdminError;
use crate::live_cert::LiveCertificate;
use crate::network::NetworkSettings;
use crate::ops::Admin;
use rmsc_telemetry::Metrics;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

/// The operating system failed to do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SystemError(pub String);

/// What erasing the data partition did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EraseOutcome {
    /// The system wipes the partition (typically while restarting); nothing else to do.
    Scheduled,
    /// Only recorded (a development host): the caller clears the store itself.
    RecordedOnly,
}

/// The operating-system actions the admin API can ask for. The appliance image provides the
/// real implementation; development hosts use [`RecordingSystem`]. Methods are blocking and
/// are called on the blocking pool; reboot and shutdown must return before the power goes
/// (schedule the action a moment later) so the 202 reaches the browser.
pub trait SystemControl: Send + Sync {
    /// Applies network settings (addresses, DNS, host name, NTP).
    fn apply_network(&self, settings: &NetworkSettings) -> Result<(), SystemError>;
    /// Restarts the appliance.
    fn reboot(&self) -> Result<(), SystemError>;
    /// Powers the appliance off.
    fn shutdown(&self) -> Result<(), SystemError>;
    /// Erases the data partition (factory reset).
    fn erase_data_partition(&self) -> Result<EraseOutcome, SystemError>;
}

/// One action a [`RecordingSystem`] was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemAction {
    ApplyNetwork(NetworkSettings),
    Reboot,
    Shutdown,
    EraseDataPartition,
}

/// A [`SystemControl`] for development hosts and tests: records every action, changes nothing.
#[derive(Debug, Default)]
pub struct RecordingSystem {
    actions: Mutex<Vec<SystemAction>>,
}

impl RecordingSystem {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything asked for so far, oldest first.
    pub fn actions(&self) -> Vec<SystemAction> {
        self.actions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record(&self, action: SystemAction) {
        tracing::warn!(
            ?action,
            "development host: system action recorded, not performed"
        );
        self.actions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(action);
    }
}

impl SystemControl for RecordingSystem {
    fn apply_network(&self, settings: &NetworkSettings) -> Result<(), SystemError> {
        self.record(SystemAction::ApplyNetwork(settings.clone()));
        Ok(())
    }
    fn reboot(&self) -> Result<(), SystemError> {
        self.record(SystemAction::Reboot);
        Ok(())
    }
    fn shutdown(&self) -> Result<(), SystemError> {
        self.record(SystemAction::Shutdown);
        Ok(())
    }
    fn erase_data_partition(&self) -> Result<EraseOutcome, SystemError> {
        self.record(SystemAction::EraseDataPartition);
        Ok(EraseOutcome::RecordedOnly)
    }
}

/// Everything the appliance-level operations use, attached once at start-up.
pub struct ApplianceControl {
    pub(crate) system: Arc<dyn SystemControl>,
    pub(crate) metrics: Metrics,
    pub(crate) caller_certificate: Option<Arc<LiveCertificate>>,
    /// Where the directory client reads its keytab (a 0600 copy in the runtime directory).
    pub(crate) directory_keytab: Option<PathBuf>,
    /// Domain controllers from the configuration file, used when no admin setting overrides.
    pub(crate) default_ldap_urls: Vec<String>,
    /// Serialises operations that replace several things at once (certificate, restore,
    /// factory reset), so two administrators cannot interleave them.
    pub(crate) change_lock: tokio::sync::Mutex<()>,
    pub(crate) directory_cache: tokio::sync::Mutex<Option<crate::directory::CachedDirectory>>,
    /// Key-derivation cost of new backups.
    pub(crate) backup_kdf: rmsc_backup::KdfParams,
}

impl ApplianceControl {
    pub fn new(system: Arc<dyn SystemControl>, metrics: Metrics) -> Self {
        Self {
            system,
            metrics,
            caller_certificate: None,
            directory_keytab: None,
            default_ldap_urls: Vec::new(),
            change_lock: tokio::sync::Mutex::new(()),
            directory_cache: tokio::sync::Mutex::new(None),
            backup_kdf: rmsc_backup::KdfParams::DEFAULT,
        }
    }

    /// Key-derivation cost of new backups (tests use cheap parameters).
    pub fn with_backup_kdf(mut self, params: rmsc_backup::KdfParams) -> Self {
        self.backup_kdf = params;
        self
    }

    /// The certificate the caller HTTPS listeners present; replaced live on upload.
    pub fn with_caller_certificate(mut self, live: Arc<LiveCertificate>) -> Self {
        self.caller_certificate = Some(live);
        self
    }

    /// Directory search: where to keep the keytab copy and the configured domain controllers.
    pub fn with_directory(mut self, keytab_path: PathBuf, ldap_urls: Vec<String>) -> Self {
        self.directory_keytab = Some(keytab_path);
        self.default_ldap_urls = ldap_urls;
        self
    }
}

impl Admin {
    /// Connects the appliance-level operations (once, at start-up).
    pub fn attach_appliance(&self, control: ApplianceControl) {
        let _ = self.appliance.set(control);
    }

    pub(crate) fn appliance(&self) -> Result<&ApplianceControl, AdminError> {
        self.appliance.get().ok_or_else(|| {
            AdminError::Unavailable("This operation is not available on this appliance.".into())
        })
    }

    /// Runs a blocking [`SystemControl`] call on the blocking pool.
    pub(crate) async fn system_call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn SystemControl) -> Result<T, SystemError> + Send + 'static,
    ) -> Result<T, AdminError> {
        let system = self.appliance()?.system.clone();
        tokio::task::spawn_blocking(move || call(system.as_ref()))
            .await
            .map_err(|e| AdminError::Internal(format!("the system task failed: {e}")))?
            .map_err(|e| {
                tracing::error!(error = %e, "system action failed");
                AdminError::Internal(format!("The appliance could not do that: {e}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_system_records_in_order_and_never_erases_for_real() {
        let system = RecordingSystem::new();
        system.reboot().expect("reboot");
        system.shutdown().expect("shutdown");
        assert_eq!(
            system.erase_data_partition().expect("erase"),
            EraseOutcome::RecordedOnly
        );
        assert_eq!(
            system.actions(),
            vec![
                SystemAction::Reboot,
                SystemAction::Shutdown,
                SystemAction::EraseDataPartition
            ]
        );
    }
}
