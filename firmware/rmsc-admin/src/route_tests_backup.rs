//! Route tests of backup and restore: a wrong passphrase or a tampered file is refused with
//! nothing changed; a good backup restores the settings and the certificate (live).

use crate::test_support::{audited, call, harness, register, self_signed, Harness, CONNECTOR};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

const PASSPHRASE: &str = "correct horse battery";

async fn configure(h: &Harness) {
    register(&h.store).await;
    let cert = self_signed(CONNECTOR);
    let answer = call(
        &h.router,
        "POST",
        "/api/v1/certificate",
        Some(json!({ "pem": cert.to_pem() })),
    )
    .await;
    assert_eq!(answer.status, 200);
    let network = json!({ "mode": "static", "address": "192.0.2.10", "prefix": 24, "gateway": "192.0.2.1",
        "dns": ["192.0.2.53"], "hostname": "rmsc01", "ntp": ["ntp.contoso.com"] });
    assert_eq!(
        call(&h.router, "PUT", "/api/v1/settings/network", Some(network))
            .await
            .status,
        200
    );
    let proxy =
        json!({ "url": "http://proxy.contoso.com:8080", "username": "svc", "password": "pw" });
    assert_eq!(
        call(&h.router, "PUT", "/api/v1/settings/proxy", Some(proxy))
            .await
            .status,
        200
    );
    let directory =
        json!({ "ldap_urls": ["ldap://dc1.contoso.com"], "base_dn": "DC=contoso,DC=com" });
    assert_eq!(
        call(
            &h.router,
            "PUT",
            "/api/v1/settings/directory",
            Some(directory)
        )
        .await
        .status,
        200
    );
}

async fn make_backup(h: &Harness) -> Vec<u8> {
    let answer = call(
        &h.router,
        "POST",
        "/api/v1/backup",
        Some(json!({ "passphrase": PASSPHRASE })),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json());
    let disposition = answer.headers["content-disposition"]
        .to_str()
        .expect("ascii");
    assert!(
        disposition.starts_with("attachment; filename=\"rmsc-backup-"),
        "{disposition}"
    );
    answer.body
}

async fn snapshot(h: &Harness) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/certificate",
        "/api/v1/settings/network",
        "/api/v1/settings/proxy",
        "/api/v1/settings/directory",
    ] {
        out.push(call(&h.router, "GET", path, None).await.json());
    }
    out
}

#[tokio::test]
async fn wrong_passphrase_and_tampered_backups_change_nothing() {
    let h = harness().await;
    configure(&h).await;
    let backup = make_backup(&h).await;
    // Change everything after the backup, so a restore would be visible.
    let cert = self_signed(CONNECTOR);
    call(
        &h.router,
        "POST",
        "/api/v1/certificate",
        Some(json!({ "pem": cert.to_pem() })),
    )
    .await;
    call(
        &h.router,
        "PUT",
        "/api/v1/settings/proxy",
        Some(json!({ "url": "" })),
    )
    .await;
    let before = snapshot(&h).await;
    let live_before = h.live.fingerprint();

    let wrong = json!({ "passphrase": "not the passphrase", "backup_base64": B64.encode(&backup) });
    let answer = call(&h.router, "POST", "/api/v1/restore", Some(wrong)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.error(), "bad_backup");

    let mut tampered = backup.clone();
    let last = tampered.len() - 20;
    tampered[last] ^= 0x01;
    let body = json!({ "passphrase": PASSPHRASE, "backup_base64": B64.encode(&tampered) });
    let answer = call(&h.router, "POST", "/api/v1/restore", Some(body)).await;
    assert_eq!(answer.error(), "bad_backup");

    let body = json!({ "passphrase": PASSPHRASE, "backup_base64": "not base64!" });
    assert_eq!(
        call(&h.router, "POST", "/api/v1/restore", Some(body))
            .await
            .error(),
        "bad_backup"
    );

    assert_eq!(snapshot(&h).await, before);
    assert_eq!(h.live.fingerprint(), live_before);
    assert_eq!(audited(&h.store, "restore"), 0);
}

#[tokio::test]
async fn a_good_backup_restores_settings_and_the_certificate_live() {
    let source = harness().await;
    configure(&source).await;
    let backup = make_backup(&source).await;
    let expected = snapshot(&source).await;
    assert!(
        !String::from_utf8_lossy(&backup).contains("PRIVATE KEY"),
        "the backup is encrypted"
    );

    let target = harness().await;
    register(&target.store).await;
    let body = json!({ "passphrase": PASSPHRASE, "backup_base64": B64.encode(&backup) });
    let answer = call(&target.router, "POST", "/api/v1/restore", Some(body)).await;
    assert_eq!(answer.status, 204, "{}", answer.json());
    let restored = snapshot(&target).await;
    assert_eq!(
        restored[0]["fingerprint_sha256"],
        expected[0]["fingerprint_sha256"]
    );
    assert_eq!(restored[1], expected[1]);
    assert_eq!(restored[2], expected[2]);
    assert_eq!(restored[2]["password_set"], true);
    assert_eq!(restored[3], expected[3]);
    assert_eq!(
        Some(target.live.fingerprint().as_str()),
        expected[0]["fingerprint_sha256"].as_str()
    );
    assert_eq!(audited(&target.store, "restore"), 1);
}

#[tokio::test]
async fn a_restore_whose_certificate_does_not_fit_is_refused_whole() {
    let source = harness().await;
    configure(&source).await;
    let backup = make_backup(&source).await;
    let target = harness().await;
    // Registered under another name: the backup's certificate would not match it.
    let mut registration = {
        register(&target.store).await;
        target
            .store
            .registration()
            .expect("read")
            .expect("registered")
    };
    registration.connector_name = "other.contoso.com".into();
    target
        .store
        .set_registration(&registration)
        .await
        .expect("rename");
    let before = snapshot(&target).await;
    let body = json!({ "passphrase": PASSPHRASE, "backup_base64": B64.encode(&backup) });
    let answer = call(&target.router, "POST", "/api/v1/restore", Some(body)).await;
    assert_eq!(answer.error(), "bad_backup");
    assert!(answer.json()["message"]
        .as_str()
        .unwrap_or_default()
        .contains("certificate"));
    assert_eq!(snapshot(&target).await, before);
}

#[tokio::test]
async fn a_short_backup_passphrase_is_refused() {
    let h = harness().await;
    let answer = call(
        &h.router,
        "POST",
        "/api/v1/backup",
        Some(json!({ "passphrase": "short" })),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["field"], "passphrase");
}
