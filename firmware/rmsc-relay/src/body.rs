//! Request bodies are read whole (bounded) before relaying, so that malformed input never
//! reaches the cloud and a retry on a fresh connection is possible; their memory is charged to
//! a global budget. Response bodies stream from the cloud to the caller untouched, with an idle
//! timeout so a stalled cloud cannot hold a caller forever.

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("request body stalled for more than {0:?}")]
    Stalled(Duration),
    #[error("too many request bodies in flight")]
    OverBudget,
    #[error("request body broken: {0}")]
    Broken(String),
}

/// A complete request body and its share of the memory budget (released on drop).
pub struct BufferedBody {
    pub bytes: Bytes,
    _permits: Vec<OwnedSemaphorePermit>,
}

/// Reads a whole body of at most `limit` bytes, charging `budget` (one permit per byte) and
/// giving up after `idle` without data.
pub async fn read_bounded<B>(
    mut body: B,
    declared_len: Option<u64>,
    limit: usize,
    idle: Duration,
    budget: &Arc<Semaphore>,
) -> Result<BufferedBody, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut permits = Vec::new();
    let charge = |n: usize, permits: &mut Vec<OwnedSemaphorePermit>| -> Result<(), BodyError> {
        if n == 0 {
            return Ok(());
        }
        let n = u32::try_from(n).map_err(|_| BodyError::TooLarge { limit })?;
        let permit = budget
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| BodyError::OverBudget)?;
        permits.push(permit);
        Ok(())
    };
    let reserve = match declared_len {
        Some(len) if len > limit as u64 => return Err(BodyError::TooLarge { limit }),
        Some(len) => {
            // Charge the declared size up front: a client cannot send more than it declared.
            let len = usize::try_from(len).map_err(|_| BodyError::TooLarge { limit })?;
            charge(len, &mut permits)?;
            len
        }
        None => 0,
    };
    // A body that arrives as one frame (the usual case for a few KB) is kept as that frame:
    // no copy, and the clones made for the upstream request share hyper's buffer. Only a
    // second frame starts a contiguous copy.
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    let mut len = 0usize;
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return Err(BodyError::Stalled(idle)),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(BodyError::Broken(e.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        if len + data.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        if declared_len.is_none() {
            charge(data.len(), &mut permits)?;
        }
        len += data.len();
        match first.take() {
            None if buf.is_empty() => first = Some(data),
            None => buf.extend_from_slice(&data),
            Some(head) => {
                buf.reserve(reserve.max(len));
                buf.extend_from_slice(&head);
                buf.extend_from_slice(&data);
            }
        }
    }
    Ok(BufferedBody {
        bytes: first.unwrap_or_else(|| buf.freeze()),
        _permits: permits,
    })
}

/// Wraps a streaming body and fails it when no frame arrives for `idle`.
pub struct IdleTimeoutBody<B> {
    inner: B,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
}

impl<B> IdleTimeoutBody<B> {
    pub fn new(inner: B, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
        }
    }
}

/// The error of a response body that went silent.
#[derive(Debug, thiserror::Error)]
#[error("the cloud's response stalled")]
pub struct ResponseStalled;

impl<B> Body for IdleTimeoutBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let deadline = tokio::time::Instant::now() + this.idle;
                this.timer.as_mut().reset(deadline);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(ResponseStalled)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    fn budget(n: usize) -> Arc<Semaphore> {
        Arc::new(Semaphore::new(n))
    }

    #[tokio::test]
    async fn reads_within_limits_and_releases_budget() {
        let b = budget(100);
        let body = read_bounded(
            Full::new(Bytes::from_static(b"hello")),
            Some(5),
            10,
            Duration::from_secs(1),
            &b,
        )
        .await
        .expect("read");
        assert_eq!(&body.bytes[..], b"hello");
        assert_eq!(b.available_permits(), 95);
        drop(body);
        assert_eq!(b.available_permits(), 100);
    }

    #[tokio::test]
    async fn refuses_oversize_and_over_budget() {
        let b = budget(100);
        let r = read_bounded(
            Full::new(Bytes::from(vec![0u8; 20])),
            None,
            10,
            Duration::from_secs(1),
            &b,
        )
        .await;
        assert!(matches!(r, Err(BodyError::TooLarge { .. })));
        let r = read_bounded(
            Full::new(Bytes::from(vec![0u8; 20])),
            Some(20),
            10,
            Duration::from_secs(1),
            &b,
        )
        .await;
        assert!(matches!(r, Err(BodyError::TooLarge { .. })));
        let small = budget(4);
        let r = read_bounded(
            Full::new(Bytes::from(vec![0u8; 8])),
            Some(8),
            10,
            Duration::from_secs(1),
            &small,
        )
        .await;
        assert!(matches!(r, Err(BodyError::OverBudget)));
        assert_eq!(small.available_permits(), 4);
    }

    #[tokio::test]
    async fn joins_several_frames_and_keeps_a_single_one() {
        let b = budget(100);
        let chunks = Chunks(vec![
            Bytes::from_static(b"<a>"),
            Bytes::new(),
            Bytes::from_static(b"x"),
            Bytes::from_static(b"</a>"),
        ]);
        let body = read_bounded(chunks, None, 10, Duration::from_secs(1), &b)
            .await
            .expect("read");
        assert_eq!(&body.bytes[..], b"<a>x</a>");
        assert_eq!(b.available_permits(), 92);
        let one = Bytes::from(vec![b'y'; 6]);
        let body = read_bounded(
            Chunks(vec![one.clone()]),
            Some(6),
            10,
            Duration::from_secs(1),
            &b,
        )
        .await
        .expect("read");
        assert_eq!(
            body.bytes.as_ptr(),
            one.as_ptr(),
            "a single frame is not copied"
        );
        let r = read_bounded(
            Chunks(vec![Bytes::from(vec![0u8; 6]), Bytes::from(vec![0u8; 6])]),
            None,
            10,
            Duration::from_secs(1),
            &b,
        )
        .await;
        assert!(matches!(r, Err(BodyError::TooLarge { .. })));
    }

    /// A body made of the given frames, in order.
    struct Chunks(Vec<Bytes>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.0.is_empty() {
                Poll::Ready(None)
            } else {
                Poll::Ready(Some(Ok(Frame::data(self.0.remove(0)))))
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn stalled_body_times_out() {
        let b = budget(100);
        let r = read_bounded(
            Stalling { sent: false },
            None,
            10,
            Duration::from_secs(2),
            &b,
        )
        .await;
        assert!(matches!(r, Err(BodyError::Stalled(_))));
    }

    /// A body that yields one frame and then never another.
    struct Stalling {
        sent: bool,
    }

    impl Body for Stalling {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.sent {
                Poll::Pending
            } else {
                self.sent = true;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"<a")))))
            }
        }
    }
}
