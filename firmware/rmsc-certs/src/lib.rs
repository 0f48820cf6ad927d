//! The connector's HTTPS certificate: upload checks, CSR and self-signed generation.
//!
//! Callers reach the connector by its name, so the certificate must name it, be in date,
//! match its key and chain up correctly. This crate reads uploads ([`parse_pem_bundle`],
//! [`parse_pfx`], [`complete_csr`]), reports on them ([`check`]), makes keys on the
//! appliance ([`generate_csr`], [`self_signed`]) and hands the result to rustls
//! ([`Uploaded::into_rustls`]) under the appliance's TLS policy ([`crypto_provider`]). It
//! does no I/O of its own: bytes and the time come from
//! the caller.

mod check;
mod error;
mod generate;
mod keys;
mod names;
mod parse;
mod provider;

use std::fmt;

use base64::Engine;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use check::{
    check, fingerprint, CertProblem, CertReport, ChainLink, Severity, EXPIRY_WARNING_DAYS,
};
pub use error::CertError;
pub use generate::{generate_csr, self_signed, SELF_SIGNED_DAYS};
pub use names::{name_matches, validate_connector_name};
pub use parse::{complete_csr, parse_pem_bundle, parse_pfx, MAX_CERTIFICATES, MAX_UPLOAD_BYTES};
pub use provider::{crypto_provider, server_config};

/// A certificate chain (leaf first) and its private key, as read from an upload.
///
/// Reading guarantees that every certificate parses and that rustls can use the key; it
/// does not guarantee that they fit together: that is what [`check`] reports.
pub struct Uploaded {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Uploaded {
    fn new(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Self {
        Uploaded { chain, key }
    }

    /// The chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The private key.
    pub fn key(&self) -> &PrivateKeyDer<'static> {
        &self.key
    }

    /// The parts rustls needs for a `CertifiedKey` / `with_single_cert`.
    pub fn into_rustls(self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (self.chain, self.key)
    }

    /// The chain and the key as one PEM text, for storing; [`parse_pem_bundle`] reads it back.
    pub fn to_pem(&self) -> String {
        let mut out = String::new();
        for cert in &self.chain {
            push_pem(&mut out, "CERTIFICATE", cert.as_ref());
        }
        let label = match &self.key {
            PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
            PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
            _ => "PRIVATE KEY",
        };
        push_pem(&mut out, label, self.key.secret_der());
        out
    }
}

impl Clone for Uploaded {
    fn clone(&self) -> Self {
        Uploaded {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for Uploaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("Uploaded")
            .field("certificates", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

fn push_pem(out: &mut String, label: &str, der: &[u8]) {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    out.push_str(&format!("-----BEGIN {label}-----\n"));
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
}

#[cfg(test)]
mod tests;
