//! Reading uploads (PEM, PFX, CSR answers), generation, and the rustls hand-over.

use super::*;
use crate::{
    check, complete_csr, generate_csr, parse_pem_bundle, parse_pfx, self_signed, CertError,
    MAX_UPLOAD_BYTES,
};
use rcgen::CertificateSigningRequestParams;
use x509_parser::prelude::FromDer;

const FIXTURE_PASSWORD: &str = "fixture-password";

/// A moment inside the fixtures' validity, taken from the fixture itself.
fn fixture_now(uploaded: &crate::Uploaded) -> OffsetDateTime {
    let report = check(uploaded, "fixture.contoso.com", now());
    report.not_before + Duration::days(1)
}

fn assert_fixture_is_clean(uploaded: &crate::Uploaded) {
    assert_eq!(uploaded.chain().len(), 2);
    let report = check(uploaded, "fixture.contoso.com", fixture_now(uploaded));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.chain[1].subject, "CN=Fixture Root CA");
}

#[test]
fn modern_aes_pfx_from_openssl_reads() {
    let uploaded = parse_pfx(&fixture("aes.pfx"), FIXTURE_PASSWORD).expect("reads");
    assert_fixture_is_clean(&uploaded);
}

#[test]
fn legacy_3des_rc2_pfx_from_openssl_reads() {
    let uploaded = parse_pfx(&fixture("legacy.pfx"), FIXTURE_PASSWORD).expect("reads");
    assert_fixture_is_clean(&uploaded);
}

#[test]
fn wrong_pfx_password_is_named() {
    for file in ["aes.pfx", "legacy.pfx"] {
        let err = parse_pfx(&fixture(file), "not the password").expect_err("wrong password");
        assert_eq!(err, CertError::WrongPassword, "{file}");
        assert_eq!(err.code(), "wrong_password");
    }
}

#[test]
fn pem_with_sec1_key_reads() {
    let uploaded = parse_pem_bundle(&fixture("bundle.pem")).expect("reads");
    assert_fixture_is_clean(&uploaded);
}

#[test]
fn pem_with_pkcs1_rsa_key_reads() {
    let uploaded = parse_pem_bundle(&fixture("rsa-pkcs1.pem")).expect("reads");
    let when = check(&uploaded, "rsa.contoso.com", now()).not_before + Duration::days(1);
    let report = check(&uploaded, "rsa.contoso.com", when);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn truncated_or_garbage_pfx_is_refused_without_panic() {
    let pfx = fixture("aes.pfx");
    for len in [0, 1, 10, pfx.len() / 2, pfx.len() - 1] {
        assert!(parse_pfx(&pfx[..len], FIXTURE_PASSWORD).is_err(), "{len}");
    }
    assert!(parse_pfx(b"-----BEGIN CERTIFICATE-----", "x").is_err());
}

#[test]
fn pem_without_key_or_certificate_is_refused() {
    let root = ca("Contoso Root", None);
    assert_eq!(
        parse_pem_bundle(root.cert.pem().as_bytes()).expect_err("no key"),
        CertError::NoPrivateKey
    );
    assert_eq!(
        parse_pem_bundle(root.key.serialize_pem().as_bytes()).expect_err("no cert"),
        CertError::NoCertificate
    );
    assert_eq!(
        parse_pem_bundle(b"hello").expect_err("nothing"),
        CertError::NoPrivateKey
    );
}

#[test]
fn two_keys_are_refused() {
    let root = ca("Contoso Root", None);
    let mut pem = bundle(&[&root.cert], &root.key);
    pem.extend_from_slice(key().serialize_pem().as_bytes());
    assert_eq!(
        parse_pem_bundle(&pem).expect_err("two keys"),
        CertError::MultipleKeys
    );
}

#[test]
fn encrypted_pem_key_asks_for_a_pfx() {
    let pem = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let err = parse_pem_bundle(pem).expect_err("encrypted");
    assert_eq!(err, CertError::EncryptedKey);
    assert!(err.to_string().contains("PFX"));
}

#[test]
fn oversized_uploads_are_refused() {
    let big = vec![b'a'; MAX_UPLOAD_BYTES + 1];
    assert!(matches!(
        parse_pem_bundle(&big),
        Err(CertError::TooLarge { .. })
    ));
    assert!(matches!(
        parse_pfx(&big, "x"),
        Err(CertError::TooLarge { .. })
    ));
}

#[test]
fn certificate_that_is_not_x509_is_refused() {
    let root = ca("Contoso Root", None);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    pem.push_str(&root.key.serialize_pem());
    assert_eq!(
        parse_pem_bundle(pem.as_bytes()).expect_err("bad cert"),
        CertError::BadCertificate { index: 1 }
    );
}

#[test]
fn csr_names_the_connector_and_completes_with_the_signed_certificate() {
    let (csr_pem, key_der) = generate_csr("RMS.Contoso.com").expect("csr");
    assert!(csr_pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));

    let der = rustls_pemfile::read_one_from_slice(csr_pem.as_bytes())
        .ok()
        .flatten()
        .and_then(|(item, _)| match item {
            rustls_pemfile::Item::Csr(csr) => Some(csr),
            _ => None,
        })
        .expect("one CSR");
    let (_, request) =
        x509_parser::certification_request::X509CertificationRequest::from_der(der.as_ref())
            .expect("valid CSR");
    assert_eq!(
        request.certification_request_info.subject.to_string(),
        "CN=rms.contoso.com"
    );
    request.verify_signature().expect("self-signed request");

    // The CA signs it; the administrator uploads only the certificate (and chain).
    let root = ca("Contoso Root", None);
    let mut params = CertificateSigningRequestParams::from_pem(&csr_pem).expect("rcgen reads");
    params.params.not_before = now() - Duration::days(1);
    params.params.not_after = now() + Duration::days(365);
    let issued = params.signed_by(&root.cert, &root.key).expect("signed");
    let answer = format!("{}{}", issued.pem(), root.cert.pem());

    let uploaded = complete_csr(answer.as_bytes(), &key_der).expect("completes");
    let report = check(&uploaded, "rms.contoso.com", now());
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.dns_names, vec!["rms.contoso.com"]);
}

#[test]
fn csr_answer_for_another_key_is_a_key_mismatch() {
    let (_, key_der) = generate_csr("rms.contoso.com").expect("csr");
    let root = ca("Contoso Root", None);
    let (cert, _) = leaf(LeafSpec::for_name("rms.contoso.com"), &root);
    let uploaded = complete_csr(cert.pem().as_bytes(), &key_der).expect("reads");
    assert_eq!(
        codes(&check(&uploaded, "rms.contoso.com", now())),
        vec!["key_mismatch"]
    );
}

#[test]
fn invalid_connector_names_are_refused_for_generation() {
    for name in [
        "",
        "rms contoso.com",
        "*.contoso.com",
        "10.1.2.3",
        "a\"b.com",
    ] {
        assert!(generate_csr(name).is_err(), "{name:?}");
        assert!(self_signed(name, now()).is_err(), "{name:?}");
    }
}

#[test]
fn self_signed_certificate_checks_clean_and_lasts_825_days() {
    let (cert_pem, key_der) = self_signed("rms.contoso.com", now()).expect("generates");
    let uploaded = complete_csr(cert_pem.as_bytes(), &key_der).expect("reads");
    let report = check(&uploaded, "rms.contoso.com", now());
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.not_after - now()).whole_days(), 825);
    assert_eq!(report.chain.len(), 1);
}

#[test]
fn to_pem_reads_back_identically() {
    let uploaded = parse_pfx(&fixture("aes.pfx"), FIXTURE_PASSWORD).expect("reads");
    let again = parse_pem_bundle(uploaded.to_pem().as_bytes()).expect("reads back");
    assert_eq!(again.chain(), uploaded.chain());
    assert_eq!(again.key().secret_der(), uploaded.key().secret_der());
}

#[test]
fn debug_output_hides_the_key() {
    let uploaded = parse_pem_bundle(&fixture("bundle.pem")).expect("reads");
    let text = format!("{uploaded:?}");
    assert!(text.contains("redacted"));
}

#[test]
fn rustls_accepts_the_result() {
    let uploaded = parse_pfx(&fixture("legacy.pfx"), FIXTURE_PASSWORD).expect("reads");
    let (certs, key) = uploaded.into_rustls();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("rustls takes the certificate and key");
}
