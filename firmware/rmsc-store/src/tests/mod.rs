//! Store-level tests against real sled databases in temporary directories.

mod events;
mod records;
mod recovery;

use crate::{Registration, Secret, Store, StoreOptions};
use std::path::Path;

/// Marker inside the test private key; it must never appear in clear on disk.
pub(crate) const KEY_MARKER: &str = "MARKER-7f3a9c-PRIVATE-KEY-BYTES";

pub(crate) fn sample_registration() -> Registration {
    Registration {
        connector_id: "c-123".to_owned(),
        tenant_id: "t-456".to_owned(),
        connector_name: "rmsconnector.contoso.com".to_owned(),
        cloud_url: "https://cloud.example".to_owned(),
        rms_url: "https://abc.rms.eu.aadrm.com".to_owned(),
        relay_url: "https://relay.example".to_owned(),
        signing_key: "c2lnbmluZy1rZXk=".to_owned(),
        certificate_pem: "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n"
            .to_owned(),
        ca_pem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n".to_owned(),
        key_pem: Secret::from(format!(
            "-----BEGIN PRIVATE KEY-----\n{KEY_MARKER}\n-----END PRIVATE KEY-----\n"
        )),
        not_after: 1_900_000_000,
        registered_at: 1_700_000_000,
        registered_by: "admin@contoso.com".to_owned(),
    }
}

pub(crate) fn open(dir: &Path) -> Store {
    let (store, _) = reopen(dir).expect("open store");
    store
}

/// Opens a store that this process just closed. sled releases its file lock only when the
/// last reference to the database drops, and its flusher thread may still hold one for a
/// moment after the handle is gone (seen under load): poll, with a deadline.
pub(crate) fn reopen(dir: &Path) -> Result<(Store, crate::OpenOutcome), crate::StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Store::open(dir) {
            Err(crate::StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

pub(crate) fn open_small(dir: &Path, event_capacity: usize) -> Store {
    let (store, _) = Store::open_with(dir, StoreOptions { event_capacity }).expect("open store");
    store
}

/// Every regular file under `dir`, recursively.
pub(crate) fn all_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
