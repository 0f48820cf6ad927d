//! Starting and stopping a stand-in: the TLS accept loop (one task per connection, so the
//! client certificate is read once per connection and a connection can be dropped on purpose)
//! and the handle tests drive it through.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use crate::auth::ConnInfo;
use crate::calls::CallLog;
use crate::config::StandinConfig;
use crate::context::{Ctx, MAX_PAD_BYTES};
use crate::faults::FaultSwitch;
use crate::fixture::FixtureError;
use crate::handle::RunningStandin;
use crate::signing::KeyError;
use crate::state::State;
use crate::tls::{self, Authority, TlsError};

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a stand-in could not start.
#[derive(Debug, thiserror::Error)]
pub enum StandinError {
    #[error("invalid fixture: {0}")]
    Fixture(#[from] FixtureError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS setup failed: {0}")]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Entry point of the library.
#[derive(Debug)]
pub struct Standin;

/// The URL clients use for a listening address: wildcard addresses become loopback.
pub fn base_url_for(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            format!("https://{}:{}", Ipv4Addr::LOCALHOST, addr.port())
        }
        IpAddr::V4(ip) => format!("https://{ip}:{}", addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => {
            format!("https://[{}]:{}", Ipv6Addr::LOCALHOST, addr.port())
        }
        IpAddr::V6(ip) => format!("https://[{ip}]:{}", addr.port()),
    }
}

impl Standin {
    /// Makes the PKI, binds the listener and starts serving.
    pub async fn start(config: StandinConfig) -> Result<RunningStandin, StandinError> {
        config.fixture.validate()?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StandinError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| StandinError::Bind {
            addr: config.listen,
            source,
        })?;
        let base_url = base_url_for(addr);
        let root = Authority::new("RMS cloud stand-in root CA")?;
        let connector_ca = Authority::new("RMS cloud stand-in connector CA")?;
        let (server_cert, server_key) = root.issue_server()?;
        let tls_config = tls::server_config(&server_cert, server_key, &root, &connector_ca)?;
        let state = State::new(&config.fixture, &base_url)?;
        let ctx = Arc::new(Ctx {
            calls: CallLog::new(config.max_calls_kept),
            config,
            state,
            connector_ca_pem: connector_ca.pem(),
            connector_ca,
            base_url,
            faults: FaultSwitch::default(),
            padding: Bytes::from(vec![b'A'; MAX_PAD_BYTES]),
        });
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let router = crate::router::router(ctx.clone());
        let acceptor = TlsAcceptor::from(tls_config);
        tracker.spawn(accept_loop(
            listener,
            acceptor,
            router,
            shutdown.clone(),
            tracker.clone(),
        ));
        tracing::info!(%addr, "stand-in listening");
        Ok(RunningStandin::new(
            ctx,
            addr,
            root.pem(),
            shutdown,
            tracker,
        ))
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                // Small SOAP answers must not wait for Nagle: the benchmarks measure latency.
                let _ = stream.set_nodelay(true);
                tracker.spawn(serve_connection(
                    stream,
                    acceptor.clone(),
                    router.clone(),
                    shutdown.clone(),
                ));
            }
            Err(e) => {
                // Usually EMFILE: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
    }
}

async fn serve_connection(
    stream: TcpStream,
    acceptor: TlsAcceptor,
    router: Router,
    shutdown: CancellationToken,
) {
    let handshake = tokio::select! {
        () = shutdown.cancelled() => return,
        result = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => result,
    };
    let tls = match handshake {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    let peer_fingerprint = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|cert| tls::fingerprint(cert));
    let kill = shutdown.child_token();
    let info = ConnInfo {
        peer_fingerprint,
        kill: kill.clone(),
    };
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(info.clone());
        router.clone().oneshot(request)
    });
    let mut builder =
        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).http1_only();
    builder.http1().keep_alive(true).timer(TokioTimer::new());
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        // Shutdown or an injected reset: dropping the connection closes the socket unanswered.
        () = kill.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listen_addresses_become_loopback_urls() {
        assert_eq!(
            base_url_for("0.0.0.0:8443".parse().expect("addr")),
            "https://127.0.0.1:8443"
        );
        assert_eq!(
            base_url_for("127.0.0.1:1".parse().expect("addr")),
            "https://127.0.0.1:1"
        );
        assert_eq!(
            base_url_for("[::]:2".parse().expect("addr")),
            "https://[::1]:2"
        );
        assert_eq!(
            base_url_for("[::1]:3".parse().expect("addr")),
            "https://[::1]:3"
        );
    }
}
