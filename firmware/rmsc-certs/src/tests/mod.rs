//! Tests with certificates made by rcgen on the fly and PFX/PEM fixtures made by openssl.

mod problems;
mod uploads;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use time::{Duration, OffsetDateTime};

/// A fixed "now" so tests never depend on the clock.
fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-06-01 12:00 UTC)
}

fn key() -> KeyPair {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key generation")
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A CA certificate and its key, self-signed when `issuer` is None.
struct Ca {
    cert: Certificate,
    key: KeyPair,
}

fn ca(name: &str, issuer: Option<&Ca>) -> Ca {
    let key = key();
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = now() - Duration::days(365);
    params.not_after = now() + Duration::days(3650);
    let cert = match issuer {
        Some(issuer) => params.signed_by(&key, &issuer.cert, &issuer.key),
        None => params.self_signed(&key),
    }
    .expect("CA certificate");
    Ca { cert, key }
}

/// Leaf settings; tests change what they exercise.
struct LeafSpec {
    names: Vec<String>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl LeafSpec {
    fn for_name(name: &str) -> Self {
        LeafSpec {
            names: vec![name.to_string()],
            not_before: now() - Duration::days(10),
            not_after: now() + Duration::days(365),
        }
    }
}

fn leaf(spec: LeafSpec, issuer: &Ca) -> (Certificate, KeyPair) {
    let key = key();
    let mut params = CertificateParams::new(spec.names.clone()).expect("leaf params");
    // Without DNS names the common name still says rms.contoso.com, as old certificates do.
    params.distinguished_name = dn(spec
        .names
        .first()
        .map(String::as_str)
        .unwrap_or("rms.contoso.com"));
    params.not_before = spec.not_before;
    params.not_after = spec.not_after;
    let cert = params
        .signed_by(&key, &issuer.cert, &issuer.key)
        .expect("leaf certificate");
    (cert, key)
}

/// Concatenated PEM of the certificates, then the key as PKCS#8.
fn bundle(certs: &[&Certificate], key: &KeyPair) -> Vec<u8> {
    let mut pem = String::new();
    for cert in certs {
        pem.push_str(&cert.pem());
    }
    pem.push_str(&key.serialize_pem());
    pem.into_bytes()
}

fn codes(report: &crate::CertReport) -> Vec<&'static str> {
    report
        .problems
        .iter()
        .map(crate::CertProblem::code)
        .collect()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).expect("fixture file")
}
