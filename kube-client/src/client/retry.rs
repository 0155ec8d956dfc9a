//! When a failed request may be sent again, and how long to wait first.
//!
//! A request is only replayed when doing so cannot apply it twice:
//!
//! - a connection that could not be opened sent nothing, so any request may be
//!   retried;
//! - `429 Too Many Requests` is answered before the server acts (priority and
//!   fairness, max-in-flight limits, a shutting-down apiserver), so any request
//!   may be retried;
//! - `503 Service Unavailable` with `Retry-After` is the server asking to come
//!   back later, so any request may be retried; without `Retry-After` only
//!   reads are;
//! - other `5xx` answers, a connection that broke after the request went out,
//!   and a response that never came are ambiguous: the server may have acted.
//!   Only reads (`GET`, `HEAD`), which change nothing, are retried — other `5xx`
//!   only when the server sent `Retry-After`. A create whose outcome is unknown
//!   is never sent again: the caller decides (say, by reading the object).
//!
//! Waits grow exponentially with random jitter and follow the server's
//! `Retry-After` when it sends one. Retrying stops after
//! five attempts, or when the next wait would end more than thirty seconds
//! after the first attempt began; the last failure is then returned.
//!
//! The default stack applies these rules itself. For a custom stack,
//! [`RetryPolicy`] brings the same rules to tower's `RetryLayer`:
//!
//! ```no_run
//! use kube_client::{Client, Config, client::{ConfigExt, retry::RetryPolicy}};
//! use tower::{BoxError, ServiceBuilder, buffer::BufferLayer, retry::RetryLayer};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::infer().await?;
//! let https = config.rustls_https_connector()?;
//! let service = ServiceBuilder::new()
//!     .layer(config.base_uri_layer())
//!     .option_layer(config.auth_layer()?)
//!     // tower's retry needs a service it can clone.
//!     .layer(BufferLayer::new(1024))
//!     .layer(RetryLayer::new(RetryPolicy::default()))
//!     .map_err(BoxError::from)
//!     .service(
//!         hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
//!             .build(https),
//!     );
//! let client = Client::new(service, config.default_namespace);
//! # Ok(())
//! # }
//! ```

use std::{
    future::Future,
    hash::{BuildHasher, Hasher},
    time::Duration,
};

use http::{HeaderMap, Method, Request, Response, StatusCode};
use tower::retry::{
    Policy,
    backoff::{Backoff, ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff},
};

use super::Body;
use crate::error::{BoxError, TransportError};

pub use tower::retry::backoff::InvalidBackoff;

/// The retry rules of this module for tower's `RetryLayer`, for custom service
/// stacks (the default stack retries by itself).
///
/// Answers of `429 Too Many Requests` are retried; `503 Service Unavailable`
/// when the server sent `Retry-After` or the request is a read; `504 Gateway
/// Timeout` for reads; and connections that could not be opened. Unlike
/// kube-rs, a write answered `503` without `Retry-After`, or `504`, is not sent
/// again: the server may have acted on it. Waits grow exponentially between
/// the two delays given, with jitter; a server-aware policy waits as long as
/// `Retry-After` asks when that is longer.
#[derive(Clone)]
pub struct RetryPolicy {
    backoff: ExponentialBackoff,
    retries_left: u32,
    server_aware: bool,
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("retries_left", &self.retries_left)
            .field("server_aware", &self.server_aware)
            .finish_non_exhaustive()
    }
}

impl RetryPolicy {
    /// Retries at most `max_retries` times, waiting from `min_delay` up to
    /// `max_delay` (doubling, with jitter), and as long as `Retry-After` asks
    /// when `server_retry` is set.
    ///
    /// Fails when the delays are not usable (`min_delay` above `max_delay`, or
    /// `max_delay` zero).
    pub fn new(
        min_delay: Duration,
        max_delay: Duration,
        max_retries: u32,
        server_retry: bool,
    ) -> Result<Self, InvalidBackoff> {
        let backoff = ExponentialBackoffMaker::new(
            min_delay,
            max_delay,
            2.0,
            tower::util::rng::HasherRng::new(),
        )?
        .make_backoff();
        Ok(Self {
            backoff,
            retries_left: max_retries,
            server_aware: server_retry,
        })
    }

    /// A patient policy that follows the server's `Retry-After`: up to 15
    /// retries, waiting from 5 ms up to 1000 s.
    pub fn server_retry() -> Self {
        Self::from_valid(
            Duration::from_millis(5),
            Duration::from_secs(1000),
            15,
            true,
        )
    }

    /// A policy from delays known to be valid.
    fn from_valid(min: Duration, max: Duration, retries: u32, server_aware: bool) -> Self {
        match Self::new(min, max, retries, server_aware) {
            Ok(policy) => policy,
            // Unreachable with the constants used: a policy that never retries.
            Err(_) => Self {
                backoff: ExponentialBackoffMaker::default().make_backoff(),
                retries_left: 0,
                server_aware,
            },
        }
    }

    /// What one response or error came to.
    fn failure<B>(result: &Result<Response<B>, BoxError>) -> Option<(Failure, Option<Duration>)> {
        match result {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some((
                Failure::Status(response.status()),
                retry_after(response.headers()),
            )),
            Err(error) if never_connected(error.as_ref()) => Some((Failure::Connect, None)),
            Err(_) => None,
        }
    }
}

impl Default for RetryPolicy {
    /// Up to 3 retries, waiting from 500 ms up to 5 s, without following
    /// `Retry-After`.
    fn default() -> Self {
        Self::from_valid(Duration::from_millis(500), Duration::from_secs(5), 3, false)
    }
}

impl<B> Policy<Request<Body>, Response<B>, BoxError> for RetryPolicy {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut Request<Body>,
        result: &mut Result<Response<B>, BoxError>,
    ) -> Option<Self::Future> {
        let (failure, server_wait) = Self::failure(result)?;
        // A 504 is worth another read; other 5xx only when the server asks.
        let retryable = match failure {
            Failure::Status(StatusCode::GATEWAY_TIMEOUT) => is_read(request.method()),
            failure => is_retryable(request.method(), failure, server_wait.is_some()),
        };
        if !retryable || self.retries_left == 0 {
            return None;
        }
        self.retries_left -= 1;
        let backoff = self.backoff.next_backoff();
        match server_wait {
            Some(wait)
                if self.server_aware
                    && wait
                        > backoff
                            .deadline()
                            .duration_since(tokio::time::Instant::now()) =>
            {
                Some(tokio::time::sleep(wait))
            }
            _ => Some(backoff),
        }
    }

    fn clone_request(&mut self, request: &Request<Body>) -> Option<Request<Body>> {
        clone_request(request)
    }
}

/// A copy of a request whose body is held in memory.
pub(crate) fn clone_request(request: &Request<Body>) -> Option<Request<Body>> {
    let mut copy = Request::new(request.body().try_clone()?);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

/// Whether an error says that no connection could be opened, so nothing was
/// sent: this client's own [`TransportError::Connect`], or hyper-util's.
fn never_connected(error: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(TransportError::Connect { .. }) = error.downcast_ref::<TransportError>() {
        return true;
    }
    if let Some(crate::Error::Service(inner)) = error.downcast_ref::<crate::Error>() {
        return never_connected(inner.as_ref());
    }
    error
        .downcast_ref::<hyper_util::client::legacy::Error>()
        .is_some_and(hyper_util::client::legacy::Error::is_connect)
}

/// How a request attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The server answered with this status.
    Status(StatusCode),
    /// No connection could be opened: nothing was sent.
    Connect,
    /// The connection failed after the request may have been sent.
    Transport,
    /// No response arrived in time.
    Timeout,
    /// The TLS handshake failed: trying again cannot help.
    Tls,
    /// The server answered `401 Unauthorized` and fresh credentials are ready:
    /// it refused before acting, so any request may be sent once more.
    CredentialsRefreshed,
}

/// The retry limits of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryLimits {
    /// Attempts in total, the first included.
    pub(crate) max_attempts: u32,
    /// No retry is started that would begin later than this after the first
    /// attempt.
    pub(crate) budget: Duration,
    /// The wait before the first retry, doubled for each further one.
    pub(crate) base_delay: Duration,
    /// The longest wait between attempts, unless the server asks for more.
    pub(crate) max_delay: Duration,
}

impl Default for RetryLimits {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            budget: Duration::from_secs(30),
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryLimits {
    /// No retry at all: every failure is returned as it happens.
    pub(crate) fn single_attempt() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }
}

/// Whether a request with this method can be sent twice without effect.
pub(crate) fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// Whether a failure may be retried for a request with this method, given
/// whether the server asked to retry after a while.
pub(crate) fn is_retryable(method: &Method, failure: Failure, retry_after: bool) -> bool {
    match failure {
        Failure::Connect => true,
        Failure::Status(StatusCode::TOO_MANY_REQUESTS) => true,
        Failure::Status(StatusCode::SERVICE_UNAVAILABLE) => retry_after || is_read(method),
        Failure::Status(status) if status.is_server_error() => retry_after && is_read(method),
        Failure::Status(_) => false,
        Failure::Transport | Failure::Timeout => is_read(method),
        Failure::Tls => false,
        Failure::CredentialsRefreshed => true,
    }
}

/// The `Retry-After` header in seconds (the apiserver never sends a date).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl RetryLimits {
    /// The wait before attempt number `attempt + 1` (the first retry follows
    /// attempt 1), or `None` when no retry is allowed: attempts or budget are used
    /// up, or the server asks to wait beyond the budget.
    pub(crate) fn delay(
        &self,
        attempt: u32,
        elapsed: Duration,
        server_wait: Option<Duration>,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let remaining = self.budget.checked_sub(elapsed)?;
        let wait = match server_wait {
            Some(wait) => wait,
            None => jittered(self.backoff(attempt)),
        };
        (wait <= remaining).then_some(wait)
    }

    /// The exponential wait without jitter: `base_delay * 2^(attempt - 1)`, capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// A random duration between half and all of `wait`, so clients that failed
/// together do not retry together.
fn jittered(wait: Duration) -> Duration {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let fraction = 0.5 + (random % 1_000_000) as f64 / 2_000_000.0;
    wait.mul_f64(fraction)
}

/// What one attempt came to.
pub(crate) enum Outcome<T> {
    /// The answer for the caller, whatever it is.
    Done(T),
    /// A failure that a retry might overcome; `result` is what the caller gets
    /// when it is not retried.
    Failed {
        failure: Failure,
        /// The wait the server asked for.
        retry_after: Option<Duration>,
        /// What went wrong, for the log.
        reason: String,
        result: T,
    },
}

/// Runs `attempt` (given the attempt number, from 1) until it is done, or its
/// failure may not or need not be retried any more.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryLimits,
    method: &Method,
    path: &str,
    attempt: F,
) -> T
where
    F: Fn(u32) -> Fut,
    Fut: Future<Output = Outcome<T>>,
{
    let started = tokio::time::Instant::now();
    let mut number = 0;
    loop {
        number += 1;
        let (failure, retry_after, reason, result) = match attempt(number).await {
            Outcome::Done(result) => return result,
            Outcome::Failed {
                failure,
                retry_after,
                reason,
                result,
            } => (failure, retry_after, reason, result),
        };
        if !is_retryable(method, failure, retry_after.is_some()) {
            return result;
        }
        let Some(delay) = policy.delay(number, started.elapsed(), retry_after) else {
            tracing::debug!(
                attempt = number,
                "{method} {path}: {reason}; not retrying (attempts or time budget used up)"
            );
            return result;
        };
        if retry_after.is_some() {
            // The server asked for the wait (a new CRD's first seconds, priority
            // and fairness): routine, not worth a warning.
            tracing::debug!(
                attempt = number,
                "{method} {path}: {reason}; retrying in {delay:?} as the server asked"
            );
        } else {
            tracing::warn!(
                attempt = number,
                "{method} {path}: {reason}; retrying in {delay:?}"
            );
        }
        drop(result);
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn status(code: u16) -> Failure {
        Failure::Status(StatusCode::from_u16(code).expect("valid code"))
    }

    #[test]
    fn reads_retry_on_every_transient_failure() {
        for failure in [
            Failure::Connect,
            Failure::Transport,
            Failure::Timeout,
            status(429),
            status(503),
        ] {
            assert!(is_retryable(&Method::GET, failure, false), "{failure:?}");
        }
    }

    #[test]
    fn writes_retry_only_when_nothing_was_done() {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(is_retryable(&method, Failure::Connect, false), "{method}");
            assert!(is_retryable(&method, status(429), false), "{method}");
            assert!(is_retryable(&method, status(503), true), "{method}");
            for ambiguous in [
                Failure::Transport,
                Failure::Timeout,
                status(503),
                status(500),
            ] {
                assert!(
                    !is_retryable(&method, ambiguous, false),
                    "{method} {ambiguous:?}"
                );
            }
            for processed_maybe in [status(500), status(502), status(504)] {
                assert!(
                    !is_retryable(&method, processed_maybe, true),
                    "{method} {processed_maybe:?} with Retry-After"
                );
            }
        }
    }

    #[test]
    fn client_errors_are_never_retried_and_server_errors_only_when_asked() {
        for code in [400, 401, 403, 404, 409, 410, 422] {
            assert!(!is_retryable(&Method::GET, status(code), false), "{code}");
            assert!(!is_retryable(&Method::GET, status(code), true), "{code}");
        }
        for code in [500, 502, 504] {
            assert!(!is_retryable(&Method::GET, status(code), false), "{code}");
            assert!(is_retryable(&Method::GET, status(code), true), "{code}");
        }
    }

    #[test]
    fn delays_grow_with_jitter_and_stop_after_the_last_attempt() {
        let policy = RetryLimits::default();
        let zero = Duration::ZERO;
        let expected_ms = [(100, 200), (200, 400), (400, 800), (800, 1600)];
        for (attempt, (low, high)) in (1..).zip(expected_ms) {
            let delay = policy.delay(attempt, zero, None).expect("a retry");
            assert!(
                delay >= Duration::from_millis(low) && delay <= Duration::from_millis(high),
                "attempt {attempt}: {delay:?}"
            );
        }
        assert_eq!(policy.delay(policy.max_attempts, zero, None), None);
    }

    #[test]
    fn backoff_is_capped() {
        let policy = RetryLimits {
            max_attempts: 100,
            ..RetryLimits::default()
        };
        assert_eq!(policy.backoff(40), policy.max_delay);
        assert_eq!(policy.backoff(1), policy.base_delay);
    }

    #[test]
    fn retry_after_is_honoured_within_the_budget() {
        let policy = RetryLimits::default();
        assert_eq!(
            policy.delay(1, Duration::from_secs(1), Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            policy.delay(1, Duration::from_secs(25), Some(Duration::from_secs(10))),
            None,
            "waiting would overrun the budget"
        );
        assert_eq!(
            policy.delay(1, Duration::ZERO, Some(Duration::from_secs(3600))),
            None,
            "an hour is beyond any budget"
        );
        assert_eq!(policy.delay(1, Duration::from_secs(31), None), None);
    }

    #[test]
    fn retry_after_headers_parse_as_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(http::header::RETRY_AFTER, "3".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            http::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&headers), None);
    }

    /// Attempts that fail as scripted, then succeed; records when each began.
    struct Script {
        failures: Vec<(Failure, Option<Duration>)>,
        started_at: Mutex<Vec<Duration>>,
        origin: tokio::time::Instant,
    }

    impl Script {
        fn new(failures: Vec<(Failure, Option<Duration>)>) -> Self {
            Self {
                failures,
                started_at: Mutex::new(Vec::new()),
                origin: tokio::time::Instant::now(),
            }
        }

        async fn attempt(&self, number: u32) -> Outcome<Result<u32, Failure>> {
            self.started_at
                .lock()
                .expect("lock")
                .push(self.origin.elapsed());
            match self.failures.get(number as usize - 1) {
                None => Outcome::Done(Ok(number)),
                Some(&(failure, retry_after)) => Outcome::Failed {
                    failure,
                    retry_after,
                    reason: format!("{failure:?}"),
                    result: Err(failure),
                },
            }
        }

        async fn run(&self, method: Method) -> Result<u32, Failure> {
            run(&RetryLimits::default(), &method, "/x", |n| self.attempt(n)).await
        }

        fn starts(&self) -> Vec<Duration> {
            self.started_at.lock().expect("lock").clone()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_waits_as_long_as_retry_after_says() {
        let script = Script::new(vec![(status(429), Some(Duration::from_secs(2)))]);
        assert_eq!(script.run(Method::POST).await, Ok(2));
        assert_eq!(script.starts(), [Duration::ZERO, Duration::from_secs(2)]);
    }

    #[tokio::test(start_paused = true)]
    async fn two_503s_then_success_back_off_exponentially() {
        let script = Script::new(vec![(status(503), None), (status(503), None)]);
        assert_eq!(script.run(Method::GET).await, Ok(3));
        let starts = script.starts();
        let first_wait = starts[1] - starts[0];
        let second_wait = starts[2] - starts[1];
        assert!(
            first_wait >= Duration::from_millis(100) && first_wait <= Duration::from_millis(200),
            "{first_wait:?}"
        );
        assert!(
            second_wait >= Duration::from_millis(200) && second_wait <= Duration::from_millis(400),
            "{second_wait:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_create_whose_outcome_is_unknown_is_sent_once() {
        for failure in [
            Failure::Transport,
            Failure::Timeout,
            status(500),
            status(503),
        ] {
            let script = Script::new(vec![(failure, None)]);
            assert_eq!(script.run(Method::POST).await, Err(failure));
            assert_eq!(script.starts().len(), 1, "{failure:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_create_that_never_connected_is_retried() {
        let script = Script::new(vec![(Failure::Connect, None), (Failure::Connect, None)]);
        assert_eq!(script.run(Method::POST).await, Ok(3));
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_are_bounded() {
        let script = Script::new(vec![(status(503), None); 20]);
        assert_eq!(script.run(Method::GET).await, Err(status(503)));
        let starts = script.starts();
        assert_eq!(starts.len(), 5);
        // Four jittered waits: at least 1.5 s and at most 3 s in all.
        let total = starts[4];
        assert!(
            total >= Duration::from_millis(1500) && total <= Duration::from_secs(3),
            "{total:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_beyond_the_budget_returns_the_failure_at_once() {
        let script = Script::new(vec![(status(429), Some(Duration::from_secs(120)))]);
        assert_eq!(script.run(Method::GET).await, Err(status(429)));
        assert_eq!(script.starts(), [Duration::ZERO]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_ends_a_run_of_long_retry_afters() {
        let script = Script::new(vec![(status(429), Some(Duration::from_secs(12))); 10]);
        assert_eq!(script.run(Method::GET).await, Err(status(429)));
        // 0 s, 12 s, 24 s; a retry at 36 s would overrun the 30 s budget.
        assert_eq!(
            script.starts(),
            [0, 12, 24].map(Duration::from_secs).to_vec()
        );
    }
}
