//! Pairing and the shared configuration, end to end over real sockets: a serving appliance
//! shows a code, a second appliance (own data directory, own admin socket, same stand-in)
//! joins with it and receives the connector name, the caller certificate and the Kerberos
//! keytab; later changes on either side reach the other. Needs no AD lab: MIT GSSAPI accepts
//! a keytab offline, so a keytab with random AES keys is enough here.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use rmsc_connectord::Config;
use rmsc_e2e::{eventually, Connector, Lab, ADMIN, ADMIN_PASSWORD, CONNECTOR_NAME};
use serde_json::{json, Value};

const REALM: &str = "CONTOSO.TEST";
/// How long a change may take to reach the other appliance (issue 6: within 5 s).
const PROPAGATION: Duration = Duration::from_secs(5);

/// A keytab (format 0x0502) for `HTTP/<connector>@REALM` with random AES256 and AES128 keys.
fn keytab(kvno: u8) -> Vec<u8> {
    fn counted(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    let mut file = vec![0x05, 0x02];
    for (enctype, key_len) in [(18u16, 32usize), (17, 16)] {
        let mut entry = Vec::new();
        entry.extend_from_slice(&2u16.to_be_bytes());
        counted(&mut entry, REALM.as_bytes());
        counted(&mut entry, b"HTTP");
        counted(&mut entry, CONNECTOR_NAME.as_bytes());
        entry.extend_from_slice(&1u32.to_be_bytes()); // KRB5_NT_PRINCIPAL
        entry.extend_from_slice(&0u32.to_be_bytes());
        entry.push(kvno);
        entry.extend_from_slice(&enctype.to_be_bytes());
        let key: Vec<u8> = (0..key_len).map(|_| rand_byte()).collect();
        counted(&mut entry, &key);
        entry.extend_from_slice(&u32::from(kvno).to_be_bytes());
        file.extend_from_slice(&(entry.len() as i32).to_be_bytes());
        file.extend_from_slice(&entry);
    }
    file
}

/// Random enough for test keys, without another dependency.
fn rand_byte() -> u8 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish() as u8
}

/// A Kerberos connector with its own directory, against `lab`'s stand-in.
async fn appliance(lab: &Lab, dir: &Path) -> anyhow::Result<Connector> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("cloud-ca.pem"), lab.standin.ca_pem())?;
    let base = lab.dir.path().to_str().context("lab path")?;
    let text = lab
        .config_text("")
        .replace(base, dir.to_str().context("dir path")?)
        .replace("identity = \"test-header\"", "identity = \"kerberos\"");
    let text = format!("{text}\n[kerberos]\nruntime_dir = {:?}\n", dir.join("run"));
    let running = rmsc_connectord::run(Config::from_toml(&text)?).await?;
    Ok(Connector::new(running, dir.join("admin.sock")))
}

async fn sign_in(connector: &Connector) -> anyhow::Result<()> {
    connector
        .admin
        .call(
            "POST",
            "/api/v1/signin/password",
            Some(json!({ "username": ADMIN, "password": ADMIN_PASSWORD })),
        )
        .await?;
    Ok(())
}

async fn upload_keytab(connector: &Connector, bytes: Vec<u8>) -> anyhow::Result<Value> {
    connector
        .admin
        .call_bytes(
            "PUT",
            "/api/v1/keytab",
            Bytes::from(bytes),
            "application/octet-stream",
        )
        .await
}

async fn get(connector: &Connector, path: &str) -> Value {
    connector
        .admin
        .call("GET", path, None)
        .await
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_appliance_joins_with_a_code_and_changes_reach_both() {
    let lab = Lab::start().await.expect("lab");
    let first = appliance(&lab, &lab.dir.path().join("a"))
        .await
        .expect("first");
    first.set_up().await.expect("first set-up");
    first
        .admin
        .call("POST", "/api/v1/certificate/self-signed", None)
        .await
        .expect("certificate");
    upload_keytab(&first, keytab(2)).await.expect("keytab");

    let offer = first
        .admin
        .call("POST", "/api/v1/pairing", None)
        .await
        .expect("pairing code");
    let code = offer["code"].as_str().expect("code").to_owned();
    assert_eq!(code.len(), 19, "{offer}");
    assert_eq!(offer["connector_name"], CONNECTOR_NAME);
    assert_eq!(get(&first, "/api/v1/pairing").await["active"], true);

    let second = appliance(&lab, &lab.dir.path().join("b"))
        .await
        .expect("second");
    // Joining needs a cloud sign-in first, and a well-formed code.
    let unsigned = second
        .admin
        .call("POST", "/api/v1/join", Some(json!({ "code": code })))
        .await
        .expect_err("not signed in");
    assert!(unsigned.to_string().contains("Sign in"), "{unsigned}");
    sign_in(&second).await.expect("sign-in");
    let malformed = second
        .admin
        .call("POST", "/api/v1/join", Some(json!({ "code": "ABCD-1234" })))
        .await
        .expect_err("malformed");
    assert!(
        malformed.to_string().contains("16-character"),
        "{malformed}"
    );

    let joined = second
        .admin
        .call(
            "POST",
            "/api/v1/join",
            Some(json!({ "code": code.to_lowercase() })),
        )
        .await
        .expect("join");
    assert_eq!(joined["connector_name"], CONNECTOR_NAME, "{joined}");
    assert_eq!(joined["certificate_installed"], true, "{joined}");
    assert_eq!(joined["keytab_installed"], true, "{joined}");
    second.wait_ready().await.expect("second ready");

    // The same certificate and keytab, without anybody copying them.
    let cert_a = get(&first, "/api/v1/certificate").await;
    let cert_b = get(&second, "/api/v1/certificate").await;
    assert_eq!(cert_a["fingerprint_sha256"], cert_b["fingerprint_sha256"]);
    let keytab_b = get(&second, "/api/v1/keytab").await;
    assert_eq!(keytab_b["kvno"], 2, "{keytab_b}");
    assert_eq!(keytab_b["active"], true, "{keytab_b}");
    let status_b = get(&second, "/api/v1/status").await;
    assert_eq!(status_b["connector_name"], CONNECTOR_NAME);
    // The dashboard's clock reading, from the cloud's Date header: same clock here.
    assert!(
        status_b["clock_skew_secs"]
            .as_i64()
            .is_some_and(|skew| skew.abs() <= 2),
        "{status_b}"
    );
    // The code is single use: it is gone from the first appliance, which lists the join.
    let pairing = get(&first, "/api/v1/pairing").await;
    assert_eq!(pairing["active"], false, "{pairing}");
    assert_eq!(
        pairing["joined"].as_array().map(Vec::len),
        Some(1),
        "{pairing}"
    );

    // Rotation on the first reaches the second, and the other way round.
    upload_keytab(&first, keytab(3)).await.expect("new keytab");
    let rotated = eventually(PROPAGATION, || async {
        (get(&second, "/api/v1/keytab").await["kvno"] == 3).then_some(())
    })
    .await;
    assert!(
        rotated.is_some(),
        "keytab kvno 3 did not reach the second appliance"
    );
    second
        .admin
        .call("POST", "/api/v1/certificate/self-signed", None)
        .await
        .expect("new certificate on the second");
    let new_fingerprint = get(&second, "/api/v1/certificate").await["fingerprint_sha256"].clone();
    assert_ne!(new_fingerprint, cert_a["fingerprint_sha256"]);
    let reached = eventually(PROPAGATION, || async {
        (get(&first, "/api/v1/certificate").await["fingerprint_sha256"] == new_fingerprint)
            .then_some(())
    })
    .await;
    assert!(
        reached.is_some(),
        "the certificate did not reach the first appliance"
    );

    // Two changes at once, of different items on different appliances: both survive.
    let (a, b) = tokio::join!(
        upload_keytab(&first, keytab(4)),
        second
            .admin
            .call("POST", "/api/v1/certificate/self-signed", None)
    );
    a.expect("keytab 4");
    b.expect("certificate 3");
    let final_fingerprint = get(&second, "/api/v1/certificate").await["fingerprint_sha256"].clone();
    let converged = eventually(PROPAGATION * 2, || async {
        let ka = get(&first, "/api/v1/keytab").await["kvno"].clone();
        let kb = get(&second, "/api/v1/keytab").await["kvno"].clone();
        let fa = get(&first, "/api/v1/certificate").await["fingerprint_sha256"].clone();
        (ka == 4 && kb == 4 && fa == final_fingerprint).then_some(())
    })
    .await;
    if converged.is_none() {
        panic!(
            "concurrent changes did not both survive: first {} {} {}, second {} {}, want {final_fingerprint}",
            get(&first, "/api/v1/keytab").await["kvno"],
            get(&first, "/api/v1/certificate").await["fingerprint_sha256"],
            get(&first, "/api/v1/pairing").await["sharing"],
            get(&second, "/api/v1/keytab").await["kvno"],
            get(&second, "/api/v1/pairing").await["sharing"],
        );
    }
    let sharing = get(&first, "/api/v1/pairing").await["sharing"].clone();
    assert_eq!(sharing["member"], true, "{sharing}");
    assert_eq!(sharing["pending"], json!([]), "{sharing}");

    second.shutdown().await;
    first.shutdown().await;
}
