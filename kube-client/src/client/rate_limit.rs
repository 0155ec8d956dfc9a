//! Rate limits as client-go keeps them: a token bucket.
//!
//! A bucket holds at most `burst` tokens and gains `qps` tokens a second. Each
//! request takes one token; when none is left, the request waits until its
//! token has been earned rather than failing. Tokens are handed out in the
//! order they are asked for, so waiting requests are spaced `1 / qps` seconds
//! apart, and a quiet spell of `burst / qps` seconds fills the bucket again.
//!
//! The client's [`RateLimitLayer`](super::middleware::RateLimitLayer) holds
//! requests to such a limit, and the controllers of `kube-runtime` use the
//! same bucket to pace their reconciles.
//!
//! ```
//! use kube_client::client::rate_limit::RateLimit;
//!
//! // client-go's defaults for a rest.Config: 5 requests a second, bursts of 10.
//! let limit = RateLimit::new(5.0, 10).expect("a positive rate and burst");
//! assert_eq!((limit.qps(), limit.burst()), (5.0, 10));
//! assert!(RateLimit::new(0.0, 10).is_err());
//! ```

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::time::Instant;

/// A rate and a burst: at most `qps` tokens a second on average, and up to
/// `burst` at once after a quiet spell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    qps: f64,
    burst: u32,
}

/// Why a [`RateLimit`] could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidRateLimit {
    /// The rate is zero, negative, infinite or not a number.
    #[error("a rate limit needs a positive, finite number of requests per second, not {0}")]
    Qps(f64),
    /// The burst is zero: no request could ever pass.
    #[error("a rate limit needs a burst of at least 1 request, not 0")]
    Burst,
}

impl RateLimit {
    /// `qps` tokens a second, at most `burst` at once.
    ///
    /// Fails when `qps` is not a positive finite number or `burst` is zero.
    pub fn new(qps: f64, burst: u32) -> Result<Self, InvalidRateLimit> {
        if !(qps.is_finite() && qps > 0.0) {
            return Err(InvalidRateLimit::Qps(qps));
        }
        if burst == 0 {
            return Err(InvalidRateLimit::Burst);
        }
        Ok(Self { qps, burst })
    }

    /// Tokens gained per second.
    pub fn qps(&self) -> f64 {
        self.qps
    }

    /// The most tokens the bucket holds.
    pub fn burst(&self) -> u32 {
        self.burst
    }
}

/// A bucket of tokens under a [`RateLimit`]: full when made.
///
/// It does not wait itself: [`reserve`](Self::reserve) takes a token and says
/// how long its owner must wait before using it, which leaves the waiting to
/// the caller (a timer in a future, a delay in a scheduler). The clock is
/// tokio's, so tests may pause it.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    limit: RateLimit,
    /// Tokens left; negative when tokens not yet earned have been reserved.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.burst),
            updated: Instant::now(),
        }
    }

    /// The limit of this bucket.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes a token, and returns how long to wait until it is earned (zero
    /// when one was left).
    pub fn reserve(&mut self) -> Duration {
        let wait = self.time_to_next_token();
        self.tokens -= 1.0;
        wait
    }

    /// How long until a token is available, without taking one.
    pub fn time_to_next_token(&mut self) -> Duration {
        self.refill();
        // A hair of slack: a token earned to the nanosecond may come out a
        // rounding error short of one.
        if self.tokens >= 1.0 - 1e-9 {
            return Duration::ZERO;
        }
        let missing = 1.0 - self.tokens;
        Duration::try_from_secs_f64(missing / self.limit.qps).unwrap_or(Duration::MAX)
    }

    /// Adds the tokens earned since the last update, up to the burst.
    fn refill(&mut self) {
        let now = Instant::now();
        let earned = now.saturating_duration_since(self.updated).as_secs_f64() * self.limit.qps;
        self.tokens = (self.tokens + earned).min(f64::from(self.limit.burst));
        self.updated = now;
    }
}

/// A [`TokenBucket`] shared by clones: one budget for every holder.
#[derive(Debug, Clone)]
pub(crate) struct SharedBucket(Arc<Mutex<TokenBucket>>);

impl SharedBucket {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self(Arc::new(Mutex::new(TokenBucket::new(limit))))
    }

    /// Takes a token; see [`TokenBucket::reserve`].
    pub(crate) fn reserve(&self) -> Duration {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reserve()
    }

    /// Takes a token and waits until it is earned.
    pub(crate) async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(wait: Duration) -> u128 {
        wait.as_millis()
    }

    #[test]
    fn rates_that_are_not_positive_and_finite_and_empty_bursts_are_refused() {
        for qps in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = RateLimit::new(qps, 1).expect_err("refused");
            assert!(err.to_string().contains("requests per second"), "{err}");
        }
        assert_eq!(RateLimit::new(1.0, 0), Err(InvalidRateLimit::Burst));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_bucket_lets_a_burst_through_then_spaces_requests_by_the_rate() {
        let mut bucket = TokenBucket::new(RateLimit::new(10.0, 3).expect("valid"));
        let waits: Vec<u128> = (0..6).map(|_| millis(bucket.reserve())).collect();
        // Three at once, then each reservation waits 100 ms more than the last.
        assert_eq!(waits, [0, 0, 0, 100, 200, 300]);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_are_earned_back_over_time_up_to_the_burst() {
        let mut bucket = TokenBucket::new(RateLimit::new(2.0, 2).expect("valid"));
        assert_eq!(millis(bucket.reserve()), 0);
        assert_eq!(millis(bucket.reserve()), 0);
        assert_eq!(millis(bucket.time_to_next_token()), 500);
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(millis(bucket.time_to_next_token()), 0, "one token earned");
        // A long quiet spell fills the bucket only up to its burst.
        tokio::time::advance(Duration::from_secs(60)).await;
        let waits: Vec<u128> = (0..3).map(|_| millis(bucket.reserve())).collect();
        assert_eq!(waits, [0, 0, 500]);
    }

    #[tokio::test(start_paused = true)]
    async fn looking_at_the_next_token_takes_nothing() {
        let mut bucket = TokenBucket::new(RateLimit::new(1.0, 1).expect("valid"));
        for _ in 0..3 {
            assert_eq!(bucket.time_to_next_token(), Duration::ZERO);
        }
        assert_eq!(bucket.reserve(), Duration::ZERO);
        assert_eq!(bucket.time_to_next_token(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_tiny_rate_waits_long_without_overflowing() {
        let mut bucket = TokenBucket::new(RateLimit::new(1e-300, 1).expect("valid"));
        assert_eq!(bucket.reserve(), Duration::ZERO);
        assert_eq!(bucket.reserve(), Duration::MAX);
    }

    #[tokio::test(start_paused = true)]
    async fn clones_of_a_shared_bucket_draw_from_one_budget() {
        let bucket = SharedBucket::new(RateLimit::new(4.0, 1).expect("valid"));
        let other = bucket.clone();
        assert_eq!(millis(bucket.reserve()), 0);
        assert_eq!(millis(other.reserve()), 250);
        let started = Instant::now();
        bucket.acquire().await;
        assert_eq!(millis(started.elapsed()), 500);
    }
}
