//! Key and certificate generation on the appliance: a CSR for a CA, or a self-signed
//! certificate to start with.
//!
//! Keys are ECDSA P-256. The crypto backend (ring) cannot generate RSA keys, and P-256 needs
//! none: every Windows caller the connector serves (Exchange 2013+, SharePoint 2013+,
//! Windows Server 2012+) accepts ECDSA server certificates, handshakes are cheaper, and keys
//! and certificates are smaller. The one catch is on the CA side: an Active Directory
//! Certificate Services template must allow ECDSA (a CNG/KSP template); where it does not,
//! the administrator requests an RSA certificate elsewhere and uploads it as a PFX.

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use time::{Duration, OffsetDateTime};

use crate::names::validate_connector_name;
use crate::CertError;

/// Validity of a self-signed certificate: 825 days, the longest that Apple clients accept,
/// so a browser on any platform can be told to trust it.
pub const SELF_SIGNED_DAYS: i64 = 825;

fn params_for(connector_name: &str) -> Result<CertificateParams, CertError> {
    let name = validate_connector_name(connector_name)?;
    let mut params = CertificateParams::new(vec![name.clone()])
        .map_err(|e| CertError::Generate(e.to_string()))?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, name);
    params.distinguished_name = subject;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(params)
}

fn new_key() -> Result<KeyPair, CertError> {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| CertError::Generate(e.to_string()))
}

/// A certificate signing request for `connector_name` (subject CN and DNS SAN), and its new
/// private key as PKCS#8 DER, which must stay on the appliance until the certificate comes
/// back (see [`crate::complete_csr`]).
pub fn generate_csr(connector_name: &str) -> Result<(String, Vec<u8>), CertError> {
    let params = params_for(connector_name)?;
    let key = new_key()?;
    let csr = params
        .serialize_request(&key)
        .map_err(|e| CertError::Generate(e.to_string()))?;
    let pem = csr.pem().map_err(|e| CertError::Generate(e.to_string()))?;
    Ok((pem, key.serialize_der()))
}

/// A self-signed certificate for `connector_name`, valid from `now` for
/// [`SELF_SIGNED_DAYS`], as PEM, with its private key as PKCS#8 DER.
pub fn self_signed(
    connector_name: &str,
    now: OffsetDateTime,
) -> Result<(String, Vec<u8>), CertError> {
    let mut params = params_for(connector_name)?;
    // A minute of slack for callers whose clocks run a little behind.
    params.not_before = now - Duration::minutes(1);
    params.not_after = now + Duration::days(SELF_SIGNED_DAYS);
    let key = new_key()?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| CertError::Generate(e.to_string()))?;
    Ok((cert.pem(), key.serialize_der()))
}
