//! The admin listener's accept loop, after the caller listeners' pattern: HTTPS only, a
//! semaphore caps open connections, the TLS handshake and the request headers have deadlines,
//! and on shutdown each connection finishes its request in flight within a grace period.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// Bounds of the admin listener.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// Connections open at most; further ones wait in the kernel's backlog.
    pub max_connections: usize,
    pub tls_handshake_timeout: Duration,
    /// Time a client has to send a request's headers.
    pub header_read_timeout: Duration,
    /// Largest request head.
    pub max_header_bytes: usize,
    /// How long open connections may finish their request after shutdown.
    pub grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            max_connections: 64,
            tls_handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            grace: Duration::from_secs(5),
        }
    }
}

/// Serves `router` over HTTPS on every listener until `shutdown` fires, with default limits.
pub async fn serve(
    listeners: Vec<TcpListener>,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    shutdown: CancellationToken,
) {
    serve_with_limits(listeners, tls, router, shutdown, ServeLimits::default()).await;
}

/// [`serve`] with explicit limits.
pub async fn serve_with_limits(
    listeners: Vec<TcpListener>,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    shutdown: CancellationToken,
    limits: ServeLimits,
) {
    let connections = TaskTracker::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let acceptor = TlsAcceptor::from(tls);
    let mut loops = JoinSet::new();
    for listener in listeners {
        loops.spawn(accept_loop(
            listener,
            acceptor.clone(),
            router.clone(),
            shutdown.clone(),
            connections.clone(),
            permits.clone(),
            limits,
        ));
    }
    while loops.join_next().await.is_some() {}
    connections.close();
    if tokio::time::timeout(limits.grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(grace = ?limits.grace, "grace period over; closing remaining admin connections");
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    stop: CancellationToken,
    connections: TaskTracker,
    permits: Arc<Semaphore>,
    limits: ServeLimits,
) {
    loop {
        let permit = tokio::select! {
            _ = stop.cancelled() => break,
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (tcp, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(%error, "admin accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, router, stop) = (acceptor.clone(), router.clone(), stop.clone());
        connections.spawn(async move {
            let _permit = permit;
            handle(tcp, peer, acceptor, router, stop, limits).await;
        });
    }
}

async fn handle(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    router: Router,
    stop: CancellationToken,
    limits: ServeLimits,
) {
    let handshake = tokio::select! {
        _ = stop.cancelled() => return,
        h = tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(tcp)) => h,
    };
    let tls = match handshake {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::debug!(%peer, %error, "admin TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "admin TLS handshake timed out");
            return;
        }
    };
    let service = service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .keep_alive(true)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .header_read_timeout(limits.header_read_timeout);
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        r = connection.as_mut() => r,
        _ = stop.cancelled() => {
            // Finish the request in flight (if any), then close instead of keeping alive.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "admin connection ended with an error");
    }
}
