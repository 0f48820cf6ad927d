//! The caller connection's byte stream as the HTTP layer sees it: a socket (plain or TLS) that
//! counts what it read, remembers whether its last write had to wait, can replay bytes the HTTP
//! layer had read but not used, and can tell whether input is waiting without reading it.
//!
//! These are the facts [`crate::connection`] needs to take hyper off an idle keep-alive
//! connection ("parking", which frees hyper's read and write buffers, 16 KiB per connection) and
//! to put it back when the caller sends again, without losing or reordering a byte.

use bytes::{Buf, Bytes};
use rmsc_cloud::ReadAhead;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// What one caller connection has done, shared by its byte stream, its request handlers and
/// its serving loop. Relaxed atomics suffice: every reader runs on the connection's own task,
/// and the handlers' updates happen before hyper polls the connection again.
#[derive(Debug, Default)]
pub struct Activity {
    /// Bytes received from the caller (rewound bytes are not counted twice).
    read_bytes: AtomicU64,
    /// `read_bytes` when the last response was completely handed to hyper.
    read_at_response_end: AtomicU64,
    /// Responses completed on this connection.
    responses: AtomicU64,
    /// Requests whose response has not been completely handed to hyper yet.
    in_flight: AtomicU32,
    /// The last write or flush could not complete (the caller is not reading).
    write_blocked: AtomicBool,
}

impl Activity {
    pub fn read_bytes(&self) -> u64 {
        self.read_bytes.load(Ordering::Relaxed)
    }

    pub fn responses(&self) -> u64 {
        self.responses.load(Ordering::Relaxed)
    }

    /// Whether the connection sits between requests: nothing in flight, every byte received
    /// belonged to a request that has been answered, and the answer left the process.
    pub fn between_requests(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
            && self.read_bytes() == self.read_at_response_end.load(Ordering::Relaxed)
            && !self.write_blocked.load(Ordering::Relaxed)
    }

    /// Marks a request as started; the guard marks its response as finished when dropped
    /// (hyper drops the response body once it has taken all of it).
    pub fn request_started(self: &std::sync::Arc<Self>) -> ResponseGuard {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        ResponseGuard(self.clone())
    }
}

/// Held by a response body; see [`Activity::request_started`].
#[derive(Debug)]
pub struct ResponseGuard(std::sync::Arc<Activity>);

impl Drop for ResponseGuard {
    fn drop(&mut self) {
        let activity = &self.0;
        activity
            .read_at_response_end
            .store(activity.read_bytes(), Ordering::Relaxed);
        activity.responses.fetch_add(1, Ordering::Relaxed);
        activity.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A caller socket that can be left without an HTTP layer on it.
pub trait Parkable: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Whether input already waits above the socket (decrypted TLS records, a close_notify) or
    /// output waits to be written: then the connection must not wait for the socket alone.
    fn has_pending_data(&mut self) -> bool;

    /// Ready when the socket has something to read (data, end of stream or an error).
    fn poll_socket_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

impl Parkable for TcpStream {
    fn has_pending_data(&mut self) -> bool {
        false
    }

    fn poll_socket_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_read_ready(cx)
    }
}

/// Caller TLS runs over a [`ReadAhead`]: rustls asks for 4 KB per read, and a 64 KB request
/// would otherwise cost 17 system calls.
impl Parkable for tokio_rustls::server::TlsStream<ReadAhead> {
    fn has_pending_data(&mut self) -> bool {
        let (socket, tls) = self.get_mut();
        if socket.buffered() > 0 {
            return true;
        }
        if tls.wants_write() {
            return true;
        }
        // Records read from the socket are processed as they arrive, so this only reports
        // plaintext that hyper had no room for, or a close_notify; an error is left for the
        // HTTP layer to read and report.
        match tls.process_new_packets() {
            Ok(state) => state.plaintext_bytes_to_read() > 0 || state.peer_has_closed(),
            Err(_) => true,
        }
    }

    fn poll_socket_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_ref().0.socket().poll_read_ready(cx)
    }
}

/// The socket as hyper sees it: counts reads into [`Activity`], replays rewound bytes first,
/// records whether writing had to wait.
pub struct WatchedIo<S> {
    inner: Box<S>,
    rewound: Bytes,
    activity: std::sync::Arc<Activity>,
}

impl<S: Parkable> WatchedIo<S> {
    pub fn new(inner: Box<S>, activity: std::sync::Arc<Activity>) -> Self {
        Self {
            inner,
            rewound: Bytes::new(),
            activity,
        }
    }

    /// Puts bytes the HTTP layer read but did not use back in front of the stream.
    pub fn rewind(&mut self, bytes: Bytes) {
        debug_assert!(self.rewound.is_empty(), "rewound twice without reading");
        self.rewound = bytes;
    }

    pub fn socket(&mut self) -> &mut S {
        &mut self.inner
    }

    fn note_write<T>(&self, poll: &Poll<io::Result<T>>) {
        let blocked = poll.is_pending();
        self.activity
            .write_blocked
            .store(blocked, Ordering::Relaxed);
    }
}

impl<S: Parkable> AsyncRead for WatchedIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.rewound.is_empty() {
            let n = this.rewound.len().min(buf.remaining());
            buf.put_slice(&this.rewound[..n]);
            this.rewound.advance(n);
            if this.rewound.is_empty() {
                // An empty view would still keep the old hyper read buffer alive.
                this.rewound = Bytes::new();
            }
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        this.activity
            .read_bytes
            .fetch_add(read as u64, Ordering::Relaxed);
        poll
    }
}

impl<S: Parkable> AsyncWrite for WatchedIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.note_write(&poll);
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.note_write(&poll);
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.note_write(&poll);
        poll
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
        (client.expect("connect"), server.expect("accept").0)
    }

    #[tokio::test]
    async fn rewound_bytes_come_first_and_are_not_counted_twice() {
        let (mut client, server) = pair().await;
        let activity = Arc::new(Activity::default());
        let mut io = WatchedIo::new(Box::new(server), activity.clone());
        client.write_all(b"abc").await.expect("socket");
        let mut first = [0u8; 3];
        io.read_exact(&mut first).await.expect("socket");
        assert_eq!(activity.read_bytes(), 3);
        io.rewind(Bytes::from_static(b"bc"));
        client.write_all(b"def").await.expect("socket");
        let mut rest = [0u8; 5];
        io.read_exact(&mut rest).await.expect("socket");
        assert_eq!(&rest, b"bcdef");
        assert_eq!(activity.read_bytes(), 6);
    }

    #[tokio::test]
    async fn between_requests_needs_no_request_in_flight_and_no_unanswered_bytes() {
        let (mut client, server) = pair().await;
        let activity = Arc::new(Activity::default());
        let mut io = WatchedIo::new(Box::new(server), activity.clone());
        assert!(activity.between_requests());
        client.write_all(b"GET").await.expect("socket");
        let mut buf = [0u8; 3];
        io.read_exact(&mut buf).await.expect("socket");
        assert!(!activity.between_requests(), "bytes read, not answered");
        let guard = activity.request_started();
        assert!(!activity.between_requests(), "request in flight");
        drop(guard);
        assert!(activity.between_requests());
        assert_eq!(activity.responses(), 1);
    }
}
