//! Compressed responses (feature `gzip`).
//!
//! Requests ask for `Accept-Encoding: gzip` unless they name an encoding
//! themselves; a response that comes back with `Content-Encoding: gzip` is
//! decompressed as it streams. The apiserver compresses large responses, and
//! since Kubernetes 1.37 compresses watch streams one gzip member per event:
//! every member is decoded, and each event is handed on as soon as its member
//! is complete, without waiting for the next.

use std::{
    io,
    task::{Context, Poll},
};

use async_compression::tokio::bufread::GzipDecoder;
use futures::{StreamExt, TryStreamExt, future::BoxFuture};
use http::{HeaderValue, Request, Response, header};
use http_body::Frame;
use http_body_util::StreamBody;
use tokio_util::io::{ReaderStream, StreamReader};
use tower::{Layer, Service};

use crate::{client::Body, error::BoxError};

/// The most decompressed bytes handed on at a time.
const OUTPUT_CHUNK: usize = 64 << 10;

/// Asks for gzip and decompresses it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct GzipLayer;

impl<S> Layer<S> for GzipLayer {
    type Service = Gzip<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Gzip { inner }
    }
}

/// The service of [`GzipLayer`].
#[derive(Debug, Clone)]
pub(crate) struct Gzip<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for Gzip<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        request
            .headers_mut()
            .entry(header::ACCEPT_ENCODING)
            .or_insert(HeaderValue::from_static("gzip"));
        let sent = self.inner.call(request);
        Box::pin(async move {
            let mut response = sent.await?;
            let gzipped = response
                .headers()
                .get(header::CONTENT_ENCODING)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
            if !gzipped {
                return Ok(response);
            }
            let headers = response.headers_mut();
            headers.remove(header::CONTENT_ENCODING);
            headers.remove(header::CONTENT_LENGTH);
            Ok(response.map(decompress))
        })
    }
}

/// The decompressed content of a gzip body of one or more members.
fn decompress(body: Body) -> Body {
    let compressed = futures::stream::unfold(body, |mut body| async move {
        loop {
            match std::future::poll_fn(|cx| body.poll_raw_frame(cx)).await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => return Some((Ok(data), body)),
                    // Trailers carry nothing to decompress.
                    Err(_) => continue,
                },
                // The error is kept whole inside the I/O error and taken out below.
                Err(error) => return Some((Err(io::Error::other(error)), body)),
            }
        }
    });
    let mut decoder = GzipDecoder::new(StreamReader::new(Box::pin(compressed)));
    decoder.multiple_members(true);
    let frames = ReaderStream::with_capacity(decoder, OUTPUT_CHUNK)
        .map_ok(Frame::data)
        .map_err(unwrap_io);
    Body::wrap(StreamBody::new(frames.boxed()))
}

/// The error under an I/O error: the body's own error when reading it failed,
/// else what the decompressor found wrong.
fn unwrap_io(error: io::Error) -> BoxError {
    if error
        .get_ref()
        .is_some_and(|inner| !inner.is::<io::Error>())
        && error.kind() == io::ErrorKind::Other
    {
        if let Some(inner) = error.into_inner() {
            return inner;
        }
        return "the compressed response broke off".into();
    }
    format!("the gzip-compressed response is corrupt: {error}").into()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use bytes::Bytes;
    use flate2::{Compression, write::GzEncoder};

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).expect("compress");
        encoder.finish().expect("compress")
    }

    fn chunks(parts: Vec<Vec<u8>>) -> Body {
        let frames = futures::stream::iter(
            parts
                .into_iter()
                .map(|part| Ok::<_, BoxError>(Frame::data(Bytes::from(part)))),
        );
        Body::wrap(StreamBody::new(frames))
    }

    #[tokio::test]
    async fn every_member_is_decompressed() {
        let mut body = gzip(b"{\"type\":\"ADDED\"}\n");
        body.extend(gzip(b"{\"type\":\"MODIFIED\"}\n"));
        let (first, second) = body.split_at(7);
        let out = decompress(chunks(vec![first.to_vec(), second.to_vec()]))
            .collect_bytes()
            .await
            .expect("valid gzip");
        assert_eq!(out, "{\"type\":\"ADDED\"}\n{\"type\":\"MODIFIED\"}\n");
    }

    #[tokio::test]
    async fn a_member_is_handed_on_before_the_next_arrives() {
        let first = gzip(b"event one\n");
        let frames = futures::stream::iter([Ok::<_, BoxError>(Frame::data(Bytes::from(first)))])
            .chain(futures::stream::pending());
        let mut body = decompress(Body::wrap(StreamBody::new(frames)));
        let frame = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            std::future::poll_fn(|cx| body.poll_raw_frame(cx)),
        )
        .await
        .expect("the first event does not wait for the second")
        .expect("a frame")
        .expect("ok");
        assert_eq!(frame.into_data().expect("data"), "event one\n");
    }

    #[tokio::test]
    async fn corrupt_input_is_an_error_naming_gzip() {
        let err = decompress(chunks(vec![b"not gzip at all".to_vec()]))
            .collect_raw()
            .await
            .expect_err("corrupt");
        assert!(err.to_string().contains("gzip"), "{err}");
    }

    #[tokio::test]
    async fn the_body_error_comes_through_whole() {
        let frames = futures::stream::iter([
            Ok::<_, BoxError>(Frame::data(Bytes::from(gzip(b"partial")[..5].to_vec()))),
            Err(Box::new(crate::error::TransportError::InvalidUrl {
                url: "x".into(),
                reason: "marker".into(),
            }) as BoxError),
        ]);
        let err = decompress(Body::wrap(StreamBody::new(frames)))
            .collect_raw()
            .await
            .expect_err("broken");
        assert!(err.is::<crate::error::TransportError>(), "{err}");
    }
}
