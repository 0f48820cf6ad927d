//! Start-up and shutdown of the daemon. Start: open (or recover) the store, restore the
//! registration, start the list sync, bind every listener, and only then report the
//! addresses. Stop: report not ready, wait for load balancers to notice, stop accepting, let
//! in-flight requests finish within the grace period, stop the background tasks, exit.

use crate::caller_tls;
use crate::config::Config;
use anyhow::Context;
use axum::routing::get;
use axum::Router;
use rmsc_admin::{
    AddressMode, Admin, AdminConfig, ApplianceControl, EraseOutcome, KerberosControl,
    NetworkSettings, RecordingSystem, SystemControl, SystemError,
};
use rmsc_cloud::{Cloud, CloudOptions, ListSync, SyncOptions};
use rmsc_identity::IdentitySource;
use rmsc_relay::{serve_callers, CallerListener, Readiness, RelayState};
use rmsc_store::{OpenOutcome, Store};
use rmsc_system::helper::{NetworkMode, NetworkRequest, SystemHelperClient};
use rmsc_telemetry::{EventId, Events, Metrics};
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, UnixListener};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The software version reported everywhere.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Addresses the daemon actually bound (ports may have been 0 in the configuration).
#[derive(Debug, Clone, Serialize)]
pub struct Addresses {
    pub http: Vec<SocketAddr>,
    pub https: Vec<SocketAddr>,
    pub ops: Option<SocketAddr>,
    pub admin_socket: String,
    /// The admin web UI (HTTPS).
    pub admin: Vec<SocketAddr>,
}

/// A started daemon.
pub struct Running {
    pub addresses: Addresses,
    tasks: JoinSet<()>,
    callers: tokio::task::JoinHandle<()>,
    readiness: Arc<Readiness>,
    callers_stop: CancellationToken,
    background_stop: CancellationToken,
    events: Events,
    drain_delay: Duration,
}

/// Starts the daemon and returns once every listener is bound.
pub async fn run(config: Config) -> anyhow::Result<Running> {
    let (store, outcome) = Store::open(&config.data_dir)
        .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
    let events = Events::new(store.clone());
    let metrics = Metrics::new();
    if let OpenOutcome::Recovered {
        set_aside,
        reason,
        restored_registration,
    } = &outcome
    {
        events
            .record(
                EventId::StoreRecovered,
                format!("The store could not be opened ({reason}); it was set aside at {} and rebuilt. The authorized-server list is fetched again from the cloud.", set_aside.display()),
                &[("set_aside", &set_aside.display().to_string()), ("registration_restored", &restored_registration.to_string())],
            )
            .await;
    }
    let appliance_name = config
        .appliance_name
        .clone()
        .unwrap_or_else(rmsc_system::hostname);
    events
        .record(
            EventId::Started,
            format!("Connector {VERSION} started on {appliance_name}."),
            &[("version", VERSION)],
        )
        .await;

    let mut options = CloudOptions::new(config.cloud_url.clone());
    if let Some(path) = &config.cloud_ca_file {
        options.extra_ca_pem = Some(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        );
    }
    options.connect_timeout = Duration::from_millis(config.cloud.connect_timeout_ms);
    options.response_timeout = Duration::from_millis(config.cloud.response_timeout_ms);
    options.body_idle_timeout = Duration::from_millis(config.cloud.body_idle_timeout_ms);
    let cloud = Arc::new(Cloud::new(options).context("setting up TLS for the cloud")?);
    let registration = store.registration().context("reading the registration")?;
    if let Some(registration) = &registration {
        if let Err(error) = cloud.install_registration(registration) {
            events.record(EventId::UnhandledFailure, format!("The stored connector certificate is unusable: {error}. Register the appliance again."), &[]).await;
        }
    }

    let sync_options = SyncOptions {
        long_poll: Duration::from_secs(config.sync.long_poll_secs),
        max_staleness: Duration::from_secs(config.sync.max_staleness_secs),
        heartbeat_interval: Duration::from_secs(config.sync.heartbeat_secs),
        appliance_name: appliance_name.clone(),
        version: VERSION.to_owned(),
        ..SyncOptions::default()
    };
    let sync = ListSync::new(
        cloud.clone(),
        store.clone(),
        events.clone(),
        metrics.clone(),
        sync_options,
    );
    let readiness = Arc::new(Readiness::new(cloud.clone(), sync.clone()));
    let kerberos = if config.identity == "kerberos" {
        let dir = config.kerberos_runtime_dir();
        let installer = rmsc_kerberos::KeytabInstaller::new(&dir).with_context(|| {
            format!("preparing the Kerberos runtime directory {}", dir.display())
        })?;
        Some(KerberosControl {
            source: Arc::new(rmsc_kerberos::KerberosSource::new(
                config.kerberos.max_concurrent,
            )),
            installer: Arc::new(installer),
        })
    } else {
        None
    };
    let identity: Arc<dyn IdentitySource> = match &kerberos {
        Some(control) => control.source.clone(),
        None => identity_source(&config)?,
    };
    if identity.name() == "test-header" {
        tracing::warn!("TEST BUILD: callers are identified by a plain header; never use this build in production");
    }
    let state = RelayState::new(
        identity,
        cloud.clone(),
        sync.clone(),
        store.clone(),
        events.clone(),
        metrics.clone(),
        readiness.clone(),
        config.relay_limits(),
    );

    // Bind everything before starting anything that serves, so a bad address fails start-up.
    let mut listeners = Vec::new();
    let mut addresses = Addresses {
        http: Vec::new(),
        https: Vec::new(),
        ops: None,
        admin_socket: config.admin_socket.display().to_string(),
        admin: Vec::new(),
    };
    for addr in &config.callers.http {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding HTTP {addr}"))?;
        addresses.http.push(listener.local_addr()?);
        listeners.push(CallerListener {
            listener,
            tls: None,
        });
    }
    let mut caller_certificate = None;
    if !config.callers.https.is_empty() {
        let name = registration
            .as_ref()
            .map(|r| r.connector_name.clone())
            .unwrap_or_else(|| appliance_name.clone());
        let caller_tls::CallerTls {
            server_config,
            live,
        } = caller_tls::server_config(
            &store,
            config.callers.tls_cert_file.as_deref(),
            config.callers.tls_key_file.as_deref(),
            &name,
        )
        .await?;
        caller_certificate = Some(live);
        for addr in &config.callers.https {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding HTTPS {addr}"))?;
            addresses.https.push(listener.local_addr()?);
            listeners.push(CallerListener {
                listener,
                tls: Some(server_config.clone()),
            });
        }
    }
    let ops = match config.ops.listen {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the operations listener {addr}"))?,
        ),
        None => None,
    };
    addresses.ops = ops.as_ref().and_then(|l| l.local_addr().ok());
    let admin_socket = bind_admin_socket(&config.admin_socket)?;

    let callers_stop = CancellationToken::new();
    let background_stop = CancellationToken::new();
    let mut tasks = JoinSet::new();
    // The stored outbound proxy applies before the first cloud call.
    match rmsc_admin::stored_proxy_route(&store) {
        Ok(route) => cloud.set_proxy(route),
        Err(error) => {
            tracing::error!(%error, "the stored web proxy is unusable; connecting directly")
        }
    }
    tasks.spawn(sync.clone().run(background_stop.clone()));
    let ready_probe = readiness.clone();
    tasks.spawn(
        sync.clone()
            .run_maintenance(background_stop.clone(), move || ready_probe.report().ready),
    );
    let admin = Admin::new(
        store.clone(),
        cloud.clone(),
        sync.clone(),
        events.clone(),
        readiness.clone(),
        AdminConfig {
            appliance_name: appliance_name.clone(),
            version: VERSION.to_owned(),
        },
    );
    // On the appliance a privileged helper carries out system actions; without one (a
    // development host) network changes, reboots and erasing are recorded only.
    let system: Arc<dyn SystemControl> = match &config.system.helper_socket {
        Some(socket) => {
            tracing::info!(socket = %socket.display(), "system actions go through the system helper");
            Arc::new(HelperSystem(SystemHelperClient::new(socket.clone())))
        }
        None => {
            tracing::warn!("system actions (network, reboot, shutdown, factory reset) are recorded, not performed, on this host");
            Arc::new(RecordingSystem::new())
        }
    };
    let mut appliance = ApplianceControl::new(system, metrics.clone());
    if let Some(live) = caller_certificate {
        appliance = appliance.with_caller_certificate(live);
    }
    if kerberos.is_some() {
        // The directory client reads its own copy of the keytab, next to the acceptor's.
        appliance = appliance.with_directory(
            config.kerberos_runtime_dir().join("directory.keytab"),
            config.directory.ldap_urls.clone(),
        );
    }
    // Before the keytab is restored, so that restoring also writes the directory's copy.
    admin.attach_appliance(appliance);
    if let Some(control) = kerberos {
        admin.attach_kerberos(control);
        match admin.restore_keytab().await {
            Ok(true) => tracing::info!("Kerberos keytab installed from the store"),
            Ok(false) => {
                tracing::warn!("no Kerberos keytab yet: callers are refused until one is uploaded")
            }
            Err(error) => {
                events
                    .record(
                        EventId::UnhandledFailure,
                        format!("The stored Kerberos keytab could not be used: {error}. Upload it again."),
                        &[],
                    )
                    .await;
            }
        }
    }
    let web = crate::web::start(
        &config,
        &store,
        &events,
        admin.clone(),
        &appliance_name,
        &mut tasks,
        background_stop.clone(),
    )
    .await?;
    if let Some(web) = &web {
        addresses.admin = web.addresses.clone();
        if let Some(url) = web.addresses.first().map(|a| admin_url(*a)) {
            sync.set_admin_address(url);
        }
        if let Some(code) = web.auth.setup_code() {
            tracing::warn!(setup_code = %code, "first start: finish setup in a browser with this one-time code");
        }
        tracing::info!(fingerprint = %web.tls.info().fingerprint_sha256, "admin certificate");
    }
    // Follows the configuration shared by the connector's appliances and answers pairing.
    tasks.spawn(admin.clone().run_sharing(background_stop.clone()));
    let socket_router = rmsc_admin::router(admin).merge(crate::web::console_routes(web.as_ref()));
    let stop = background_stop.clone();
    tasks.spawn(async move {
        let served = axum::serve(admin_socket, socket_router)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "admin socket failed");
        }
    });
    if let Some(ops) = ops {
        let stop = background_stop.clone();
        let router = ops_router(metrics.clone(), readiness.clone());
        tasks.spawn(async move {
            if let Err(error) = axum::serve(ops, router)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
            {
                tracing::error!(%error, "operations listener failed");
            }
        });
    }
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let callers = tokio::spawn(serve_callers(state, listeners, callers_stop.clone(), grace));
    tracing::info!(?addresses, "connector serving");
    Ok(Running {
        addresses,
        tasks,
        callers,
        readiness,
        callers_stop,
        background_stop,
        events,
        drain_delay: Duration::from_millis(config.drain_delay_ms),
    })
}

impl Running {
    /// Drains and stops: not ready first, then no new connections, then in-flight requests
    /// finish (bounded by the grace period), then the background tasks end.
    pub async fn shutdown(mut self) {
        self.readiness.start_draining();
        tracing::info!(delay = ?self.drain_delay, "reporting not ready; draining");
        tokio::time::sleep(self.drain_delay).await;
        self.callers_stop.cancel();
        if let Err(error) = (&mut self.callers).await {
            tracing::error!(%error, "caller listeners ended abnormally");
        }
        self.events
            .record(EventId::Stopped, "Connector stopped.", &[])
            .await;
        self.background_stop.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

fn identity_source(config: &Config) -> anyhow::Result<Arc<dyn IdentitySource>> {
    match config.identity.as_str() {
        "test-header" => {
            rmsc_identity::test_header_source().context("test-header identity is not in this build")
        }
        _ => Ok(Arc::new(rmsc_identity::RefuseAll)),
    }
}

fn bind_admin_socket(path: &std::path::Path) -> anyhow::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // A socket file left by a previous run (crash, kill -9) would make bind fail.
    if path.exists() {
        std::fs::remove_file(path).with_context(|| format!("removing stale {}", path.display()))?;
    }
    let listener = UnixListener::bind(path)
        .with_context(|| format!("binding the admin socket {}", path.display()))?;
    rmsc_system::restrict_to_owner(path)?;
    Ok(listener)
}

fn ops_router(metrics: Metrics, readiness: Arc<Readiness>) -> Router {
    let ready = readiness.clone();
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                async move { ([("content-type", "text/plain; version=0.0.4")], m.render()) }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let r = ready.report();
                async move {
                    let status = if r.ready {
                        axum::http::StatusCode::OK
                    } else {
                        axum::http::StatusCode::SERVICE_UNAVAILABLE
                    };
                    (status, [("content-type", "application/json")], r.to_json())
                }
            }),
        )
}

/// The admin URL other appliances' pages link to: the bound address, or the host's primary
/// address when the listener binds every address.
fn admin_url(bound: std::net::SocketAddr) -> String {
    let host = if bound.ip().is_unspecified() {
        rmsc_system::primary_ipv4()
            .map(|ip| ip.to_string())
            .unwrap_or_else(rmsc_system::hostname)
    } else {
        bound.ip().to_string()
    };
    match bound {
        std::net::SocketAddr::V6(_) if !bound.ip().is_unspecified() => {
            format!("https://[{host}]:{}/", bound.port())
        }
        _ => format!("https://{host}:{}/", bound.port()),
    }
}

/// [`SystemControl`] through the privileged system helper (`rmsconnector system-helper`).
struct HelperSystem(SystemHelperClient);

fn helper_failed(error: rmsc_system::helper::HelperError) -> SystemError {
    SystemError(error.to_string())
}

impl SystemControl for HelperSystem {
    fn apply_network(&self, s: &NetworkSettings) -> Result<(), SystemError> {
        let request = NetworkRequest {
            mode: match s.mode {
                AddressMode::Dhcp => NetworkMode::Dhcp,
                AddressMode::Static => NetworkMode::Static,
            },
            address: s.address.clone(),
            prefix: s.prefix,
            gateway: s.gateway.clone(),
            dns: s.dns.clone(),
            hostname: s.hostname.clone(),
            ntp: s.ntp.clone(),
        };
        self.0.apply_network(&request).map_err(helper_failed)
    }
    fn reboot(&self) -> Result<(), SystemError> {
        self.0.reboot().map_err(helper_failed)
    }
    fn shutdown(&self) -> Result<(), SystemError> {
        self.0.shutdown().map_err(helper_failed)
    }
    fn erase_data_partition(&self) -> Result<EraseOutcome, SystemError> {
        // The helper leaves the marker data-mount formats the partition on, and reboots.
        self.0.erase_data().map_err(helper_failed)?;
        Ok(EraseOutcome::Scheduled)
    }
}
