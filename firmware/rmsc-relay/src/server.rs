//! The accept loops of the caller listeners: a semaphore caps open connections, TLS (rustls,
//! HTTP/1.1 by ALPN, as Negotiate over HTTP/2 is poorly supported by Windows clients) has a
//! handshake deadline, each connection is served by [`connection::serve`] (hyper, parked while
//! idle), and on shutdown every connection finishes its in-flight request within the grace period.

use crate::connection;
use crate::state::RelayState;
use rmsc_cloud::ReadAhead;
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
            let conn = |secure| Arc::new(ConnCtx { peer, secure, auth: ConnectionAuth::default() });
            match acceptor {
                None => connection::serve(state, Box::new(tcp), conn(false), stop).await,
                Some(acceptor) => {
                    // Boxed: the handshake's state is freed once it is done instead of sizing
                    // the task of every (mostly idle) connection.
                    let handshake = Box::pin(async {
                        tokio::select! {
                            _ = stop.cancelled() => None,
                            h = tokio::time::timeout(state.limits.tls_handshake_timeout, acceptor.accept(ReadAhead::new(tcp))) => Some(h.map(|r| r.map(Box::new))),
                        }
                    });
                    let Some(handshake) = handshake.await else { return };
                    match handshake {
                        Ok(Ok(tls)) => connection::serve(state, tls, conn(true), stop).await,
                        Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
}
