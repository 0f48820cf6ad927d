//! `recovery.sealed`: a sealed copy of the registration and settings outside the database,
//! so that a database rebuilt after corruption gets the connector's credential back.
//! The authorized list and the events are not in it: the list is re-synced from the cloud.

use crate::error::StoreError;
use crate::fsutil;
use crate::model::StoredRegistration;
use crate::seal::Sealer;
use crate::store::{Trees, CURRENT};
use crate::RECOVERY_FILE;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::Path;

/// Associated data of the recovery file, so no other sealed blob can stand in for it.
const LABEL: &[u8] = b"recovery";
const FORMAT_VERSION: u32 = 1;

/// What the recovery file holds. The registration keeps its own sealed key, so the clear
/// key never exists in this snapshot's plaintext.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    version: u32,
    pub(crate) registration: Option<StoredRegistration>,
    pub(crate) settings: BTreeMap<String, serde_json::Value>,
}

impl Snapshot {
    /// Reads the registration and settings currently in the database.
    pub(crate) fn take(trees: &Trees) -> Result<Self, StoreError> {
        let registration = match trees.registration.get(CURRENT)? {
            Some(bytes) => Some(
                serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::codec("registration record", e))?,
            ),
            None => None,
        };
        let mut settings = BTreeMap::new();
        for item in trees.settings.iter() {
            let (key, value) = item?;
            let key = String::from_utf8_lossy(&key).into_owned();
            match serde_json::from_slice(&value) {
                Ok(value) => {
                    settings.insert(key, value);
                }
                // One bad setting must not stop the others from being protected.
                Err(e) => {
                    tracing::warn!(setting = %key, error = %e, "setting left out of the recovery copy")
                }
            }
        }
        Ok(Snapshot {
            version: FORMAT_VERSION,
            registration,
            settings,
        })
    }

    /// Writes the snapshot's records into (fresh) trees. Returns whether it held a
    /// registration.
    pub(crate) fn apply(&self, trees: &Trees) -> Result<bool, StoreError> {
        if let Some(registration) = &self.registration {
            let bytes = serde_json::to_vec(registration)
                .map_err(|e| StoreError::codec("registration record", e))?;
            trees.registration.insert(CURRENT, bytes)?;
        }
        for (key, value) in &self.settings {
            let bytes = serde_json::to_vec(value)
                .map_err(|e| StoreError::codec(format!("setting {key:?}"), e))?;
            trees.settings.insert(key.as_bytes(), bytes)?;
        }
        Ok(self.registration.is_some())
    }
}

/// Reads and opens the recovery file; `None` if there is none.
pub(crate) fn read(data_dir: &Path, sealer: &Sealer) -> Result<Option<Snapshot>, StoreError> {
    let path = data_dir.join(RECOVERY_FILE);
    let sealed = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(path, e)),
    };
    let plain = sealer.open(LABEL, &sealed, RECOVERY_FILE)?;
    let snapshot: Snapshot =
        serde_json::from_slice(plain.expose()).map_err(|e| StoreError::codec(RECOVERY_FILE, e))?;
    Ok(Some(snapshot))
}

/// Seals and atomically replaces the recovery file.
pub(crate) fn write(
    data_dir: &Path,
    sealer: &Sealer,
    snapshot: &Snapshot,
) -> Result<(), StoreError> {
    let plain = serde_json::to_vec(snapshot).map_err(|e| StoreError::codec(RECOVERY_FILE, e))?;
    let sealed = sealer.seal(LABEL, &plain)?;
    fsutil::write_private_atomically(&data_dir.join(RECOVERY_FILE), &sealed)
}

/// Brings the recovery file in line with the database after opening it (a crash may have
/// come between a database write and the file's rewrite). A file sealed with another
/// machine key is left alone: it may be the only readable copy once the right key is back.
pub(crate) fn sync_at_open(data_dir: &Path, sealer: &Sealer, trees: &Trees) {
    let result = Snapshot::take(trees).and_then(|current| match read(data_dir, sealer) {
        Ok(Some(existing)) if existing == current => Ok(()),
        Ok(_) => write(data_dir, sealer, &current),
        Err(StoreError::Sealed { .. }) => {
            tracing::warn!(
                "recovery.sealed was sealed with another machine key; leaving it untouched"
            );
            Ok(())
        }
        // Unreadable or undecodable: a fresh copy is strictly better.
        Err(_) => write(data_dir, sealer, &current),
    });
    if let Err(e) = result {
        // The file is a safety net; failing to refresh it must not keep the appliance down.
        tracing::warn!(error = %e, "could not refresh recovery.sealed");
    }
}
