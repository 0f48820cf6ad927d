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

use crate::added::AddedLatency;
use crate::load::Pace;
use crate::own_time::Snapshot;
use crate::placement::Placement;
use crate::workloads::{keep_alive, new_connection_per_call};
use measure::{w4, Bench, Target};
use report::{Measurement, Report, Workload};
pub use servers::W3_CALLERS;
use servers::{bench_observed, check_authorization, standin_observed, Servers};
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
    /// Concurrent callers of W3, each opening a new connection per call.
    pub w3_callers: usize,
    /// What to measure (all of it by default); a subset is for profiling one workload.
    pub selection: Selection,
}

/// The parts of a comparison that can be run on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    W1,
    W2,
    W3,
    /// The half-peak latency rounds (needs W1 of the connector for the rate).
    Half,
    W4,
}

/// Which workloads run against which targets.
#[derive(Debug, Clone)]
pub struct Selection {
    pub parts: Vec<Part>,
    /// Target names (direct, nginx, apache, connector); empty means all.
    pub targets: Vec<String>,
}

impl Selection {
    fn runs(&self, part: Part) -> bool {
        self.parts.contains(&part)
    }

    fn includes(&self, target: &str) -> bool {
        self.targets.is_empty() || self.targets.iter().any(|t| t == target)
    }
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
    let selection = &opts.selection;
    let targets: Vec<Target> = servers
        .targets(&lab, &ad, &soap_headers, &w1, endpoint, opts.w3_callers)?
        .into_iter()
        .filter(|t| selection.includes(t.name))
        .collect();
    let bench = Bench {
        standin: &standin,
        placement,
    };

    let mut checks = Vec::new();
    let mut tls_choices = Vec::new();
    for target in &targets {
        if let Err(error) = target.caller.probe(Duration::from_secs(15)).await {
            servers.save_logs(&opts.out);
            return Err(error.context(format!("{} does not answer", target.name)));
        }
        let choice = target.caller.tls_choice().await;
        tls_choices.push(format!(
            "{} {}",
            target.name,
            choice.unwrap_or_else(|e| format!("unknown ({e})"))
        ));
        if target.caller.kerberos.is_some() {
            let checked = check_authorization(&target.caller, &ad)
                .await
                .with_context(|| format!("{} authorization", target.name))?;
            checks.push(format!("{}: {checked}", target.name));
        }
    }
    // The same policy everywhere (tests/peers/README.md): each server picks from the load
    // generator's offer, which lists AES-256-GCM first as Windows and OpenSSL clients do.
    observed.push(format!("TLS chosen: {}", tls_choices.join("; ")));
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
        if selection.runs(Part::W1) {
            let w1_run = keep_alive(caller, CONNECTIONS, duration, Pace::Closed);
            rows.push(bench.measure(target, Workload::W1, w1_run).await);
        }
        if selection.runs(Part::W2) {
            let w2_caller = crate::conn::Caller {
                body: w2.clone(),
                ..caller.clone()
            };
            let w2_run = keep_alive(&w2_caller, CONNECTIONS, duration, Pace::Closed);
            rows.push(bench.measure(target, Workload::W2, w2_run).await);
        }
        if selection.runs(Part::W3) {
            let w3_run = new_connection_per_call(caller, opts.w3_callers, duration);
            rows.push(bench.measure(target, Workload::W3, w3_run).await);
        }
    }
    let (added, latency_notes) = if selection.runs(Part::Half) {
        half_peak(
            &bench,
            &targets,
            &rows,
            &servers,
            opts.latency_rounds,
            duration,
        )
        .await?
    } else {
        (AddedLatency { rounds: Vec::new() }, Vec::new())
    };
    if let Some(median) = added.median_round() {
        rows.push(median.direct.clone());
        rows.push(median.connector.clone());
    }
    let mut held = Vec::new();
    let w4_targets = if selection.runs(Part::W4) {
        &targets[..]
    } else {
        &[]
    };
    for target in w4_targets {
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
        w3_callers: opts.w3_callers,
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

/// Latency at half the connector's peak W1 rate, direct vs connector (open loop), in
/// alternating rounds with the stand-in on the generator's CPUs for both; with the
/// connector's own account of those rounds and the machine's wake-up floor.
async fn half_peak(
    bench: &Bench<'_>,
    targets: &[Target],
    rows: &[Measurement],
    servers: &Servers,
    rounds: usize,
    duration: Duration,
) -> anyhow::Result<(AddedLatency<Measurement>, Vec<String>)> {
    let connector_peak = rows
        .iter()
        .find(|m| m.target == "connector" && m.workload == Workload::W1)
        .map(|m| m.stats.requests_per_sec)
        .context("the half-peak rounds need W1 of the connector for their rate")?;
    let half = (connector_peak / 2.0).max(1.0);
    let workload = Workload::W1Half(half.round() as u64);
    let by_name = |name: &str| targets.iter().find(|t| t.name == name);
    let (Some(direct), Some(connector)) = (by_name("direct"), by_name("connector")) else {
        anyhow::bail!("the half-peak rounds need both the direct and the connector targets");
    };
    let before = Snapshot::scrape(&servers.daemon.connector).await?;
    let added = crate::added::alternate(
        rounds,
        |_| paced(bench, direct, workload, duration, half),
        |_| paced(bench, connector, workload, duration, half),
    )
    .await;
    let own_time = Snapshot::scrape(&servers.daemon.connector)
        .await?
        .since(&before)
        .describe("the connector's half-peak rounds");
    Ok((added, vec![own_time, bench.placement.wakeup_floor()?]))
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
