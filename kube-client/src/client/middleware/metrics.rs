//! Request metrics with client-go's names, labels and buckets, so that the
//! dashboards of Go operators read them unchanged.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `rest_client_requests_total` | counter | `code` (the status, or `<error>` when no response came), `method`, `host` |
//! | `rest_client_request_duration_seconds` | histogram | `verb` (the method), `host` |
//!
//! Like client-go, every attempt counts: a `429` the client retried shows up
//! with its own code, and each duration is that of one attempt, up to the
//! response headers (a watch is counted when it starts). The default stack's
//! retry layer records its attempts into the metrics that a
//! [`MetricsLayer`] above it attached to the request; in a stack of your own
//! without that retry layer, the [`MetricsLayer`] records what passes through
//! it — put it below your retry layer and under the base URI layer, so that
//! it sees each attempt and the host.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use futures::{FutureExt, future::BoxFuture};
use http::{Method, Request, Response, StatusCode, Uri};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};
use tokio::time::Instant;
use tower::{Layer, Service};

/// client-go's buckets for request durations, in seconds.
const DURATION_BUCKETS: [f64; 12] = [
    0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0,
];

/// The label `code` takes when no response came (client-go's value).
const NO_RESPONSE: &str = "<error>";

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    code: String,
    method: String,
    host: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DurationLabels {
    verb: String,
    host: String,
}

type DurationFamily = Family<DurationLabels, Histogram, fn() -> Histogram>;

/// The request metrics of the clients built with its [`layer`](Self::layer),
/// registered in a `prometheus-client` registry. Cheap to clone; clones count
/// into the same series.
///
/// ```no_run
/// use kube_client::{Config, client::{ClientBuilder, middleware::ClientMetrics}};
/// use prometheus_client::registry::Registry;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let mut registry = Registry::default();
/// let metrics = ClientMetrics::new(&mut registry);
/// let client = ClientBuilder::try_from(Config::infer().await?)?
///     .with_metrics(&metrics)
///     .build();
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ClientMetrics {
    requests: Family<RequestLabels, Counter>,
    durations: DurationFamily,
}

impl ClientMetrics {
    /// Creates the metrics and registers them in `registry`. Register them in
    /// the root registry (no prefix) to keep client-go's names.
    pub fn new(registry: &mut Registry) -> Self {
        let metrics = Self {
            requests: Family::default(),
            durations: Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS)),
        };
        registry.register(
            "rest_client_requests",
            "HTTP requests sent (each attempt), by status code, method and host",
            metrics.requests.clone(),
        );
        registry.register(
            "rest_client_request_duration_seconds",
            "Seconds until the response headers of each attempt, by method and host",
            metrics.durations.clone(),
        );
        metrics
    }

    /// A layer recording the requests of a client into these metrics.
    pub fn layer(&self) -> MetricsLayer {
        MetricsLayer {
            metrics: self.clone(),
        }
    }

    /// Counts one attempt: its answer (`None` when none came) and how long
    /// the answer took.
    fn record(&self, method: &Method, uri: &Uri, status: Option<StatusCode>, took: Duration) {
        let host = uri.authority().map_or("", |a| a.as_str()).to_string();
        let code = status.map_or_else(|| NO_RESPONSE.to_string(), |s| s.as_str().to_string());
        self.requests
            .get_or_create(&RequestLabels {
                code,
                method: method.to_string(),
                host: host.clone(),
            })
            .inc();
        self.durations
            .get_or_create(&DurationLabels {
                verb: method.to_string(),
                host,
            })
            .observe(took.as_secs_f64());
    }
}

/// Records every request that passes through it into [`ClientMetrics`].
///
/// On top of the default stack it hands its metrics down to the retry layer,
/// which records every attempt; in a stack of your own without that retry
/// layer, it records what it sees: put it below your retry layer, and under
/// the base URI layer so that it sees the host.
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    metrics: ClientMetrics,
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Measured<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Measured {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service of [`MetricsLayer`].
#[derive(Debug, Clone)]
pub struct Measured<S> {
    inner: S,
    metrics: ClientMetrics,
}

/// The metrics of a measured request, in its extensions: the retry layer
/// records each of its attempts there, and says so.
#[derive(Debug, Clone)]
pub(crate) struct AttemptMetrics(Arc<Recording>);

#[derive(Debug)]
struct Recording {
    metrics: ClientMetrics,
    /// Set once an attempt was recorded below: the request as a whole is
    /// then not recorded again.
    attempts_recorded: AtomicBool,
}

impl AttemptMetrics {
    /// Counts one attempt at `method` `uri`.
    pub(crate) fn record(
        &self,
        method: &Method,
        uri: &Uri,
        status: Option<StatusCode>,
        took: Duration,
    ) {
        self.0.attempts_recorded.store(true, Ordering::Relaxed);
        self.0.metrics.record(method, uri, status, took);
    }
}

impl<S, B, ResBody> Service<Request<B>> for Measured<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<ResBody>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let recording = Arc::new(Recording {
            metrics: self.metrics.clone(),
            attempts_recorded: AtomicBool::new(false),
        });
        request
            .extensions_mut()
            .insert(AttemptMetrics(Arc::clone(&recording)));
        let (method, uri) = (request.method().clone(), request.uri().clone());
        let started = Instant::now();
        self.inner
            .call(request)
            .map(move |answer| {
                if !recording.attempts_recorded.load(Ordering::Relaxed) {
                    let status = answer.as_ref().ok().map(Response::status);
                    recording
                        .metrics
                        .record(&method, &uri, status, started.elapsed());
                }
                answer
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use tower::{ServiceExt, service_fn};

    use super::*;
    use crate::client::Body;

    fn encode(registry: &Registry) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, registry).expect("encodable");
        text
    }

    #[tokio::test(start_paused = true)]
    async fn answers_and_failures_are_counted_by_code_method_and_host() {
        let mut registry = Registry::default();
        let metrics = ClientMetrics::new(&mut registry);
        let service = metrics
            .layer()
            .layer(service_fn(|request: Request<Body>| async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                match request.uri().path() {
                    "/missing" => Ok(Response::builder()
                        .status(StatusCode::NOT_FOUND)
                        .body(Body::empty())
                        .expect("response")),
                    "/broken" => Err("connection reset"),
                    _ => Ok(Response::new(Body::empty())),
                }
            }));
        for (method, path) in [
            (Method::GET, "/ok"),
            (Method::GET, "/ok"),
            (Method::POST, "/missing"),
            (Method::GET, "/broken"),
        ] {
            let request = Request::builder()
                .method(method)
                .uri(format!("https://10.0.0.1:6443{path}"))
                .body(Body::empty())
                .expect("request");
            let _ = service.clone().oneshot(request).await;
        }
        let text = encode(&registry);
        for expected in [
            r#"rest_client_requests_total{code="200",method="GET",host="10.0.0.1:6443"} 2"#,
            r#"rest_client_requests_total{code="404",method="POST",host="10.0.0.1:6443"} 1"#,
            r#"rest_client_requests_total{code="<error>",method="GET",host="10.0.0.1:6443"} 1"#,
            r#"rest_client_request_duration_seconds_count{verb="GET",host="10.0.0.1:6443"} 3"#,
            r#"rest_client_request_duration_seconds_bucket{le="0.25",verb="GET",host="10.0.0.1:6443"} 0"#,
            r#"rest_client_request_duration_seconds_bucket{le="0.5",verb="GET",host="10.0.0.1:6443"} 3"#,
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_whose_attempts_were_recorded_below_is_not_counted_again() {
        let mut registry = Registry::default();
        let metrics = ClientMetrics::new(&mut registry);
        // Stands in for the retry layer: two attempts, each recorded.
        let service = metrics
            .layer()
            .layer(service_fn(|request: Request<Body>| async move {
                let attempts = request
                    .extensions()
                    .get::<AttemptMetrics>()
                    .cloned()
                    .expect("the layer attached its metrics");
                let (method, uri) = (request.method(), request.uri());
                attempts.record(
                    method,
                    uri,
                    Some(StatusCode::TOO_MANY_REQUESTS),
                    Duration::ZERO,
                );
                attempts.record(method, uri, Some(StatusCode::OK), Duration::ZERO);
                Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
            }));
        let request = Request::get("https://k:6443/api")
            .body(Body::empty())
            .expect("request");
        service.oneshot(request).await.expect("answered");
        let text = encode(&registry);
        assert!(
            text.contains(r#"rest_client_requests_total{code="429",method="GET",host="k:6443"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"rest_client_requests_total{code="200",method="GET",host="k:6443"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"rest_client_request_duration_seconds_count{verb="GET",host="k:6443"} 2"#
            ),
            "{text}"
        );
    }
}
