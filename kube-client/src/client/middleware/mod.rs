//! The tower layers a [`Client`](crate::Client) is made of.
//!
//! Every request a client sends passes through a stack of small layers, each
//! doing one job, down to the transport that owns the connections. The stack
//! that [`Client::try_from`](crate::Client::try_from) builds from a
//! [`Config`](crate::Config) is, in the order a request passes through it:
//!
//! | layer | job |
//! |---|---|
//! | [`BaseUriLayer`] | turns the request's path into a URL on the cluster (keeping a path prefix such as Rancher's `/k8s/clusters/c1`) |
//! | trace | one `tracing` span per request: method, path, and the status that came back |
//! | retry | sends a request again after `429`, `503` and failures that cannot have done anything (see [`retry`](super::retry)), reading bodies whole within an attempt where the caller wants them whole |
//! | [`ExtraHeadersLayer`] | the configured extra headers and the `Impersonate-*` headers |
//! | [`AuthLayer`] | the `Authorization` header: token, token file, basic auth, exec plugin or OIDC; a `401` makes it load fresh credentials, and the retry layer tries once more |
//! | gzip (feature `gzip`) | asks for compressed responses and decompresses them |
//! | timeout | limits the wait for response headers, and the silence within a body (a watch's is its `timeoutSeconds` plus a margin) |
//! | transport | reqwest over rustls: the connection pool, HTTP/2, proxies, the client certificate, HTTP/1.1 for WebSocket upgrades |
//!
//! Custom stacks are built from the public layers here and the pieces of
//! [`ConfigExt`](super::ConfigExt), or by adding layers on top of the default
//! stack with [`ClientBuilder::with_layer`](super::ClientBuilder::with_layer).
//!
//! Two layers are off unless added, as in client-go: [`RateLimitLayer`]
//! (client-side rate limiting, `QPS` and `Burst`) and, with the `metrics`
//! feature, `MetricsLayer` (client-go's `rest_client_*` metrics). Added on
//! top of the default stack, they still act on every attempt: they hand their
//! bucket and metrics down in the request's extensions, and the retry layer
//! takes a token before each retry and records each attempt.

mod auth;
mod base_uri;
mod extra_headers;
#[cfg(feature = "gzip")]
pub(crate) mod gzip;
#[cfg(feature = "metrics")]
mod metrics;
mod rate_limit;
pub(crate) mod retry;
pub(crate) mod timeout;
pub(crate) mod trace;

pub use auth::{Auth, AuthLayer};
pub use base_uri::{BaseUri, BaseUriLayer};
pub use extra_headers::{ExtraHeaders, ExtraHeadersLayer};
#[cfg(feature = "metrics")]
pub use metrics::{ClientMetrics, Measured, MetricsLayer};
pub use rate_limit::{RateLimitLayer, RateLimited};

use std::time::Duration;

use http::{Extensions, Method, StatusCode, Uri};

use crate::error::TimeoutLimit;

/// What the layers above the retry layer ask of each attempt it makes, found
/// in the request's extensions: a token before every attempt after the first
/// ([`RateLimitLayer`]), and a record of every attempt (`MetricsLayer`).
pub(crate) struct AttemptDuties<'a> {
    extensions: &'a Extensions,
}

impl<'a> AttemptDuties<'a> {
    pub(crate) fn of(extensions: &'a Extensions) -> Self {
        Self { extensions }
    }

    /// Waits for the rate limit, if any, before attempt `number` (from 1).
    pub(crate) async fn before(&self, number: u32) {
        if number > 1
            && let Some(rate_limit::RetriesTakeTokens(bucket)) = self.extensions.get()
        {
            bucket.acquire().await;
        }
    }

    /// Records an attempt at `method` `uri` that got `status` (`None`: no
    /// answer) after `took`, if the request is measured.
    pub(crate) fn after(
        &self,
        _method: &Method,
        _uri: &Uri,
        _status: Option<StatusCode>,
        _took: Duration,
    ) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = self.extensions.get::<metrics::AttemptMetrics>() {
            metrics.record(_method, _uri, _status, _took);
        }
    }
}

/// How the caller of a request reads the response body: a request extension
/// that the client above the stack sets and the retry and timeout layers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyUse {
    /// Read whole: the retry layer reads it within the attempt, so that a body
    /// that breaks off can be retried, and every piece must arrive within the
    /// read timeout.
    Whole,
    /// Streamed to the caller, failing after this much silence (`None`: no
    /// limit, e.g. a followed log).
    Stream(Option<(Duration, TimeoutLimit)>),
}

/// Set on a `401` response by the auth layer when it dropped credentials that
/// can be loaded afresh (a token file, an exec plugin, an OIDC token): sending
/// the request once more may succeed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CredentialsRefreshed;

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use http::{Request, Response};
    use tokio::time::Instant;
    use tower::{Layer, ServiceExt, service_fn};

    use super::*;
    use crate::{
        client::{Body, rate_limit::RateLimit, retry::RetryLimits},
        error::BoxError,
    };

    /// A server refusing the first attempt with `429` and `Retry-After: 0`,
    /// and noting when (in milliseconds) each attempt arrived.
    fn busy_once(
        arrivals: Arc<Mutex<Vec<u128>>>,
    ) -> impl tower::Service<
        Request<Body>,
        Response = Response<Body>,
        Error = BoxError,
        Future = impl Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static {
        let origin = Instant::now();
        service_fn(move |_: Request<Body>| {
            let arrivals = Arc::clone(&arrivals);
            async move {
                let mut arrivals = arrivals.lock().expect("lock");
                arrivals.push(origin.elapsed().as_millis());
                let status = if arrivals.len() == 1 {
                    StatusCode::TOO_MANY_REQUESTS
                } else {
                    StatusCode::OK
                };
                Ok::<_, BoxError>(
                    Response::builder()
                        .status(status)
                        .header(http::header::RETRY_AFTER, "0")
                        .body(Body::empty())
                        .expect("response"),
                )
            }
        })
    }

    /// `GET https://k:6443/api` through `stack`.
    async fn get_api<S>(stack: S) -> Response<Body>
    where
        S: tower::Service<Request<Body>, Response = Response<Body>>,
        S::Error: std::fmt::Debug,
    {
        let request = Request::get("https://k:6443/api")
            .body(Body::empty())
            .expect("request");
        stack.oneshot(request).await.expect("answered")
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_on_top_also_holds_back_the_retries_below() {
        let arrivals = Arc::default();
        let limit = RateLimit::new(1.0, 1).expect("valid");
        let stack = RateLimitLayer::new(limit).layer(
            retry::RetryLayer::new(RetryLimits::default()).layer(busy_once(Arc::clone(&arrivals))),
        );
        let response = get_api(stack).await;
        assert_eq!(response.status(), StatusCode::OK);
        // The server asked for no wait; the retry still waited a second for
        // its token.
        assert_eq!(*arrivals.lock().expect("lock"), [0, 1000]);
    }

    #[cfg(feature = "metrics")]
    #[tokio::test(start_paused = true)]
    async fn metrics_on_top_count_each_attempt_below() {
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = ClientMetrics::new(&mut registry);
        let stack = metrics
            .layer()
            .layer(retry::RetryLayer::new(RetryLimits::default()).layer(busy_once(Arc::default())));
        get_api(stack).await;
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodable");
        for expected in [
            r#"rest_client_requests_total{code="429",method="GET",host="k:6443"} 1"#,
            r#"rest_client_requests_total{code="200",method="GET",host="k:6443"} 1"#,
            r#"rest_client_request_duration_seconds_count{verb="GET",host="k:6443"} 2"#,
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }
}
