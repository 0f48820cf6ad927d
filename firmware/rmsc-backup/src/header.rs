//! The backup file header: magic, format version, Argon2id parameters, salt and nonce.
//!
//! The header is authenticated as AES-GCM associated data, so any change to it makes the
//! file fail to open. Parameters are still range-checked *before* the key derivation runs,
//! because the derivation happens before authentication can fail: without the bounds a
//! crafted file could ask for gigabytes of memory or hours of CPU.

use crate::BackupError;

/// The first eight bytes of every backup.
pub const MAGIC: &[u8; 8] = b"RMSCBAK1";
/// The only format version this code writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Bytes of random salt for the key derivation.
pub const SALT_LEN: usize = 16;
/// Bytes of the AES-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Total header length: magic, version, three u32 parameters, salt, nonce.
pub const HEADER_LEN: usize = MAGIC.len() + 1 + 3 * 4 + SALT_LEN + NONCE_LEN;

/// Largest memory cost accepted, in KiB (256 MiB): four times the default, and still safe on
/// the appliance, so future defaults can grow without old builds refusing new files.
pub const MAX_MEMORY_KIB: u32 = 256 * 1024;
/// Largest iteration count accepted.
pub const MAX_ITERATIONS: u32 = 10;
/// Largest lane count accepted.
pub const MAX_LANES: u32 = 4;

/// Argon2id cost parameters, stored in the header so they can change between backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Number of passes over the memory.
    pub iterations: u32,
    /// Degree of parallelism (lanes).
    pub lanes: u32,
}

impl KdfParams {
    /// m = 64 MiB, t = 3, p = 1: the OWASP-recommended shape, about a second on the appliance.
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        lanes: 1,
    };

    /// The cheapest parameters Argon2 allows; for tests and fuzzing only.
    pub const MINIMAL: KdfParams = KdfParams {
        memory_kib: 8,
        iterations: 1,
        lanes: 1,
    };

    /// Refuses parameters outside the bounds this build is willing to spend on a restore.
    pub fn validate(&self) -> Result<(), BackupError> {
        let lanes_ok = (1..=MAX_LANES).contains(&self.lanes);
        let iterations_ok = (1..=MAX_ITERATIONS).contains(&self.iterations);
        // Argon2 needs at least 8 KiB per lane; saturating because lanes come from the file.
        let memory_ok = self.memory_kib >= self.lanes.max(1).saturating_mul(8)
            && self.memory_kib <= MAX_MEMORY_KIB;
        if lanes_ok && iterations_ok && memory_ok {
            Ok(())
        } else {
            Err(BackupError::BadParameters)
        }
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A decoded header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub params: KdfParams,
    pub salt: [u8; SALT_LEN],
    pub nonce: [u8; NONCE_LEN],
}

impl Header {
    /// The exact bytes written at the start of the file (and used as associated data).
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        put(MAGIC);
        put(&[FORMAT_VERSION]);
        put(&self.params.memory_kib.to_le_bytes());
        put(&self.params.iterations.to_le_bytes());
        put(&self.params.lanes.to_le_bytes());
        put(&self.salt);
        put(&self.nonce);
        out
    }

    /// Reads the header from the start of `bytes`, checking magic, version and bounds.
    pub fn decode(bytes: &[u8]) -> Result<Header, BackupError> {
        let magic_seen = &bytes[..bytes.len().min(MAGIC.len())];
        if magic_seen != &MAGIC[..magic_seen.len()] {
            return Err(BackupError::NotABackup);
        }
        let version = *bytes.get(MAGIC.len()).ok_or(BackupError::Truncated)?;
        if version != FORMAT_VERSION {
            return Err(BackupError::UnknownVersion(version));
        }
        let header = bytes.get(..HEADER_LEN).ok_or(BackupError::Truncated)?;
        let u32_at = |at: usize| {
            let mut word = [0u8; 4];
            word.copy_from_slice(&header[at..at + 4]);
            u32::from_le_bytes(word)
        };
        let params = KdfParams {
            memory_kib: u32_at(9),
            iterations: u32_at(13),
            lanes: u32_at(17),
        };
        params.validate()?;
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&header[21..21 + SALT_LEN]);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&header[21 + SALT_LEN..HEADER_LEN]);
        Ok(Header {
            params,
            salt,
            nonce,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            params: KdfParams::DEFAULT,
            salt: [7; SALT_LEN],
            nonce: [9; NONCE_LEN],
        }
    }

    #[test]
    fn header_roundtrips() {
        let header = sample();
        assert_eq!(Header::decode(&header.encode()), Ok(header));
    }

    #[test]
    fn header_starts_with_magic_and_version() {
        let bytes = sample().encode();
        assert_eq!(&bytes[..8], MAGIC);
        assert_eq!(bytes[8], FORMAT_VERSION);
    }

    #[test]
    fn huge_memory_demand_is_refused_before_any_work() {
        let mut header = sample();
        header.params.memory_kib = u32::MAX;
        assert_eq!(
            Header::decode(&header.encode()),
            Err(BackupError::BadParameters)
        );
    }

    #[test]
    fn zero_iterations_or_lanes_are_refused() {
        for params in [
            KdfParams {
                iterations: 0,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                lanes: 0,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                lanes: 5,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                iterations: 11,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                memory_kib: 4,
                ..KdfParams::MINIMAL
            },
        ] {
            assert_eq!(
                params.validate(),
                Err(BackupError::BadParameters),
                "{params:?}"
            );
        }
    }

    #[test]
    fn other_files_are_not_backups() {
        assert_eq!(Header::decode(b"PK\x03\x04"), Err(BackupError::NotABackup));
        assert_eq!(
            Header::decode(b"RMSCBAK2\x01"),
            Err(BackupError::NotABackup)
        );
    }

    #[test]
    fn short_prefix_of_magic_is_truncated() {
        assert_eq!(Header::decode(b"RMSC"), Err(BackupError::Truncated));
        assert_eq!(Header::decode(b""), Err(BackupError::Truncated));
    }

    #[test]
    fn future_version_is_named() {
        let mut bytes = sample().encode();
        bytes[8] = 2;
        assert_eq!(Header::decode(&bytes), Err(BackupError::UnknownVersion(2)));
    }
}
