//! One test per problem kind, plus the clean case.

use super::*;
use crate::{check, parse_pem_bundle, CertProblem, Severity};

#[test]
fn good_chain_has_no_problems() {
    let root = ca("Contoso Root", None);
    let intermediate = ca("Contoso Issuing CA", Some(&root));
    let (cert, key) = leaf(LeafSpec::for_name("rms.contoso.com"), &intermediate);
    let uploaded =
        parse_pem_bundle(&bundle(&[&cert, &intermediate.cert, &root.cert], &key)).expect("reads");
    let report = check(&uploaded, "rms.contoso.com", now());
    assert_eq!(codes(&report), Vec::<&str>::new());
    assert!(report.is_usable());
    assert_eq!(report.dns_names, vec!["rms.contoso.com"]);
    assert_eq!(report.chain.len(), 3);
    assert_eq!(report.subject, "CN=rms.contoso.com");
    assert_eq!(
        report.fingerprint_sha256,
        report.chain[0].fingerprint_sha256
    );
    assert_eq!(report.fingerprint_sha256.len(), 32 * 3 - 1);
}

#[test]
fn name_mismatch_names_both_hosts() {
    let root = ca("Contoso Root", None);
    let (cert, key) = leaf(LeafSpec::for_name("a.contoso.com"), &root);
    let uploaded = parse_pem_bundle(&bundle(&[&cert, &root.cert], &key)).expect("reads");
    let report = check(&uploaded, "b.contoso.com", now());
    assert_eq!(codes(&report), vec!["name_mismatch"]);
    assert!(report.problems[0].to_string().starts_with(
        "the certificate is for a.contoso.com but the connector name is b.contoso.com"
    ));
    assert_eq!(report.first_error_code(), Some("name_mismatch"));
}

#[test]
fn wildcard_certificate_covers_the_connector() {
    let root = ca("Contoso Root", None);
    let (cert, key) = leaf(LeafSpec::for_name("*.contoso.com"), &root);
    let uploaded = parse_pem_bundle(&bundle(&[&cert, &root.cert], &key)).expect("reads");
    assert!(check(&uploaded, "RMS.contoso.com", now())
        .problems
        .is_empty());
    assert_eq!(
        codes(&check(&uploaded, "a.rms.contoso.com", now())),
        vec!["name_mismatch"]
    );
}

#[test]
fn certificate_without_dns_names_is_a_mismatch_even_with_matching_common_name() {
    let root = ca("Contoso Root", None);
    let spec = LeafSpec {
        names: Vec::new(),
        ..LeafSpec::for_name("unused")
    };
    let (cert, key) = leaf(spec, &root);
    let uploaded = parse_pem_bundle(&bundle(&[&cert, &root.cert], &key)).expect("reads");
    let report = check(&uploaded, "rms.contoso.com", now());
    assert_eq!(report.subject, "CN=rms.contoso.com");
    assert_eq!(codes(&report), vec!["name_mismatch"]);
    assert!(report.problems[0]
        .to_string()
        .contains("no subject alternative name"));
}

#[test]
fn expired_certificate_is_reported_with_its_date() {
    let root = ca("Contoso Root", None);
    let spec = LeafSpec {
        not_before: now() - Duration::days(400),
        not_after: now() - Duration::days(1),
        ..LeafSpec::for_name("rms.contoso.com")
    };
    let (cert, key) = leaf(spec, &root);
    let uploaded = parse_pem_bundle(&bundle(&[&cert, &root.cert], &key)).expect("reads");
    let report = check(&uploaded, "rms.contoso.com", now());
    assert_eq!(codes(&report), vec!["expired"]);
    assert!(report.problems[0].to_string().contains("2026-05-31"));
}

#[test]
fn future_certificate_is_not_yet_valid() {
    let root = ca("Contoso Root", None);
    let spec = LeafSpec {
        not_before: now() + Duration::days(2),
        ..LeafSpec::for_name("rms.contoso.com")
    };
    let (cert, key) = leaf(spec, &root);
    let uploaded = parse_pem_bundle(&bundle(&[&cert, &root.cert], &key)).expect("reads");
    assert_eq!(
        codes(&check(&uploaded, "rms.contoso.com", now())),
        vec!["not_yet_valid"]
    );
}

#[test]
fn expiry_within_thirty_days_is_only_a_warning() {
    let root = ca("Contoso Root", None);
    let spec = LeafSpec {
        not_after: now() + Duration::days(12) + Duration::hours(1),
        ..LeafSpec::for_name("rms.contoso.com")
    };
    let (cert, key) = leaf(spec, &root);
    let uploaded = parse_pem_bundle(&bundle(&[&cert, &root.cert], &key)).expect("reads");
    let report = check(&uploaded, "rms.contoso.com", now());
    assert_eq!(report.problems, vec![CertProblem::ExpiresSoon { days: 12 }]);
    assert_eq!(report.problems[0].severity(), Severity::Warning);
    assert!(report.is_usable());
    assert_eq!(report.first_error_code(), None);
}

#[test]
fn key_of_another_certificate_is_a_key_mismatch() {
    let root = ca("Contoso Root", None);
    let (cert, _its_key) = leaf(LeafSpec::for_name("rms.contoso.com"), &root);
    let other = key();
    let uploaded = parse_pem_bundle(&bundle(&[&cert, &root.cert], &other)).expect("reads");
    assert_eq!(
        uploaded.chain()[0].as_ref(),
        cert.der().as_ref(),
        "leaf stays first"
    );
    assert_eq!(
        codes(&check(&uploaded, "rms.contoso.com", now())),
        vec!["key_mismatch"]
    );
}

#[test]
fn unrelated_ca_in_the_bundle_breaks_the_chain() {
    let root = ca("Contoso Root", None);
    let stranger = ca("Fabrikam Root", None);
    let (cert, key) = leaf(LeafSpec::for_name("rms.contoso.com"), &root);
    let uploaded = parse_pem_bundle(&bundle(&[&cert, &stranger.cert], &key)).expect("reads");
    let report = check(&uploaded, "rms.contoso.com", now());
    assert_eq!(codes(&report), vec!["bad_chain"]);
    assert!(report.problems[0].to_string().contains("Fabrikam Root"));
}

#[test]
fn same_name_different_key_issuer_fails_signature_check() {
    let real = ca("Contoso Root", None);
    let impostor = ca("Contoso Root", None);
    let (cert, key) = leaf(LeafSpec::for_name("rms.contoso.com"), &real);
    let uploaded = parse_pem_bundle(&bundle(&[&cert, &impostor.cert], &key)).expect("reads");
    let report = check(&uploaded, "rms.contoso.com", now());
    assert_eq!(codes(&report), vec!["bad_chain"]);
    assert!(report.problems[0]
        .to_string()
        .contains("signature does not verify"));
}

#[test]
fn issuer_that_is_not_a_ca_breaks_the_chain() {
    let root = ca("Contoso Root", None);
    let (not_a_ca, not_a_ca_key) = leaf(LeafSpec::for_name("issuer.contoso.com"), &root);
    let fake_issuer = Ca {
        cert: not_a_ca,
        key: not_a_ca_key,
    };
    let (cert, key) = leaf(LeafSpec::for_name("rms.contoso.com"), &fake_issuer);
    let uploaded = parse_pem_bundle(&bundle(&[&cert, &fake_issuer.cert], &key)).expect("reads");
    let report = check(&uploaded, "rms.contoso.com", now());
    assert_eq!(codes(&report), vec!["bad_chain"]);
    assert!(report.problems[0]
        .to_string()
        .contains("not a certificate authority"));
}

#[test]
fn chain_in_any_order_is_put_in_issuing_order() {
    let root = ca("Contoso Root", None);
    let intermediate = ca("Contoso Issuing CA", Some(&root));
    let (cert, key) = leaf(LeafSpec::for_name("rms.contoso.com"), &intermediate);
    let uploaded =
        parse_pem_bundle(&bundle(&[&root.cert, &cert, &intermediate.cert], &key)).expect("reads");
    let report = check(&uploaded, "rms.contoso.com", now());
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let subjects: Vec<&str> = report.chain.iter().map(|l| l.subject.as_str()).collect();
    assert_eq!(
        subjects,
        vec![
            "CN=rms.contoso.com",
            "CN=Contoso Issuing CA",
            "CN=Contoso Root"
        ]
    );
}

#[test]
fn missing_intermediate_is_reported() {
    let root = ca("Contoso Root", None);
    let intermediate = ca("Contoso Issuing CA", Some(&root));
    let (cert, key) = leaf(LeafSpec::for_name("rms.contoso.com"), &intermediate);
    let uploaded = parse_pem_bundle(&bundle(&[&cert, &root.cert], &key)).expect("reads");
    let report = check(&uploaded, "rms.contoso.com", now());
    assert_eq!(codes(&report), vec!["bad_chain"]);
    assert!(report.problems[0]
        .to_string()
        .contains("Contoso Issuing CA"));
}

#[test]
fn several_problems_are_all_reported() {
    let root = ca("Contoso Root", None);
    let spec = LeafSpec {
        not_before: now() - Duration::days(400),
        not_after: now() - Duration::days(1),
        ..LeafSpec::for_name("a.contoso.com")
    };
    let (cert, _) = leaf(spec, &root);
    let uploaded = parse_pem_bundle(&bundle(&[&cert], &key())).expect("reads");
    assert_eq!(
        codes(&check(&uploaded, "b.contoso.com", now())),
        vec!["name_mismatch", "expired", "key_mismatch"]
    );
}
