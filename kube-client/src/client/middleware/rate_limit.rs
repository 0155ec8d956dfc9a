//! Client-side rate limiting: requests wait for a token of a
//! [`TokenBucket`](crate::client::rate_limit::TokenBucket), as client-go's
//! `QPS` and `Burst` make them wait.
//!
//! Retries are rate limited too. A request waits for its token before it goes
//! down the stack, and carries the bucket with it; the default stack's retry
//! layer, which sits below the layers added with
//! [`ClientBuilder::with_layer`](crate::client::ClientBuilder::with_layer),
//! takes one more token before each further attempt. So a burst of `429 Too
//! Many Requests` cannot make the client send faster than its limit, however
//! short the server's `Retry-After`: each attempt waits for the later of the
//! two. In a stack of your own, put this layer below your retry layer and
//! every attempt passes through it.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use http::Request;
use tokio::time::Sleep;
use tower::{Layer, Service};

use crate::client::rate_limit::{RateLimit, SharedBucket};

/// Holds requests to a [`RateLimit`]: a token for each, waiting for it when
/// the bucket is empty. Off unless added.
///
/// Every service made by one layer (and by its clones) draws from one bucket,
/// so clients built with the same layer share one budget.
///
/// ```no_run
/// use kube_client::{Config, client::{ClientBuilder, middleware::RateLimitLayer, rate_limit::RateLimit}};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let limit = RateLimit::new(5.0, 10)?; // client-go's defaults
/// let client = ClientBuilder::try_from(Config::infer().await?)?
///     .with_layer(&RateLimitLayer::new(limit))
///     .build();
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    bucket: SharedBucket,
}

impl RateLimitLayer {
    /// A layer whose services share one full bucket of `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            bucket: SharedBucket::new(limit),
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimited<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimited {
            inner,
            bucket: self.bucket.clone(),
            permit: Permit::None,
        }
    }
}

/// The bucket of a rate-limited request, in its extensions: the retry layer
/// takes a token from it before every attempt after the first.
#[derive(Debug, Clone)]
pub(crate) struct RetriesTakeTokens(pub(crate) SharedBucket);

/// Where a service stands with the token for its next request.
#[derive(Debug, Default)]
enum Permit {
    /// None taken yet.
    #[default]
    None,
    /// Taken, and waited for until it is earned.
    Waiting(Pin<Box<Sleep>>),
    /// Earned: the next request may go.
    Granted,
}

/// The service of [`RateLimitLayer`]: it becomes ready once the token for
/// its next request is earned.
#[derive(Debug)]
pub struct RateLimited<S> {
    inner: S,
    bucket: SharedBucket,
    permit: Permit,
}

impl<S: Clone> Clone for RateLimited<S> {
    /// A clone waits for tokens of its own, from the same bucket.
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            bucket: self.bucket.clone(),
            permit: Permit::None,
        }
    }
}

impl<S, B> Service<Request<B>> for RateLimited<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        loop {
            match &mut self.permit {
                Permit::None => {
                    let wait = self.bucket.reserve();
                    self.permit = if wait.is_zero() {
                        Permit::Granted
                    } else {
                        Permit::Waiting(Box::pin(tokio::time::sleep(wait)))
                    };
                }
                Permit::Waiting(sleep) => {
                    ready!(sleep.as_mut().poll(cx));
                    self.permit = Permit::Granted;
                }
                Permit::Granted => return self.inner.poll_ready(cx),
            }
        }
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The token is spent; the next request takes a new one.
        self.permit = Permit::None;
        request
            .extensions_mut()
            .insert(RetriesTakeTokens(self.bucket.clone()));
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use std::{
        convert::Infallible,
        sync::{Arc, Mutex},
        time::Duration,
    };

    use futures::future::{self, Ready};
    use http::Response;
    use tokio::time::Instant;
    use tower::{
        ServiceExt,
        util::{ServiceFn, service_fn},
    };

    use super::*;
    use crate::client::Body;

    type Seen = Arc<Mutex<Vec<(u128, bool)>>>;
    type Answer = Ready<Result<Response<Body>, Infallible>>;

    /// A service answering at once, noting when each request arrived (in
    /// milliseconds from its making) and whether it carried the bucket along.
    fn recording(seen: &Seen) -> ServiceFn<impl FnMut(Request<Body>) -> Answer + Clone> {
        let origin = Instant::now();
        let seen = Arc::clone(seen);
        service_fn(move |request: Request<Body>| {
            let carried = request.extensions().get::<RetriesTakeTokens>().is_some();
            seen.lock()
                .expect("lock")
                .push((origin.elapsed().as_millis(), carried));
            future::ready(Ok(Response::new(Body::empty())))
        })
    }

    #[tokio::test(start_paused = true)]
    async fn requests_beyond_the_burst_wait_for_their_tokens() {
        let seen = Seen::default();
        let layer = RateLimitLayer::new(RateLimit::new(10.0, 2).expect("valid"));
        let service = layer.layer(recording(&seen));
        for _ in 0..5 {
            service
                .clone()
                .oneshot(Request::new(Body::empty()))
                .await
                .expect("answered");
        }
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(
            seen,
            [(0, true), (0, true), (100, true), (200, true), (300, true)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_are_spaced_by_the_rate() {
        let seen = Seen::default();
        let layer = RateLimitLayer::new(RateLimit::new(4.0, 1).expect("valid"));
        let service = layer.layer(recording(&seen));
        let calls = (0..4).map(|_| service.clone().oneshot(Request::new(Body::empty())));
        for answer in futures::future::join_all(calls).await {
            answer.expect("answered");
        }
        let times: Vec<u128> = seen.lock().expect("lock").iter().map(|s| s.0).collect();
        assert_eq!(times, [0, 250, 500, 750]);
    }

    #[tokio::test(start_paused = true)]
    async fn services_of_one_layer_share_its_bucket() {
        let seen = Seen::default();
        let layer = RateLimitLayer::new(RateLimit::new(1.0, 1).expect("valid"));
        let first = layer.layer(recording(&seen));
        let second = layer.layer(recording(&seen));
        first
            .oneshot(Request::new(Body::empty()))
            .await
            .expect("answered");
        let started = Instant::now();
        second
            .oneshot(Request::new(Body::empty()))
            .await
            .expect("answered");
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }
}
