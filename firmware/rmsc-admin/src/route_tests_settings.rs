//! Route tests of the appliance settings, server configuration downloads, maintenance,
//! statistics, directory search errors and the event download.

use crate::appliance::SystemAction;
use crate::test_support::{audited, call, harness, register};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn serverconfig_downloads_an_attachment_for_the_registered_connector() {
    let h = harness().await;
    let path = "/api/v1/serverconfig?role=exchange&format=ps1&scheme=https";
    assert_eq!(
        call(&h.router, "GET", path, None).await.error(),
        "not_registered"
    );
    register(&h.store).await;
    let answer = call(&h.router, "GET", path, None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.headers["content-disposition"],
        "attachment; filename=\"rms-connector-exchange.ps1\""
    );
    let text = String::from_utf8_lossy(&answer.body);
    assert!(text.contains("https://rmsconnector.contoso.com"));
    assert!(text.contains("t-1.rms.na.aadrm.com"));
    let bad = call(
        &h.router,
        "GET",
        "/api/v1/serverconfig?role=mail&format=reg",
        None,
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error(), "invalid_setting");
}

#[tokio::test]
async fn network_settings_are_validated_stored_and_applied() {
    let h = harness().await;
    let initial = call(&h.router, "GET", "/api/v1/settings/network", None)
        .await
        .json();
    assert_eq!(initial["mode"], "dhcp");
    assert_eq!(initial["hostname"], "rmsc01");
    let bad = json!({ "mode": "static", "address": "192.0.2.10", "prefix": 40, "dns": ["192.0.2.53"], "hostname": "rmsc01" });
    let answer = call(&h.router, "PUT", "/api/v1/settings/network", Some(bad)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.error(), "invalid_setting");
    assert_eq!(answer.json()["field"], "prefix");
    assert!(h.system.actions().is_empty());

    let good = json!({ "mode": "static", "address": "192.0.2.10", "prefix": 24, "gateway": "192.0.2.1",
        "dns": ["192.0.2.53"], "hostname": "rmsc02", "ntp": [] });
    let answer = call(&h.router, "PUT", "/api/v1/settings/network", Some(good)).await;
    assert_eq!(answer.status, 200, "{}", answer.json());
    let saved = call(&h.router, "GET", "/api/v1/settings/network", None)
        .await
        .json();
    assert_eq!(saved["address"], "192.0.2.10");
    assert!(
        matches!(h.system.actions().as_slice(), [SystemAction::ApplyNetwork(s)] if s.hostname == "rmsc02")
    );
    assert_eq!(audited(&h.store, "network_settings"), 1);
}

#[tokio::test]
async fn proxy_settings_hide_the_password_and_the_test_uses_connect() {
    let h = harness().await;
    let bad = call(
        &h.router,
        "PUT",
        "/api/v1/settings/proxy",
        Some(json!({ "url": "https://p:1" })),
    )
    .await;
    assert_eq!(bad.json()["field"], "url");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let proxy = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; 2048];
        let n = socket.read(&mut buf).await.expect("read");
        socket
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .expect("write");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    let body = json!({ "url": format!("http://127.0.0.1:{port}"), "username": "svc", "password": "secret" });
    let answer = call(&h.router, "PUT", "/api/v1/settings/proxy", Some(body)).await;
    assert_eq!(answer.status, 200, "{}", answer.json());
    assert_eq!(answer.json()["password_set"], true);
    assert!(!String::from_utf8_lossy(&answer.body).contains("secret"));

    let test = call(&h.router, "POST", "/api/v1/settings/proxy/test", None)
        .await
        .json();
    assert_eq!(test["ok"], true, "{test}");
    assert!(test["latency_ms"].is_u64());
    let request = proxy.await.expect("proxy");
    assert!(
        request.starts_with("CONNECT 127.0.0.1:1 HTTP/1.1"),
        "{request}"
    );

    // An empty URL removes the proxy and its password.
    let cleared = call(
        &h.router,
        "PUT",
        "/api/v1/settings/proxy",
        Some(json!({ "url": "" })),
    )
    .await
    .json();
    assert_eq!(cleared["url"], "");
    assert_eq!(cleared["password_set"], false);
}

#[tokio::test]
async fn reboot_shutdown_and_factory_reset_go_through_the_system() {
    let h = harness().await;
    register(&h.store).await;
    assert_eq!(
        call(&h.router, "POST", "/api/v1/maintenance/reboot", None)
            .await
            .status,
        202
    );
    assert_eq!(
        call(&h.router, "POST", "/api/v1/maintenance/shutdown", None)
            .await
            .status,
        202
    );
    let wrong = call(
        &h.router,
        "POST",
        "/api/v1/maintenance/factory-reset",
        Some(json!({ "confirm": "yes" })),
    )
    .await;
    assert_eq!(wrong.status, 400);
    assert!(h.store.registration().expect("read").is_some());

    let reset = json!({ "confirm": "FACTORY RESET" });
    let answer = call(
        &h.router,
        "POST",
        "/api/v1/maintenance/factory-reset",
        Some(reset),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.json());
    assert!(h.store.registration().expect("read").is_none());
    assert_eq!(
        h.system.actions(),
        vec![
            SystemAction::Reboot,
            SystemAction::Shutdown,
            SystemAction::EraseDataPartition
        ]
    );
    let list = h
        .store
        .authorized_list()
        .expect("read")
        .expect("cleared list");
    assert!(list.list.entries.is_empty());
    assert_eq!(audited(&h.store, "factory_reset"), 1);
}

#[tokio::test]
async fn stats_report_request_counters_and_uptime() {
    let h = harness().await;
    h.metrics.request(
        "LicensingService.AcquireLicense",
        "exchange",
        rmsc_telemetry::Outcome::Relayed,
    );
    let stats = call(&h.router, "GET", "/api/v1/stats", None).await.json();
    assert_eq!(
        stats["requests"][0]["operation"],
        "LicensingService.AcquireLicense"
    );
    assert_eq!(stats["requests"][0]["count"], 1);
    assert!(stats["uptime_secs"].is_u64());
    // Not registered: no appliances to list, and no error.
    let appliances = call(&h.router, "GET", "/api/v1/appliances", None).await;
    assert_eq!(appliances.status, 200);
    assert_eq!(appliances.json(), json!([]));
}

#[tokio::test]
async fn directory_search_without_a_keytab_is_unavailable_with_a_reason() {
    let h = harness().await;
    let answer = call(
        &h.router,
        "GET",
        "/api/v1/directory/search?q=exch&kind=group",
        None,
    )
    .await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.error(), "directory_unavailable");
    assert!(answer.json()["message"]
        .as_str()
        .unwrap_or_default()
        .contains("keytab"));
    let bad = call(
        &h.router,
        "GET",
        "/api/v1/directory/search?q=exch&kind=printer",
        None,
    )
    .await;
    assert_eq!(bad.status, 400);
    let settings = json!({ "ldap_urls": ["ldaps://dc1.contoso.com"] });
    let refused = call(
        &h.router,
        "PUT",
        "/api/v1/settings/directory",
        Some(settings),
    )
    .await;
    assert_eq!(refused.json()["field"], "ldap_urls");
}

#[tokio::test]
async fn events_download_is_a_text_attachment_with_every_event() {
    let h = harness().await;
    call(&h.router, "POST", "/api/v1/maintenance/reboot", None).await;
    let answer = call(&h.router, "GET", "/api/v1/events/download", None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers["content-type"], "text/plain; charset=utf-8");
    assert!(answer.headers["content-disposition"]
        .to_str()
        .unwrap_or_default()
        .starts_with("attachment"));
    assert!(String::from_utf8_lossy(&answer.body).contains("alice restarted the appliance."));
}
