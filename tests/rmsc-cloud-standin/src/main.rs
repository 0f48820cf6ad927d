//! `rmsc-cloud-standin`: runs the cloud stand-in until SIGTERM or SIGINT. Prints
//! `standin listening on <base url>` as its first stdout line and writes `ca.pem` and
//! `standin.json` into the state directory, so scripts and the demo can find it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use rmsc_cloud_standin::{Fixture, Standin, StandinConfig};
use rmsc_contract::TenantInfo;
use serde::Serialize;

/// The cloud RMS stand-in: the upstream contract served locally over HTTPS.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Directory for ca.pem and standin.json (created if missing).
    #[arg(long)]
    state_dir: PathBuf,
    /// JSON fixture that replaces the built-in tenants and users.
    #[arg(long)]
    fixture: Option<PathBuf>,
    /// Seconds between device-code polls (the advertised interval).
    #[arg(long)]
    device_interval: Option<u64>,
    /// Validity of issued connector certificates, seconds.
    #[arg(long)]
    cert_validity: Option<u64>,
}

/// What `standin.json` holds.
#[derive(Serialize)]
struct StateFile<'a> {
    base_url: &'a str,
    ca_pem_path: String,
    connector_ca_pem: &'a str,
    tenants: BTreeMap<String, TenantInfo>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    // Everything that can be wrong with the arguments fails before the port is bound.
    let mut config = StandinConfig {
        listen: args.listen,
        ..StandinConfig::default()
    };
    if let Some(path) = &args.fixture {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        config.fixture =
            Fixture::from_json(&text).with_context(|| format!("loading {}", path.display()))?;
    }
    if let Some(secs) = args.device_interval {
        config.device_interval_secs = secs;
    }
    if let Some(secs) = args.cert_validity {
        anyhow::ensure!(secs > 0, "--cert-validity must be at least one second");
        config.cert_validity_secs = secs;
    }
    std::fs::create_dir_all(&args.state_dir)
        .with_context(|| format!("creating {}", args.state_dir.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(config, args.state_dir))
}

async fn run(config: StandinConfig, state_dir: PathBuf) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let standin = Standin::start(config).await?;
    let ca_path = state_dir.join("ca.pem");
    std::fs::write(&ca_path, standin.ca_pem())
        .with_context(|| format!("writing {}", ca_path.display()))?;
    let state = StateFile {
        base_url: standin.base_url(),
        ca_pem_path: ca_path.display().to_string(),
        connector_ca_pem: standin.connector_ca_pem(),
        tenants: standin.tenants().into_iter().collect(),
    };
    let json_path = state_dir.join("standin.json");
    std::fs::write(&json_path, serde_json::to_vec_pretty(&state)?)
        .with_context(|| format!("writing {}", json_path.display()))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "standin listening on {}", standin.base_url())?;
        out.flush()?;
    }
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
    }
    standin.shutdown().await;
    Ok(())
}
