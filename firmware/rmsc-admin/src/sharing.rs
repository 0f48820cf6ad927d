//! The configuration a connector's appliances share: the connector name, the caller HTTPS
//! certificate and the Kerberos keytab, sealed with the group key (`rmsc-pairing`) and kept by
//! the cloud. Every appliance follows it (long-poll) and applies newer generations; a local
//! change (upload, self-signed, restore) is published as the next generation, merged item by
//! item into what others wrote, so two appliances changing different things at once both win.
//! Pairing (`pairing.rs`) hands the group key to a joining appliance.

use std::sync::Mutex;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rmsc_cloud::{ConnectorApi, SharedRead, SharedWrite};
use rmsc_contract::{SharedConfiguration, SharedConfigurationUpdate};
use rmsc_pairing::GroupKey;
use rmsc_telemetry::EventId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::certificate::stored_caller_certificate;
use crate::error::AdminError;
use crate::ops::unix_now;
use crate::ops::Admin;

/// Sealed in the store: the group key of this connector's appliances.
pub(crate) const GROUP_KEY_SECRET: &str = "shared.group_key";
/// What was applied or published, and what changed here since.
const STATE_SETTING: &str = "shared.state";
const FORMAT: &str = "rmsc-shared";
const VERSION: u32 = 1;
/// Writes retried when another appliance keeps writing first.
const MAX_WRITE_ATTEMPTS: usize = 4;

/// An item of the shared configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SharedItem {
    Certificate,
    Keytab,
}

/// Progress of this appliance against the shared configuration, kept in the store so a
/// change made just before a restart is still published.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct SharedState {
    /// The generation this appliance has applied or written.
    pub(crate) generation: u64,
    /// Local change counters, and the values last published; unequal means "to publish".
    certificate_changes: u64,
    certificate_published: u64,
    keytab_changes: u64,
    keytab_published: u64,
}

/// The plaintext of a generation.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SharedPayload {
    format: String,
    version: u32,
    connector_name: String,
    certificate: Option<SharedCertificate>,
    keytab_base64: Option<String>,
    written_by: String,
    written_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct SharedCertificate {
    source: String,
    /// Chain and private key, PEM.
    pem: String,
}

/// What `sharing_status` reports.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SharingStatus {
    /// Whether this appliance holds the group key (it created it or joined).
    pub member: bool,
    pub generation: u64,
    /// Local changes not yet published.
    pub pending: Vec<&'static str>,
    pub last_error: Option<String>,
    pub last_applied: Option<String>,
}

/// In-memory side of sharing, owned by [`Admin`].
#[derive(Default)]
pub(crate) struct SharingRuntime {
    /// Wakes the follower: a local change to publish, or a pairing code to watch.
    pub(crate) wake: Notify,
    /// Serialises read-modify-writes of the stored [`SharedState`] (an upload and the
    /// follower update it at the same time).
    state_lock: tokio::sync::Mutex<()>,
    pub(crate) last_error: Mutex<Option<String>>,
    pub(crate) last_applied: Mutex<Option<String>>,
    pub(crate) pairing: Mutex<Option<crate::pairing::ActivePairing>>,
    pub(crate) joined: Mutex<Vec<crate::pairing::JoinedAppliance>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Admin {
    pub(crate) fn group_key(&self) -> Result<Option<GroupKey>, AdminError> {
        match self.store.secret(GROUP_KEY_SECRET)? {
            None => Ok(None),
            Some(secret) => GroupKey::from_bytes(secret.expose())
                .map(Some)
                .map_err(|e| AdminError::Internal(format!("stored group key: {e}"))),
        }
    }

    pub(crate) fn shared_state(&self) -> Result<SharedState, AdminError> {
        Ok(self.store.setting(STATE_SETTING)?.unwrap_or_default())
    }

    async fn update_shared_state(
        &self,
        change: impl FnOnce(&mut SharedState),
    ) -> Result<(), AdminError> {
        let _serialised = self.sharing.state_lock.lock().await;
        let mut state = self.shared_state()?;
        change(&mut state);
        self.store.set_setting(STATE_SETTING, &state).await?;
        Ok(())
    }

    /// Records a local change of `item` for the follower to publish.
    pub(crate) async fn shared_item_changed(&self, item: SharedItem) {
        let marked = self
            .update_shared_state(|s| match item {
                SharedItem::Certificate => s.certificate_changes += 1,
                SharedItem::Keytab => s.keytab_changes += 1,
            })
            .await;
        if let Err(error) = marked {
            tracing::warn!(%error, ?item, "could not record a change to share");
        }
        self.sharing.wake.notify_one();
    }

    /// Stores a new group key and marks everything present for publishing (the first
    /// appliance of a pairing, or after joining).
    pub(crate) async fn adopt_group_key(
        &self,
        key: &GroupKey,
        publish_local: bool,
    ) -> Result<(), AdminError> {
        self.store
            .put_secret(GROUP_KEY_SECRET, key.as_bytes())
            .await?;
        self.update_shared_state(|s| {
            *s = SharedState::default();
            if publish_local {
                s.certificate_changes = 1;
                s.keytab_changes = 1;
            }
        })
        .await?;
        self.sharing.wake.notify_one();
        Ok(())
    }

    /// What the web UI shows about sharing.
    pub fn sharing_status(&self) -> Result<SharingStatus, AdminError> {
        let state = self.shared_state()?;
        let mut pending = Vec::new();
        if state.certificate_changes != state.certificate_published {
            pending.push("certificate");
        }
        if state.keytab_changes != state.keytab_published {
            pending.push("keytab");
        }
        Ok(SharingStatus {
            member: self.group_key()?.is_some(),
            generation: state.generation,
            pending,
            last_error: lock(&self.sharing.last_error).clone(),
            last_applied: lock(&self.sharing.last_applied).clone(),
        })
    }

    fn local_payload(&self, connector_name: &str) -> Result<SharedPayload, AdminError> {
        let source: Option<crate::certificate::CertificateSource> =
            self.store.setting(crate::certificate::SOURCE_SETTING)?;
        Ok(SharedPayload {
            format: FORMAT.into(),
            version: VERSION,
            connector_name: connector_name.to_owned(),
            certificate: stored_caller_certificate(&self.store)?.map(|c| SharedCertificate {
                source: source.map_or_else(|| "self_signed".to_owned(), |s| s.source),
                pem: c.to_pem(),
            }),
            keytab_base64: self.keytab_bytes()?.map(|k| B64.encode(k)),
            written_by: self.config.appliance_name.clone(),
            written_at: unix_now(),
        })
    }

    fn open_payload(
        key: &GroupKey,
        shared: &SharedConfiguration,
    ) -> Result<SharedPayload, AdminError> {
        let unreadable = |why: String| {
            AdminError::Internal(format!(
                "generation {} of the shared configuration {why}",
                shared.generation
            ))
        };
        let sealed = B64
            .decode(&shared.sealed)
            .map_err(|_| unreadable("is not base64".into()))?;
        let plain = rmsc_pairing::open_shared(key, shared.generation, &sealed)
            .map_err(|e| unreadable(e.to_string()))?;
        let payload: SharedPayload =
            serde_json::from_slice(&plain).map_err(|e| unreadable(e.to_string()))?;
        if payload.format != FORMAT || payload.version != VERSION {
            return Err(unreadable(format!(
                "has format {} version {}, which this software cannot apply",
                payload.format, payload.version
            )));
        }
        Ok(payload)
    }

    /// Publishes local changes, merged into the current generation. Returns whether it wrote.
    pub(crate) async fn publish_shared(
        &self,
        api: &ConnectorApi,
        key: &GroupKey,
    ) -> Result<bool, AdminError> {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let state = self.shared_state()?;
            let dirty_certificate = state.certificate_changes != state.certificate_published;
            let dirty_keytab = state.keytab_changes != state.keytab_published;
            if !dirty_certificate && !dirty_keytab {
                return Ok(false);
            }
            let name = self.connector_name()?;
            let local = self.local_payload(&name)?;
            let (base_generation, mut payload) = match api.read_shared(None, None).await? {
                SharedRead::Current(shared) => {
                    let mut base = Self::open_payload(key, &shared)?;
                    // What others wrote and we have not seen yet is applied first, except the
                    // items changed here, which this write replaces.
                    self.apply_payload(&base).await?;
                    base.written_by = local.written_by.clone();
                    base.written_at = local.written_at;
                    (shared.generation, base)
                }
                SharedRead::Nothing | SharedRead::Unchanged => (0, local.clone()),
            };
            if dirty_certificate {
                payload.certificate = local.certificate.clone();
            }
            if dirty_keytab {
                payload.keytab_base64 = local.keytab_base64.clone();
            }
            payload.connector_name = name;
            let generation = base_generation + 1;
            let plain = serde_json::to_vec(&payload)
                .map_err(|e| AdminError::Internal(format!("encode shared configuration: {e}")))?;
            let sealed = rmsc_pairing::seal_shared(key, generation, &plain)
                .map_err(|e| AdminError::Internal(e.to_string()))?;
            let update = SharedConfigurationUpdate {
                generation,
                sealed: B64.encode(sealed),
            };
            match api.write_shared(&update).await? {
                SharedWrite::Conflict { current } => {
                    tracing::info!(
                        current,
                        "another appliance wrote the shared configuration first; merging again"
                    );
                    continue;
                }
                SharedWrite::Written(written) => {
                    self.update_shared_state(|s| {
                        s.generation = written.generation;
                        s.certificate_published = state.certificate_changes;
                        s.keytab_published = state.keytab_changes;
                    })
                    .await?;
                    tracing::info!(generation, "published the shared configuration");
                    return Ok(true);
                }
            }
        }
        Err(AdminError::Conflict)
    }

    /// Installs the items of `payload` that differ from what this appliance has, except
    /// those changed here and not yet published (they are about to replace them).
    async fn apply_payload(
        &self,
        payload: &SharedPayload,
    ) -> Result<Vec<&'static str>, AdminError> {
        // Local changes take the same lock around "install, then mark for publishing", so
        // an item is either marked here already (and skipped) or not changed yet.
        let _guard = match self.appliance.get() {
            Some(a) => Some(a.change_lock.lock().await),
            None => None,
        };
        let state = self.shared_state()?;
        let skip_certificate = state.certificate_changes != state.certificate_published;
        let skip_keytab = state.keytab_changes != state.keytab_published;
        let name = self.connector_name()?;
        if !payload.connector_name.eq_ignore_ascii_case(&name) {
            return Err(AdminError::Refused {
                code: "other_connector",
                message: format!(
                    "The shared configuration is for the connector {}, but this appliance is registered as {name}. Deregister it and join again.",
                    payload.connector_name
                ),
            });
        }
        let mut applied = Vec::new();
        let actor = format!("appliance {}", payload.written_by);
        if let (false, Some(b64)) = (skip_keytab, &payload.keytab_base64) {
            let bytes = B64
                .decode(b64)
                .map_err(|_| AdminError::Internal("the shared keytab is not base64".into()))?;
            if self.keytab_bytes()?.as_deref() != Some(bytes.as_slice()) {
                if self.kerberos.get().is_some() {
                    self.install_keytab(bytes, &name, &actor).await?;
                } else {
                    // No acceptor on this build: store it so it can be shared on.
                    self.store
                        .put_secret(crate::kerberos::KEYTAB_SECRET, &bytes)
                        .await?;
                }
                applied.push("keytab");
            }
        }
        if let (false, Some(shared)) = (skip_certificate, &payload.certificate) {
            let current = stored_caller_certificate(&self.store)?.map(|c| c.to_pem());
            if current.as_deref() != Some(shared.pem.as_str()) {
                let certificate = rmsc_certs::parse_pem_bundle(shared.pem.as_bytes())
                    .map_err(|e| crate::certificate::cert_refused(&e))?;
                let report = rmsc_certs::check(&certificate, &name, OffsetDateTime::now_utc());
                if let Some(refusal) = crate::cert_view::refused_by_report(&report) {
                    return Err(refusal);
                }
                self.install_certificate(certificate, &shared.source, &actor)
                    .await?;
                applied.push("certificate");
            }
        }
        Ok(applied)
    }

    /// Applies a newer generation written by another appliance.
    pub(crate) async fn apply_shared(
        &self,
        key: &GroupKey,
        shared: &SharedConfiguration,
    ) -> Result<(), AdminError> {
        let state = self.shared_state()?;
        if shared.generation <= state.generation {
            return Ok(());
        }
        let payload = Self::open_payload(key, shared)?;
        let applied = self.apply_payload(&payload).await?;
        self.update_shared_state(|s| s.generation = shared.generation)
            .await?;
        let what = if applied.is_empty() {
            "nothing new".to_owned()
        } else {
            applied.join(" and ")
        };
        let summary = format!(
            "generation {} from appliance {}: {what}",
            shared.generation, payload.written_by
        );
        *lock(&self.sharing.last_applied) = Some(summary.clone());
        if !applied.is_empty() {
            self.events
                .record(
                    EventId::AdminAction,
                    format!("Applied the shared configuration, {summary}."),
                    &[
                        ("actor", payload.written_by.as_str()),
                        ("action", "shared_configuration_applied"),
                    ],
                )
                .await;
        }
        Ok(())
    }

    /// One round: publish local changes, then read (long-poll up to `wait`) and apply.
    pub(crate) async fn sync_shared_once(&self, wait: Option<Duration>) -> Result<(), AdminError> {
        let Some(api) = self.cloud.connector() else {
            return Ok(());
        };
        let Some(key) = self.group_key()? else {
            return Ok(());
        };
        self.publish_shared(&api, &key).await?;
        let known = self.shared_state()?.generation;
        if let SharedRead::Current(shared) = api.read_shared(Some(known), wait).await? {
            self.apply_shared(&key, &shared).await?;
        }
        Ok(())
    }

    pub(crate) fn set_sharing_error(&self, error: Option<String>) {
        *lock(&self.sharing.last_error) = error;
    }
}
