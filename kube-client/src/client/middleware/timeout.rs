//! Time limits: on the wait for a response, and on the silence within its body.
//!
//! A response's headers must arrive within the read timeout (read plus write
//! timeout when the request carries a body to send). Then each piece of the
//! body must follow the previous one within a limit that depends on how the
//! body is read: the read timeout for bodies read whole, the watch's
//! `timeoutSeconds` plus a margin for watches (a watch that outlives its own
//! server-side timeout is on a dead connection), and none for streams the
//! caller follows for as long as it likes, such as logs.
//!
//! A body that trickles in, a byte just within each idle limit, would never
//! run out of it. So a body read whole must also have arrived, all of it,
//! within the read timeout plus 30 s, and a watch must have ended within its
//! `timeoutSeconds` plus 60 s: by then a working apiserver has ended it.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::Duration,
};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, Response};
use http_body::Frame;
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

use super::BodyUse;
use crate::{
    client::Body,
    error::{BoxError, TimeoutLimit, TransportError},
};

/// How much longer than the server's own `timeoutSeconds` a watch may stay silent
/// before the client takes the connection for dead.
const WATCH_IDLE_MARGIN: Duration = Duration::from_secs(30);

/// How much longer than its idle limit a body read whole or a watch may take
/// in all. A silent body runs out of its idle limit first, and is reported
/// as such; only a body that keeps trickling in reaches its deadline.
const DEADLINE_MARGIN: Duration = Duration::from_secs(30);

/// The longest a watch without `timeoutSeconds` lasts: the apiserver ends it
/// after a random time between one and two `--min-request-timeout`s (30 minutes
/// by default).
const SERVER_DEFAULT_WATCH_TIMEOUT_MAX: Duration = Duration::from_secs(3600);

/// The limits of one client.
#[derive(Debug, Clone)]
pub(crate) struct TimeoutLayer {
    limits: Arc<Limits>,
}

#[derive(Debug)]
struct Limits {
    /// The cluster URL, for messages.
    server: String,
    read: Option<Duration>,
    /// Sending a body and waiting for the answer.
    read_and_write: Option<Duration>,
}

impl TimeoutLayer {
    pub(crate) fn new(server: String, read: Option<Duration>, write: Option<Duration>) -> Self {
        let read_and_write = match (read, write) {
            (Some(read), Some(write)) => Some(read.saturating_add(write)),
            (read, write) => read.or(write),
        };
        Self {
            limits: Arc::new(Limits {
                server,
                read,
                read_and_write,
            }),
        }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            limits: self.limits.clone(),
        }
    }
}

/// The service of [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub(crate) struct Timeout<S> {
    inner: S,
    limits: Arc<Limits>,
}

impl<S> Service<Request<Body>> for Timeout<S>
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
        let limits = self.limits.clone();
        let sends_body = request.body().as_bytes().is_none_or(|b| !b.is_empty());
        let (header_limit, header_limit_name) = if sends_body {
            (limits.read_and_write, TimeoutLimit::ReadAndWriteTimeout)
        } else {
            (limits.read, TimeoutLimit::ReadTimeout)
        };
        let body_limit = match request.extensions().get::<BodyUse>() {
            Some(BodyUse::Whole) => limits.read.map(|l| (l, TimeoutLimit::ReadTimeout)),
            Some(BodyUse::Stream(limit)) => *limit,
            None if is_watch(request.uri()) => {
                Some((watch_idle_limit(request.uri()), TimeoutLimit::WatchIdle))
            }
            None => limits.read.map(|l| (l, TimeoutLimit::ReadTimeout)),
        };
        // A body that trickles in never runs out of an idle limit: a body
        // read whole, and a watch, must also end in time.
        let deadline = match request.extensions().get::<BodyUse>() {
            Some(BodyUse::Whole) => limits.read.map(|l| {
                (
                    l.saturating_add(DEADLINE_MARGIN),
                    TimeoutLimit::ResponseBody,
                )
            }),
            _ if is_watch(request.uri()) => Some((
                watch_idle_limit(request.uri()).saturating_add(DEADLINE_MARGIN),
                TimeoutLimit::WatchDuration,
            )),
            _ => None,
        };
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let sent = self.inner.call(request);
        Box::pin(async move {
            let timed_out = |after, limit| TransportError::Timeout {
                server: limits.server.clone(),
                method: method.clone(),
                path: path.clone(),
                after,
                limit,
            };
            let response = match header_limit {
                Some(limit) => tokio::time::timeout(limit, sent)
                    .await
                    .map_err(|_| BoxError::from(timed_out(limit, header_limit_name)))??,
                None => sent.await?,
            };
            if body_limit.is_none() && deadline.is_none() {
                return Ok(response);
            }
            let idle = body_limit.map(|(limit, name)| (limit, timed_out(limit, name)));
            let deadline = deadline.map(|(limit, name)| (limit, timed_out(limit, name)));
            Ok(response.map(|body| Body::wrap(IdleBody::new(body, idle, deadline))))
        })
    }
}

/// Whether a request is a watch (`?watch=true` or `watch=1`).
fn is_watch(uri: &http::Uri) -> bool {
    query_value(uri, "watch").is_some_and(|v| v == "true" || v == "1")
}

/// How long a watch may stay silent before the connection is taken for dead:
/// the `timeoutSeconds` it asks the server for (or else the longest timeout the
/// apiserver picks by default), plus a margin.
pub(crate) fn watch_idle_limit(uri: &http::Uri) -> Duration {
    query_value(uri, "timeoutSeconds")
        .and_then(|value| value.parse::<u64>().ok())
        .map_or(SERVER_DEFAULT_WATCH_TIMEOUT_MAX, Duration::from_secs)
        .saturating_add(WATCH_IDLE_MARGIN)
}

fn query_value(uri: &http::Uri, key: &str) -> Option<String> {
    let query = uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, value)| value.into_owned())
}

/// A body that fails with a timeout when no frame arrives for its idle limit,
/// so that a connection that died without closing cannot stall a reader
/// forever, or when it has not ended by its deadline, so that a body that
/// trickles in cannot either.
struct IdleBody {
    inner: Option<Body>,
    idle: Option<Limit>,
    deadline: Option<Limit>,
}

/// One time limit of a body.
struct Limit {
    after: Duration,
    sleep: Pin<Box<Sleep>>,
    /// The error to report, made once when the request was sent.
    error: Option<TransportError>,
}

impl Limit {
    fn new((after, error): (Duration, TransportError)) -> Self {
        Self {
            after,
            sleep: Box::pin(tokio::time::sleep(after)),
            error: Some(error),
        }
    }

    /// The error of the limit that ran out, logged once.
    fn expired(&mut self) -> Option<Result<Frame<Bytes>, BoxError>> {
        let error = self.error.take()?;
        if let TransportError::Timeout { path, limit, .. } = &error {
            tracing::warn!(%path, %limit, "the response body ran out of time after {:?}; closing it", self.after);
        }
        Some(Err(Box::new(error)))
    }
}

impl IdleBody {
    fn new(
        inner: Body,
        idle: Option<(Duration, TransportError)>,
        deadline: Option<(Duration, TransportError)>,
    ) -> Self {
        Self {
            inner: Some(inner),
            idle: idle.map(Limit::new),
            deadline: deadline.map(Limit::new),
        }
    }
}

impl http_body::Body for IdleBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        // Checked before the body, which may always have a byte ready.
        if let Some(deadline) = &mut this.deadline
            && deadline.sleep.as_mut().poll(cx).is_ready()
        {
            this.inner = None;
            return Poll::Ready(deadline.expired());
        }
        match inner.poll_raw_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(idle) = &mut this.idle {
                    idle.sleep.as_mut().reset(Instant::now() + idle.after);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => {
                this.inner = None;
                Poll::Ready(other)
            }
            Poll::Pending => {
                let Some(idle) = &mut this.idle else {
                    return Poll::Pending;
                };
                ready!(idle.sleep.as_mut().poll(cx));
                this.inner = None;
                Poll::Ready(idle.expired())
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use http_body_util::{BodyExt, StreamBody};

    fn timeout() -> TransportError {
        TransportError::Timeout {
            server: "https://127.0.0.1:6443".into(),
            method: http::Method::GET,
            path: "/api/v1/pods".into(),
            after: Duration::from_secs(40),
            limit: TimeoutLimit::WatchIdle,
        }
    }

    fn frames<S>(stream: S) -> Body
    where
        S: futures::Stream<Item = Result<Frame<Bytes>, BoxError>> + Send + 'static,
    {
        Body::wrap(StreamBody::new(stream))
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_body_times_out_after_the_idle_limit() {
        let chunks = futures::stream::iter([Ok(Frame::data(Bytes::from_static(b"a")))])
            .chain(futures::stream::pending());
        let mut body = IdleBody::new(
            frames(chunks),
            Some((Duration::from_secs(40), timeout())),
            None,
        );
        let started = Instant::now();
        assert!(body.frame().await.expect("a frame").is_ok());
        let err = body.frame().await.expect("an error").expect_err("silent");
        match err.downcast_ref::<TransportError>() {
            Some(TransportError::Timeout { after, path, .. }) => {
                assert_eq!(*after, Duration::from_secs(40));
                assert_eq!(path, "/api/v1/pods");
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert_eq!(started.elapsed(), Duration::from_secs(40));
        assert!(
            body.frame().await.is_none(),
            "the body ends after the timeout"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn data_resets_the_idle_limit() {
        let chunks = futures::stream::unfold(0u32, |n| async move {
            (n < 5).then_some(n)?;
            tokio::time::sleep(Duration::from_secs(30)).await;
            Some((Ok(Frame::data(Bytes::from_static(b"x"))), n + 1))
        });
        let body = IdleBody::new(
            frames(chunks),
            Some((Duration::from_secs(40), timeout())),
            None,
        );
        let collected = body.collect().await.expect("150 s in total, 30 s apart");
        assert_eq!(collected.to_bytes(), "xxxxx");
    }

    /// A service answering at once with a body that sends a byte every
    /// `every`, without end.
    fn trickling(
        every: Duration,
    ) -> impl tower::Service<
        Request<Body>,
        Response = Response<Body>,
        Error = BoxError,
        Future = impl Send + 'static,
    > + Send
    + 'static {
        tower::service_fn(move |_: Request<Body>| async move {
            let bytes = futures::stream::unfold((), move |()| async move {
                tokio::time::sleep(every).await;
                Some((Ok::<_, BoxError>(Frame::data(Bytes::from_static(b"x"))), ()))
            });
            Ok::<_, BoxError>(Response::new(Body::wrap(StreamBody::new(bytes))))
        })
    }

    /// Sends a request for `uri`, read as `body_use`, through the layer with
    /// a read timeout of `read` over `inner`, and reads the body until it
    /// fails (giving up after a day): how long that took, and the error.
    async fn read_until_error<S>(
        read: Duration,
        inner: S,
        uri: &str,
        body_use: BodyUse,
    ) -> (Duration, TransportError)
    where
        S: tower::Service<Request<Body>, Response = Response<Body>, Error = BoxError>
            + Send
            + 'static,
        S::Future: Send + 'static,
    {
        use tower::ServiceExt;
        let service = TimeoutLayer::new("https://k".into(), Some(read), None).layer(inner);
        let mut request = Request::get(uri).body(Body::empty()).expect("request");
        request.extensions_mut().insert(body_use);
        let started = Instant::now();
        let mut body = service.oneshot(request).await.expect("headers").into_body();
        let failed = tokio::time::timeout(Duration::from_secs(86_400), async {
            loop {
                match std::future::poll_fn(|cx| body.poll_raw_frame(cx)).await {
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return error,
                    None => panic!("the body ended"),
                }
            }
        })
        .await
        .expect("the body fails within a day");
        let error = failed
            .downcast::<TransportError>()
            .expect("a transport error");
        (started.elapsed(), *error)
    }

    #[tokio::test(start_paused = true)]
    async fn a_watch_that_trickles_ends_by_its_timeout_seconds_plus_the_margin() {
        let uri = "/api/v1/pods?watch=true&timeoutSeconds=30";
        let idle = watch_idle_limit(&uri.parse().expect("uri"));
        let watch = BodyUse::Stream(Some((idle, TimeoutLimit::WatchIdle)));
        let trickle = trickling(Duration::from_secs(20));
        let (elapsed, error) = read_until_error(Duration::from_secs(5), trickle, uri, watch).await;
        assert_eq!(elapsed, Duration::from_secs(90));
        assert!(
            matches!(
                error,
                TransportError::Timeout { after, limit: TimeoutLimit::WatchDuration, .. }
                    if after == Duration::from_secs(90)
            ),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("past its own timeout"),
            "{error}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_read_whole_that_trickles_ends_by_the_read_timeout() {
        let trickle = trickling(Duration::from_secs(30));
        let (elapsed, error) = read_until_error(
            Duration::from_secs(40),
            trickle,
            "/api/v1/pods",
            BodyUse::Whole,
        )
        .await;
        assert_eq!(elapsed, Duration::from_secs(70));
        assert!(
            matches!(
                error,
                TransportError::Timeout {
                    limit: TimeoutLimit::ResponseBody,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_body_is_reported_as_silent_not_as_late() {
        let silent = tower::service_fn(|_: Request<Body>| async {
            let start =
                futures::stream::iter([Ok::<_, BoxError>(Frame::data(Bytes::from_static(b"{")))]);
            let body = start.chain(futures::stream::pending());
            Ok::<_, BoxError>(Response::new(Body::wrap(StreamBody::new(body))))
        });
        let (elapsed, error) = read_until_error(
            Duration::from_secs(40),
            silent,
            "/api/v1/pods",
            BodyUse::Whole,
        )
        .await;
        assert_eq!(elapsed, Duration::from_secs(40));
        assert!(
            matches!(
                error,
                TransportError::Timeout {
                    limit: TimeoutLimit::ReadTimeout,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_followed_log_has_no_deadline() {
        use tower::ServiceExt;
        let layer = TimeoutLayer::new("https://k".into(), Some(Duration::from_secs(40)), None);
        let service = layer.layer(trickling(Duration::from_secs(30)));
        let mut request = Request::get("/api/v1/namespaces/ns/pods/web/log?follow=true")
            .body(Body::empty())
            .expect("request");
        request.extensions_mut().insert(BodyUse::Stream(None));
        let mut body = service.oneshot(request).await.expect("headers").into_body();
        for _ in 0..200 {
            body.frame().await.expect("a frame").expect("data");
        }
    }

    #[test]
    fn watch_timeouts_come_from_the_query() {
        let uri: http::Uri = "/api/v1/pods?watch=true&timeoutSeconds=290&resourceVersion=5"
            .parse()
            .expect("uri");
        assert!(is_watch(&uri));
        assert_eq!(watch_idle_limit(&uri), Duration::from_secs(320));
        let uri: http::Uri = "/api/v1/pods?watch=1".parse().expect("uri");
        assert!(is_watch(&uri));
        assert_eq!(
            watch_idle_limit(&uri),
            Duration::from_secs(3630),
            "without timeoutSeconds the apiserver's longest default applies"
        );
        let uri: http::Uri = "/api/v1/pods?limit=5".parse().expect("uri");
        assert!(!is_watch(&uri));
    }

    #[tokio::test(start_paused = true)]
    async fn a_response_that_never_comes_fails_after_the_read_timeout() {
        use tower::ServiceExt;
        let layer = TimeoutLayer::new("https://k".into(), Some(Duration::from_secs(5)), None);
        let service = layer.layer(tower::service_fn(|_: Request<Body>| async {
            futures::future::pending::<Result<Response<Body>, BoxError>>().await
        }));
        let err = service
            .oneshot(
                Request::get("/version")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect_err("never answered");
        let err = err
            .downcast_ref::<TransportError>()
            .expect("a transport error");
        assert!(
            matches!(err, TransportError::Timeout { after, limit: TimeoutLimit::ReadTimeout, .. } if *after == Duration::from_secs(5)),
            "{err:?}"
        );
    }
}
