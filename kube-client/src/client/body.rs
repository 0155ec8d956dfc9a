//! Response bodies as streams of chunks, with an optional idle limit.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use futures::{Stream, ready};
use tokio::time::{Instant, Sleep};

use crate::{Error, Result, error::TimeoutLimit};

/// What a streamed body's errors name: the server, method and path.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    pub(crate) server: String,
    pub(crate) method: http::Method,
    pub(crate) path: String,
}

impl RequestContext {
    pub(crate) fn timeout(&self, after: Duration, limit: TimeoutLimit) -> Error {
        Error::Timeout {
            server: self.server.clone(),
            method: self.method.clone(),
            path: self.path.clone(),
            after,
            limit,
        }
    }

    pub(crate) fn transport(&self, source: reqwest::Error) -> Error {
        Error::Transport {
            server: self.server.clone(),
            method: self.method.clone(),
            path: self.path.clone(),
            source: Box::new(source.without_url()),
        }
    }
}

type RawBody = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// The chunks of a response body. With an idle limit, the stream fails with
/// [`Error::Timeout`] when no chunk arrives for that long, so a connection that
/// died without closing cannot stall a watch forever.
pub(crate) struct BodyStream {
    inner: Option<RawBody>,
    idle: Option<(Duration, TimeoutLimit, Pin<Box<Sleep>>)>,
    context: RequestContext,
}

impl BodyStream {
    /// The body of `response`, failing after `idle_limit` without data.
    pub(crate) fn new(
        response: reqwest::Response,
        idle_limit: Option<(Duration, TimeoutLimit)>,
        context: RequestContext,
    ) -> Self {
        use futures::TryStreamExt;
        let errors = context.clone();
        let raw = response
            .bytes_stream()
            .map_err(move |error| errors.transport(error));
        Self::from_chunks(Box::pin(raw), idle_limit, context)
    }

    fn from_chunks(
        raw: RawBody,
        idle_limit: Option<(Duration, TimeoutLimit)>,
        context: RequestContext,
    ) -> Self {
        Self {
            inner: Some(raw),
            idle: idle_limit
                .map(|(limit, name)| (limit, name, Box::pin(tokio::time::sleep(limit)))),
            context,
        }
    }
}

impl Stream for BodyStream {
    type Item = Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some((limit, _, sleep)) = this.idle.as_mut() {
                    sleep.as_mut().reset(Instant::now() + *limit);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.inner = None;
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => {
                this.inner = None;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let Some((limit, name, sleep)) = this.idle.as_mut() else {
                    return Poll::Pending;
                };
                ready!(sleep.as_mut().poll(cx));
                let (limit, name) = (*limit, *name);
                this.inner = None;
                tracing::warn!(
                    path = %this.context.path,
                    "no data on the stream for {limit:?}; closing it as dead"
                );
                Poll::Ready(Some(Err(this.context.timeout(limit, name))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{StreamExt, stream};

    fn context() -> RequestContext {
        RequestContext {
            server: "https://127.0.0.1:6443".into(),
            method: http::Method::GET,
            path: "/api/v1/pods".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_stream_times_out_after_the_idle_limit() {
        let chunks = stream::iter([Ok(Bytes::from_static(b"a"))]).chain(stream::pending());
        let mut body = BodyStream::from_chunks(
            Box::pin(chunks),
            Some((Duration::from_secs(40), TimeoutLimit::WatchIdle)),
            context(),
        );
        let started = Instant::now();
        assert!(matches!(body.next().await, Some(Ok(_))));
        match body.next().await {
            Some(Err(Error::Timeout { after, path, .. })) => {
                assert_eq!(after, Duration::from_secs(40));
                assert_eq!(path, "/api/v1/pods");
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert_eq!(started.elapsed(), Duration::from_secs(40));
        assert!(
            body.next().await.is_none(),
            "the stream ends after the timeout"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn data_resets_the_idle_limit() {
        let chunks = stream::unfold(0u32, |n| async move {
            (n < 5).then_some(n)?;
            tokio::time::sleep(Duration::from_secs(30)).await;
            Some((Ok(Bytes::from_static(b"x")), n + 1))
        });
        let body = BodyStream::from_chunks(
            Box::pin(chunks),
            Some((Duration::from_secs(40), TimeoutLimit::WatchIdle)),
            context(),
        );
        let chunks: Vec<_> = body.collect().await;
        assert_eq!(chunks.len(), 5);
        assert!(
            chunks.iter().all(Result::is_ok),
            "150 s in total, 30 s apart"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_limit_the_stream_waits() {
        let chunks = stream::pending::<Result<Bytes>>();
        let mut body = BodyStream::from_chunks(Box::pin(chunks), None, context());
        let waited = tokio::time::timeout(Duration::from_secs(3600), body.next()).await;
        assert!(waited.is_err(), "no idle limit without a server timeout");
    }
}
