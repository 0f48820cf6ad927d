//! Hands a keytab to MIT's library. The keytab is kept sealed in the store. Its clear bytes
//! touch the runtime directory (a tmpfs on the appliance, mode 0700) only while the library
//! copies its entries into process memory: the file, mode 0600 under a new name per
//! installation, is removed as soon as the credential exists or could not be made.
//! Contexts being accepted with the previous credential keep its keys in memory while the new
//! one takes over.

use crate::gss::AcceptorCredential;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a keytab could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot write the keytab to {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the keytab cannot be used to accept Kerberos tickets: {0}")]
    Unusable(String),
}

/// Writes keytabs into one runtime directory and acquires acceptor credentials from them.
#[derive(Debug)]
pub struct KeytabInstaller {
    dir: PathBuf,
    generation: AtomicU64,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_owned(),
        source,
    }
}

impl KeytabInstaller {
    /// Uses `dir` (created with mode 0700 when missing). Leftover keytabs of an earlier run
    /// are removed.
    pub fn new(dir: &Path) -> Result<Self, InstallError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_error(dir))?;
        let installer = Self {
            dir: dir.to_owned(),
            generation: AtomicU64::new(0),
        };
        installer.remove_all();
        Ok(installer)
    }

    fn keytab_path(&self, generation: u64) -> PathBuf {
        self.dir.join(format!("http-{generation}.keytab"))
    }

    /// The replay cache shared by every generation: a token replayed across a keytab
    /// replacement is still caught.
    pub fn replay_cache(&self) -> PathBuf {
        self.dir.join("replay.rcache2")
    }

    /// Writes `bytes` and returns credentials for `principal` from it (the validated
    /// `HTTP/<connector name>@REALM`). Blocking (file I/O and GSSAPI).
    pub fn install(
        &self,
        bytes: &[u8],
        principal: &str,
    ) -> Result<AcceptorCredential, InstallError> {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let path = self.keytab_path(generation);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_error(&path))?;
        let credential = file
            .write_all(bytes)
            .map_err(io_error(&path))
            .and_then(|()| {
                AcceptorCredential::from_keytab(&path, &self.replay_cache(), principal)
                    .map_err(|e| InstallError::Unusable(e.detail()))
            });
        drop(file);
        // The keys are in memory now, or the keytab is unusable: either way the clear file
        // has served its purpose. (Not synced: it never needs to outlive a crash.)
        let _ = fs::remove_file(&path);
        credential
    }

    /// Removes any keytab file left in the runtime directory (by a run that stopped while
    /// installing one).
    pub fn remove_all(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let installed = name
                .to_str()
                .and_then(|n| n.strip_prefix("http-"))
                .and_then(|n| n.strip_suffix(".keytab"))
                .is_some_and(|n| n.parse::<u64>().is_ok());
            if installed {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONNECTOR_KEYTAB: &[u8] = include_bytes!("../tests/fixtures/connector.keytab");
    const PRINCIPAL: &str = "HTTP/rmsconnector.contoso.test@CONTOSO.TEST";

    fn keytab_files(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .expect("read dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".keytab"))
            .collect()
    }

    #[test]
    fn no_clear_keytab_stays_on_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let run = dir.path().join("run");
        fs::create_dir(&run).expect("mkdir");
        // A file a stopped run left behind is removed at start.
        fs::write(run.join("http-7.keytab"), CONNECTOR_KEYTAB).expect("leftover");
        let installer = KeytabInstaller::new(&run).expect("installer");
        assert!(keytab_files(&run).is_empty());

        let first = installer
            .install(CONNECTOR_KEYTAB, PRINCIPAL)
            .expect("install");
        assert!(keytab_files(&run).is_empty(), "{:?}", keytab_files(&run));
        // A replacement while the first credential is still in use.
        let second = installer
            .install(CONNECTOR_KEYTAB, PRINCIPAL)
            .expect("again");
        assert!(keytab_files(&run).is_empty());
        drop((first, second));

        // Unusable for this principal: refused, and nothing left behind either.
        let refused = installer
            .install(CONNECTOR_KEYTAB, "HTTP/other.contoso.test@CONTOSO.TEST")
            .expect_err("wrong principal");
        assert!(matches!(refused, InstallError::Unusable(_)), "{refused}");
        assert!(keytab_files(&run).is_empty());
    }
}
