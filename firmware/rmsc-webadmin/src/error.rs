//! `WebAdminError`: what can go wrong setting up or changing the admin listener (store,
//! certificate, files). Request-level failures are [`crate::AuthError`] and
//! [`crate::ApiError`] instead.

use std::path::PathBuf;

/// An error of the admin listener's setup or of an administrative change to it.
#[derive(Debug, thiserror::Error)]
pub enum WebAdminError {
    /// Reading or writing the store failed.
    #[error("store: {0}")]
    Store(#[from] rmsc_store::StoreError),
    /// A certificate or key is unreadable, or they do not belong together.
    #[error("certificate: {0}")]
    Certificate(String),
    /// Making the self-signed certificate failed.
    #[error("making the self-signed certificate: {0}")]
    CertificateGeneration(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// A file could not be written.
    #[error("writing {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Password hashing failed (bad parameters; never a wrong password).
    #[error("password hashing: {0}")]
    PasswordHash(String),
    /// A blocking task died (panicked or was cancelled at shutdown).
    #[error("background task failed: {0}")]
    Task(String),
}

impl WebAdminError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        WebAdminError::Io {
            path: path.into(),
            source,
        }
    }
}
