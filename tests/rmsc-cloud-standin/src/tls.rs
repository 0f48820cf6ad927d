//! The stand-in's own PKI: a cloud root CA that signs the server certificate, a connector CA
//! that signs connector client certificates from their CSRs, and the rustls server config that
//! asks for (but does not require) a client certificate.

use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName as TlsDn, RootCertStore};
use rustls::{Error as RustlsError, ServerConfig, SignatureScheme};
use time::OffsetDateTime;

/// Failures of the stand-in's PKI.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("TLS configuration failed: {0}")]
    Rustls(#[from] RustlsError),
    #[error("client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("the CSR could not be parsed or its signature is wrong")]
    BadCsr,
}

/// A certificate authority the stand-in holds the key of.
pub struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A certificate the stand-in issued.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    pub pem: String,
    pub der: CertificateDer<'static>,
    /// SHA-256 of the DER: how the stand-in recognises its own certificates on a connection.
    pub fingerprint: [u8; 32],
    /// Unix seconds.
    pub not_after: i64,
}

/// SHA-256 of a certificate's DER bytes.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    // A positive serial keeps strict parsers happy.
    bytes[0] &= 0x7f;
    SerialNumber::from_slice(&bytes)
}

impl Authority {
    /// Makes a new self-signed CA valid for ten years.
    pub fn new(common_name: &str) -> Result<Authority, TlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, "RMS connector cloud stand-in");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::from_secs(3600);
        params.not_after = now + Duration::from_secs(10 * 365 * 86_400);
        params.serial_number = Some(random_serial());
        let cert = params.self_signed(&key)?;
        Ok(Authority { cert, key })
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate, DER.
    pub fn der(&self) -> &CertificateDer<'static> {
        self.cert.der()
    }

    /// Issues the TLS server certificate for the loopback names, with its private key.
    pub fn issue_server(&self) -> Result<(IssuedCert, PrivateKeyDer<'static>), TlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::from_secs(3600);
        params.not_after = now + Duration::from_secs(365 * 86_400);
        params.serial_number = Some(random_serial());
        let cert = params.signed_by(&key, &self.cert, &self.key)?;
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok((issued(&cert, params_not_after(&cert)), private))
    }

    /// Signs a connector's CSR: the subject becomes `CN=<connector_id>` whatever the CSR asked
    /// for, and the certificate is good for client authentication only.
    pub fn sign_csr(
        &self,
        csr_pem: &str,
        connector_id: &str,
        validity: Duration,
    ) -> Result<IssuedCert, TlsError> {
        let mut csr =
            CertificateSigningRequestParams::from_pem(csr_pem).map_err(|_| TlsError::BadCsr)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, connector_id);
        csr.params.distinguished_name = dn;
        csr.params.subject_alt_names = Vec::new();
        csr.params.is_ca = IsCa::ExplicitNoCa;
        csr.params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        csr.params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        csr.params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        // A minute of back-dating absorbs clock skew between the appliance and the cloud.
        csr.params.not_before = now - Duration::from_secs(60);
        csr.params.not_after = now + validity;
        csr.params.serial_number = Some(random_serial());
        let cert = csr.signed_by(&self.cert, &self.key)?;
        Ok(issued(&cert, params_not_after(&cert)))
    }
}

fn params_not_after(cert: &rcgen::Certificate) -> i64 {
    cert.params().not_after.unix_timestamp()
}

fn issued(cert: &rcgen::Certificate, not_after: i64) -> IssuedCert {
    IssuedCert {
        pem: cert.pem(),
        der: cert.der().clone(),
        fingerprint: fingerprint(cert.der()),
        not_after,
    }
}

/// Builds the server config: HTTP/1.1 only, ring provider, client certificates optional and
/// checked against the connector CA.
pub fn server_config(
    server_cert: &IssuedCert,
    server_key: PrivateKeyDer<'static>,
    root: &Authority,
    connector_ca: &Authority,
) -> Result<Arc<ServerConfig>, TlsError> {
    // The appliance's own TLS policy, so that a caller of the stand-in ("direct" in the
    // benchmarks) gets the same suite as a caller of the connector.
    let provider = rmsc_certs::crypto_provider();
    let mut roots = RootCertStore::empty();
    roots.add(connector_ca.der().clone())?;
    let inner = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()?;
    let verifier = Arc::new(ExpiryTolerantVerifier { inner });
    let chain = vec![server_cert.der.clone(), root.der().clone()];
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, server_key)?;
    // Choose by that policy's order, as the connector's listeners do.
    config.ignore_client_order = true;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Lets expired (but otherwise valid) connector certificates through the handshake, so the
/// handler can answer `403 unknown_connector` in JSON instead of a bare TLS alert that a
/// connector could not tell from a network failure.
#[derive(Debug)]
struct ExpiryTolerantVerifier {
    inner: Arc<dyn ClientCertVerifier>,
}

fn cert_not_after(der: &[u8]) -> Option<u64> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    u64::try_from(cert.validity().not_after.timestamp()).ok()
}

impl ClientCertVerifier for ExpiryTolerantVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[TlsDn] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, RustlsError> {
        match self
            .inner
            .verify_client_cert(end_entity, intermediates, now)
        {
            Err(RustlsError::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. },
            )) => {
                // Re-check the chain at the last valid second: signature and issuer still count.
                let not_after = cert_not_after(end_entity).ok_or(
                    RustlsError::InvalidCertificate(CertificateError::BadEncoding),
                )?;
                let then =
                    UnixTime::since_unix_epoch(Duration::from_secs(not_after.saturating_sub(1)));
                self.inner
                    .verify_client_cert(end_entity, intermediates, then)
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, RustlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, RustlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr() -> String {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(vec!["ignored.example".to_owned()]).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, "whatever-the-appliance-asks");
        params
            .serialize_request(&key)
            .expect("csr")
            .pem()
            .expect("pem")
    }

    #[test]
    fn signed_csr_gets_connector_id_as_subject_and_requested_validity() {
        let ca = Authority::new("connector CA").expect("ca");
        let cert = ca
            .sign_csr(&csr(), "conn-1", Duration::from_secs(120))
            .expect("signed");
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert.der).expect("parse");
        let cn = parsed
            .subject()
            .iter_common_name()
            .next()
            .and_then(|c| c.as_str().ok());
        assert_eq!(cn, Some("conn-1"));
        let now = OffsetDateTime::now_utc().unix_timestamp();
        assert!((now + 110..=now + 130).contains(&cert.not_after));
        assert_eq!(cert.fingerprint, fingerprint(&cert.der));
    }

    #[test]
    fn garbage_csr_is_refused() {
        let ca = Authority::new("connector CA").expect("ca");
        assert!(matches!(
            ca.sign_csr(
                "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                "x",
                Duration::from_secs(1)
            ),
            Err(TlsError::BadCsr)
        ));
        assert!(matches!(
            ca.sign_csr("not pem", "x", Duration::from_secs(1)),
            Err(TlsError::BadCsr)
        ));
    }

    #[test]
    fn server_config_builds() {
        let root = Authority::new("root").expect("root");
        let conn = Authority::new("conn").expect("conn");
        let (cert, key) = root.issue_server().expect("server");
        server_config(&cert, key, &root, &conn).expect("config");
    }
}
