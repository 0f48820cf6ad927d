//! The handle of a running stand-in: what tests, benchmarks and the demo binary use to read
//! and steer it without going through HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rmsc_contract::{AuthorizedEntry, AuthorizedList, ConnectorInfo, TenantInfo};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::calls::CallRecord;
use crate::context::Ctx;
use crate::device::{self, DeviceError};
use crate::faults::{FaultPlan, FaultPlanError};
use crate::{authorized, registration};

/// How long `shutdown` waits for connection tasks to end.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running stand-in. Dropping it stops the listener too; `shutdown` also waits.
pub struct RunningStandin {
    ctx: Arc<Ctx>,
    addr: SocketAddr,
    ca_pem: String,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl std::fmt::Debug for RunningStandin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningStandin")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningStandin {
    pub(crate) fn new(
        ctx: Arc<Ctx>,
        addr: SocketAddr,
        ca_pem: String,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> RunningStandin {
        RunningStandin {
            ctx,
            addr,
            ca_pem,
            shutdown,
            tracker,
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.ctx.base_url
    }

    /// The cloud root CA that signed the server certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA that issues connector client certificates, PEM.
    pub fn connector_ca_pem(&self) -> &str {
        &self.ctx.connector_ca_pem
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A tenant's id by short name (`contoso`).
    pub fn tenant_id(&self, name: &str) -> Option<String> {
        self.ctx.state.tenant(name).map(|t| t.tenant_id.clone())
    }

    /// A tenant's discovery answer by short name or id.
    pub fn tenant_info(&self, name: &str) -> Option<TenantInfo> {
        self.ctx.state.tenant(name).map(|t| t.info())
    }

    /// Every tenant's discovery answer, by short name.
    pub fn tenants(&self) -> Vec<(String, TenantInfo)> {
        self.ctx
            .state
            .tenants()
            .iter()
            .map(|t| (t.name.clone(), t.info()))
            .collect()
    }

    /// Turns a tenant's protection service on or off; `false` if the tenant is unknown.
    pub fn set_activated(&self, tenant: &str, activated: bool) -> bool {
        match self.ctx.state.tenant(tenant) {
            Some(t) => {
                t.set_activated(activated);
                true
            }
            None => false,
        }
    }

    /// Sets the fault plan (replacing any previous one).
    pub fn set_faults(&self, plan: FaultPlan) -> Result<(), FaultPlanError> {
        plan.validate()?;
        self.ctx.faults.set(plan);
        Ok(())
    }

    pub fn clear_faults(&self) {
        self.ctx.faults.clear();
    }

    /// Every relayed call recorded so far, oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.ctx.calls.snapshot()
    }

    pub fn clear_calls(&self) {
        self.ctx.calls.clear();
    }

    /// A tenant's authorized-server list.
    pub fn authorized_list(&self, tenant: &str) -> Option<AuthorizedList> {
        self.ctx
            .state
            .tenant(tenant)
            .map(|t| (**t.list.borrow()).clone())
    }

    /// Replaces a tenant's list unconditionally (version + 1), waking long-polls, as if an
    /// administrator edited it elsewhere. Entries are validated like a `PUT`.
    pub fn set_authorized_list(
        &self,
        tenant: &str,
        mut entries: Vec<AuthorizedEntry>,
    ) -> Result<AuthorizedList, String> {
        let t = self
            .ctx
            .state
            .tenant(tenant)
            .ok_or_else(|| format!("no tenant {tenant:?}"))?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        authorized::validate_entries(&mut entries, "standin", now)?;
        authorized::replace(t, None, entries)
            .map(|list| (*list).clone())
            .map_err(|v| format!("list changed concurrently (version {v})"))
    }

    /// Does what the device page does: code, user name and password, and the one-time code
    /// when the account needs one.
    pub fn approve_device_code(
        &self,
        user_code: &str,
        user: &str,
        password: &str,
        otp: Option<&str>,
    ) -> Result<(), DeviceError> {
        device::approve(&self.ctx, user_code, user, password, otp)
    }

    /// Presses "Decline" on the device page.
    pub fn decline_device_code(&self, user_code: &str) -> Result<(), DeviceError> {
        device::decline(&self.ctx, user_code)
    }

    /// Revokes a registration; `false` if unknown or already revoked.
    pub fn revoke_connector(&self, connector_id: &str) -> bool {
        registration::revoke(&self.ctx, connector_id)
    }

    /// A tenant's live registrations.
    pub fn connectors(&self, tenant: &str) -> Vec<ConnectorInfo> {
        match self.ctx.state.tenant(tenant) {
            Some(t) => self.ctx.state.connectors(&t.tenant_id),
            None => Vec::new(),
        }
    }

    /// Stops listening, drops every connection and waits (bounded) for their tasks.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("stand-in tasks did not finish within the grace period");
        }
    }
}

impl Drop for RunningStandin {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
