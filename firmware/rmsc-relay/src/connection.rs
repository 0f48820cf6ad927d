//! Serving one caller connection with hyper, and "parking" it while it is idle.
//!
//! Exchange and SharePoint keep their connections to the connector open between calls, so most
//! connections are idle most of the time. hyper keeps an 8 KiB read buffer and an 8 KiB write
//! buffer per connection for as long as it serves it, which is 16 of the ~29 KiB an idle
//! authenticated TLS connection cost (heaptrack, 10,000 connections). So once a connection has
//! been quiet for a full `idle_park_after` period, between requests, with nothing unwritten,
//! the loop asks hyper to close it gracefully *without* shutting the socket down, takes the
//! socket back, and waits on the socket alone. When the caller sends again, a new hyper
//! connection starts on the same socket; bytes hyper had read but not used are replayed first.
//! With the socket and hyper's state boxed (so that the task itself stays ~750 B), an idle
//! connection costs ~11 KiB instead of ~29 KiB (docs/perf.md, "Idle connections").
//!
//! Invariants: a connection is parked only between requests (no request in flight, every byte
//! received belongs to an answered request, the last write completed); the caller sees one
//! uninterrupted keep-alive connection; the authenticated identity of the connection
//! ([`ConnCtx`]) survives parking; a header that trickles in stays under hyper's header
//! timeout (no parking again until a response completes after a replay); an idle connection
//! is closed after `keep_alive_idle_timeout` (`header_read_timeout` if it never sent a request).

use crate::caller_io::{Activity, Parkable, ResponseGuard, WatchedIo};
use crate::reply::RelayBody;
use crate::routes::dispatch;
use crate::server::ConnCtx;
use crate::state::RelayState;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

/// Longest wait for a TLS close_notify and FIN to leave when a connection ends.
const SHUTDOWN_WRITE_LIMIT: Duration = Duration::from_secs(2);

/// How a served stretch of the connection ended.
enum Served {
    /// We asked hyper to let go while idle; it did.
    Parked,
    /// hyper finished by itself (caller closed, keep-alive off, shutdown) or failed.
    Ended,
}

/// Why a parked connection woke.
enum Wake {
    Input,
    IdleTimeout,
    Stop,
}

/// Serves one caller connection until it ends.
///
/// The socket comes boxed and stays boxed: a TLS stream is ~1.2 KB, and an async fn keeps a
/// slot for every place a value is moved through, which made each connection's task ~7.8 KB.
pub async fn serve<S: Parkable>(
    state: Arc<RelayState>,
    socket: Box<S>,
    conn: Arc<ConnCtx>,
    stop: CancellationToken,
) {
    let activity = Arc::new(Activity::default());
    let mut io = Box::new(WatchedIo::new(socket, activity.clone()));
    // Responses completed when bytes were last replayed: no parking until a later one.
    let mut replayed_at: Option<u64> = None;
    loop {
        let parkable = replayed_at.is_none_or(|at| activity.responses() > at);
        // Boxed: hyper's state lives on the heap only while the connection is served, so a
        // parked connection's task stays small.
        let (served, returned) = Box::pin(serve_with_hyper(
            &state, io, &conn, &activity, parkable, &stop,
        ))
        .await;
        let Some((returned_io, unread)) = returned else {
            return;
        };
        io = returned_io;
        if matches!(served, Served::Ended) {
            shutdown(io).await;
            return;
        }
        if !unread.is_empty() {
            // hyper had started reading the next request: replay it to a new hyper at once.
            io.rewind(unread);
            replayed_at = Some(activity.responses());
            continue;
        }
        // Even empty, `unread` is a view of hyper's whole read buffer and would keep it alive
        // while parked.
        drop(unread);
        replayed_at = None;
        let idle_limit = if activity.responses() == 0 {
            state.limits.header_read_timeout
        } else {
            state.limits.keep_alive_idle_timeout
        };
        let parked = state.metrics.connection_parked();
        let wake = wait_parked(io.socket(), idle_limit, &stop).await;
        drop(parked);
        match wake {
            Wake::Input => continue,
            Wake::IdleTimeout | Wake::Stop => {
                shutdown(io).await;
                return;
            }
        }
    }
}

/// Serves requests with a new hyper connection until it ends or is parked. Returns the socket
/// and the bytes hyper read but did not use, unless the connection failed (then the socket is
/// dropped, which closes it).
async fn serve_with_hyper<S: Parkable>(
    state: &Arc<RelayState>,
    io: Box<WatchedIo<S>>,
    conn: &Arc<ConnCtx>,
    activity: &Arc<Activity>,
    parkable: bool,
    stop: &CancellationToken,
) -> (Served, Option<(Box<WatchedIo<S>>, Bytes)>) {
    let service = {
        let (state, conn, activity) = (state.clone(), conn.clone(), activity.clone());
        service_fn(move |request| {
            let guard = activity.request_started();
            let (state, conn) = (state.clone(), conn.clone());
            // Boxed: hyper keeps a slot for the handler's future in every connection; boxed,
            // only requests in flight pay for the future.
            Box::pin(async move {
                let response = dispatch(state, conn, request).await;
                Ok::<_, std::convert::Infallible>(response.map(|body| GuardedBody {
                    body,
                    _guard: guard,
                }))
            })
        })
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .keep_alive(true)
        .max_buf_size(state.limits.max_header_bytes.max(8192))
        .header_read_timeout(state.limits.header_read_timeout);
    // Boxed so that a parked connection's task does not keep room for hyper's state.
    let mut http = Box::new(builder.serve_connection(TokioIo::new(io), service));

    let period = state.limits.idle_park_after;
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut read_at_last_tick = activity.read_bytes();
    let mut parking = false;
    let mut stopping = false;
    let result = loop {
        tokio::select! {
            result = poll_fn(|cx| http.poll_without_shutdown(cx)) => break result,
            _ = ticker.tick(), if parkable && !parking && !stopping => {
                let read = activity.read_bytes();
                if read == read_at_last_tick && activity.between_requests() {
                    parking = true;
                    Pin::new(&mut *http).graceful_shutdown();
                }
                read_at_last_tick = read;
            }
            _ = stop.cancelled(), if !stopping => {
                // Finish the request in flight (if any), then close instead of keeping alive.
                stopping = true;
                Pin::new(&mut *http).graceful_shutdown();
            }
        }
    };
    match result {
        Ok(()) => {
            let parts = http.into_parts();
            let served = if parking && !stopping {
                Served::Parked
            } else {
                Served::Ended
            };
            (served, Some((parts.io.into_inner(), parts.read_buf)))
        }
        Err(error) => {
            tracing::debug!(peer = %conn.peer, %error, "caller connection ended with an error");
            (Served::Ended, None)
        }
    }
}

/// Waits on the bare socket (no HTTP buffers held) for the caller's next bytes.
async fn wait_parked<S: Parkable>(
    socket: &mut S,
    idle_limit: Duration,
    stop: &CancellationToken,
) -> Wake {
    if socket.has_pending_data() {
        return Wake::Input;
    }
    tokio::select! {
        // An error or end of stream is "input" too: hyper reads it and ends the connection.
        _ = poll_fn(|cx| socket.poll_socket_readable(cx)) => Wake::Input,
        _ = tokio::time::sleep(idle_limit) => Wake::IdleTimeout,
        _ = stop.cancelled() => Wake::Stop,
    }
}

/// Ends the connection as hyper would: TLS close_notify, then FIN; bounded in time.
async fn shutdown<S: Parkable>(mut io: Box<WatchedIo<S>>) {
    let _ = tokio::time::timeout(SHUTDOWN_WRITE_LIMIT, io.shutdown()).await;
}

/// A response body that tells the connection's [`Activity`] when hyper is done with it.
struct GuardedBody {
    body: RelayBody,
    _guard: ResponseGuard,
}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = <RelayBody as Body>::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
