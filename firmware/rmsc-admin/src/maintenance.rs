//! Power and factory reset. Reboot and shutdown go through [`crate::SystemControl`]. A
//! factory reset deregisters from the cloud (best effort: the appliance may be offline or
//! not registered) and then erases the data partition; on a development host, where erasing
//! is only recorded, it clears the registration, the keytab and the list in the store.

use crate::appliance::EraseOutcome;
use crate::error::AdminError;
use crate::ops::Admin;
use rmsc_contract::AuthorizedList;

/// The words an administrator types to confirm a factory reset.
pub const FACTORY_RESET_CONFIRMATION: &str = "FACTORY RESET";

impl Admin {
    /// Restarts the appliance.
    pub async fn reboot(&self, actor: &str) -> Result<(), AdminError> {
        self.appliance()?;
        self.record_change(actor, "reboot", "restarted the appliance")
            .await;
        self.system_call(|system| system.reboot()).await
    }

    /// Powers the appliance off.
    pub async fn shutdown(&self, actor: &str) -> Result<(), AdminError> {
        self.appliance()?;
        self.record_change(actor, "shutdown", "shut the appliance down")
            .await;
        self.system_call(|system| system.shutdown()).await
    }

    /// Returns the appliance to its delivery state.
    pub async fn factory_reset(&self, confirm: &str, actor: &str) -> Result<(), AdminError> {
        if confirm != FACTORY_RESET_CONFIRMATION {
            return Err(AdminError::InvalidSetting {
                field: "confirm",
                message: format!("Type {FACTORY_RESET_CONFIRMATION} to confirm."),
            });
        }
        let appliance = self.appliance()?;
        let _guard = appliance.change_lock.lock().await;
        if self.store.registration()?.is_some() {
            if let Err(error) = self.deregister(actor).await {
                tracing::warn!(%error, "factory reset: deregistration failed; forgetting the registration locally");
                self.cloud.clear_registration();
                self.store.clear_registration().await?;
            }
        }
        self.record_change(
            actor,
            "factory_reset",
            "reset the appliance to factory settings",
        )
        .await;
        let outcome = self
            .system_call(|system| system.erase_data_partition())
            .await?;
        if outcome == EraseOutcome::RecordedOnly {
            self.forget_keytab().await?;
            let empty = AuthorizedList {
                version: 0,
                entries: Vec::new(),
            };
            self.store.set_authorized_list(&empty).await?;
        }
        Ok(())
    }
}
