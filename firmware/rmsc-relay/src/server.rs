//! The accept loops of the caller listeners: a semaphore caps open connections, TLS (rustls,
//! HTTP/1.1 by ALPN, as Negotiate over HTTP/2 is poorly supported by Windows clients) has a
//! handshake deadline, hyper enforces the header size and read timeouts, and on shutdown every
//! connection finishes its in-flight request within the grace period.

use crate::routes::dispatch;
use crate::state::RelayState;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rmsc_identity::ConnectionAuth;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A bound caller listener, plain or TLS.
pub struct CallerListener {
    pub listener: TcpListener,
    /// `Some` for HTTPS; the config should advertise ALPN `http/1.1` only.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// Per-connection facts the handlers need.
pub struct ConnCtx {
    pub peer: SocketAddr,
    pub secure: bool,
    pub auth: ConnectionAuth,
}

/// Serves every listener until `stop` fires, then lets open connections finish their
/// in-flight request for at most `grace` before returning.
pub async fn serve_callers(
    state: Arc<RelayState>,
    listeners: Vec<CallerListener>,
    stop: CancellationToken,
    grace: Duration,
) {
    let connections = TaskTracker::new();
    let permits = Arc::new(Semaphore::new(state.limits.max_connections));
    let mut loops = JoinSet::new();
    for listener in listeners {
        loops.spawn(accept_loop(
            state.clone(),
            listener,
            stop.clone(),
            connections.clone(),
            permits.clone(),
        ));
    }
    while loops.join_next().await.is_some() {}
    connections.close();
    if tokio::time::timeout(grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            ?grace,
            "grace period over; closing remaining caller connections"
        );
    }
}

async fn accept_loop(
    state: Arc<RelayState>,
    listener: CallerListener,
    stop: CancellationToken,
    connections: TaskTracker,
    permits: Arc<Semaphore>,
) {
    let acceptor = listener.tls.map(TlsAcceptor::from);
    loop {
        let permit = tokio::select! {
            _ = stop.cancelled() => break,
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (tcp, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let state = state.clone();
        let acceptor = acceptor.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            let _permit = permit;
            let _open = state.metrics.connection_opened();
            match acceptor {
                None => serve_connection(state, TokioIo::new(tcp), peer, false, stop).await,
                Some(acceptor) => {
                    let handshake = tokio::select! {
                        _ = stop.cancelled() => return,
                        h = tokio::time::timeout(state.limits.tls_handshake_timeout, acceptor.accept(tcp)) => h,
                    };
                    match handshake {
                        Ok(Ok(tls)) => serve_connection(state, TokioIo::new(tls), peer, true, stop).await,
                        Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

async fn serve_connection<I>(
    state: Arc<RelayState>,
    io: TokioIo<I>,
    peer: SocketAddr,
    secure: bool,
    stop: CancellationToken,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let max_buf = state.limits.max_header_bytes.max(8192);
    let header_timeout = state.limits.header_read_timeout;
    let conn = Arc::new(ConnCtx {
        peer,
        secure,
        auth: ConnectionAuth::default(),
    });
    // Boxed: hyper keeps a slot for the handler's future in every connection, idle or not;
    // boxed, the slot is a pointer and only requests in flight pay for the future (2.6 KB per
    // held connection measured with heaptrack, ~26 MB at 10,000 idle connections).
    let service = service_fn(move |request| {
        let state = state.clone();
        let conn = conn.clone();
        Box::pin(
            async move { Ok::<_, std::convert::Infallible>(dispatch(state, conn, request).await) },
        )
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .keep_alive(true)
        .max_buf_size(max_buf)
        .header_read_timeout(header_timeout);
    let connection = builder.serve_connection(io, service);
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
        tracing::debug!(%peer, %error, "caller connection ended with an error");
    }
}
