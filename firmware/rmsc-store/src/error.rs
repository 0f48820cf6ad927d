//! The store's error type: every variant says which file, record or secret it concerns.

use std::path::PathBuf;

/// Everything that can go wrong while reading or writing the appliance's state.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file-system operation on `path` failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The sled database reported an error.
    #[error("database error: {0}")]
    Sled(#[from] sled::Error),
    /// Another process (or another `Store` in this one) holds the database open.
    #[error("the store at {} is in use by another process", path.display())]
    Locked { path: PathBuf },
    /// The database is damaged and could not be rebuilt.
    #[error("the store at {} is unusable: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    /// The machine key is unusable (wrong length, unreadable). It is never replaced
    /// automatically, because that would make every sealed secret unreadable.
    #[error("machine key: {0}")]
    MachineKey(String),
    /// A sealed value did not decrypt: the machine key is not the one that sealed it, or
    /// the value was tampered with.
    #[error("sealed value {name:?} cannot be opened (wrong machine key or tampered)")]
    Sealed { name: String },
    /// A record could not be encoded or decoded.
    #[error("cannot encode or decode {what}: {source}")]
    Codec {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

impl StoreError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps a serde error with a description of the record.
    pub(crate) fn codec(what: impl Into<String>, source: serde_json::Error) -> Self {
        StoreError::Codec {
            what: what.into(),
            source,
        }
    }
}
