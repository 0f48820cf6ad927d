//! `rmsc-bench`: compares the connector relay against calling the cloud stand-in directly, on
//! loopback, and prints a markdown table with the targets of issue 2. Not a test: run it with
//! `cargo build --release -p rmsc-bench -p rmsc-e2e --bins && target/release/rmsc-bench`.
//! `rmsc-bench compare --lab DIR --out DIR` compares it with nginx and Apache httpd as well
//! (issue 7; see tests/peers/README.md).

mod added;
mod busy;
mod compare;
mod conn;
mod daemon;
mod hold;
mod kerberos;
mod load;
mod own_time;
mod peers;
mod placement;
mod procs;
mod report;
mod setup;
mod svg;
mod wakeup;
mod workloads;

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;
use hyper::header::{HeaderName, HeaderValue};
use rmsc_cloud_standin::{sample_headers, sample_request};
use rmsc_e2e::{identity, EXCH01, EXCHANGE_GROUP_SID};
use rmsc_soap::{find_endpoint, Operation, SoapVersion};

use crate::load::{run, Pace, Target};
use crate::placement::{PinMode, Placement};
use crate::report::{Measured, Row};

const ENDPOINT: &str = "certification/ServerCertification.asmx";
const CONNECTIONS: usize = 64;
/// Size of the stand-in's answers, asked for with `<StandinPadTo>`.
const RESPONSE_BYTES: usize = 8 * 1024;

#[derive(Debug, Parser)]
#[command(about = "Connector relay vs direct-to-stand-in benchmark (issue 2)")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Seconds each measurement runs.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Also write the markdown table to this file.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// A running AD lab (tests/lab/lab.sh up DIR) for the Kerberos measurements; defaults to
    /// $RMSC_LAB_DIR. Without one they are left out.
    #[arg(long, env = "RMSC_LAB_DIR")]
    lab: Option<std::path::PathBuf>,
    /// Pin the connector to CPUs of its own and the load generator with the stand-in to the
    /// others, the same for the direct and the relayed runs (`auto`: when this process may use
    /// at least two CPUs). Unpinned, the connector competes with the load generator.
    #[arg(long, value_enum, default_value = "auto")]
    pin: PinMode,
    /// Alternating direct/connector rounds of the half-peak latency measurement; the verdict
    /// is the median of the rounds' p99 differences.
    #[arg(long, default_value_t = 5)]
    latency_rounds: usize,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Direct vs nginx vs Apache httpd (mod_auth_gssapi) vs the connector, W1-W4 (issue 7).
    Compare {
        /// A running AD lab (tests/lab/lab.sh up DIR); defaults to $RMSC_LAB_DIR.
        #[arg(long, env = "RMSC_LAB_DIR")]
        lab: std::path::PathBuf,
        /// Seconds each measurement runs.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Directory for compare.md, compare.svg and the peers' logs.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Idle authenticated connections W4 opens per target.
        #[arg(long, default_value_t = 10_000)]
        w4_connections: usize,
        /// Seconds W4 may spend opening them, per target.
        #[arg(long, default_value_t = 120)]
        w4_deadline_secs: u64,
        /// Pin each server to CPUs of its own and the load generator with the stand-in to
        /// the others; `auto` pins when this process may use at least two CPUs.
        #[arg(long, value_enum, default_value = "auto")]
        pin: PinMode,
        /// Alternating direct/connector rounds of the half-peak latency measurement; the
        /// verdict is the median of the rounds' p99 differences.
        #[arg(long, default_value_t = 5)]
        latency_rounds: usize,
        /// Concurrent W3 callers (closed loop), each opening a new connection per call.
        #[arg(long, default_value_t = compare::W3_CALLERS)]
        w3_callers: usize,
        /// What to measure, comma-separated; a subset serves profiling one workload.
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "w1,w2,w3,half,w4"
        )]
        workloads: Vec<compare::Part>,
        /// Targets to measure, comma-separated (direct, nginx, apache, connector); all by
        /// default. Every server is started either way.
        #[arg(long, value_delimiter = ',', value_parser = ["direct", "nginx", "apache", "connector"])]
        targets: Vec<String>,
    },
    /// The connector alone holding N idle authenticated TLS connections, optionally under a
    /// heap profiler (W4 on its own, to see where its per-connection memory goes).
    Hold {
        /// A running AD lab (tests/lab/lab.sh up DIR); defaults to $RMSC_LAB_DIR.
        #[arg(long, env = "RMSC_LAB_DIR")]
        lab: std::path::PathBuf,
        #[arg(long, default_value_t = 1000)]
        connections: usize,
        /// Command line to start the daemon under, e.g. `--wrap heaptrack --wrap -o --wrap FILE`.
        #[arg(long = "wrap", allow_hyphen_values = true)]
        wrapper: Vec<String>,
        /// Extra environment for the daemon, NAME=VALUE (repeatable).
        #[arg(long)]
        env: Vec<String>,
        /// Seconds to keep the connections once open.
        #[arg(long, default_value_t = 2)]
        hold_secs: u64,
        /// Seconds the connections may take to open.
        #[arg(long, default_value_t = 300)]
        deadline_secs: u64,
    },
}

/// A SOAP request of `op` padded with filler text to about `size` bytes.
fn padded_request(op: &Operation, size: usize) -> Bytes {
    let pad_to = format!("<StandinPadTo>{RESPONSE_BYTES}</StandinPadTo>");
    let bare = sample_request(op, &format!("{pad_to}<BenchPadding></BenchPadding>"));
    let fill = "x".repeat(size.saturating_sub(bare.len()));
    Bytes::from(sample_request(
        op,
        &format!("{pad_to}<BenchPadding>{fill}</BenchPadding>"),
    ))
}

fn header(name: &str, value: &str) -> anyhow::Result<(HeaderName, HeaderValue)> {
    Ok((
        HeaderName::from_bytes(name.as_bytes())?,
        HeaderValue::from_str(value)?,
    ))
}

/// The SOAP headers every request carries, whichever the target.
fn soap_headers(op: &Operation) -> anyhow::Result<Vec<(HeaderName, HeaderValue)>> {
    let (content_type, action) = sample_headers(SoapVersion::V11, op);
    let mut headers = vec![header("content-type", &content_type)?];
    if let Some(action) = action {
        headers.push(header("soapaction", &action)?);
    }
    Ok(headers)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // `compare` pins this process before the runtime starts, so that every thread of it (the
    // load generator's, the stand-in's, GSSAPI's blocking ones) inherits the CPU set and tokio
    // sizes its worker pool by it.
    let placement = match &args.command {
        Some(Command::Compare { pin, .. }) => Placement::plan(*pin)?,
        Some(Command::Hold { .. }) => Placement::plan(PinMode::Off)?,
        None => Placement::plan(args.pin)?,
    };
    placement.pin_bench()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("runtime")?
        .block_on(run_command(args, placement))
}

async fn run_command(args: Args, placement: Placement) -> anyhow::Result<()> {
    let duration = Duration::from_secs(args.seconds.max(1));
    let op = find_endpoint(ENDPOINT)
        .and_then(|e| e.operation("Certify"))
        .context("Certify operation on the certification endpoint")?;
    match args.command {
        Some(Command::Compare {
            lab,
            seconds,
            out,
            w4_connections,
            w4_deadline_secs,
            pin: _,
            latency_rounds,
            w3_callers,
            workloads,
            targets,
        }) => {
            let options = compare::Options {
                lab,
                seconds,
                out,
                w4_connections,
                w4_deadline: Duration::from_secs(w4_deadline_secs),
                placement,
                latency_rounds,
                w3_callers: w3_callers.max(1),
                selection: compare::Selection {
                    parts: workloads,
                    targets,
                },
            };
            let table = compare::run(
                options,
                soap_headers(op)?,
                padded_request(op, 4 * 1024),
                padded_request(op, 64 * 1024),
                ENDPOINT,
            )
            .await?;
            println!("{table}");
            return Ok(());
        }
        Some(Command::Hold {
            lab,
            connections,
            wrapper,
            env,
            hold_secs,
            deadline_secs,
        }) => {
            let options = hold::Options {
                lab,
                connections,
                wrapper,
                env,
                hold: Duration::from_secs(hold_secs),
                deadline: Duration::from_secs(deadline_secs),
            };
            let text = hold::run(
                options,
                soap_headers(op)?,
                padded_request(op, 4 * 1024),
                ENDPOINT,
            )
            .await?;
            println!("{text}");
            return Ok(());
        }
        None => {}
    }
    // The stand-in on a runtime of its own (one worker, on the benchmark's CPUs), as in
    // `compare`: sharing the load generator's worker would queue its answers behind the
    // generator's tasks while the connector is measured, and not while direct is.
    let standin = compare::standin::StandinRuntime::new(1, placement.bench().cloned())?;
    let lab = standin.start_lab().await.context("stand-in")?;
    let (direct_client, relay_url) = setup::direct_client(&lab, CONNECTIONS)
        .await
        .context("direct registration")?;
    eprintln!("placement: {}", placement.describe_relay());
    let daemon = daemon::start_daemon(&lab, placement.server())
        .await
        .context("connector daemon")?;
    // Idle memory: after set-up, before any caller traffic.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss_kib = setup::rss_kib(daemon.child.id())?;

    let mut direct_headers = soap_headers(op)?;
    direct_headers.extend(setup::direct_caller_headers()?);
    let direct = Target {
        client: direct_client,
        url: format!("{relay_url}/_wmcs/{ENDPOINT}"),
        headers: direct_headers,
    };
    let mut connector_headers = soap_headers(op)?;
    connector_headers.push(header(
        "x-rmsc-test-identity",
        &identity(EXCH01, &[EXCHANGE_GROUP_SID]),
    )?);
    let connector = Target {
        client: load::http_client(setup::tls_config(lab.standin.ca_pem(), None)?, CONNECTIONS),
        url: format!("http://{}/_wmcs/{ENDPOINT}", daemon.connector.http),
        headers: connector_headers,
    };

    let w1 = padded_request(op, 4 * 1024);
    let w2 = padded_request(op, 64 * 1024);
    direct.probe(&w1).await?;
    connector.probe(&w1).await?;
    // Warm-up: open the connections and the connector's upstream pool before measuring.
    let warm = Duration::from_millis(500);
    run(&direct, w1.clone(), CONNECTIONS, warm, Pace::Closed).await;
    run(&connector, w1.clone(), CONNECTIONS, warm, Pace::Closed).await;

    let mut rows = Vec::new();
    for (workload, body) in [
        ("W1 4 KB req / 8 KB resp", &w1),
        ("W2 64 KB req / 8 KB resp", &w2),
    ] {
        for (name, target) in [("direct", &direct), ("connector", &connector)] {
            eprintln!("measuring {workload} {name} for {}s", duration.as_secs());
            let stats = run(target, body.clone(), CONNECTIONS, duration, Pace::Closed).await;
            rows.push(Row {
                workload: workload.to_owned(),
                target: name,
                stats,
            });
        }
    }
    let connector_w1_peak = rows
        .get(1)
        .map(|r| r.stats.requests_per_sec)
        .unwrap_or_default();
    let half = (connector_w1_peak / 2.0).max(1.0);
    let half_label = format!("W1 at {half:.0} req/s (half peak)");
    let before = own_time::Snapshot::scrape(&daemon.connector).await?;
    let added = added::alternate(
        args.latency_rounds,
        |round| {
            eprintln!("measuring {half_label} direct (round {})", round + 1);
            let run = run(&direct, w1.clone(), CONNECTIONS, duration, Pace::Rate(half));
            async move { Ok(run.await) }
        },
        |round| {
            eprintln!("measuring {half_label} connector (round {})", round + 1);
            let run = run(
                &connector,
                w1.clone(),
                CONNECTIONS,
                duration,
                Pace::Rate(half),
            );
            async move { Ok(run.await) }
        },
    )
    .await;
    let own_time = own_time::Snapshot::scrape(&daemon.connector)
        .await?
        .since(&before)
        .describe("the connector's half-peak rounds");
    if let Some(median) = added.median_round() {
        for (name, stats) in [("direct", &median.direct), ("connector", &median.connector)] {
            rows.push(Row {
                workload: half_label.clone(),
                target: name,
                stats: stats.clone(),
            });
        }
    }
    let wakeup_floor = placement.wakeup_floor()?;
    let busy_rss_kib = setup::rss_kib(daemon.child.id())?;
    drop(daemon);

    let table = report::render(&Measured {
        rows,
        idle_rss_kib,
        busy_rss_kib,
        seconds: duration.as_secs(),
        connections: CONNECTIONS,
        placement: placement.describe_relay(),
        added,
        own_time,
        wakeup_floor,
    });
    let mut table = table;
    if let Some(lab_dir) = &args.lab {
        // AdLab reads the directory from the environment, as the tests do.
        std::env::set_var("RMSC_LAB_DIR", lab_dir);
        let ad = rmsc_e2e::ad::AdLab::from_env()?.context("AD lab")?;
        let section = kerberos::run(
            &ad,
            soap_headers(op)?,
            w1.clone(),
            &format!("/_wmcs/{ENDPOINT}"),
            duration,
        )
        .await
        .context("Kerberos measurements")?;
        table.push_str(&section);
    } else {
        table.push_str("\n(Kerberos measurements skipped: no AD lab; pass --lab DIR)\n");
    }
    println!("{table}");
    if let Some(path) = args.out {
        std::fs::write(&path, &table).with_context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}
