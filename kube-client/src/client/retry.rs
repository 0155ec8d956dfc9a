//! When a failed request may be sent again, and how long to wait first.
//!
//! A request is only replayed when doing so cannot apply it twice:
//!
//! - a connection that could not be opened sent nothing, so any request may be
//!   retried;
//! - `429 Too Many Requests` is answered before the server acts, so any request may
//!   be retried;
//! - `503 Service Unavailable`, a connection that broke after the request went out,
//!   and a response that never came are ambiguous: only reads (`GET`, `HEAD`), which
//!   change nothing, are retried.
//!
//! Waits grow exponentially with random jitter, follow the server's `Retry-After`
//! when it sends one, and stop after a few attempts or once the time budget is spent.

use std::{
    hash::{BuildHasher, Hasher},
    time::Duration,
};

use http::{HeaderMap, Method, StatusCode};

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
}

/// The retry limits of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Attempts in total, the first included.
    pub(crate) max_attempts: u32,
    /// No retry starts once this much time has passed since the first attempt.
    pub(crate) budget: Duration,
    /// The wait before the first retry, doubled for each further one.
    pub(crate) base_delay: Duration,
    /// The longest wait between attempts, unless the server asks for more.
    pub(crate) max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            budget: Duration::from_secs(30),
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

/// Whether a request with this method can be sent twice without effect.
pub(crate) fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// Whether a failure may be retried for a request with this method.
pub(crate) fn is_retryable(method: &Method, failure: Failure) -> bool {
    match failure {
        Failure::Connect => true,
        Failure::Status(StatusCode::TOO_MANY_REQUESTS) => true,
        Failure::Status(StatusCode::SERVICE_UNAVAILABLE) => is_read(method),
        Failure::Status(_) => false,
        Failure::Transport | Failure::Timeout => is_read(method),
    }
}

/// The `Retry-After` header in seconds (the apiserver never sends a date).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl RetryPolicy {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_retry_on_every_transient_failure() {
        for failure in [
            Failure::Connect,
            Failure::Transport,
            Failure::Timeout,
            Failure::Status(StatusCode::TOO_MANY_REQUESTS),
            Failure::Status(StatusCode::SERVICE_UNAVAILABLE),
        ] {
            assert!(is_retryable(&Method::GET, failure), "{failure:?}");
        }
    }

    #[test]
    fn writes_retry_only_when_nothing_was_done() {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(is_retryable(&method, Failure::Connect), "{method}");
            assert!(
                is_retryable(&method, Failure::Status(StatusCode::TOO_MANY_REQUESTS)),
                "{method}"
            );
            for ambiguous in [
                Failure::Transport,
                Failure::Timeout,
                Failure::Status(StatusCode::SERVICE_UNAVAILABLE),
            ] {
                assert!(!is_retryable(&method, ambiguous), "{method} {ambiguous:?}");
            }
        }
    }

    #[test]
    fn client_errors_are_never_retried() {
        for code in [400, 401, 403, 404, 409, 410, 422, 500, 502, 504] {
            let status = StatusCode::from_u16(code).expect("valid code");
            assert!(
                !is_retryable(&Method::GET, Failure::Status(status)),
                "{code}"
            );
        }
    }

    #[test]
    fn delays_grow_with_jitter_and_stop_after_the_last_attempt() {
        let policy = RetryPolicy::default();
        let zero = Duration::ZERO;
        let first = policy.delay(1, zero, None).expect("first retry");
        assert!(
            first >= Duration::from_millis(100) && first <= Duration::from_millis(200),
            "{first:?}"
        );
        let second = policy.delay(2, zero, None).expect("second retry");
        assert!(
            second >= Duration::from_millis(200) && second <= Duration::from_millis(400),
            "{second:?}"
        );
        assert_eq!(policy.delay(3, zero, None), None);
    }

    #[test]
    fn backoff_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 100,
            ..RetryPolicy::default()
        };
        assert_eq!(policy.backoff(40), policy.max_delay);
        assert_eq!(policy.backoff(1), policy.base_delay);
    }

    #[test]
    fn retry_after_is_honoured_within_the_budget() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(1, Duration::from_secs(1), Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            policy.delay(1, Duration::from_secs(25), Some(Duration::from_secs(10))),
            None,
            "waiting would overrun the budget"
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
}
