//! Run-time state of the stand-in: the directory built from the fixture (immutable but for the
//! activation flag), and the mutable registries (tokens, device codes, connectors) behind one
//! short-held mutex that is never held across an await.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use rmsc_contract::{AuthorizedList, ConnectorInfo, TenantInfo};
use tokio::sync::watch;

use crate::fixture::{Fixture, UserFixture};
use crate::signing::{KeyError, TenantKey};

/// One tenant at run time.
pub struct Tenant {
    pub name: String,
    pub display_name: String,
    pub tenant_id: String,
    pub rms_url: String,
    pub relay_url: String,
    activated: AtomicBool,
    pub key: TenantKey,
    /// The authorized-server list; `watch` wakes long-polls on every change.
    pub list: watch::Sender<Arc<AuthorizedList>>,
    /// The appliances' sealed shared configuration (none until the first pairing).
    pub shared: watch::Sender<Option<Arc<rmsc_contract::SharedConfiguration>>>,
    /// Join requests by id; bounded and expired in `sharing`.
    pub joins: std::sync::Mutex<HashMap<String, crate::sharing::StoredJoin>>,
}

impl Tenant {
    pub fn activated(&self) -> bool {
        self.activated.load(Ordering::Relaxed)
    }

    pub fn set_activated(&self, on: bool) {
        self.activated.store(on, Ordering::Relaxed);
    }

    /// The tenant discovery answer.
    pub fn info(&self) -> TenantInfo {
        TenantInfo {
            tenant_id: self.tenant_id.clone(),
            display_name: self.display_name.clone(),
            rms_url: self.rms_url.clone(),
            relay_url: self.relay_url.clone(),
            activated: self.activated(),
            signing_key: self.key.public_b64().to_owned(),
        }
    }
}

/// A user with the tenant it belongs to.
pub struct User {
    pub fixture: UserFixture,
    pub tenant: Arc<Tenant>,
}

/// A bearer token the stand-in issued.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub account: String,
    pub tenant_id: String,
    pub expires_at: Instant,
}

/// Where a device authorization stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the browser.
    Pending,
    /// Password accepted, the one-time code still missing.
    AwaitingMfa { upn: String },
    /// The user signed in at the page.
    Approved { upn: String },
    /// The user pressed "Decline".
    Denied,
}

/// One device authorization (RFC 8628).
#[derive(Debug, Clone)]
pub struct Device {
    pub user_code: String,
    pub expires_at: Instant,
    pub interval_secs: u64,
    pub last_poll: Option<Instant>,
    pub status: DeviceStatus,
}

/// One connector registration.
#[derive(Debug, Clone)]
pub struct Connector {
    pub info: ConnectorInfo,
    pub tenant_id: String,
    pub revoked: bool,
}

/// What a certificate fingerprint maps to.
#[derive(Debug, Clone)]
pub struct CertRecord {
    pub connector_id: String,
    pub not_after: i64,
}

/// The mutable registries.
#[derive(Default)]
pub struct Registry {
    pub tokens: HashMap<String, TokenInfo>,
    /// By device code.
    pub devices: HashMap<String, Device>,
    /// User code (normalised, no dash) to device code.
    pub user_codes: HashMap<String, String>,
    pub connectors: HashMap<String, Connector>,
    /// Every certificate issued, by SHA-256 fingerprint. Renewal keeps the older certificate
    /// valid until it expires, as a real CA does, so pooled connections keep working.
    pub certs: HashMap<[u8; 32], CertRecord>,
}

/// The directory and the registries.
pub struct State {
    tenants: Vec<Arc<Tenant>>,
    users: HashMap<String, User>,
    registry: Mutex<Registry>,
}

impl State {
    /// Builds the run-time state; `base_url` is where this stand-in is reachable.
    pub fn new(fixture: &Fixture, base_url: &str) -> Result<State, KeyError> {
        let mut tenants = Vec::new();
        let mut users = HashMap::new();
        for t in &fixture.tenants {
            let tenant_id = t
                .tenant_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let (list, _) = watch::channel(Arc::new(AuthorizedList {
                version: 1,
                entries: Vec::new(),
            }));
            let tenant = Arc::new(Tenant {
                name: t.name.clone(),
                display_name: if t.display_name.is_empty() {
                    t.name.clone()
                } else {
                    t.display_name.clone()
                },
                rms_url: format!("https://{tenant_id}.rms.na.aadrm.com"),
                relay_url: format!("{base_url}/tenants/{tenant_id}"),
                tenant_id,
                activated: AtomicBool::new(t.activated),
                key: TenantKey::generate()?,
                list,
                shared: watch::Sender::new(None),
                joins: std::sync::Mutex::new(HashMap::new()),
            });
            for u in &t.users {
                users.insert(
                    u.upn.to_ascii_lowercase(),
                    User {
                        fixture: u.clone(),
                        tenant: tenant.clone(),
                    },
                );
            }
            tenants.push(tenant);
        }
        Ok(State {
            tenants,
            users,
            registry: Mutex::new(Registry::default()),
        })
    }

    pub fn tenants(&self) -> &[Arc<Tenant>] {
        &self.tenants
    }

    /// A tenant by its short name (case-insensitive) or its id.
    pub fn tenant(&self, name_or_id: &str) -> Option<&Arc<Tenant>> {
        self.tenants.iter().find(|t| {
            t.name.eq_ignore_ascii_case(name_or_id) || t.tenant_id.eq_ignore_ascii_case(name_or_id)
        })
    }

    /// A tenant by id only (relay URLs and registrations carry ids).
    pub fn tenant_by_id(&self, id: &str) -> Option<&Arc<Tenant>> {
        self.tenants
            .iter()
            .find(|t| t.tenant_id.eq_ignore_ascii_case(id))
    }

    /// A user by UPN (case-insensitive).
    pub fn user(&self, upn: &str) -> Option<&User> {
        self.users.get(&upn.trim().to_ascii_lowercase())
    }

    /// The registries. Poisoning is ignored: every critical section leaves them consistent.
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The tenant's registrations that are not revoked.
    pub fn connectors(&self, tenant_id: &str) -> Vec<ConnectorInfo> {
        let registry = self.registry();
        let mut list: Vec<ConnectorInfo> = registry
            .connectors
            .values()
            .filter(|c| c.tenant_id == tenant_id && !c.revoked)
            .map(|c| c.info.clone())
            .collect();
        list.sort_by(|a, b| a.connector_id.cmp(&b.connector_id));
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_fixture_builds_tenants_with_empty_lists_at_version_one() {
        let state = State::new(&Fixture::default(), "https://127.0.0.1:1").expect("state");
        let contoso = state.tenant("Contoso").expect("contoso");
        assert!(contoso.activated());
        assert_eq!(contoso.list.borrow().version, 1);
        assert!(contoso.list.borrow().entries.is_empty());
        assert_eq!(
            contoso.relay_url,
            format!("https://127.0.0.1:1/tenants/{}", contoso.tenant_id)
        );
        assert!(contoso.rms_url.ends_with(".rms.na.aadrm.com"));
        assert!(!state.tenant("fabrikam").expect("fabrikam").activated());
        assert!(state.tenant_by_id(&contoso.tenant_id).is_some());
        assert_eq!(
            state
                .user("ADMIN@contoso.test")
                .map(|u| u.tenant.name.as_str()),
            Some("contoso")
        );
        assert!(state.user("nobody@contoso.test").is_none());
    }
}
