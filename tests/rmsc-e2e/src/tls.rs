//! TLS clients for tests and the benchmark that talk to servers they started themselves.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;
use tokio_rustls::TlsConnector;

/// Accepts any server certificate: the benchmark and the tests that use this measure relays, not
/// certificate validation, and talk only to servers they started on loopback with certificates
/// those servers made.
#[derive(Debug)]
struct TestOnlyAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for TestOnlyAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A TLS connector that trusts any server certificate (see [`TestOnlyAnyCertificate`]).
pub fn any_server_tls() -> anyhow::Result<TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(TestOnlyAnyCertificate(provider)))
        .with_no_client_auth();
    Ok(full_handshakes(config))
}

/// Turns session resumption off, so that every new connection costs every target a full
/// handshake: the worst case, and the same work whichever server is measured.
pub fn full_handshakes(mut config: rustls::ClientConfig) -> TlsConnector {
    config.resumption = Resumption::disabled();
    TlsConnector::from(Arc::new(config))
}
