//! The machine key and AES-256-GCM sealing of secrets with it.
//!
//! Sealed format: 12-byte random nonce, then ciphertext, then the 16-byte tag. The caller's
//! label (e.g. the secret's name) is the associated data, so a sealed value copied under
//! another name fails to open instead of being accepted.

use crate::error::StoreError;
use crate::fsutil;
use crate::secret::Secret;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Length of the machine key in bytes (AES-256).
pub const MACHINE_KEY_LEN: usize = 32;

/// File name of the machine key inside the data directory.
pub const MACHINE_KEY_FILE: &str = "machine.key";

/// Seals and opens values with the machine key.
pub(crate) struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl Sealer {
    /// A sealer for a raw 32-byte key.
    pub(crate) fn new(raw: &[u8]) -> Result<Self, StoreError> {
        let unbound = UnboundKey::new(&AES_256_GCM, raw)
            .map_err(|_| StoreError::MachineKey(format!("expected {MACHINE_KEY_LEN} bytes")))?;
        Ok(Sealer {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        })
    }

    /// Encrypts `plaintext` under a fresh random nonce, binding it to `label`.
    pub(crate) fn seal(&self, label: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| StoreError::Random)?;
        let tag_len = AES_256_GCM.tag_len();
        // Reserved up front so the plaintext copy is never left behind by a reallocation.
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + tag_len);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(label),
                &mut out[NONCE_LEN..],
            )
            .map_err(|_| StoreError::Random)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts a value sealed by [`Sealer::seal`] with the same label. `name` is only
    /// used in the error.
    pub(crate) fn open(
        &self,
        label: &[u8],
        sealed: &[u8],
        name: &str,
    ) -> Result<Secret, StoreError> {
        let failed = || StoreError::Sealed {
            name: name.to_owned(),
        };
        if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(failed());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| failed())?;
        // The buffer lives in a Secret from the start so the plaintext is zeroed on every path.
        let mut buf = Secret::new(body.to_vec());
        let plain_len = self
            .key
            .open_in_place(nonce, Aad::from(label), buf.expose_mut())
            .map_err(|_| failed())?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

/// Reads the machine key from `data_dir`, creating it on first use.
///
/// An existing key of the wrong length is an error, never replaced: replacing it would make
/// every sealed secret unreadable.
pub(crate) fn load_or_create_machine_key(data_dir: &Path) -> Result<Secret, StoreError> {
    let path = data_dir.join(MACHINE_KEY_FILE);
    match read_machine_key(&path) {
        Ok(key) => return Ok(key),
        Err(StoreError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {}
        Err(other) => return Err(other),
    }
    create_machine_key(data_dir, &path)?;
    read_machine_key(&path)
}

fn read_machine_key(path: &Path) -> Result<Secret, StoreError> {
    let mut file = fs::File::open(path).map_err(|e| StoreError::io(path, e))?;
    let meta = file.metadata().map_err(|e| StoreError::io(path, e))?;
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "machine key was readable by others; restricting it to mode 0600");
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| StoreError::io(path, e))?;
    }
    // One byte more than needed, to notice a file that is too long without reading all of it.
    let mut buf = Secret::new(vec![0u8; MACHINE_KEY_LEN + 1]);
    let mut filled = 0;
    loop {
        let n = file
            .read(&mut buf.expose_mut()[filled..])
            .map_err(|e| StoreError::io(path, e))?;
        if n == 0 {
            break;
        }
        filled += n;
        if filled == buf.len() {
            break;
        }
    }
    if filled != MACHINE_KEY_LEN {
        return Err(StoreError::MachineKey(format!(
            "{} holds {} bytes instead of {MACHINE_KEY_LEN}; refusing to replace it because \
             every sealed secret depends on it",
            path.display(),
            if filled > MACHINE_KEY_LEN {
                format!("more than {MACHINE_KEY_LEN}")
            } else {
                filled.to_string()
            }
        )));
    }
    buf.truncate(MACHINE_KEY_LEN);
    Ok(buf)
}

/// Writes a fresh key to a temporary file (create_new, mode 0600, fsync), then hard-links
/// it into place. The link fails if a key appeared meanwhile, and a crash never leaves a
/// short `machine.key` behind that would then be refused forever.
fn create_machine_key(data_dir: &Path, path: &Path) -> Result<(), StoreError> {
    let mut key = Secret::new(vec![0u8; MACHINE_KEY_LEN]);
    SystemRandom::new()
        .fill(key.expose_mut())
        .map_err(|_| StoreError::Random)?;
    let tmp = data_dir.join(format!("{MACHINE_KEY_FILE}.new"));
    fsutil::remove_if_exists(&tmp)?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| StoreError::io(&tmp, e))?;
    file.write_all(key.expose())
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io(&tmp, e))?;
    drop(file);
    match fs::hard_link(&tmp, path) {
        Ok(()) => {}
        // Someone else created it first: theirs wins, ours is discarded below.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(StoreError::io(path, e)),
    }
    fsutil::remove_if_exists(&tmp)?;
    fsutil::sync_dir(data_dir)?;
    tracing::info!(path = %path.display(), "created a new machine key");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer::new(&[byte; MACHINE_KEY_LEN]).expect("32-byte key")
    }

    #[test]
    fn sealed_values_open_with_the_same_key_and_label() {
        let s = sealer(1);
        let sealed = s.seal(b"label", b"plain text").expect("seal");
        assert!(!sealed.windows(10).any(|w| w == b"plain text"));
        let opened = s.open(b"label", &sealed, "x").expect("open");
        assert_eq!(opened.expose(), b"plain text");
    }

    #[test]
    fn wrong_label_wrong_key_tampering_and_truncation_are_refused() {
        let s = sealer(1);
        let sealed = s.seal(b"label", b"plain text").expect("seal");
        assert!(matches!(
            s.open(b"other", &sealed, "x"),
            Err(StoreError::Sealed { .. })
        ));
        assert!(matches!(
            sealer(2).open(b"label", &sealed, "x"),
            Err(StoreError::Sealed { .. })
        ));
        let mut tampered = sealed.clone();
        tampered[NONCE_LEN] ^= 1;
        assert!(matches!(
            s.open(b"label", &tampered, "x"),
            Err(StoreError::Sealed { .. })
        ));
        assert!(matches!(
            s.open(b"label", &sealed[..10], "x"),
            Err(StoreError::Sealed { .. })
        ));
    }

    #[test]
    fn machine_key_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = load_or_create_machine_key(dir.path()).expect("create");
        let second = load_or_create_machine_key(dir.path()).expect("reload");
        assert_eq!(first, second);
        let mode = fs::metadata(dir.path().join(MACHINE_KEY_FILE))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!dir.path().join("machine.key.new").exists());
    }

    #[test]
    fn machine_key_of_wrong_length_is_an_error_and_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(MACHINE_KEY_FILE);
        fs::write(&path, b"short").expect("write");
        let err = load_or_create_machine_key(dir.path()).expect_err("must refuse");
        assert!(matches!(err, StoreError::MachineKey(_)), "{err}");
        assert_eq!(fs::read(&path).expect("read"), b"short");
        fs::write(&path, [7u8; 40]).expect("write");
        assert!(matches!(
            load_or_create_machine_key(dir.path()),
            Err(StoreError::MachineKey(_))
        ));
    }
}
