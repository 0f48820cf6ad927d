//! Read-ahead under TLS for cloud connections. rustls asks its transport for at most 4 KB per
//! read, so an 8 KB answer cost three `recvfrom` calls and a 64 KB one seventeen. This wrapper
//! receives up to [`READ_AHEAD`] bytes per system call and serves rustls's small reads from
//! memory. The buffer exists only while it holds data: it is allocated when the socket is
//! readable and freed once drained, so an idle pooled connection keeps none.

use bytes::{Buf, BytesMut};
use hyper_util::client::legacy::connect::{Connected, Connection};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Bytes asked of the kernel per read: two full TLS records.
pub(crate) const READ_AHEAD: usize = 32 * 1024;

/// A TCP stream whose reads are batched (see the module documentation).
pub struct ReadAhead {
    inner: TcpStream,
    /// Received bytes not yet handed out; empty, and without an allocation, when drained.
    buf: BytesMut,
}

impl ReadAhead {
    pub fn new(inner: TcpStream) -> Self {
        Self {
            inner,
            buf: BytesMut::new(),
        }
    }

    /// Bytes received but not yet read.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The socket (to wait for readability without reading).
    pub fn socket(&self) -> &TcpStream {
        &self.inner
    }

    /// Moves buffered bytes into `out`, releasing the allocation once everything is out.
    fn serve(&mut self, out: &mut ReadBuf<'_>) {
        let n = self.buf.len().min(out.remaining());
        out.put_slice(&self.buf[..n]);
        self.buf.advance(n);
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
    }
}

impl AsyncRead for ReadAhead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.buf.is_empty() {
            this.serve(out);
            return Poll::Ready(Ok(()));
        }
        if out.remaining() >= READ_AHEAD {
            return Pin::new(&mut this.inner).poll_read(cx, out);
        }
        // Allocate only once the socket reports data, so a connection waiting in the pool
        // (hyper keeps polling it to notice a close) holds no buffer.
        ready!(this.inner.poll_read_ready(cx))?;
        let mut buf = BytesMut::with_capacity(READ_AHEAD);
        // Going through `poll_read` (not `try_read`) keeps tokio's rule that a short read
        // clears readiness, which spares a `recvfrom` that would only say EAGAIN.
        match tokio_util::io::poll_read_buf(Pin::new(&mut this.inner), cx, &mut buf) {
            Poll::Ready(Ok(_)) => {
                // Zero bytes is the end of the stream: `out` stays unfilled, which says so.
                this.buf = buf;
                this.serve(out);
                Poll::Ready(Ok(()))
            }
            other => other.map_ok(|_| ()),
        }
    }
}

impl AsyncWrite for ReadAhead {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl Connection for ReadAhead {
    fn connected(&self) -> Connected {
        self.inner.connected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    async fn pair() -> (ReadAhead, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
        (
            ReadAhead::new(client.expect("connect")),
            server.expect("accept").0,
        )
    }

    /// Reads exactly `n` bytes in reads of at most 4 KB, as rustls does.
    async fn read_small(stream: &mut ReadAhead, n: usize) -> Vec<u8> {
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got.len() < n {
            let read = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
                .await
                .expect("data within the deadline")
                .expect("read");
            assert!(read > 0, "unexpected end of stream");
            got.extend_from_slice(&chunk[..read]);
        }
        got
    }

    #[tokio::test]
    async fn serves_small_reads_from_one_receive_and_frees_the_buffer() {
        let (mut stream, mut peer) = pair().await;
        let sent: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        peer.write_all(&sent).await.expect("write");
        let got = read_small(&mut stream, sent.len()).await;
        assert_eq!(got, sent);
        assert_eq!(stream.buffered(), 0);
        assert_eq!(stream.buf.capacity(), 0, "a drained buffer is released");
    }

    #[tokio::test]
    async fn passes_writes_through_and_reports_end_of_stream() {
        let (mut stream, mut peer) = pair().await;
        stream.write_all(b"ping").await.expect("write");
        let mut four = [0u8; 4];
        peer.read_exact(&mut four).await.expect("peer read");
        assert_eq!(&four, b"ping");
        peer.write_all(b"pong").await.expect("peer write");
        drop(peer);
        assert_eq!(read_small(&mut stream, 4).await, b"pong");
        let mut rest = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut rest))
            .await
            .expect("end within the deadline")
            .expect("read");
        assert_eq!(n, 0);
    }

    #[tokio::test]
    async fn large_reads_bypass_the_buffer() {
        let (mut stream, mut peer) = pair().await;
        peer.write_all(&[7u8; 1000]).await.expect("write");
        let mut big = vec![0u8; READ_AHEAD];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut big))
            .await
            .expect("data within the deadline")
            .expect("read");
        assert!(n > 0 && big[..n].iter().all(|b| *b == 7));
        assert_eq!(stream.buf.capacity(), 0);
    }
}
