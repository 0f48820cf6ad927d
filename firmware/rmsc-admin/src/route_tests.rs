//! Route tests of the caller certificate: upload (good, wrong name, expired, wrong key,
//! garbage, nothing changed on refusal), signing request then completion, self-signed.

use crate::test_support::{
    audited, call, harness, pem_blocks, register, self_signed, self_signed_at, test_ca, CONNECTOR,
};
use serde_json::json;
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn certificate_routes_need_a_registration() {
    let h = harness().await;
    let pem = self_signed(CONNECTOR).to_pem();
    let answer = call(
        &h.router,
        "POST",
        "/api/v1/certificate",
        Some(json!({ "pem": pem })),
    )
    .await;
    assert_eq!(answer.status, 409);
    assert_eq!(answer.error(), "not_registered");
}

#[tokio::test]
async fn a_good_upload_is_installed_and_served_at_once() {
    let h = harness().await;
    register(&h.store).await;
    let cert = self_signed(CONNECTOR);
    let fingerprint = rmsc_certs::fingerprint(cert.chain()[0].as_ref());
    let answer = call(
        &h.router,
        "POST",
        "/api/v1/certificate",
        Some(json!({ "pem": cert.to_pem() })),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json());
    let status = answer.json();
    assert_eq!(status["source"], "uploaded");
    assert_eq!(status["fingerprint_sha256"], fingerprint.as_str());
    assert_eq!(status["dns_names"][0], CONNECTOR);
    assert_eq!(h.live.fingerprint(), fingerprint);
    assert_eq!(audited(&h.store, "certificate_install"), 1);
    let again = call(&h.router, "GET", "/api/v1/certificate", None).await;
    assert_eq!(again.json()["fingerprint_sha256"], fingerprint.as_str());
}

/// Uploads `pem` and expects a refusal with `code` that changes nothing.
async fn refused_without_change(
    h: &crate::test_support::Harness,
    body: serde_json::Value,
    code: &str,
) {
    let before = call(&h.router, "GET", "/api/v1/certificate", None)
        .await
        .json();
    let live_before = h.live.fingerprint();
    let answer = call(&h.router, "POST", "/api/v1/certificate", Some(body)).await;
    assert_eq!(answer.status, 400, "{}", answer.json());
    assert_eq!(answer.error(), code, "{}", answer.json());
    assert!(!answer.json()["message"]
        .as_str()
        .unwrap_or_default()
        .is_empty());
    let after = call(&h.router, "GET", "/api/v1/certificate", None)
        .await
        .json();
    assert_eq!(before, after);
    assert_eq!(h.live.fingerprint(), live_before);
}

#[tokio::test]
async fn wrong_name_expired_wrong_key_and_garbage_are_refused_with_nothing_changed() {
    let h = harness().await;
    register(&h.store).await;
    let good = self_signed(CONNECTOR);
    let answer = call(
        &h.router,
        "POST",
        "/api/v1/certificate",
        Some(json!({ "pem": good.to_pem() })),
    )
    .await;
    assert_eq!(answer.status, 200);

    let other = self_signed("other.contoso.com");
    refused_without_change(&h, json!({ "pem": other.to_pem() }), "name_mismatch").await;

    let old = self_signed_at(CONNECTOR, OffsetDateTime::now_utc() - Duration::days(1000));
    refused_without_change(&h, json!({ "pem": old.to_pem() }), "expired").await;

    let second = self_signed(CONNECTOR);
    let mixed = format!(
        "{}{}",
        pem_blocks(&good.to_pem(), "CERTIFICATE"),
        pem_blocks(&second.to_pem(), "PRIVATE KEY")
    );
    refused_without_change(&h, json!({ "pem": mixed }), "key_mismatch").await;

    refused_without_change(
        &h,
        json!({ "pem": "-----BEGIN CERTIFICATE-----\n!!!\n" }),
        "unreadable",
    )
    .await;
    refused_without_change(
        &h,
        json!({ "pfx_base64": "AAAA", "pfx_password": "x" }),
        "unreadable",
    )
    .await;
    refused_without_change(
        &h,
        json!({ "pfx_base64": "%%%", "pfx_password": "x" }),
        "unreadable",
    )
    .await;
    assert_eq!(audited(&h.store, "certificate_install"), 1);
}

#[tokio::test]
async fn a_signing_request_is_completed_by_uploading_the_signed_certificate() {
    let h = harness().await;
    register(&h.store).await;
    let answer = call(&h.router, "POST", "/api/v1/certificate/csr", None).await;
    assert_eq!(answer.status, 200, "{}", answer.json());
    let csr_pem = answer.json()["csr_pem"].as_str().expect("csr").to_owned();
    assert!(!csr_pem.contains("PRIVATE KEY"));
    let status = call(&h.router, "GET", "/api/v1/certificate", None)
        .await
        .json();
    assert_eq!(status["source"], "csr_pending");
    assert_eq!(status["csr_pem"], csr_pem.as_str());

    let (ca, ca_key) = test_ca();
    let request = rcgen::CertificateSigningRequestParams::from_pem(&csr_pem).expect("csr");
    let leaf = request.signed_by(&ca, &ca_key).expect("sign");
    let chain = format!("{}{}", leaf.pem(), ca.pem());
    let answer = call(
        &h.router,
        "POST",
        "/api/v1/certificate",
        Some(json!({ "pem": chain })),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json());
    let status = answer.json();
    assert_eq!(status["source"], "uploaded");
    assert_eq!(status["chain"].as_array().map(Vec::len), Some(2));
    assert!(status["csr_pem"].is_null());
    assert_eq!(h.live.fingerprint(), rmsc_certs::fingerprint(leaf.der()));

    // Without a pending request a certificate alone has no key.
    let again = call(
        &h.router,
        "POST",
        "/api/v1/certificate",
        Some(json!({ "pem": leaf.pem() })),
    )
    .await;
    assert_eq!(again.error(), "unreadable");
}

#[tokio::test]
async fn self_signed_replaces_the_certificate_and_warns() {
    let h = harness().await;
    register(&h.store).await;
    let before = h.live.fingerprint();
    let answer = call(&h.router, "POST", "/api/v1/certificate/self-signed", None).await;
    assert_eq!(answer.status, 200, "{}", answer.json());
    let status = answer.json();
    assert_eq!(status["source"], "self_signed");
    assert_ne!(h.live.fingerprint(), before);
    let codes: Vec<&str> = status["problems"]
        .as_array()
        .map(|p| p.iter().filter_map(|x| x["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, vec!["self_signed"]);
}

#[tokio::test]
async fn the_status_without_any_certificate_says_so() {
    let h = harness().await;
    let answer = call(&h.router, "GET", "/api/v1/certificate", None).await;
    assert_eq!(answer.status, 200);
    assert!(answer.json()["source"].is_null());
}
