//! `<data_dir>/console.env`: the facts the appliance's console screen shows (admin port,
//! certificate fingerprint, the setup code while setup is pending), as `KEY=VALUE` lines.
//! Rewritten atomically (temporary file, fsync, rename) with mode 0600, since it can hold the
//! setup code.

use crate::error::WebAdminError;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// File name of the console facts inside the data directory.
pub const CONSOLE_ENV_FILE: &str = "console.env";

#[derive(Default)]
struct Values {
    admin_port: Option<u16>,
    cert_sha256: Option<String>,
    setup_code: Option<String>,
}

impl Values {
    fn render(&self) -> String {
        let mut out = String::new();
        if let Some(port) = self.admin_port {
            out.push_str(&format!("ADMIN_PORT={port}\n"));
        }
        if let Some(fingerprint) = &self.cert_sha256 {
            out.push_str(&format!("ADMIN_CERT_SHA256={fingerprint}\n"));
        }
        if let Some(code) = &self.setup_code {
            out.push_str(&format!("SETUP_CODE={code}\n"));
        }
        out
    }
}

struct Inner {
    path: PathBuf,
    /// Held while the file is rewritten, so writes land in the order values changed.
    values: Mutex<Values>,
}

/// The writer of `console.env`. Cheap to clone; clones share the values.
#[derive(Clone)]
pub struct ConsoleEnv {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ConsoleEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleEnv")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl ConsoleEnv {
    /// A writer for `<data_dir>/console.env`. Nothing is written until a value is set.
    pub fn new(data_dir: &Path) -> Self {
        ConsoleEnv {
            inner: Arc::new(Inner {
                path: data_dir.join(CONSOLE_ENV_FILE),
                values: Mutex::new(Values::default()),
            }),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Records the admin listener's port.
    pub async fn set_admin_port(&self, port: u16) -> Result<(), WebAdminError> {
        self.update(move |v| v.admin_port = Some(port)).await
    }

    /// Records the SHA-256 fingerprint of the admin certificate.
    pub async fn set_cert_fingerprint(&self, fingerprint: &str) -> Result<(), WebAdminError> {
        let fingerprint = fingerprint.to_owned();
        self.update(move |v| v.cert_sha256 = Some(fingerprint))
            .await
    }

    /// Records the pending setup code, or removes it once setup is done.
    pub async fn set_setup_code(&self, code: Option<&str>) -> Result<(), WebAdminError> {
        let code = code.map(str::to_owned);
        self.update(move |v| v.setup_code = code).await
    }

    async fn update(
        &self,
        change: impl FnOnce(&mut Values) + Send + 'static,
    ) -> Result<(), WebAdminError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut values = inner.values.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut values);
            write_atomic(&inner.path, values.render().as_bytes())
        })
        .await
        .map_err(|e| WebAdminError::Task(e.to_string()))?
    }
}

/// Writes `contents` to `path` through a temporary file in the same directory, mode 0600.
fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), WebAdminError> {
    let tmp = path.with_extension("env.tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| WebAdminError::io(&tmp, e))?;
    // A leftover temporary file keeps its old mode through `open`; force 0600.
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(|e| WebAdminError::io(&tmp, e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| WebAdminError::io(&tmp, e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| WebAdminError::io(path, e))?;
    if let Some(dir) = path.parent() {
        // Make the rename itself durable; a failure here only risks the old contents.
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_key_value_lines_with_mode_0600_and_drops_the_code() {
        let dir = tempfile::tempdir().expect("tempdir");
        let console = ConsoleEnv::new(dir.path());
        console.set_admin_port(8443).await.expect("port");
        console
            .set_cert_fingerprint("AB:CD")
            .await
            .expect("fingerprint");
        console
            .set_setup_code(Some("ABCD-EFGH-JKMN-PQRS"))
            .await
            .expect("code");
        let text = fs::read_to_string(console.path()).expect("read");
        assert_eq!(
            text,
            "ADMIN_PORT=8443\nADMIN_CERT_SHA256=AB:CD\nSETUP_CODE=ABCD-EFGH-JKMN-PQRS\n"
        );
        let mode = fs::metadata(console.path())
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        console.set_setup_code(None).await.expect("clear");
        let text = fs::read_to_string(console.path()).expect("read");
        assert!(!text.contains("SETUP_CODE"));
        assert!(!dir.path().join("console.env.tmp").exists());
    }
}
