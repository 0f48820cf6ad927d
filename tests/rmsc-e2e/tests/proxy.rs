//! The outbound web proxy, end to end with a real one (Debian's tinyproxy): once set in the
//! admin API, the connector's cloud calls go through it (they fail when it is gone), and
//! removing the setting connects directly again. Skipped when tinyproxy is not installed
//! (`.ci/run` installs it).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rmsc_e2e::{eventually, Lab};
use serde_json::json;

const TINYPROXY: &str = "/usr/bin/tinyproxy";

struct Proxy {
    child: Child,
    port: u16,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// tinyproxy on 127.0.0.1, allowed to CONNECT only to `target_port`.
async fn start_proxy(dir: &std::path::Path, target_port: u16) -> Proxy {
    // tinyproxy cannot report a port it chose itself: take a free one from the kernel.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let conf = dir.join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 32\nAllow 127.0.0.1\nConnectPort {target_port}\nLogLevel Warning\n"
        ),
    )
    .expect("config");
    let child = Command::new(TINYPROXY)
        .arg("-d")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tinyproxy");
    let up = eventually(Duration::from_secs(10), || async move {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()
    })
    .await;
    assert!(up.is_some(), "tinyproxy did not listen on {port}");
    Proxy { child, port }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_calls_go_through_the_configured_proxy() {
    if !std::path::Path::new(TINYPROXY).exists() {
        eprintln!("SKIPPED: {TINYPROXY} is not installed (apt-get install tinyproxy)");
        return;
    }
    let lab = Lab::start().await.expect("lab");
    let connector = lab.connector().await.expect("connector");
    connector.set_up().await.expect("set-up");
    let standin_port = lab.standin.addr().port();
    let mut proxy = start_proxy(lab.dir.path(), standin_port).await;

    let set = connector
        .admin
        .call(
            "PUT",
            "/api/v1/settings/proxy",
            Some(json!({ "url": format!("http://127.0.0.1:{}", proxy.port) })),
        )
        .await
        .expect("proxy setting");
    assert_eq!(set["url"], format!("http://127.0.0.1:{}", proxy.port));
    let test = connector
        .admin
        .call("POST", "/api/v1/settings/proxy/test", None)
        .await
        .expect("proxy test");
    assert_eq!(test["ok"], true, "{test}");
    let entry = |n: u32| json!({ "account": format!("CONTOSO\\SERVER{n}$"), "sid": format!("S-1-5-21-7-7-7-{n}"), "kind": "computer", "role": "fileserver" });
    connector
        .authorize(entry(1))
        .await
        .expect("a list edit through the proxy");

    // Without the proxy the route is gone: the connector must not fall back to direct.
    let _ = proxy.child.kill();
    let _ = proxy.child.wait();
    let refused = connector.authorize(entry(2)).await;
    let message = format!("{refused:?}");
    assert!(refused.is_err(), "a cloud call succeeded without the proxy");
    assert!(message.contains("could not be reached"), "{message}");

    connector
        .admin
        .call("PUT", "/api/v1/settings/proxy", Some(json!({ "url": "" })))
        .await
        .expect("proxy removed");
    connector
        .authorize(entry(3))
        .await
        .expect("a direct list edit once the proxy is removed");
    connector.shutdown().await;
}
