//! The shared handle to the cloud: options, trust roots, the anonymous control client, and
//! the connector's mutual-TLS client once registered (swapped atomically on registration,
//! renewal and deregistration).

use crate::control::{ConnectorApi, ControlClient};
use crate::proxy::{ProxyConnector, ProxyRoute, SharedRoute};
use crate::read_ahead::ReadAhead;
use crate::tls::{self, TlsMaterialError};
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rmsc_store::Registration;
use rustls::RootCertStore;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tower::Service;
use url::Url;

/// The HTTP client type used for every cloud call: request bodies are complete buffers.
pub(crate) type HttpClient = Client<HttpsConnector<ReadAheadConnector>, Full<Bytes>>;

/// How to reach the cloud, and how patiently.
#[derive(Debug, Clone)]
pub struct CloudOptions {
    /// Base URL of the control plane, e.g. `https://cloud.example` (stand-in: `https://127.0.0.1:PORT`).
    pub base_url: Url,
    /// An extra CA (PEM) the cloud's server certificate may chain to, besides the public roots.
    pub extra_ca_pem: Option<String>,
    /// Deadline for establishing a TCP connection.
    pub connect_timeout: Duration,
    /// Deadline from sending a request to the response headers.
    pub response_timeout: Duration,
    /// Longest silence allowed while a response body streams.
    pub body_idle_timeout: Duration,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per host.
    pub pool_max_idle: usize,
}

impl CloudOptions {
    /// Options with the production defaults for `base_url`.
    pub fn new(base_url: Url) -> Self {
        Self {
            base_url,
            extra_ca_pem: None,
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(30),
            body_idle_timeout: Duration::from_secs(30),
            pool_idle_timeout: Duration::from_secs(60),
            pool_max_idle: 256,
        }
    }
}

/// Shared handle to the cloud; clone the `Arc` it lives in.
pub struct Cloud {
    options: Arc<CloudOptions>,
    roots: Arc<RootCertStore>,
    control: ControlClient,
    connector: RwLock<Option<Arc<ConnectorApi>>>,
    /// The outbound web proxy every new connection goes through, if any.
    proxy: SharedRoute,
}

impl Cloud {
    pub fn new(options: CloudOptions) -> Result<Self, TlsMaterialError> {
        let roots = tls::root_store(options.extra_ca_pem.as_deref())?;
        let options = Arc::new(options);
        let proxy = SharedRoute::default();
        let http = build_client(&options, tls::anonymous_config(roots.clone())?, &proxy);
        Ok(Self {
            control: ControlClient::new(options.clone(), http),
            options,
            roots,
            connector: RwLock::new(None),
            proxy,
        })
    }

    pub fn options(&self) -> &CloudOptions {
        &self.options
    }

    /// The anonymous control-plane client (sign-in, discovery, registration).
    pub fn control(&self) -> &ControlClient {
        &self.control
    }

    /// Starts using a registration's certificate for mutual TLS. Connections made with the
    /// previous certificate are dropped with the old client.
    pub fn install_registration(
        &self,
        registration: &Registration,
    ) -> Result<(), TlsMaterialError> {
        let cfg = tls::mutual_config(
            self.roots.clone(),
            &registration.certificate_pem,
            registration
                .key_pem
                .expose_str()
                .ok_or(TlsMaterialError::NoKey)?,
        )?;
        let api = ConnectorApi::new(
            self.options.clone(),
            build_client(&self.options, cfg, &self.proxy),
            registration,
        );
        if let Ok(mut slot) = self.connector.write() {
            *slot = Some(Arc::new(api));
        }
        Ok(())
    }

    /// Stops using any registration (after deregistration or factory reset).
    pub fn clear_registration(&self) {
        if let Ok(mut slot) = self.connector.write() {
            *slot = None;
        }
    }

    /// Routes new cloud connections through `route` (or directly with `None`). Pooled
    /// connections keep their way until they close; reinstall the registration to drop them.
    pub fn set_proxy(&self, route: Option<ProxyRoute>) {
        tracing::info!(proxy = ?route, "cloud connections route");
        if let Ok(mut slot) = self.proxy.write() {
            *slot = route;
        }
    }

    /// The registered connector's client, if registered.
    pub fn connector(&self) -> Option<Arc<ConnectorApi>> {
        self.connector.read().ok().and_then(|g| g.clone())
    }
}

fn build_client(
    options: &CloudOptions,
    tls: rustls::ClientConfig,
    proxy: &SharedRoute,
) -> HttpClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(options.connect_timeout));
    http.set_keepalive(Some(Duration::from_secs(30)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .wrap_connector(ReadAheadConnector(ProxyConnector {
            direct: http,
            route: proxy.clone(),
            timeout: options.connect_timeout,
        }));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(options.pool_idle_timeout)
        .pool_max_idle_per_host(options.pool_max_idle)
        .http1_max_buf_size(256 * 1024)
        .build(https)
}

/// Gives every cloud connection, direct or tunnelled, a [`ReadAhead`] under its TLS.
#[derive(Clone)]
pub(crate) struct ReadAheadConnector(ProxyConnector);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Service<http::Uri> for ReadAheadConnector {
    type Response = TokioIo<ReadAhead>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, target: http::Uri) -> Self::Future {
        let connecting = self.0.call(target);
        Box::pin(async move {
            let tcp = connecting.await?.into_inner();
            Ok(TokioIo::new(ReadAhead::new(tcp)))
        })
    }
}
