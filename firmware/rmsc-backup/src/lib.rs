//! Passphrase-encrypted configuration backups.
//!
//! A backup is `header || AES-256-GCM(ciphertext || tag)`. The key comes from the passphrase
//! through Argon2id with the parameters and salt stored in the header; the whole header is the
//! GCM associated data, so neither it nor the ciphertext can change without `open` refusing
//! the file. A wrong passphrase and a tampered file give the same error on purpose: telling
//! them apart would need a second secret-dependent check and would help only an attacker.

mod header;

use argon2::{Algorithm, Argon2, Params, Version};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

pub use header::{KdfParams, FORMAT_VERSION, HEADER_LEN, MAGIC};

/// Largest backup file `open` reads (and so the largest `seal` writes): 16 MiB. A
/// configuration backup is kilobytes; the bound keeps an upload from pinning memory.
pub const MAX_BACKUP_BYTES: usize = 16 * 1024 * 1024;

/// Bytes of the GCM authentication tag at the end of every backup.
pub const TAG_LEN: usize = 16;

/// Largest plaintext `seal` accepts, so that its output stays within [`MAX_BACKUP_BYTES`].
pub const MAX_PLAINTEXT_BYTES: usize = MAX_BACKUP_BYTES - HEADER_LEN - TAG_LEN;

/// Why a backup could not be made or opened. Messages are for the administrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// The passphrase is wrong, or the file was changed after it was made.
    #[error("the passphrase is wrong or the backup file was modified; check the passphrase and upload the file exactly as it was downloaded")]
    WrongPassphraseOrTampered,
    /// The file ends before the header or the authentication tag.
    #[error("the backup file is incomplete; download it again or upload the whole file")]
    Truncated,
    /// A newer (or unknown) format version.
    #[error("the backup was made in format version {0}, which this connector cannot read; update the connector first")]
    UnknownVersion(u8),
    /// Key-derivation parameters outside the accepted bounds.
    #[error("the backup asks for key-derivation settings this connector does not accept; it was not made by a connector")]
    BadParameters,
    /// The file does not start with the backup magic.
    #[error("this is not a connector backup file")]
    NotABackup,
    /// Input or output would exceed [`MAX_BACKUP_BYTES`].
    #[error("the backup is larger than {} MiB, which the connector does not accept", MAX_BACKUP_BYTES / (1024 * 1024))]
    TooLarge,
    /// The system random generator failed (should never happen on Linux).
    #[error("the system random number generator failed; try again")]
    Random,
}

impl BackupError {
    /// A stable code for the admin API (`bad_backup` covers everything the caller sent wrong).
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::TooLarge => "too_large",
            BackupError::Random => "internal",
            _ => "bad_backup",
        }
    }
}

/// Encrypts `plaintext` under `passphrase` with the default Argon2id parameters.
pub fn seal(plaintext: &[u8], passphrase: &str) -> Result<Vec<u8>, BackupError> {
    seal_with(KdfParams::DEFAULT, plaintext, passphrase)
}

/// Like [`seal`] with explicit Argon2id parameters; tests and fuzzing use cheap ones.
/// Parameters that `open` would refuse are refused here too, so every sealed file opens.
pub fn seal_with(
    params: KdfParams,
    plaintext: &[u8],
    passphrase: &str,
) -> Result<Vec<u8>, BackupError> {
    params.validate()?;
    if plaintext.len() > MAX_PLAINTEXT_BYTES {
        return Err(BackupError::TooLarge);
    }
    let rng = SystemRandom::new();
    let mut salt = [0u8; header::SALT_LEN];
    let mut nonce = [0u8; header::NONCE_LEN];
    rng.fill(&mut salt).map_err(|_| BackupError::Random)?;
    // A random nonce is safe here: every backup also has a fresh salt and so a fresh key.
    rng.fill(&mut nonce).map_err(|_| BackupError::Random)?;
    let head = header::Header {
        params,
        salt,
        nonce,
    }
    .encode();
    let key = derive_key(&params, passphrase, &salt)?;

    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&head);
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(&head[..]),
        &mut body,
    )
    // Only fails for plaintexts beyond GCM's 64 GiB limit, far above MAX_PLAINTEXT_BYTES.
    .map_err(|_| BackupError::TooLarge)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decrypts a backup made by [`seal`]. Never panics, whatever the bytes.
pub fn open(bytes: &[u8], passphrase: &str) -> Result<Vec<u8>, BackupError> {
    if bytes.len() > MAX_BACKUP_BYTES {
        return Err(BackupError::TooLarge);
    }
    let head = header::Header::decode(bytes)?;
    let (aad, sealed) = bytes.split_at(HEADER_LEN);
    if sealed.len() < TAG_LEN {
        return Err(BackupError::Truncated);
    }
    let key = derive_key(&head.params, passphrase, &head.salt)?;
    let mut body = sealed.to_vec();
    let plain_len = key
        .open_in_place(
            Nonce::assume_unique_for_key(head.nonce),
            Aad::from(aad),
            &mut body,
        )
        .map_err(|_| BackupError::WrongPassphraseOrTampered)?
        .len();
    body.truncate(plain_len);
    Ok(body)
}

/// Argon2id(passphrase, salt) → an AES-256-GCM key; the raw key bytes are wiped on return.
fn derive_key(
    params: &KdfParams,
    passphrase: &str,
    salt: &[u8],
) -> Result<LessSafeKey, BackupError> {
    let argon_params = Params::new(params.memory_kib, params.iterations, params.lanes, Some(32))
        .map_err(|_| BackupError::BadParameters)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|_| BackupError::BadParameters)?;
    let unbound =
        UnboundKey::new(&AES_256_GCM, key.as_ref()).map_err(|_| BackupError::BadParameters)?;
    Ok(LessSafeKey::new(unbound))
}

#[cfg(test)]
mod tests;
