//! `rmsc-bench compare` (issue 7): the same workloads, in one run, through four targets on
//! this machine: direct to the cloud stand-in (the limit), nginx as a plain TLS proxy (no
//! authentication), Apache httpd with mod_auth_gssapi + mod_authnz_ldap + mod_proxy (Kerberos
//! and AD group authorization against the lab's DC), and the connector (HTTPS + Kerberos).
//! With `--pin` (the default on two CPUs or more) every server runs on CPUs of its own and the
//! load generator with the stand-in on the others (`placement.rs`). Server-side CPU and memory
//! come from `/proc` (`procs.rs`); the report is markdown plus an SVG plot.

pub mod measure;
pub mod report;
mod report_sections;
mod servers;
pub mod standin;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use rmsc_e2e::ad::AdLab;

use crate::load::Pace;
use crate::own_time::Snapshot;
use crate::placement::Placement;
use crate::workloads::{keep_alive, new_connection_per_call};
use measure::{w4, Bench, Target};
use report::{Measurement, Report, Workload};
use servers::{bench_observed, check_authorization, standin_observed, Servers, W3_WORKERS};
use standin::StandinRuntime;

/// What `compare` was asked to do.
pub struct Options {
    pub lab: PathBuf,
    pub seconds: u64,
    pub out: PathBuf,
    pub w4_connections: usize,
    pub w4_deadline: Duration,
    /// Where the processes run; the benchmark's own threads are pinned by `main` already.
    pub placement: Placement,
    /// Alternating direct/connector rounds of the half-peak latency measurement.
    pub latency_rounds: usize,
}

/// Keep-alive connections of W1 and W2 (the 64).
const CONNECTIONS: usize = 64;

/// Raises this process's descriptor limit to its hard limit; the peers and the connector,
/// started afterwards, inherit it. Returns the limit.
pub(crate) fn raise_nofile() -> anyhow::Result<u64> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).context("getrlimit")?;
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).context("setrlimit")?;
    Ok(hard)
}

/// Runs the comparison and writes `compare.md` and `compare.svg` into `opts.out`.
pub async fn run(
    opts: Options,
    soap_headers: Vec<(HeaderName, HeaderValue)>,
    w1: Bytes,
    w2: Bytes,
    endpoint: &str,
) -> anyhow::Result<String> {
    let nofile = raise_nofile()?;
    std::fs::create_dir_all(&opts.out).context("--out directory")?;
    // AdLab reads the directory from the environment, as the tests do.
    std::env::set_var("RMSC_LAB_DIR", &opts.lab);
    let ad = AdLab::from_env()?.context("AD lab")?;
    let placement = &opts.placement;
    eprintln!("placement: {}", placement.describe());
    let standin = StandinRuntime::new(placement.side_cpus(), placement.bench().cloned())?;
    let lab = standin.start_lab().await.context("stand-in")?;
    let max_connections = opts.w4_connections + 2 * CONNECTIONS;
    let servers = Servers::start(&lab, &ad, placement, max_connections, nofile).await?;

    // Idle memory: every server started, none has seen a caller yet.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = servers.idle_memory();
    let mut observed = servers.observed();
    observed.push(bench_observed());
    let targets = servers.targets(&lab, &ad, &soap_headers, &w1, endpoint)?;
    let bench = Bench {
        standin: &standin,
        placement,
    };

    let mut checks = Vec::new();
    for target in &targets {
        if let Err(error) = target.caller.probe(Duration::from_secs(15)).await {
            servers.save_logs(&opts.out);
            return Err(error.context(format!("{} does not answer", target.name)));
        }
        if target.caller.kerberos.is_some() {
            let checked = check_authorization(&target.caller, &ad)
                .await
                .with_context(|| format!("{} authorization", target.name))?;
            checks.push(format!("{}: {checked}", target.name));
        }
    }
    let duration = Duration::from_secs(opts.seconds.max(1));
    let warm = Duration::from_millis(500);
    for target in &targets {
        bench.place(target)?;
        keep_alive(&target.caller, CONNECTIONS, warm, Pace::Closed).await;
    }

    let mut rows = Vec::new();
    for target in &targets {
        bench.place(target)?;
        let during = if target.server.is_some() {
            "the relays"
        } else {
            "direct"
        };
        let line = standin_observed(&standin, during);
        if !observed.contains(&line) {
            observed.push(line);
        }
        let caller = &target.caller;
        let w1_run = keep_alive(caller, CONNECTIONS, duration, Pace::Closed);
        rows.push(bench.measure(target, Workload::W1, w1_run).await);
        let w2_caller = crate::conn::Caller {
            body: w2.clone(),
            ..caller.clone()
        };
        let w2_run = keep_alive(&w2_caller, CONNECTIONS, duration, Pace::Closed);
        rows.push(bench.measure(target, Workload::W2, w2_run).await);
        let w3_run = new_connection_per_call(caller, W3_WORKERS, duration);
        rows.push(bench.measure(target, Workload::W3, w3_run).await);
    }
    // Latency at half the connector's peak W1 rate, direct vs connector (open loop), in
    // alternating rounds with the stand-in on the generator's CPUs for both.
    let connector_peak = rows
        .iter()
        .find(|m| m.target == "connector" && m.workload == Workload::W1)
        .map_or(0.0, |m| m.stats.requests_per_sec);
    let half = (connector_peak / 2.0).max(1.0);
    let workload = Workload::W1Half(half.round() as u64);
    let by_name = |name: &str| targets.iter().find(|t| t.name == name);
    let (Some(direct), Some(connector)) = (by_name("direct"), by_name("connector")) else {
        anyhow::bail!("direct and connector targets are both needed");
    };
    let before = Snapshot::scrape(&servers.daemon.connector).await?;
    let added = crate::added::alternate(
        opts.latency_rounds,
        |_| paced(&bench, direct, workload, duration, half),
        |_| paced(&bench, connector, workload, duration, half),
    )
    .await;
    let own_time = Snapshot::scrape(&servers.daemon.connector)
        .await?
        .since(&before)
        .describe("the connector's half-peak rounds");
    if let Some(median) = added.median_round() {
        rows.push(median.direct.clone());
        rows.push(median.connector.clone());
    }
    let latency_notes = vec![own_time, placement.wakeup_floor()?];
    let mut held = Vec::new();
    for target in &targets {
        bench.place(target)?;
        if let Some(result) = w4(target, opts.w4_connections, opts.w4_deadline).await {
            held.push(result);
        }
    }
    servers.save_logs(&opts.out);
    drop(targets);
    drop(servers);
    drop(lab);

    let report = Report {
        rows,
        idle,
        held,
        checks,
        seconds: duration.as_secs(),
        connections: CONNECTIONS,
        w3_workers: W3_WORKERS,
        placement: placement.describe(),
        observed,
        added,
        latency_notes,
    };
    let markdown = report.markdown();
    std::fs::write(opts.out.join("compare.md"), &markdown).context("write compare.md")?;
    std::fs::write(opts.out.join("compare.svg"), crate::svg::plot(&report))
        .context("write compare.svg")?;
    Ok(markdown)
}

/// One paced W1 run against `target` at `rate` requests per second, placed and measured.
async fn paced(
    bench: &Bench<'_>,
    target: &Target,
    workload: Workload,
    duration: Duration,
    rate: f64,
) -> anyhow::Result<Measurement> {
    bench.place_with_generator()?;
    let run = keep_alive(&target.caller, CONNECTIONS, duration, Pace::Rate(rate));
    Ok(bench.measure(target, workload, run).await)
}
