//! `rmsc-bench hold` (issue 7, W4 on its own): the connector alone, started as `compare`
//! starts it (HTTPS + Kerberos against the AD lab), holding N idle authenticated TLS
//! connections; optionally under a wrapper command (a heap profiler) and with extra
//! environment (malloc tunables), to find where the per-connection memory goes. Prints the
//! daemon's memory before and with the connections held, then stops it with SIGTERM so that
//! a profiler writes its output.

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use rmsc_e2e::ad::{AdLab, AD_CONNECTOR_NAME};
use rmsc_e2e::Lab;

use crate::conn::{any_server_tls, Caller, Kerberos};
use crate::daemon::spawn_daemon_with;
use crate::load::Pace;
use crate::workloads::{hold_idle, keep_alive};

/// What `hold` was asked to do.
pub struct Options {
    pub lab: std::path::PathBuf,
    pub connections: usize,
    /// A command line the daemon's is appended to (e.g. `heaptrack -o FILE`).
    pub wrapper: Vec<String>,
    /// Extra environment for the daemon, `NAME=VALUE`.
    pub env: Vec<String>,
    /// How long to keep the connections once all are open.
    pub hold: Duration,
    /// Seconds W4 may spend opening them.
    pub deadline: Duration,
}

/// A `kB` line of `/proc/PID/status` or `smaps_rollup`.
fn kib(pid: u32, file: &str, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// RSS, anonymous memory and the `[heap]` mapping's RSS of `pid`, KiB.
fn memory(pid: u32) -> (u64, u64, u64) {
    let heap = std::fs::read_to_string(format!("/proc/{pid}/smaps"))
        .ok()
        .and_then(|text| {
            let start = text.find("[heap]")?;
            text[start..]
                .lines()
                .find_map(|l| l.strip_prefix("Rss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    (
        kib(pid, "status", "VmRSS"),
        kib(pid, "smaps_rollup", "Anonymous"),
        heap,
    )
}

/// Runs it and returns a markdown summary.
pub async fn run(
    opts: Options,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    endpoint: &str,
) -> anyhow::Result<String> {
    crate::compare::raise_nofile()?;
    std::env::set_var("RMSC_LAB_DIR", &opts.lab);
    let ad = AdLab::from_env()?.context("AD lab")?;
    let lab = Lab::start().await.context("stand-in")?;
    let config = lab
        .config_text("")
        .replace("identity = \"test-header\"", "identity = \"kerberos\"")
        .replace(
            "[callers]\n",
            &format!("[callers]\nmax_connections = {}\n", opts.connections + 128),
        );
    let mut env = vec![("KRB5_CONFIG".to_owned(), ad.get("LAB_KRB5_CONF")?)];
    for pair in &opts.env {
        let (name, value) = pair.split_once('=').context("--env wants NAME=VALUE")?;
        env.push((name.to_owned(), value.to_owned()));
    }
    let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let daemon = spawn_daemon_with(&lab, &config, &env, None, &opts.wrapper)
        .await
        .context("connector")?;
    ad.install_keytab(&daemon.connector).await?;
    ad.authorize_group(&daemon.connector, "Exchange Servers", "exchange")
        .await?;
    let caller = Caller {
        addr: daemon.https.context("no HTTPS caller listener")?,
        tls: any_server_tls()?,
        server_name: AD_CONNECTOR_NAME.to_owned(),
        url_path: format!("/_wmcs/{endpoint}"),
        headers,
        body,
        kerberos: Some(Kerberos::exchange_servers(&ad, 16)?),
    };
    caller
        .probe(Duration::from_secs(60))
        .await
        .context("probe")?;
    let pid = daemon.pid();
    // As in `compare`, the connector has served keep-alive traffic before W4.
    let warm = keep_alive(&caller, 64, Duration::from_secs(2), Pace::Closed).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = memory(pid);
    eprintln!("holding {} connections to pid {pid}", opts.connections);
    let held = hold_idle(&caller, opts.connections, 32, opts.deadline).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let with = memory(pid);
    let count = held.still_open();
    let (failed, first_error) = (held.failed, held.first_error.clone());
    tokio::time::sleep(opts.hold).await;
    drop(held);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = memory(pid);
    daemon
        .terminate(Duration::from_secs(300))
        .context("stop the daemon")?;
    let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / count.max(1) as f64;
    let row =
        |name: &str, m: (u64, u64, u64)| format!("| {name} | {} | {} | {} |\n", m.0, m.1, m.2);
    let mut out = format!(
        "connector pid {pid}, wrapper {:?}, env {:?}; warm-up {:.0} req/s ({} errors); {count} of {} held ({} failed{})\n\n| state | VmRSS KiB | Anonymous KiB | [heap] RSS KiB |\n|---|---:|---:|---:|\n",
        opts.wrapper,
        opts.env,
        warm.requests_per_sec,
        warm.errors,
        opts.connections,
        failed,
        first_error
            .as_deref()
            .map(|e| format!(", first: {e}"))
            .unwrap_or_default()
    );
    out.push_str(&row("before", before));
    out.push_str(&row("held", with));
    out.push_str(&row("released", after));
    out.push_str(&format!(
        "\nper held connection: RSS {:.1} KiB, anonymous {:.1} KiB, [heap] {:.1} KiB\n",
        per(with.0, before.0),
        per(with.1, before.1),
        per(with.2, before.2)
    ));
    Ok(out)
}
