//! Cloud sign-in and registration through the admin API, against the stand-in.

use rmsc_e2e::{Lab, ADMIN, ADMIN_PASSWORD};
use serde_json::json;

async fn sign_in_error(lab: &rmsc_e2e::Connector, user: &str, password: &str) -> String {
    let error = lab
        .admin
        .call(
            "POST",
            "/api/v1/signin/password",
            Some(json!({ "username": user, "password": password })),
        )
        .await
        .expect_err("sign-in must fail");
    error.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sign_in_failure_has_its_own_clear_message() {
    let lab = Lab::start().await.expect("lab");
    let connector = lab.connector().await.expect("connector");
    let cases = [
        (
            ADMIN,
            "wrong",
            "user name and password combination is not correct",
        ),
        (
            "nobody@contoso.test",
            "Passw0rd!",
            "user name and password combination is not correct",
        ),
        ("mfa@contoso.test", "Passw0rd!", "multi-factor"),
        (
            "noroles@contoso.test",
            "Passw0rd!",
            "ConnectorAdministrator",
        ),
        ("blocked@contoso.test", "Passw0rd!", "Onboarding controls"),
        (
            "cloudonly@contoso.test",
            "Passw0rd!",
            "synchronized from on-premises",
        ),
        ("admin@fabrikam.test", "Passw0rd!", "not activated"),
    ];
    for (user, password, expected) in cases {
        let message = sign_in_error(&connector, user, password).await;
        assert!(
            message.contains(expected),
            "{user}: {message:?} should mention {expected:?}"
        );
    }
    // Every character is allowed in a password, including & < > " ' (the original refuses them).
    let ok = connector
        .admin
        .call(
            "POST",
            "/api/v1/signin/password",
            Some(json!({ "username": ADMIN, "password": ADMIN_PASSWORD })),
        )
        .await
        .expect("special characters sign in");
    assert_eq!(ok["account"], ADMIN);
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_sign_in_works_for_multi_factor_accounts() {
    let lab = Lab::start().await.expect("lab");
    let connector = lab.connector().await.expect("connector");
    let start = connector
        .admin
        .call("POST", "/api/v1/signin/device", None)
        .await
        .expect("device code");
    let device_code = start["device_code"].as_str().expect("code").to_owned();
    let user_code = start["user_code"].as_str().expect("user code").to_owned();
    let pending = connector
        .admin
        .call(
            "POST",
            "/api/v1/signin/device/poll",
            Some(json!({ "device_code": device_code })),
        )
        .await
        .expect("poll");
    assert_eq!(pending["state"], "pending");
    lab.standin
        .approve_device_code(&user_code, "mfa@contoso.test", "Passw0rd!", Some("424242"))
        .expect("approve with one-time code");
    // Poll at the advertised interval, as the UI and the CLI do (faster polls get slow_down).
    let interval =
        std::time::Duration::from_millis(start["interval"].as_u64().unwrap_or(1) * 1000 + 100);
    let mut done = None;
    for _ in 0..10 {
        tokio::time::sleep(interval).await;
        let poll = connector
            .admin
            .call(
                "POST",
                "/api/v1/signin/device/poll",
                Some(json!({ "device_code": device_code })),
            )
            .await
            .expect("poll");
        if poll["state"] == "signed_in" {
            done = Some(poll);
            break;
        }
    }
    let done = done.expect("signed in");
    assert_eq!(done["account"], "mfa@contoso.test");
    // The MFA account is a connector administrator: registration works with its session.
    let status = connector
        .admin
        .call(
            "POST",
            "/api/v1/registration",
            Some(json!({ "connector_name": "rms.contoso.test" })),
        )
        .await
        .expect("register");
    assert_eq!(status["registered"], true);
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_keeps_the_key_sealed_and_deregistration_removes_it() {
    let lab = Lab::start().await.expect("lab");
    let connector = lab.connector().await.expect("connector");
    let refused = connector
        .admin
        .call(
            "POST",
            "/api/v1/registration",
            Some(json!({ "connector_name": "rms.contoso.test" })),
        )
        .await;
    assert!(refused
        .expect_err("needs sign-in")
        .to_string()
        .contains("Sign in"));
    connector.set_up().await.expect("set up");
    let status = connector
        .admin
        .call("GET", "/api/v1/status", None)
        .await
        .expect("status");
    assert_eq!(status["registered"], true);
    assert_eq!(status["ready"], true);
    let connector_id = status["connector_id"].as_str().expect("id").to_owned();
    assert!(lab
        .standin
        .connectors("contoso")
        .iter()
        .any(|c| c.connector_id == connector_id));
    // The private key is nowhere on disk in clear.
    for entry in walk(&lab.data_dir()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"),
            "{} holds a clear key",
            entry.display()
        );
    }
    let again = connector
        .admin
        .call(
            "POST",
            "/api/v1/registration",
            Some(json!({ "connector_name": "x.contoso.test" })),
        )
        .await;
    assert!(again
        .expect_err("already registered")
        .to_string()
        .contains("already registered"));
    connector
        .admin
        .call("DELETE", "/api/v1/registration", None)
        .await
        .expect("deregister");
    let status = connector
        .admin
        .call("GET", "/api/v1/status", None)
        .await
        .expect("status");
    assert_eq!(status["registered"], false);
    assert_eq!(status["ready"], false);
    connector.shutdown().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
