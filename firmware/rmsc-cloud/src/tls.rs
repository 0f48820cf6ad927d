//! rustls client configurations for the cloud: server authentication against the public
//! roots plus an optional extra CA (a private cloud, or the stand-in), and the connector's
//! client certificate for mutual TLS.

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use std::sync::Arc;

/// Certificate or key material that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsMaterialError {
    #[error("no certificate found in PEM input")]
    NoCertificate,
    #[error("no private key found in PEM input")]
    NoKey,
    #[error("invalid PEM: {0}")]
    Pem(String),
    #[error("TLS configuration rejected: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Parses every certificate of a PEM document.
pub fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsMaterialError> {
    let certs = rustls_pemfile::certs(&mut pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsMaterialError::Pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsMaterialError::NoCertificate);
    }
    Ok(certs)
}

/// Parses the first private key of a PEM document.
pub fn private_key(pem: &str) -> Result<PrivateKeyDer<'static>, TlsMaterialError> {
    rustls_pemfile::private_key(&mut pem.as_bytes())
        .map_err(|e| TlsMaterialError::Pem(e.to_string()))?
        .ok_or(TlsMaterialError::NoKey)
}

/// Roots the cloud's server certificate must chain to.
pub fn root_store(extra_ca_pem: Option<&str>) -> Result<Arc<RootCertStore>, TlsMaterialError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_ca_pem {
        for cert in certificates(pem)? {
            roots.add(cert)?;
        }
    }
    Ok(Arc::new(roots))
}

/// Client configuration without a client certificate (sign-in, discovery, registration).
pub fn anonymous_config(roots: Arc<RootCertStore>) -> Result<ClientConfig, TlsMaterialError> {
    let cfg = ClientConfig::builder_with_provider(rmsc_certs::crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(cfg)
}

/// Client configuration that presents the connector certificate (relay, list, renewal).
pub fn mutual_config(
    roots: Arc<RootCertStore>,
    certificate_pem: &str,
    key_pem: &str,
) -> Result<ClientConfig, TlsMaterialError> {
    let cfg = ClientConfig::builder_with_provider(rmsc_certs::crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(certificates(certificate_pem)?, private_key(key_pem)?)?;
    Ok(cfg)
}
