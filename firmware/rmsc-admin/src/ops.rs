//! The administrative operations. Each takes the acting administrator's name for the audit
//! trail (event 4002) and returns data or an [`AdminError`] with an actionable message.

use crate::error::AdminError;
use rmsc_cloud::{new_connector_key, Cloud, DevicePoll, ListSync};
use rmsc_contract::{AuthorizedList, DeviceCodeResponse, RegisterRequest, TokenResponse};
use rmsc_relay::Readiness;
use rmsc_store::{EventFilter, EventRecord, Registration, Secret, Store};
use rmsc_telemetry::{EventId, Events};
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Facts about this appliance that operations report.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    pub appliance_name: String,
    pub version: String,
}

#[derive(Clone)]
struct CloudSession {
    token: String,
    account: String,
    expires: Instant,
}

/// Who is signed in to the cloud.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SignedIn {
    pub account: String,
}

/// State of a device-code sign-in.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeviceSignIn {
    Pending,
    SignedIn { account: String },
}

/// What `status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub appliance_name: String,
    pub version: String,
    pub ready: bool,
    pub ready_reasons: Vec<String>,
    pub signed_in_as: Option<String>,
    pub registered: bool,
    pub connector_name: Option<String>,
    pub connector_id: Option<String>,
    pub tenant_id: Option<String>,
    pub rms_url: Option<String>,
    pub certificate_not_after: Option<i64>,
    pub list_version: u64,
    pub list_entries: usize,
    pub list_confirmed_secs_ago: Option<u64>,
    pub cloud_last_error: Option<String>,
    pub cloud_latency_ms: Option<u64>,
    /// The cloud service's clock minus this appliance's (from its last list answer); beyond
    /// 300 s either way Kerberos refuses callers.
    pub clock_skew_secs: Option<i64>,
}

/// The administrative operations, shared by every front end.
pub struct Admin {
    pub(crate) store: Store,
    pub(crate) cloud: Arc<Cloud>,
    pub(crate) sync: Arc<ListSync>,
    pub(crate) events: Events,
    readiness: Arc<Readiness>,
    pub(crate) config: AdminConfig,
    session: Mutex<Option<CloudSession>>,
    pub(crate) kerberos: std::sync::OnceLock<crate::kerberos::KerberosControl>,
    pub(crate) appliance: std::sync::OnceLock<crate::appliance::ApplianceControl>,
    /// The shared configuration follower's wake-up, pairing codes and outcomes.
    pub(crate) sharing: crate::sharing::SharingRuntime,
    /// When the daemon started, for the uptime the statistics report.
    pub(crate) started: Instant,
}

impl Admin {
    pub fn new(
        store: Store,
        cloud: Arc<Cloud>,
        sync: Arc<ListSync>,
        events: Events,
        readiness: Arc<Readiness>,
        config: AdminConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            cloud,
            sync,
            events,
            readiness,
            config,
            session: Mutex::new(None),
            kerberos: std::sync::OnceLock::new(),
            appliance: std::sync::OnceLock::new(),
            sharing: crate::sharing::SharingRuntime::default(),
            started: Instant::now(),
        })
    }

    /// Signs in with a user name and password (any characters).
    pub async fn sign_in_password(
        &self,
        username: &str,
        password: &str,
        actor: &str,
    ) -> Result<SignedIn, AdminError> {
        if username.trim().is_empty() || password.is_empty() {
            return Err(AdminError::Invalid(
                "Enter a user name and a password.".into(),
            ));
        }
        let token = self
            .cloud
            .control()
            .sign_in_password(username.trim(), password)
            .await?;
        self.signed_in(token, actor).await
    }

    /// Starts a device-code sign-in (works for accounts that require multi-factor sign-in).
    pub async fn start_device_sign_in(&self) -> Result<DeviceCodeResponse, AdminError> {
        Ok(self.cloud.control().start_device_code().await?)
    }

    /// Polls a device-code sign-in once.
    pub async fn poll_device_sign_in(
        &self,
        device_code: &str,
        actor: &str,
    ) -> Result<DeviceSignIn, AdminError> {
        match self.cloud.control().poll_device_code(device_code).await? {
            DevicePoll::Pending | DevicePoll::SlowDown => Ok(DeviceSignIn::Pending),
            DevicePoll::Done(token) => {
                let signed = self.signed_in(token, actor).await?;
                Ok(DeviceSignIn::SignedIn {
                    account: signed.account,
                })
            }
        }
    }

    async fn signed_in(&self, token: TokenResponse, actor: &str) -> Result<SignedIn, AdminError> {
        let account = token.account.clone();
        let session = CloudSession {
            token: token.access_token,
            account: account.clone(),
            expires: Instant::now() + Duration::from_secs(token.expires_in.max(60) - 30),
        };
        if let Ok(mut slot) = self.session.lock() {
            *slot = Some(session);
        }
        self.audit(
            actor,
            &format!("signed in to the cloud service as {account}"),
        )
        .await;
        Ok(SignedIn { account })
    }

    /// The signed-in administrator's cloud token.
    pub(crate) fn cloud_token(&self) -> Result<String, AdminError> {
        self.session().map(|s| s.token)
    }

    fn session(&self) -> Result<CloudSession, AdminError> {
        let session = self.session.lock().ok().and_then(|s| s.clone());
        session
            .filter(|s| s.expires > Instant::now())
            .ok_or(AdminError::NotSignedIn)
    }

    /// Registers this appliance as a connector of the signed-in tenant.
    pub async fn register(&self, connector_name: &str, actor: &str) -> Result<Status, AdminError> {
        let name = validate_connector_name(connector_name)?;
        if let Some(existing) = self.store.registration()? {
            return Err(AdminError::AlreadyRegistered(existing.connector_name));
        }
        let session = self.session()?;
        let tenant = self.cloud.control().tenant(&session.token).await?;
        let bundle = new_connector_key(&name)
            .map_err(|e| AdminError::Invalid(format!("Could not create the connector key: {e}")))?;
        let request = RegisterRequest {
            connector_name: name.clone(),
            appliance_name: self.config.appliance_name.clone(),
            version: self.config.version.clone(),
            csr_pem: bundle.csr_pem.clone(),
        };
        let issued = self
            .cloud
            .control()
            .register(&session.token, &request)
            .await?;
        let registration = Registration {
            connector_id: issued.connector_id,
            tenant_id: issued.tenant_id,
            connector_name: name.clone(),
            cloud_url: self.cloud.options().base_url.to_string(),
            rms_url: tenant.rms_url,
            relay_url: tenant.relay_url,
            signing_key: tenant.signing_key,
            certificate_pem: issued.certificate_pem,
            ca_pem: issued.ca_pem,
            key_pem: Secret::new(bundle.key_pem.into_bytes()),
            not_after: issued.not_after,
            registered_at: unix_now(),
            registered_by: session.account.clone(),
        };
        self.cloud
            .install_registration(&registration)
            .map_err(|e| {
                AdminError::Invalid(format!("The cloud issued an unusable certificate: {e}"))
            })?;
        self.store.set_registration(&registration).await?;
        self.sync.kick();
        self.events
            .record(
                EventId::RegistrationChanged,
                format!(
                    "Registered as connector {name} of tenant {}.",
                    registration.tenant_id
                ),
                &[
                    ("connector_id", &registration.connector_id),
                    ("actor", actor),
                ],
            )
            .await;
        self.audit(actor, &format!("registered the appliance as {name}"))
            .await;
        Ok(self.status())
    }

    /// Removes this appliance's registration from the cloud and from the store.
    pub async fn deregister(&self, actor: &str) -> Result<(), AdminError> {
        let registration = self
            .store
            .registration()?
            .ok_or(AdminError::NotRegistered)?;
        if let Some(api) = self.cloud.connector() {
            api.deregister().await?;
        }
        self.cloud.clear_registration();
        self.store.clear_registration().await?;
        self.events
            .record(
                EventId::RegistrationChanged,
                format!("Deregistered connector {}.", registration.connector_name),
                &[("actor", actor)],
            )
            .await;
        self.audit(actor, "deregistered the appliance").await;
        Ok(())
    }

    /// The authorized list as this appliance currently enforces it.
    pub fn authorized_list(&self) -> AuthorizedList {
        self.sync.current().as_ref().clone()
    }

    /// Reads the events, newest first.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, AdminError> {
        Ok(self.store.events(filter)?)
    }

    pub fn status(&self) -> Status {
        let registration = self.store.registration().ok().flatten();
        let health = self.sync.health();
        let list = self.sync.current();
        let ready = self.readiness.report();
        let signed_in_as = self.session().ok().map(|s| s.account);
        Status {
            appliance_name: self.config.appliance_name.clone(),
            version: self.config.version.clone(),
            ready: ready.ready,
            ready_reasons: ready.reasons,
            signed_in_as,
            registered: registration.is_some(),
            connector_name: registration.as_ref().map(|r| r.connector_name.clone()),
            connector_id: registration.as_ref().map(|r| r.connector_id.clone()),
            tenant_id: registration.as_ref().map(|r| r.tenant_id.clone()),
            rms_url: registration.as_ref().map(|r| r.rms_url.clone()),
            certificate_not_after: registration.as_ref().map(|r| r.not_after),
            list_version: list.version,
            list_entries: list.entries.len(),
            list_confirmed_secs_ago: health.confirmed_secs_ago,
            cloud_last_error: health.last_error,
            cloud_latency_ms: health.last_latency_ms,
            clock_skew_secs: self.cloud.connector().and_then(|api| api.clock_skew_secs()),
        }
    }

    pub(crate) async fn audit(&self, actor: &str, what: &str) {
        self.events
            .record(
                EventId::AdminAction,
                format!("{actor} {what}."),
                &[("actor", actor)],
            )
            .await;
    }
}

/// A connector name is the DNS name callers use: letters, digits and hyphens in dot-separated labels.
fn validate_connector_name(name: &str) -> Result<String, AdminError> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(AdminError::Invalid(format!("{name:?} is not a valid DNS name for the connector (for example rmsconnector.contoso.com).")));
    }
    Ok(name)
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_names_are_dns_names() {
        assert_eq!(
            validate_connector_name(" RMSConnector.Contoso.com. ")
                .ok()
                .as_deref(),
            Some("rmsconnector.contoso.com")
        );
        assert!(validate_connector_name("bad name").is_err());
        assert!(validate_connector_name("-x.contoso.com").is_err());
        assert!(validate_connector_name("").is_err());
        assert!(validate_connector_name("a..b").is_err());
    }
}
