//! One `tracing` span per request.

use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{Request, Response};
use tower::{Layer, Service};
use tracing::Instrument;

use crate::{client::Body, error::BoxError};

/// Opens a `debug` span named `HTTP` around each request, with its method and
/// path, and records the status that came back (or logs the error). Retries
/// happen inside the span.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TraceLayer;

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Trace { inner }
    }
}

/// The service of [`TraceLayer`].
#[derive(Debug, Clone)]
pub(crate) struct Trace<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for Trace<S>
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

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let span = tracing::debug_span!(
            "HTTP",
            http.method = %request.method(),
            url.path = %request.uri().path(),
            http.status_code = tracing::field::Empty,
        );
        let sent = span.in_scope(|| self.inner.call(request));
        Box::pin(
            async move {
                let answer = sent.await;
                match &answer {
                    Ok(response) => {
                        tracing::Span::current()
                            .record("http.status_code", response.status().as_u16());
                    }
                    Err(error) => tracing::debug!(%error, "request failed"),
                }
                answer
            }
            .instrument(span),
        )
    }
}
