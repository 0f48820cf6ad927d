//! A response body made of a few `Bytes` chunks, so padded answers can reuse one shared
//! filler buffer instead of copying up to a MiB per request.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Chunks sent in order; the exact length is known, so hyper sends a `Content-Length`.
#[derive(Debug, Default)]
pub struct Chunks {
    chunks: VecDeque<Bytes>,
    remaining: u64,
}

impl Chunks {
    pub fn new(chunks: impl IntoIterator<Item = Bytes>) -> Chunks {
        let chunks: VecDeque<Bytes> = chunks.into_iter().filter(|c| !c.is_empty()).collect();
        let remaining = chunks.iter().map(|c| c.len() as u64).sum();
        Chunks { chunks, remaining }
    }

    /// The whole body gzip-compressed, as one chunk.
    pub fn gzip(self) -> std::io::Result<Chunks> {
        let capacity = usize::try_from(self.remaining / 4).unwrap_or(0);
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(capacity),
            flate2::Compression::fast(),
        );
        for chunk in &self.chunks {
            encoder.write_all(chunk)?;
        }
        Ok(Chunks::new([Bytes::from(encoder.finish()?)]))
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.chunks.pop_front() {
            Some(chunk) => {
                self.remaining -= chunk.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::io::Read;

    #[tokio::test]
    async fn chunks_concatenate_and_gzip_round_trips() {
        let body = Chunks::new([
            Bytes::from_static(b"ab"),
            Bytes::new(),
            Bytes::from_static(b"cd"),
        ]);
        assert_eq!(body.size_hint().exact(), Some(4));
        let collected = body.collect().await.expect("infallible").to_bytes();
        assert_eq!(&collected[..], b"abcd");
        let gz = Chunks::new([Bytes::from_static(b"hello "), Bytes::from_static(b"world")])
            .gzip()
            .expect("gzip");
        let bytes = gz.collect().await.expect("infallible").to_bytes();
        let mut out = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut out)
            .expect("gunzip");
        assert_eq!(out, "hello world");
    }
}
