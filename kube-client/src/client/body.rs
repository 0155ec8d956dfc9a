//! The body of requests and responses that pass through a [`Client`](super::Client)'s
//! service stack.

use std::{
    fmt,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::{BodyExt, combinators::UnsyncBoxBody};

use crate::{Error, error::BoxError};

/// An HTTP body: either bytes held in memory, or a stream of frames from the
/// network (a response, or any other `http_body::Body`).
///
/// Requests built by the client carry their bytes, so they can be cloned and
/// sent again ([`try_clone`](Self::try_clone)); responses stream. Read a whole
/// body with [`collect_bytes`](Self::collect_bytes).
pub struct Body {
    kind: Kind,
}

enum Kind {
    /// Bytes in memory, handed out as one frame.
    Once(Option<Bytes>),
    /// Any other body, its errors boxed.
    Wrapped(UnsyncBoxBody<Bytes, BoxError>),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The content may be a Secret: only its shape is shown.
        match &self.kind {
            Kind::Once(bytes) => f
                .debug_struct("Body")
                .field("bytes", &bytes.as_ref().map_or(0, Bytes::len))
                .finish(),
            Kind::Wrapped(_) => f.debug_struct("Body").field("kind", &"stream").finish(),
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl Body {
    /// A body without content.
    pub const fn empty() -> Self {
        Body {
            kind: Kind::Once(None),
        }
    }

    /// Wraps any body whose frames hold `Bytes`.
    pub(crate) fn wrap<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Body {
            kind: Kind::Wrapped(body.map_err(Into::into).boxed_unsync()),
        }
    }

    /// Reads the whole body into memory.
    ///
    /// Fails with the error of the connection (or of a layer, such as a
    /// timeout) when the body breaks off. For a body from the network, prefer
    /// the client's own methods, which bound how much they read.
    pub async fn collect_bytes(self) -> Result<Bytes, Error> {
        self.collect_raw().await.map_err(Error::from_service)
    }

    /// Reads the whole body, with the error as the service stack reported it.
    pub(crate) async fn collect_raw(self) -> Result<Bytes, BoxError> {
        match self.kind {
            Kind::Once(bytes) => Ok(bytes.unwrap_or_default()),
            Kind::Wrapped(body) => Ok(body.collect().await?.to_bytes()),
        }
    }

    /// A copy of the body, when it is held in memory (`None` for a stream).
    pub fn try_clone(&self) -> Option<Self> {
        match &self.kind {
            Kind::Once(bytes) => Some(Body {
                kind: Kind::Once(bytes.clone()),
            }),
            Kind::Wrapped(_) => None,
        }
    }

    /// The bytes of a body held in memory, or else the body itself.
    pub(crate) fn into_bytes(self) -> Result<Bytes, Body> {
        match self.kind {
            Kind::Once(bytes) => Ok(bytes.unwrap_or_default()),
            kind @ Kind::Wrapped(_) => Err(Body { kind }),
        }
    }

    /// The bytes of a body held in memory.
    pub(crate) fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Once(bytes) => Some(bytes.as_deref().unwrap_or_default()),
            Kind::Wrapped(_) => None,
        }
    }

    /// The next frame, with the error as the service stack reported it
    /// (rather than as a [`crate::Error`]), so that callers can keep it whole.
    pub(crate) fn poll_raw_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.kind {
            Kind::Once(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Wrapped(body) => Pin::new(body).poll_frame(cx),
        }
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body {
            kind: Kind::Once((!bytes.is_empty()).then_some(bytes)),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::from(Bytes::from(bytes))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        self.get_mut()
            .poll_raw_frame(cx)
            .map(|frame| frame.map(|frame| frame.map_err(Error::from_service)))
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Once(bytes) => bytes.is_none(),
            Kind::Wrapped(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Once(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Wrapped(body) => body.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{StreamBody, combinators::BoxBody};

    #[tokio::test]
    async fn bytes_are_collected_and_cloned() {
        let body = Body::from(b"hello".to_vec());
        let copy = body.try_clone().expect("bytes can be cloned");
        assert_eq!(body.collect_bytes().await.expect("ok"), "hello");
        assert_eq!(copy.as_bytes(), Some(&b"hello"[..]));
        assert!(http_body::Body::is_end_stream(&Body::empty()));
        assert_eq!(Body::from(Bytes::new()).as_bytes(), Some(&b""[..]));
    }

    #[tokio::test]
    async fn streams_are_collected_but_not_cloned() {
        let chunks = futures::stream::iter([
            Ok::<_, BoxError>(Frame::data(Bytes::from_static(b"a"))),
            Ok(Frame::data(Bytes::from_static(b"b"))),
        ]);
        let body = Body::wrap(BoxBody::new(StreamBody::new(chunks)));
        assert!(body.try_clone().is_none());
        assert_eq!(body.collect_bytes().await.expect("ok"), "ab");
    }

    #[tokio::test]
    async fn a_broken_stream_is_an_error() {
        let chunks = futures::stream::iter([
            Ok::<_, BoxError>(Frame::data(Bytes::from_static(b"a"))),
            Err("connection reset".into()),
        ]);
        let body = Body::wrap(StreamBody::new(chunks));
        let err = body.collect_bytes().await.expect_err("broken");
        assert!(err.to_string().contains("connection reset"), "{err}");
    }

    #[test]
    fn debug_shows_no_content() {
        let body = Body::from(b"token: hunter2".to_vec());
        let text = format!("{body:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("14"), "{text}");
    }
}
