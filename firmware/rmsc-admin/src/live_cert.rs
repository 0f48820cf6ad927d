//! The caller listeners' certificate as rustls sees it: a certificate resolver whose
//! certificate can be replaced while the listeners run. Every new TLS handshake reads the
//! current one; connections already open keep the certificate they started with.

use crate::error::AdminError;
use rmsc_certs::Uploaded;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::sync::{Arc, PoisonError, RwLock};

/// A replaceable server certificate for rustls.
#[derive(Debug)]
pub struct LiveCertificate {
    current: RwLock<Arc<CertifiedKey>>,
}

fn certified(certificate: Uploaded) -> Result<Arc<CertifiedKey>, AdminError> {
    let (chain, key) = certificate.into_rustls();
    let signing =
        rustls::crypto::ring::sign::any_supported_type(&key).map_err(|e| AdminError::Refused {
            code: "unreadable",
            message: format!("The private key cannot be used for TLS: {e}."),
        })?;
    Ok(Arc::new(CertifiedKey::new(chain, signing)))
}

impl LiveCertificate {
    /// Starts with `certificate`.
    pub fn new(certificate: Uploaded) -> Result<Arc<Self>, AdminError> {
        Ok(Arc::new(Self {
            current: RwLock::new(certified(certificate)?),
        }))
    }

    /// Makes `certificate` the one every new handshake gets.
    pub fn replace(&self, certificate: Uploaded) -> Result<(), AdminError> {
        let next = certified(certificate)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = next;
        Ok(())
    }

    /// SHA-256 fingerprint of the leaf certificate in use.
    pub fn fingerprint(&self) -> String {
        let current = self.current();
        current
            .cert
            .first()
            .map(|leaf| rmsc_certs::fingerprint(leaf.as_ref()))
            .unwrap_or_default()
    }

    fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ResolvesServerCert for LiveCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(name: &str) -> Uploaded {
        let (pem, key) =
            rmsc_certs::self_signed(name, time::OffsetDateTime::now_utc()).expect("generate");
        rmsc_certs::complete_csr(pem.as_bytes(), &key).expect("read back")
    }

    #[test]
    fn replacing_changes_the_fingerprint() {
        let first = self_signed("a.contoso.com");
        let first_fp = rmsc_certs::fingerprint(first.chain()[0].as_ref());
        let live = LiveCertificate::new(first).expect("usable");
        assert_eq!(live.fingerprint(), first_fp);
        let second = self_signed("b.contoso.com");
        let second_fp = rmsc_certs::fingerprint(second.chain()[0].as_ref());
        live.replace(second).expect("usable");
        assert_eq!(live.fingerprint(), second_fp);
    }
}
