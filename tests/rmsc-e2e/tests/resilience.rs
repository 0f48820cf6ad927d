//! Failures around the relay: the cloud down and back, the list kept current, a corrupt
//! store, and SIGTERM draining of a real daemon process.

use rmsc_cloud_standin::{FaultMode, FaultPlan, FaultScope};
use rmsc_contract::{AuthorizedEntry, EntryKind, Role};
use rmsc_e2e::{eventually, identity, Connector, Lab, EXCH01, EXCHANGE_GROUP_SID, ROGUE};
use rmsc_soap::find_endpoint;
use std::io::BufRead;
use std::time::{Duration, Instant};

const CERT_PATH: &str = "/_wmcs/certification/ServerCertification.asmx";

fn cert_op() -> &'static rmsc_soap::Operation {
    &find_endpoint("certification/ServerCertification.asmx")
        .expect("endpoint")
        .operations[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_failures_give_a_quick_503_fault_and_service_recovers() {
    let lab = Lab::start().await.expect("lab");
    let connector = lab.connector().await.expect("connector");
    connector.set_up().await.expect("set up");
    connector.authorize_defaults().await.expect("authorize");
    let caller = identity(EXCH01, &[EXCHANGE_GROUP_SID]);
    for mode in [FaultMode::Status(503), FaultMode::Reset, FaultMode::Stall] {
        lab.standin
            .set_faults(FaultPlan {
                scope: FaultScope::Relay,
                mode,
                latency_ms: 0,
                remaining: None,
            })
            .expect("fault");
        let started = Instant::now();
        let answer = connector
            .soap_with(CERT_PATH, cert_op(), &caller, &[])
            .await;
        assert_eq!(answer.status, 503, "{mode:?}: {}", answer.text());
        assert!(answer.headers.contains_key("retry-after"), "{mode:?}");
        assert!(answer.text().contains("Fault"));
        // The configured response timeout is 3 s: never a hang.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{mode:?} took {:?}",
            started.elapsed()
        );
        lab.standin.clear_faults();
        let answer = connector
            .soap_with(CERT_PATH, cert_op(), &caller, &[])
            .await;
        assert_eq!(
            answer.status,
            200,
            "recovered after {mode:?}: {}",
            answer.text()
        );
    }
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_changes_arrive_within_seconds_and_outages_are_reported() {
    let lab = Lab::start().await.expect("lab");
    let connector = lab.connector().await.expect("connector");
    connector.set_up().await.expect("set up");
    // A new tenant's list is empty: event 2003.
    assert!(eventually(Duration::from_secs(5), || async {
        (!connector.events(2003).await.ok()?.is_empty()).then_some(())
    })
    .await
    .is_some());
    let caller = identity(ROGUE, &[]);
    assert_eq!(
        connector
            .soap_with(CERT_PATH, cert_op(), &caller, &[])
            .await
            .status,
        403
    );
    // Another appliance (here: the cloud directly) authorizes ROGUE01$; this one honours it within 5 s.
    let entry = AuthorizedEntry {
        account: ROGUE.0.into(),
        sid: Some(ROGUE.1.into()),
        kind: EntryKind::Computer,
        role: Role::FileServer,
        added_by: "other".into(),
        added_at: 0,
    };
    lab.standin
        .set_authorized_list("contoso", vec![entry])
        .expect("set list");
    let changed = Instant::now();
    let seen = eventually(Duration::from_secs(5), || async {
        (connector
            .soap_with(CERT_PATH, cert_op(), &caller, &[])
            .await
            .status
            == 200)
            .then_some(())
    })
    .await;
    assert!(seen.is_some(), "change not honoured within 5 s");
    println!("list change honoured after {:?}", changed.elapsed());
    assert!(!connector.events(1004).await.expect("events").is_empty());
    // The cloud's list endpoint fails: event 3001, then not ready once the list is stale.
    lab.standin
        .set_faults(FaultPlan {
            scope: FaultScope::Control,
            mode: FaultMode::Status(503),
            latency_ms: 0,
            remaining: None,
        })
        .expect("fault");
    assert!(eventually(Duration::from_secs(10), || async {
        (!connector.events(3001).await.ok()?.is_empty()).then_some(())
    })
    .await
    .is_some());
    let not_ready = eventually(Duration::from_secs(15), || async {
        let r = connector
            .send_to(connector.ops, "GET", "/readyz", &[], bytes::Bytes::new())
            .await
            .ok()?;
        (r.status == 503).then_some(())
    })
    .await;
    assert!(
        not_ready.is_some(),
        "stale list must make the appliance not ready"
    );
    lab.standin.clear_faults();
    connector
        .wait_ready()
        .await
        .expect("ready again on its own");
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_store_is_set_aside_and_rebuilt_from_the_cloud() {
    let lab = Lab::start().await.expect("lab");
    let connector = lab.connector().await.expect("connector");
    connector.set_up().await.expect("set up");
    connector.authorize_defaults().await.expect("authorize");
    connector.shutdown().await;
    // Overwrite every file of the sled database with garbage.
    let store_dir = lab.data_dir().join("store");
    for entry in std::fs::read_dir(&store_dir).expect("store dir").flatten() {
        if entry.path().is_file() {
            std::fs::write(entry.path(), b"\xde\xad\xbe\xef garbage").expect("corrupt");
        }
    }
    let connector = lab
        .connector()
        .await
        .expect("starts despite the corrupt store");
    connector.wait_ready().await.expect("ready again");
    let status = connector
        .admin
        .call("GET", "/api/v1/status", None)
        .await
        .expect("status");
    assert_eq!(
        status["registered"], true,
        "registration restored from the sealed recovery copy"
    );
    assert_eq!(status["list_entries"], 3, "list re-synced from the cloud");
    assert_eq!(connector.events(4000).await.expect("events").len(), 1);
    let caller = identity(EXCH01, &[EXCHANGE_GROUP_SID]);
    assert_eq!(
        connector
            .soap_with(CERT_PATH, cert_op(), &caller, &[])
            .await
            .status,
        200
    );
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_reports_not_ready_and_finishes_in_flight_requests() {
    let lab = Lab::start().await.expect("lab");
    let config_path = lab.dir.path().join("connector.toml");
    std::fs::write(
        &config_path,
        lab.config_text("")
            .replace("drain_delay_ms = 0", "drain_delay_ms = 500"),
    )
    .expect("config");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rmsc-e2e-daemon"))
        .args(["serve", "--config"])
        .arg(&config_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn daemon");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let listening: serde_json::Value = serde_json::from_str(&line).expect("json line");
    let addr = |key: &str| -> std::net::SocketAddr {
        let v = &listening["listening"][key];
        v.as_array()
            .map(|a| a[0].clone())
            .unwrap_or(v.clone())
            .as_str()
            .expect("addr")
            .parse()
            .expect("socket addr")
    };
    let connector = Connector::from_addresses(None, addr("http"), addr("ops"), &lab.socket());
    connector.set_up().await.expect("set up");
    connector.authorize_defaults().await.expect("authorize");
    // Slow cloud: the request is in flight when SIGTERM arrives.
    lab.standin
        .set_faults(FaultPlan {
            scope: FaultScope::Relay,
            mode: FaultMode::None,
            latency_ms: 1500,
            remaining: None,
        })
        .expect("latency");
    let caller = identity(EXCH01, &[EXCHANGE_GROUP_SID]);
    let in_flight = {
        let connector =
            Connector::from_addresses(None, connector.http, connector.ops, &lab.socket());
        tokio::spawn(async move {
            connector
                .soap_with(CERT_PATH, cert_op(), &caller, &[])
                .await
                .status
        })
    };
    // Wait until the request is on its way (one open caller connection), then stop the daemon.
    let on_its_way = eventually(Duration::from_secs(5), || async {
        let m = connector
            .send_to(connector.ops, "GET", "/metrics", &[], bytes::Bytes::new())
            .await
            .ok()?;
        m.text().contains("rmsc_caller_connections 1").then_some(())
    })
    .await;
    assert!(on_its_way.is_some(), "request never reached the connector");
    rmsc_system::terminate(child.id()).expect("SIGTERM");
    let not_ready = eventually(Duration::from_secs(2), || async {
        let r = connector
            .send_to(connector.ops, "GET", "/readyz", &[], bytes::Bytes::new())
            .await
            .ok()?;
        (r.status == 503).then_some(())
    })
    .await;
    assert!(not_ready.is_some(), "not ready while draining");
    assert_eq!(
        in_flight.await.expect("join"),
        200,
        "the in-flight request finished"
    );
    let exited = eventually(Duration::from_secs(10), || {
        let s = child.try_wait().ok().flatten();
        async move { s }
    })
    .await;
    assert!(exited.expect("daemon exited").success());
}
