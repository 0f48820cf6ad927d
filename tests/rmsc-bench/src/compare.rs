//! `rmsc-bench compare` (issue 7): the same workloads, in one run, through four targets on
//! this machine: direct to the cloud stand-in (the limit), nginx as a plain TLS proxy (no
//! authentication), Apache httpd with mod_auth_gssapi + mod_authnz_ldap + mod_proxy (Kerberos
//! and AD group authorization against the lab's DC), and the connector (HTTPS + Kerberos).
//! Server-side CPU and memory come from `/proc` (`procs.rs`); the report is markdown plus an
//! SVG plot (`compare_report.rs`, `svg.rs`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use rmsc_e2e::ad::{AdLab, AD_CONNECTOR_NAME};
use rmsc_e2e::{Lab, EXCH01};

use crate::compare_report::{Measurement, Report, ServerMemory, W4Result, Workload};
use crate::conn::{any_server_tls, direct_tls, Caller, Kerberos};
use crate::load::{Pace, Stats};
use crate::peers::{start_apache, start_nginx, CallerHeaders, Upstream};
use crate::procs::{ticks_to_us, Sampler, Server};
use crate::setup::{direct_caller_headers, register_direct, spawn_daemon};
use crate::workloads::{hold_idle, keep_alive, new_connection_per_call};

/// What `compare` was asked to do.
pub struct Options {
    pub lab: PathBuf,
    pub seconds: u64,
    pub out: PathBuf,
    pub w4_connections: usize,
    pub w4_deadline: Duration,
}

/// Keep-alive connections of W1 and W2 (the 64).
const CONNECTIONS: usize = 64;
/// Callers opening a new connection per call in W3 (each with its own ticket cache).
const W3_WORKERS: usize = 16;
/// Connections opened at once while W4 fills up.
const W4_PARALLEL: usize = 32;

/// One target: how to call it and, when it runs as its own process, which one.
struct Target {
    name: &'static str,
    caller: Caller,
    server: Option<Server>,
}

/// Raises this process's descriptor limit to its hard limit; the peers and the connector,
/// started afterwards, inherit it. Returns the limit.
fn raise_nofile() -> anyhow::Result<u64> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).context("getrlimit")?;
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).context("setrlimit")?;
    Ok(hard)
}

/// Runs `work` against `target` and adds what the server spent on it.
async fn measure<F>(target: &Target, workload: Workload, work: F) -> Measurement
where
    F: std::future::Future<Output = Stats>,
{
    eprintln!("measuring {} {}", workload.label(), target.name);
    let before = target.server.map(|s| s.cpu_ticks());
    let sampler = target.server.map(Sampler::start);
    let stats = work.await;
    let (cpu_us_per_request, peak_rss_kib) = match (target.server, before, sampler) {
        (Some(server), Some(before), Some(sampler)) => {
            let peak = sampler.finish(server).await;
            let used = ticks_to_us(server.cpu_ticks().saturating_sub(before));
            let per = (stats.requests > 0).then(|| used as f64 / stats.requests as f64);
            (per, Some(peak))
        }
        _ => (None, None),
    };
    Measurement {
        workload,
        target: target.name,
        stats,
        cpu_us_per_request,
        peak_rss_kib,
    }
}

/// W4 against one target: fill, measure the server's memory with the connections held, let
/// them go, and wait (poll, bounded) until the server has closed them.
async fn w4(target: &Target, opts: &Options) -> Option<W4Result> {
    let server = target.server?;
    eprintln!(
        "W4: opening {} idle connections to {}",
        opts.w4_connections, target.name
    );
    let fds_before = server.open_fds();
    let sampler = Sampler::start(server);
    let held = hold_idle(
        &target.caller,
        opts.w4_connections,
        W4_PARALLEL,
        opts.w4_deadline,
    )
    .await;
    // Let the server settle (buffers released after the first call) before reading memory.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let result = W4Result {
        target: target.name,
        asked: opts.w4_connections,
        held: held.still_open(),
        rss_kib: server.rss_kib(),
        pss_kib: server.pss_kib(),
        peak_rss_kib: sampler.finish(server).await,
        open_secs: held.open_time.as_secs_f64(),
        failed: held.failed,
        first_error: held.first_error.clone(),
    };
    drop(held);
    let end = std::time::Instant::now() + Duration::from_secs(30);
    while server.open_fds() > fds_before + 64 && std::time::Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(result)
}

/// A Kerberos target must accept EXCH01 and EXCH02 (direct members of "Exchange Servers")
/// and EXCH03 (a member through "Exchange Nested"), and refuse ROGUE01 (in neither).
async fn check_authorization(caller: &Caller, ad: &AdLab) -> anyhow::Result<String> {
    // `Kerberos::exchange_servers` gives initiators 0, 1, 2 to EXCH01, EXCH02, EXCH03.
    for (index, account) in ["EXCH01", "EXCH02", "EXCH03"].iter().enumerate() {
        caller
            .open(index)
            .await
            .with_context(|| format!("{account} refused"))?;
    }
    let rogue = Caller {
        kerberos: Some(Kerberos {
            initiators: vec![Arc::new(ad.initiator("ROGUE01")?)],
        }),
        ..caller.clone()
    };
    match rogue.open(0).await {
        Ok(_) => anyhow::bail!("ROGUE01 (not in Exchange Servers) was let through"),
        Err(error) => Ok(format!(
            "EXCH01, EXCH02 and EXCH03 (nested group) accepted; ROGUE01 refused ({})",
            error.to_string().chars().take(24).collect::<String>()
        )),
    }
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
    let lab = Lab::start().await.context("stand-in")?;
    let registration = register_direct(&lab).await.context("direct registration")?;

    // The connector: HTTPS + Kerberos as kerberos.rs starts it, with room for W4.
    let config = lab
        .config_text("")
        .replace("identity = \"test-header\"", "identity = \"kerberos\"")
        .replace(
            "[callers]\n",
            &format!(
                "[callers]\nmax_connections = {}\n",
                opts.w4_connections + 2 * CONNECTIONS
            ),
        );
    let daemon = spawn_daemon(&lab, &config, &[("KRB5_CONFIG", ad.get("LAB_KRB5_CONF")?)])
        .await
        .context("Kerberos connector")?;
    ad.install_keytab(&daemon.connector).await?;
    ad.authorize_group(&daemon.connector, "Exchange Servers", "exchange")
        .await?;

    let standin_addr: std::net::SocketAddr = lab
        .standin
        .base_url()
        .trim_start_matches("https://")
        .parse()
        .context("stand-in address")?;
    let upstream = Upstream {
        port: standin_addr.port(),
        tenant: registration.tenant_id.clone(),
        ca_pem: lab.standin.ca_pem().to_owned(),
        cert_pem: registration.cert_pem.clone(),
        key_pem: registration.key_pem.clone(),
    };
    let identity = CallerHeaders {
        account: EXCH01.0.to_owned(),
        sid: ad.sid("EXCH01"),
        group_sid: ad.sid("EXCHANGE_SERVERS"),
    };
    let nginx = start_nginx(&upstream, &identity, nofile).context("nginx")?;
    let apache = start_apache(&upstream, &identity, &ad).context("apache")?;
    eprintln!(
        "peers: nginx {} ({}), apache {} ({})",
        nginx.addr,
        nginx.dir.path().display(),
        apache.addr,
        apache.dir.path().display()
    );

    // Idle memory: every server started, none has seen a caller yet.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let connector_server = Server {
        root: daemon.child.id(),
    };
    let idle: Vec<ServerMemory> = [
        ("nginx", nginx.server()),
        ("apache", apache.server()),
        ("connector", connector_server),
    ]
    .into_iter()
    .map(|(name, server)| ServerMemory {
        target: name,
        processes: server.pids().len(),
        rss_kib: server.rss_kib(),
        pss_kib: server.pss_kib(),
    })
    .collect();

    let path = format!("/_wmcs/{endpoint}");
    let kerberos = Kerberos::exchange_servers(&ad, W3_WORKERS)?;
    let peer_caller = |addr, kerberos: Option<Kerberos>| -> anyhow::Result<Caller> {
        Ok(Caller {
            addr,
            tls: any_server_tls()?,
            server_name: AD_CONNECTOR_NAME.to_owned(),
            url_path: path.clone(),
            headers: soap_headers.clone(),
            body: w1.clone(),
            kerberos,
        })
    };
    let mut direct_headers = soap_headers.clone();
    direct_headers.extend(direct_caller_headers()?);
    let targets = [
        Target {
            name: "direct",
            caller: Caller {
                addr: standin_addr,
                tls: direct_tls(
                    lab.standin.ca_pem(),
                    &registration.cert_pem,
                    &registration.key_pem,
                )?,
                server_name: "localhost".to_owned(),
                url_path: format!("/tenants/{}/_wmcs/{endpoint}", registration.tenant_id),
                headers: direct_headers,
                body: w1.clone(),
                kerberos: None,
            },
            server: None,
        },
        Target {
            name: "nginx",
            caller: peer_caller(nginx.addr, None)?,
            server: Some(nginx.server()),
        },
        Target {
            name: "apache",
            caller: peer_caller(apache.addr, Some(kerberos.clone()))?,
            server: Some(apache.server()),
        },
        Target {
            name: "connector",
            caller: peer_caller(
                daemon.https.context("no HTTPS caller listener")?,
                Some(kerberos.clone()),
            )?,
            server: Some(connector_server),
        },
    ];

    let mut checks = Vec::new();
    for target in &targets {
        if let Err(error) = target.caller.probe(Duration::from_secs(15)).await {
            nginx.save_logs("nginx", &opts.out);
            apache.save_logs("apache", &opts.out);
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
    for target in &targets {
        keep_alive(
            &target.caller,
            CONNECTIONS,
            Duration::from_millis(500),
            Pace::Closed,
        )
        .await;
    }

    let mut rows = Vec::new();
    for target in &targets {
        let caller = &target.caller;
        rows.push(
            measure(
                target,
                Workload::W1,
                keep_alive(caller, CONNECTIONS, duration, Pace::Closed),
            )
            .await,
        );
        let w2_caller = Caller {
            body: w2.clone(),
            ..caller.clone()
        };
        rows.push(
            measure(
                target,
                Workload::W2,
                keep_alive(&w2_caller, CONNECTIONS, duration, Pace::Closed),
            )
            .await,
        );
        rows.push(
            measure(
                target,
                Workload::W3,
                new_connection_per_call(caller, W3_WORKERS, duration),
            )
            .await,
        );
    }
    // Latency at half the connector's peak W1 rate, direct vs connector (open loop).
    let connector_peak = rows
        .iter()
        .find(|m| m.target == "connector" && m.workload == Workload::W1)
        .map_or(0.0, |m| m.stats.requests_per_sec);
    let half = (connector_peak / 2.0).max(1.0);
    for target in targets
        .iter()
        .filter(|t| matches!(t.name, "direct" | "connector"))
    {
        rows.push(
            measure(
                target,
                Workload::W1Half(half.round() as u64),
                keep_alive(&target.caller, CONNECTIONS, duration, Pace::Rate(half)),
            )
            .await,
        );
    }
    let mut held = Vec::new();
    for target in &targets {
        if let Some(result) = w4(target, &opts).await {
            held.push(result);
        }
    }
    nginx.save_logs("nginx", &opts.out);
    apache.save_logs("apache", &opts.out);
    drop((nginx, apache, daemon));

    let report = Report {
        rows,
        idle,
        held,
        checks,
        seconds: duration.as_secs(),
        connections: CONNECTIONS,
        w3_workers: W3_WORKERS,
    };
    let markdown = report.markdown();
    std::fs::write(opts.out.join("compare.md"), &markdown).context("write compare.md")?;
    std::fs::write(opts.out.join("compare.svg"), crate::svg::plot(&report))
        .context("write compare.svg")?;
    Ok(markdown)
}
