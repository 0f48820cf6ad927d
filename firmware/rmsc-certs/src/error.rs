//! Why an uploaded certificate could not be read; messages tell the administrator what to do.

/// A certificate upload or generation failed before any check could run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("the file is larger than {limit_kib} KiB; upload only the certificate, its chain and the key")]
    TooLarge { limit_kib: usize },
    #[error(
        "the file holds no certificate; upload the PEM certificate (BEGIN CERTIFICATE) or a PFX"
    )]
    NoCertificate,
    #[error("the file holds more than {limit} certificates; upload only the connector's certificate and its chain")]
    TooManyCertificates { limit: usize },
    #[error("the file holds no private key; add the key (BEGIN PRIVATE KEY) or export a PFX with the private key")]
    NoPrivateKey,
    #[error("the file holds more than one private key; upload only the key of the connector's certificate")]
    MultipleKeys,
    #[error("the private key is encrypted; upload a PFX with its password instead, or remove the key's password")]
    EncryptedKey,
    #[error("the private key cannot be used: {0}; use an RSA (2048 to 8192 bits), P-256, P-384 or Ed25519 key")]
    UnusableKey(String),
    #[error("certificate {index} in the file is not a valid X.509 certificate")]
    BadCertificate { index: usize },
    #[error("the file is not readable as {what}; export it again")]
    Unreadable { what: &'static str },
    #[error("the PFX password is wrong")]
    WrongPassword,
    #[error("the PFX uses protection this connector does not support ({0}); export it again with AES256-SHA256 or TripleDES-SHA1")]
    UnsupportedPfx(String),
    #[error("{name:?} is not a valid connector name: {reason}")]
    BadConnectorName { name: String, reason: &'static str },
    #[error("generating the certificate failed: {0}")]
    Generate(String),
}

impl CertError {
    /// A stable code for the admin API.
    pub fn code(&self) -> &'static str {
        match self {
            CertError::WrongPassword => "wrong_password",
            CertError::BadConnectorName { .. } => "invalid_setting",
            CertError::Generate(_) => "internal",
            _ => "unreadable",
        }
    }
}
