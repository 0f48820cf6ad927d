//! `Store`: the handle the rest of the appliance holds, and its record accessors.

use crate::error::StoreError;
use crate::model::{Registration, StoredList, StoredRegistration};
use crate::recovery;
use crate::seal::Sealer;
use crate::secret::Secret;
use crate::RECOVERY_FILE;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};

/// Key of the single record in the registration and list trees.
pub(crate) const CURRENT: &[u8] = b"current";

/// The sled trees, one per concern.
pub(crate) struct Trees {
    pub(crate) registration: sled::Tree,
    pub(crate) list: sled::Tree,
    pub(crate) settings: sled::Tree,
    pub(crate) secrets: sled::Tree,
    pub(crate) events: sled::Tree,
    pub(crate) seen: sled::Tree,
    pub(crate) meta: sled::Tree,
}

impl Trees {
    pub(crate) fn open(db: &sled::Db) -> Result<Self, sled::Error> {
        Ok(Trees {
            registration: db.open_tree("registration")?,
            list: db.open_tree("authorized_list")?,
            settings: db.open_tree("settings")?,
            secrets: db.open_tree("secrets")?,
            events: db.open_tree("events")?,
            seen: db.open_tree("seen")?,
            meta: db.open_tree("meta")?,
        })
    }
}

pub(crate) struct Inner {
    pub(crate) data_dir: PathBuf,
    pub(crate) db: sled::Db,
    pub(crate) trees: Trees,
    pub(crate) sealer: Sealer,
    pub(crate) event_capacity: usize,
    /// Serialises rewrites of `recovery.sealed`, so an older snapshot never overwrites a
    /// newer one. A std mutex: it is only taken on the blocking pool.
    pub(crate) recovery_lock: std::sync::Mutex<()>,
    /// Sequence number of the next event; held while appending so numbers stay gapless.
    pub(crate) next_event_seq: tokio::sync::Mutex<u64>,
}

/// The appliance's persistent state. Cheap to clone: clones share one database.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("data_dir", &self.inner.data_dir)
            .finish_non_exhaustive()
    }
}

/// Label (associated data) of a named secret.
fn secret_label(name: &str) -> Vec<u8> {
    let mut label = b"secret:".to_vec();
    label.extend_from_slice(name.as_bytes());
    label
}

impl Store {
    /// The data directory this store lives in.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// Waits until every write so far is on disk.
    ///
    /// sled 0.34's `flush_async` can hang when several flushes overlap, so the blocking
    /// `flush` runs on the blocking pool instead; sled serialises concurrent flushes itself.
    pub(crate) async fn flush(&self) -> Result<(), StoreError> {
        let db = self.inner.db.clone();
        match tokio::task::spawn_blocking(move || db.flush()).await {
            Ok(flushed) => {
                flushed?;
                Ok(())
            }
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }

    /// Rewrites `recovery.sealed` from the current registration and settings. The fsyncs
    /// run on the blocking pool so they do not stall the runtime threads serving callers.
    async fn refresh_recovery(&self) -> Result<(), StoreError> {
        let inner = Arc::clone(&self.inner);
        let task = tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves nothing half-done in memory: the
            // snapshot is re-read from the database each time.
            let _guard = inner
                .recovery_lock
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let snapshot = recovery::Snapshot::take(&inner.trees)?;
            recovery::write(&inner.data_dir, &inner.sealer, &snapshot)
        });
        task.await.map_err(|e| {
            StoreError::io(
                self.inner.data_dir.join(RECOVERY_FILE),
                std::io::Error::other(format!("recovery writer failed: {e}")),
            )
        })?
    }

    /// The connector's registration, if it is registered.
    pub fn registration(&self) -> Result<Option<Registration>, StoreError> {
        let Some(bytes) = self.inner.trees.registration.get(CURRENT)? else {
            return Ok(None);
        };
        let stored: StoredRegistration = serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::codec("registration record", e))?;
        stored.unseal(&self.inner.sealer).map(Some)
    }

    /// Stores the registration (its key sealed) and updates the recovery copy.
    pub async fn set_registration(&self, r: &Registration) -> Result<(), StoreError> {
        let stored = StoredRegistration::seal(r, &self.inner.sealer)?;
        let bytes =
            serde_json::to_vec(&stored).map_err(|e| StoreError::codec("registration record", e))?;
        self.inner.trees.registration.insert(CURRENT, bytes)?;
        self.flush().await?;
        self.refresh_recovery().await
    }

    /// Forgets the registration (after deregistering) and updates the recovery copy.
    pub async fn clear_registration(&self) -> Result<(), StoreError> {
        self.inner.trees.registration.remove(CURRENT)?;
        self.flush().await?;
        self.refresh_recovery().await
    }

    /// The authorized-server list as last fetched, if any.
    pub fn authorized_list(&self) -> Result<Option<StoredList>, StoreError> {
        let Some(bytes) = self.inner.trees.list.get(CURRENT)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::codec("authorized list", e))
    }

    /// Stores a freshly fetched list, recording the current time as `fetched_at`.
    pub async fn set_authorized_list(
        &self,
        list: &rmsc_contract::AuthorizedList,
    ) -> Result<(), StoreError> {
        let stored = StoredList {
            list: list.clone(),
            fetched_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        let bytes =
            serde_json::to_vec(&stored).map_err(|e| StoreError::codec("authorized list", e))?;
        self.inner.trees.list.insert(CURRENT, bytes)?;
        self.flush().await
    }

    /// A setting decoded from JSON, if set.
    pub fn setting<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let Some(bytes) = self.inner.trees.settings.get(key.as_bytes())? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::codec(format!("setting {key:?}"), e))
    }

    /// Stores a setting as JSON and updates the recovery copy.
    pub async fn set_setting<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| StoreError::codec(format!("setting {key:?}"), e))?;
        self.inner.trees.settings.insert(key.as_bytes(), bytes)?;
        self.flush().await?;
        self.refresh_recovery().await
    }

    /// Removes a setting (absent is fine) and updates the recovery copy.
    pub async fn remove_setting(&self, key: &str) -> Result<(), StoreError> {
        self.inner.trees.settings.remove(key.as_bytes())?;
        self.flush().await?;
        self.refresh_recovery().await
    }

    /// Seals `plaintext` with the machine key under `name` (keytab, TLS private keys, ...).
    /// The name is the associated data, so a blob cannot be swapped under another name.
    pub async fn put_secret(&self, name: &str, plaintext: &[u8]) -> Result<(), StoreError> {
        let sealed = self.inner.sealer.seal(&secret_label(name), plaintext)?;
        self.inner.trees.secrets.insert(name.as_bytes(), sealed)?;
        self.flush().await
    }

    /// Opens the secret stored under `name`, if any. A wrong machine key or tampering gives
    /// [`StoreError::Sealed`].
    pub fn secret(&self, name: &str) -> Result<Option<Secret>, StoreError> {
        let Some(sealed) = self.inner.trees.secrets.get(name.as_bytes())? else {
            return Ok(None);
        };
        self.inner
            .sealer
            .open(&secret_label(name), &sealed, name)
            .map(Some)
    }

    /// Removes a secret (absent is fine).
    pub async fn remove_secret(&self, name: &str) -> Result<(), StoreError> {
        self.inner.trees.secrets.remove(name.as_bytes())?;
        self.flush().await
    }
}
