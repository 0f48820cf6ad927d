//! The binary: first stdout line, state files, a fixture file, and a clean exit on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rmsc_contract::DeviceCodeResponse;

#[tokio::test]
async fn binary_announces_itself_writes_state_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = dir.path().join("fixture.json");
    std::fs::write(
        &fixture,
        r#"{"tenants":[{"name":"northwind","users":[{"upn":"boss@northwind.test","password":"p&=+%","role":"global_admin"}]}]}"#,
    )
    .expect("fixture");
    let state_dir = dir.path().join("state");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rmsc-cloud-standin"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--device-interval",
            "3",
            "--state-dir",
        ])
        .arg(&state_dir)
        .arg("--fixture")
        .arg(&fixture)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(30), line)
        .await
        .expect("first line in time")
        .expect("join")
        .expect("read");
    let base = line
        .trim()
        .strip_prefix("standin listening on ")
        .expect("announcement")
        .to_owned();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    let ca = std::fs::read_to_string(state_dir.join("ca.pem")).expect("ca.pem");
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(state_dir.join("standin.json")).expect("standin.json"),
    )
    .expect("json");
    assert_eq!(state["base_url"].as_str(), Some(base.as_str()));
    assert!(state["tenants"]["northwind"]["signing_key"].is_string());
    assert!(
        state["tenants"].get("contoso").is_none(),
        "the fixture replaces the defaults"
    );

    let client = TestClient::for_url(&base, &ca);
    token(&client, "boss@northwind.test", "p&=+%").await;
    let device: DeviceCodeResponse = client.form("/oauth2/devicecode", &[]).await.json();
    assert_eq!(device.interval, 3);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn binary_refuses_a_bad_fixture_before_listening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = dir.path().join("fixture.json");
    std::fs::write(&fixture, r#"{"tenants":[]}"#).expect("fixture");
    let output = Command::new(env!("CARGO_BIN_EXE_rmsc-cloud-standin"))
        .args(["--state-dir"])
        .arg(dir.path())
        .arg("--fixture")
        .arg(&fixture)
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no tenants"));
}
