//! What `compare` measures, started and checked: the connector daemon (HTTPS + Kerberos, as
//! the Kerberos benchmark starts it), nginx and Apache httpd, each on the server CPUs when
//! pinned; the four targets and how to call them; the authorization check of the Kerberos
//! targets; and what the kernel says about where each server runs.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use rmsc_e2e::ad::{AdLab, AD_CONNECTOR_NAME};
use rmsc_e2e::{Lab, EXCH01};

use super::measure::Target;
use super::report::ServerMemory;
use super::standin::StandinRuntime;
use crate::conn::{any_server_tls, direct_tls, Caller, Kerberos};
use crate::daemon::{spawn_daemon_on, Daemon};
use crate::peers::{start_apache, start_nginx, CallerHeaders, Peer, Upstream};
use crate::placement::{allowed_list, threads_named, Placement};
use crate::procs::Server;
use crate::setup::{direct_caller_headers, register_direct, Registration};

/// Callers opening a new connection per call in W3 by default (each with its own ticket
/// cache).
pub const W3_CALLERS: usize = 16;

/// The running servers and what the direct target needs.
pub struct Servers {
    pub daemon: Daemon,
    pub nginx: Peer,
    pub apache: Peer,
    pub registration: Registration,
    pub standin_addr: SocketAddr,
}

impl Servers {
    /// Starts the connector (with room for `max_connections` callers), nginx and Apache.
    pub async fn start(
        lab: &Lab,
        ad: &AdLab,
        placement: &Placement,
        max_connections: usize,
        nofile: u64,
    ) -> anyhow::Result<Self> {
        let registration = register_direct(lab).await.context("direct registration")?;
        let config = lab
            .config_text("")
            .replace("identity = \"test-header\"", "identity = \"kerberos\"")
            .replace(
                "[callers]\n",
                &format!("[callers]\nmax_connections = {max_connections}\n"),
            );
        let env = [("KRB5_CONFIG", ad.get("LAB_KRB5_CONF")?)];
        let daemon = spawn_daemon_on(lab, &config, &env, placement.server())
            .await
            .context("Kerberos connector")?;
        ad.install_keytab(&daemon.connector).await?;
        ad.authorize_group(&daemon.connector, "Exchange Servers", "exchange")
            .await?;

        let standin_addr: SocketAddr = lab
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
        let nginx =
            start_nginx(&upstream, &identity, nofile, placement.server()).context("nginx")?;
        let apache =
            start_apache(&upstream, &identity, ad, placement.server()).context("apache")?;
        eprintln!(
            "peers: nginx {} ({}), apache {} ({})",
            nginx.addr,
            nginx.dir.path().display(),
            apache.addr,
            apache.dir.path().display()
        );
        Ok(Self {
            daemon,
            nginx,
            apache,
            registration,
            standin_addr,
        })
    }

    pub fn connector(&self) -> Server {
        Server {
            root: self.daemon.child.id(),
        }
    }

    fn named(&self) -> [(&'static str, Server); 3] {
        [
            ("nginx", self.nginx.server()),
            ("apache", self.apache.server()),
            ("connector", self.connector()),
        ]
    }

    /// Each server's memory now (before any caller, when called first).
    pub fn idle_memory(&self) -> Vec<ServerMemory> {
        self.named()
            .into_iter()
            .map(|(name, server)| ServerMemory {
                target: name,
                processes: server.pids().len(),
                rss_kib: server.rss_kib(),
                pss_kib: server.pss_kib(),
            })
            .collect()
    }

    /// Where each server may run, as the kernel reports it, and the connector's tokio threads.
    pub fn observed(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .named()
            .into_iter()
            .map(|(name, server)| {
                let pids = server.pids();
                let mut lists: Vec<String> = pids.iter().filter_map(|p| allowed_list(*p)).collect();
                lists.sort();
                lists.dedup();
                format!(
                    "{name}: {} processes, {} threads, CPUs {}",
                    pids.len(),
                    pids.iter().map(|p| threads_named(*p, "")).sum::<usize>(),
                    lists.join(" / ")
                )
            })
            .collect();
        lines.push(format!(
            "connector: {} tokio threads (workers and blocking pool, both named `tokio-rt-worker`)",
            threads_named(self.daemon.child.id(), "tokio-")
        ));
        lines
    }

    /// The four targets, in report order.
    pub fn targets(
        &self,
        lab: &Lab,
        ad: &AdLab,
        soap_headers: &[(HeaderName, HeaderValue)],
        body: &Bytes,
        endpoint: &str,
        callers: usize,
    ) -> anyhow::Result<[Target; 4]> {
        let path = format!("/_wmcs/{endpoint}");
        let kerberos = Kerberos::exchange_servers(ad, callers)?;
        let peer_caller = |addr, kerberos: Option<Kerberos>| -> anyhow::Result<Caller> {
            Ok(Caller {
                addr,
                tls: any_server_tls()?,
                server_name: AD_CONNECTOR_NAME.to_owned(),
                url_path: path.clone(),
                headers: soap_headers.to_vec(),
                body: body.clone(),
                kerberos,
            })
        };
        let mut direct_headers = soap_headers.to_vec();
        direct_headers.extend(direct_caller_headers()?);
        let registration = &self.registration;
        Ok([
            Target {
                name: "direct",
                caller: Caller {
                    addr: self.standin_addr,
                    tls: direct_tls(
                        lab.standin.ca_pem(),
                        &registration.cert_pem,
                        &registration.key_pem,
                    )?,
                    server_name: "localhost".to_owned(),
                    url_path: format!("/tenants/{}/_wmcs/{endpoint}", registration.tenant_id),
                    headers: direct_headers,
                    body: body.clone(),
                    kerberos: None,
                },
                server: None,
            },
            Target {
                name: "nginx",
                caller: peer_caller(self.nginx.addr, None)?,
                server: Some(self.nginx.server()),
            },
            Target {
                name: "apache",
                caller: peer_caller(self.apache.addr, Some(kerberos.clone()))?,
                server: Some(self.apache.server()),
            },
            Target {
                name: "connector",
                caller: peer_caller(
                    self.daemon.https.context("no HTTPS caller listener")?,
                    Some(kerberos),
                )?,
                server: Some(self.connector()),
            },
        ])
    }

    /// Copies the peers' logs into `out`.
    pub fn save_logs(&self, out: &std::path::Path) {
        self.nginx.save_logs("nginx", out);
        self.apache.save_logs("apache", out);
    }
}

/// A Kerberos target must accept EXCH01 and EXCH02 (direct members of "Exchange Servers")
/// and EXCH03 (a member through "Exchange Nested"), and refuse ROGUE01 (in neither).
pub async fn check_authorization(caller: &Caller, ad: &AdLab) -> anyhow::Result<String> {
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

/// This process's CPUs and tokio workers: tokio sizes its pool by `available_parallelism`,
/// which follows the affinity, so the connector started on the server CPUs does the same.
pub fn bench_observed() -> String {
    format!(
        "benchmark process: CPUs {}, available_parallelism {}, tokio workers {} (tokio's default is available_parallelism, which follows the CPU affinity: the connector, started on the server CPUs, sizes its pool the same way)",
        allowed_list(std::process::id()).unwrap_or_default(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        tokio::runtime::Handle::current().metrics().num_workers()
    )
}

/// The stand-in's threads' CPUs, for the report.
pub fn standin_observed(standin: &StandinRuntime, during: &str) -> String {
    format!(
        "stand-in threads during {during}: CPUs {}",
        standin.allowed_lists().join(" / ")
    )
}
