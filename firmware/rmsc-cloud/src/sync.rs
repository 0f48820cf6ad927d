//! Keeps the authorized-server list current: loaded from the store at start, then a
//! long-poll against the cloud so that a change made on any appliance arrives here within a
//! second or two (the original polls every 15 minutes). Also tracks cloud health for
//! `/readyz`, sends heartbeats and renews the connector certificate before it expires.

use crate::client::Cloud;
use crate::control::ListRead;
use crate::credentials::new_connector_key;
use crate::error::CloudCallError;
use rmsc_contract::{AuthorizedList, Heartbeat};
use rmsc_store::{Registration, Secret, Store};
use rmsc_telemetry::{EventId, Events, Metrics};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

/// Tunables of the sync loop.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// How long one long-poll waits for a change.
    pub long_poll: Duration,
    /// Longest pause between retries after a failure (the first retry is after 1 s).
    pub max_backoff: Duration,
    /// The list counts as fresh for readiness while confirmed within this age.
    pub max_staleness: Duration,
    /// Interval of heartbeats to the cloud.
    pub heartbeat_interval: Duration,
    /// Appliance name and version reported in heartbeats.
    pub appliance_name: String,
    pub version: String,
    /// Address administrators browse to, reported in heartbeats.
    pub admin_address: String,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            long_poll: Duration::from_secs(20),
            max_backoff: Duration::from_secs(5),
            max_staleness: Duration::from_secs(45),
            heartbeat_interval: Duration::from_secs(30),
            appliance_name: String::new(),
            version: String::new(),
            admin_address: String::new(),
        }
    }
}

#[derive(Debug, Default)]
struct HealthState {
    last_success: Option<Instant>,
    last_error: Option<String>,
    last_latency: Option<Duration>,
    outage_reported: bool,
}

/// Cloud health as seen by the sync loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncHealth {
    /// Whether the list was confirmed current within the staleness bound.
    pub fresh: bool,
    /// Seconds since the list was last confirmed, if ever.
    pub confirmed_secs_ago: Option<u64>,
    /// The last error talking to the cloud, if the last attempt failed.
    pub last_error: Option<String>,
    /// Round-trip time of the last short call to the cloud.
    pub last_latency_ms: Option<u64>,
}

/// The shared authorized list plus the loop that keeps it current.
pub struct ListSync {
    cloud: Arc<Cloud>,
    store: Store,
    events: Events,
    metrics: Metrics,
    options: SyncOptions,
    list: watch::Sender<Arc<AuthorizedList>>,
    health: Mutex<HealthState>,
    wake: Notify,
    /// Reported in heartbeats; known only once the admin listener is bound.
    admin_address: Mutex<String>,
}

impl ListSync {
    /// Sets the address heartbeats report (the admin URL), once the listener is bound.
    pub fn set_admin_address(&self, address: String) {
        if let Ok(mut current) = self.admin_address.lock() {
            *current = address;
        }
    }

    fn admin_address(&self) -> String {
        self.admin_address
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }

    /// Loads the stored list (if any) so callers are served from the first second.
    pub fn new(
        cloud: Arc<Cloud>,
        store: Store,
        events: Events,
        metrics: Metrics,
        options: SyncOptions,
    ) -> Arc<Self> {
        let initial = match store.authorized_list() {
            Ok(Some(stored)) => stored.list,
            Ok(None) => AuthorizedList::default(),
            Err(error) => {
                tracing::error!(%error, "stored authorized list unreadable; waiting for the cloud");
                AuthorizedList::default()
            }
        };
        let (list, _) = watch::channel(Arc::new(initial));
        Arc::new(Self {
            admin_address: Mutex::new(options.admin_address.clone()),
            cloud,
            store,
            events,
            metrics,
            options,
            list,
            health: Mutex::new(HealthState::default()),
            wake: Notify::new(),
        })
    }

    /// The current list; cheap (an `Arc` clone).
    pub fn current(&self) -> Arc<AuthorizedList> {
        self.list.borrow().clone()
    }

    /// A receiver that sees every change of the list.
    pub fn subscribe(&self) -> watch::Receiver<Arc<AuthorizedList>> {
        self.list.subscribe()
    }

    /// Wakes the loop now (after registration, or after a local edit).
    pub fn kick(&self) {
        self.wake.notify_one();
    }

    /// Cloud health for readiness and the status page.
    pub fn health(&self) -> SyncHealth {
        let state = self
            .health
            .lock()
            .map(|g| (g.last_success, g.last_error.clone(), g.last_latency));
        let (last_success, last_error, latency) =
            state.unwrap_or((None, Some("health lock poisoned".into()), None));
        let ago = last_success.map(|t| t.elapsed());
        SyncHealth {
            fresh: ago.is_some_and(|a| a <= self.options.max_staleness),
            confirmed_secs_ago: ago.map(|a| a.as_secs()),
            last_error,
            last_latency_ms: latency.map(|l| u64::try_from(l.as_millis()).unwrap_or(u64::MAX)),
        }
    }

    /// Installs a list the appliance itself just wrote to the cloud, without waiting for the poll.
    pub async fn apply(&self, list: AuthorizedList) {
        let current = self.current();
        if list.version < current.version {
            return;
        }
        let changed = list.version != current.version || list.entries != current.entries;
        if let Err(error) = self.store.set_authorized_list(&list).await {
            tracing::error!(%error, "could not persist authorized list");
        }
        self.metrics.list_confirmed(list.entries.len());
        let entries = list.entries.len();
        let version = list.version;
        let first_load = current.version == 0;
        self.list.send_replace(Arc::new(list));
        if changed && !first_load {
            self.events
                .record(EventId::ListUpdated, format!("The authorized-server list was updated to version {version} ({entries} entries)."), &[("version", &version.to_string())])
                .await;
        }
        if entries == 0 && (changed || first_load) {
            self.events
                .record(
                    EventId::ListEmpty,
                    "The authorized-server list is empty: no server can use the connector.",
                    &[],
                )
                .await;
        }
    }

    /// Runs the sync loop until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut backoff = Duration::from_secs(1);
        let mut confirmed_once = false;
        while !shutdown.is_cancelled() {
            let Some(api) = self.cloud.connector() else {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = self.wake.notified() => continue,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            };
            let known = Some(self.current().version).filter(|v| *v > 0 && confirmed_once);
            let wait = known.map(|_| self.options.long_poll);
            let started = Instant::now();
            let result = tokio::select! {
                _ = shutdown.cancelled() => break,
                r = api.read_list(known, wait) => r,
            };
            match result {
                Ok(read) => {
                    backoff = Duration::from_secs(1);
                    confirmed_once = true;
                    // Apply first: readiness must never report a list not installed yet.
                    match read {
                        ListRead::Unchanged => {
                            self.metrics.list_confirmed(self.current().entries.len())
                        }
                        ListRead::Changed(list) => self.apply(list).await,
                    }
                    self.succeeded(wait.is_none().then(|| started.elapsed()))
                        .await;
                }
                Err(error) => {
                    self.failed(&error).await;
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
            }
        }
    }

    async fn succeeded(&self, latency: Option<Duration>) {
        let recovered = {
            let Ok(mut h) = self.health.lock() else {
                return;
            };
            h.last_success = Some(Instant::now());
            h.last_error = None;
            if latency.is_some() {
                h.last_latency = latency;
            }
            std::mem::take(&mut h.outage_reported)
        };
        if recovered {
            tracing::info!("authorized-server list reachable again");
        }
    }

    async fn failed(&self, error: &CloudCallError) {
        let first = {
            let Ok(mut h) = self.health.lock() else {
                return;
            };
            h.last_error = Some(error.to_string());
            !std::mem::replace(&mut h.outage_reported, true)
        };
        tracing::warn!(%error, "authorized-server list fetch failed");
        if first {
            self.events
                .record(
                    EventId::ListFetchFailed,
                    "The authorized-server list could not be fetched from the cloud. Check DNS, the outbound proxy and internet access.",
                    &[("error", &error.to_string())],
                )
                .await;
        }
    }

    /// Sends heartbeats and renews the certificate when a third of its life is left, until `shutdown`.
    pub async fn run_maintenance(
        self: Arc<Self>,
        shutdown: CancellationToken,
        ready: impl Fn() -> bool + Send + 'static,
    ) {
        let mut tick = tokio::time::interval(self.options.heartbeat_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            let Some(api) = self.cloud.connector() else {
                continue;
            };
            let heartbeat = Heartbeat {
                appliance_name: self.options.appliance_name.clone(),
                version: self.options.version.clone(),
                address: self.admin_address(),
                ready: ready(),
            };
            if let Err(error) = api.heartbeat(&heartbeat).await {
                tracing::debug!(%error, "heartbeat failed");
            }
            if let Err(error) = self.renew_if_due().await {
                tracing::warn!(%error, "certificate renewal failed; will retry");
            }
        }
    }

    /// Renews the connector certificate with a fresh key when less than a third of its
    /// lifetime remains. Returns whether it renewed.
    pub async fn renew_if_due(&self) -> Result<bool, String> {
        let Some(registration) = self.store.registration().map_err(|e| e.to_string())? else {
            return Ok(false);
        };
        let now = unix_now();
        let lifetime = (registration.not_after - registration.registered_at).max(1);
        if registration.not_after - now > lifetime / 3 {
            return Ok(false);
        }
        let api = self.cloud.connector().ok_or("not registered")?;
        let bundle = new_connector_key(&registration.connector_name).map_err(|e| e.to_string())?;
        let issued = api
            .renew(&bundle.csr_pem)
            .await
            .map_err(|e| e.to_string())?;
        let renewed = Registration {
            certificate_pem: issued.certificate_pem,
            ca_pem: issued.ca_pem,
            key_pem: Secret::new(bundle.key_pem.into_bytes()),
            not_after: issued.not_after,
            registered_at: now,
            ..registration
        };
        self.store
            .set_registration(&renewed)
            .await
            .map_err(|e| e.to_string())?;
        self.cloud
            .install_registration(&renewed)
            .map_err(|e| e.to_string())?;
        self.events
            .record(
                EventId::RegistrationChanged,
                "The connector certificate was renewed.",
                &[("not_after", &renewed.not_after.to_string())],
            )
            .await;
        Ok(true)
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
