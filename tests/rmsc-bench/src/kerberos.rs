//! The Kerberos part of the benchmark (issue 3): against the Samba AD lab, a connector that
//! authenticates callers with real tickets over HTTPS, measured two ways:
//! K1, a new TLS connection and a new Kerberos authentication per request (as a server that
//! does not keep connections would); K2, 64 keep-alive TLS connections that authenticated
//! once and then send requests without tokens (as IIS-style per-connection auth allows).
//! The load generator makes a real GSSAPI initiation for every new connection (`conn.rs`);
//! the workloads are those of the comparison (`workloads.rs`).

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use rmsc_e2e::ad::{AdLab, AD_CONNECTOR_NAME};
use rmsc_e2e::Lab;

use crate::conn::{any_server_tls, Caller, Kerberos};
use crate::daemon::{spawn_daemon, Daemon};
use crate::load::{Pace, Stats};
use crate::workloads::{keep_alive, new_connection_per_call};

/// Starts a Kerberos connector against the AD lab and runs K1 and K2; returns markdown.
pub async fn run(
    ad: &AdLab,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    endpoint_path: &str,
    duration: Duration,
) -> anyhow::Result<String> {
    let lab = Lab::start().await.context("stand-in")?;
    let config = lab
        .config_text("")
        .replace("identity = \"test-header\"", "identity = \"kerberos\"");
    let daemon: Daemon = spawn_daemon(&lab, &config, &[("KRB5_CONFIG", ad.get("LAB_KRB5_CONF")?)])
        .await
        .context("Kerberos connector")?;
    ad.install_keytab(&daemon.connector).await?;
    ad.authorize_group(&daemon.connector, "Exchange Servers", "exchange")
        .await?;
    // One ticket cache per worker, as separate servers would have.
    let workers = 16;
    let caller = Caller {
        addr: daemon.https.context("no HTTPS caller listener")?,
        tls: any_server_tls()?,
        server_name: AD_CONNECTOR_NAME.to_owned(),
        url_path: endpoint_path.to_owned(),
        headers,
        body,
        kerberos: Some(Kerberos::exchange_servers(ad, workers)?),
    };
    // Wait until the authorization reached the relay (list sync).
    caller
        .probe(Duration::from_secs(15))
        .await
        .context("Kerberos probe call")?;
    eprintln!(
        "measuring K1 (new TLS connection + Kerberos per call) for {}s",
        duration.as_secs()
    );
    let k1 = new_connection_per_call(&caller, workers, duration).await;
    eprintln!(
        "measuring K2 (64 authenticated keep-alive connections) for {}s",
        duration.as_secs()
    );
    let k2 = keep_alive(&caller, 64, duration, Pace::Closed).await;
    let rss = crate::setup::rss_kib(daemon.child.id())?;
    drop(daemon);
    let row = |name: &str, unit: &str, s: &Stats| {
        format!(
            "| {name} | {:.0} {unit} | {:.2} | {:.2} | {:.2} | {}{} |\n",
            s.requests_per_sec,
            s.p50_us as f64 / 1000.0,
            s.p99_us as f64 / 1000.0,
            s.p999_us as f64 / 1000.0,
            s.errors,
            s.first_error
                .as_deref()
                .map(|e| format!(" ({})", e.chars().take(80).collect::<String>()))
                .unwrap_or_default()
        )
    };
    let mut out = String::from(
        "\n### Kerberos (Samba AD lab, HTTPS, real tickets)\n\n| workload | rate | p50 ms | p99 ms | p99.9 ms | errors |\n|---|---|---|---|---|---|\n",
    );
    out.push_str(&row(
        &format!("K1 new TLS connection + Kerberos auth per call ({workers} workers)"),
        "conn/s",
        &k1,
    ));
    out.push_str(&row(
        "K2 authenticated keep-alive, 64 connections",
        "req/s",
        &k2,
    ));
    out.push_str(&format!(
        "\nConnector RSS after the Kerberos runs: {:.1} MiB\n",
        rss as f64 / 1024.0
    ));
    Ok(out)
}
