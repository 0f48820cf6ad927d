//! Puts a keytab where MIT's library can read it. The keytab is kept sealed in the store; its
//! clear copy lives only in the runtime directory (a tmpfs on the appliance), mode 0600, under
//! a new name per installation, so contexts being accepted with the previous credential
//! keep a readable file while the new one takes over.

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
        installer.remove_older_than(u64::MAX);
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
        file.write_all(bytes).map_err(io_error(&path))?;
        file.sync_all().map_err(io_error(&path))?;
        drop(file);
        match AcceptorCredential::from_keytab(&path, &self.replay_cache(), principal) {
            Ok(credential) => {
                // Keep the previous generation for contexts still being accepted with it.
                self.remove_older_than(generation.saturating_sub(1));
                Ok(credential)
            }
            Err(e) => {
                let _ = fs::remove_file(&path);
                Err(InstallError::Unusable(e.detail()))
            }
        }
    }

    /// Removes every installed keytab (the keytab was deleted by the administrator).
    pub fn remove_all(&self) {
        self.remove_older_than(u64::MAX);
    }

    fn remove_older_than(&self, keep_from: u64) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(generation) = name
                .to_str()
                .and_then(|n| n.strip_prefix("http-"))
                .and_then(|n| n.strip_suffix(".keytab"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if generation < keep_from {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}
