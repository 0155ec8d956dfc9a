//! Backing off failed objects one by one: client-go's
//! `DefaultTypedControllerRateLimiter`. See [`ErrorBackoff`].

use std::{collections::HashMap, hash::Hash, time::Duration};

use kube_client::client::rate_limit::{RateLimit, TokenBucket};

use crate::reflector::ObjectRef;

tokio::task_local! {
    /// The failures in a row of the object whose error policy runs.
    static CONSECUTIVE_FAILURES: u32;
}

/// Inside an error policy called by a [`Controller`](crate::Controller) (or
/// [`applier`](super::applier)): how many reconciles of the object have
/// failed in a row, this one included (1 after a first failure). `None`
/// anywhere else.
///
/// The count starts over when a reconcile of the object succeeds, and is
/// forgotten when the object is no longer in the store.
pub fn consecutive_failures() -> Option<u32> {
    CONSECUTIVE_FAILURES.try_with(|failures| *failures).ok()
}

/// Runs `f` (an error policy) with [`consecutive_failures`] telling `failures`.
pub(crate) fn with_consecutive_failures<R>(failures: u32, f: impl FnOnce() -> R) -> R {
    CONSECUTIVE_FAILURES.sync_scope(failures, f)
}

/// How long a failed object waits before it is reconciled again: client-go's
/// `DefaultTypedControllerRateLimiter`.
///
/// A controller counts, for each object, the reconciles that failed in a
/// row; a success starts the count over. An error policy can read the count
/// with [`consecutive_failures`], and a controller given an [`ErrorBackoff`]
/// (see [`Config::error_backoff`](crate::controller::Config::error_backoff)) waits longer
/// after each failure before trying the object again: 5 ms after the first,
/// 10 ms after the second, doubling up to 1000 s. Across all objects, retries
/// also draw from a token bucket (10 a second, bursts of 100), and each waits
/// for the later of the two, as client-go's default limiter combines them.
///
/// The error policy keeps its say. Its [`Action`](crate::controller::Action) is honoured
/// as before, and the backoff only lengthens it: a failed object is retried
/// after the longer of the policy's requeue and the backoff's delay, and an
/// error policy returning `Action::await_change()` still means "do not retry".
/// For client-go's delays exactly, the error policy returns
/// `Action::requeue(Duration::ZERO)`, i.e. "as soon as the backoff allows".
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use k8s_openapi::api::core::v1::ConfigMap;
/// use kube_runtime::controller::{self, Action, Config, ErrorBackoff};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("reconcile failed")]
/// struct Error;
///
/// fn error_policy(_: Arc<ConfigMap>, _: &Error, _: Arc<()>) -> Action {
///     match controller::consecutive_failures() {
///         // Ten failures in a row: give up until the object changes.
///         Some(failures) if failures >= 10 => Action::await_change(),
///         // Otherwise as soon as the backoff allows.
///         _ => Action::requeue(Duration::ZERO),
///     }
/// }
///
/// let config = Config::default().error_backoff(ErrorBackoff::default());
/// // Controller::new(..).with_config(config).run(reconcile, error_policy, ctx)
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorBackoff {
    base: Duration,
    max: Duration,
    overall: Option<RateLimit>,
}

impl Default for ErrorBackoff {
    /// client-go's default controller rate limiter: 5 ms doubling to 1000 s
    /// per object, and 10 retries a second (bursts of 100) overall.
    fn default() -> Self {
        Self {
            overall: RateLimit::new(10.0, 100).ok(),
            ..Self::per_object(Duration::from_millis(5), Duration::from_secs(1000))
        }
    }
}

impl ErrorBackoff {
    /// Waits `base` after an object's first failure, doubling with each
    /// further failure in a row, up to `max`; no limit across objects.
    pub fn per_object(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            overall: None,
        }
    }

    /// Also draws every retry from one bucket of `limit` across all objects;
    /// a retry waits for the later of its object's delay and its token.
    #[must_use]
    pub fn overall_limit(mut self, limit: RateLimit) -> Self {
        self.overall = Some(limit);
        self
    }

    /// The delay of one object after `failures` failures in a row (counting
    /// from 1): `base * 2^(failures - 1)`, at most `max`.
    pub fn delay(&self, failures: u32) -> Duration {
        if self.base.is_zero() || failures == 0 {
            return Duration::ZERO;
        }
        let mut delay = self.base;
        for _ in 1..failures {
            match delay.checked_mul(2) {
                Some(doubled) if doubled < self.max => delay = doubled,
                _ => return self.max,
            }
        }
        delay.min(self.max)
    }
}

/// The failures in a row of each object, and the backoff they earn.
pub(crate) struct Failures<K: kube_client::Resource> {
    counts: HashMap<ObjectRef<K>, u32>,
    backoff: Option<(ErrorBackoff, Option<TokenBucket>)>,
}

impl<K> Failures<K>
where
    K: kube_client::Resource,
    K::DynamicType: Eq + Hash + Clone,
{
    pub(crate) fn new(backoff: Option<ErrorBackoff>) -> Self {
        Self {
            counts: HashMap::new(),
            backoff: backoff.map(|backoff| {
                let bucket = backoff.overall.map(TokenBucket::new);
                (backoff, bucket)
            }),
        }
    }

    /// The object was reconciled, or is gone: its count starts over.
    pub(crate) fn forget(&mut self, obj_ref: &ObjectRef<K>) {
        // Most reconciles succeed with nothing to forget: skip the hashing.
        if !self.counts.is_empty() {
            self.counts.remove(obj_ref);
        }
    }

    /// The object failed once more: its failures in a row, this one included.
    pub(crate) fn failed(&mut self, obj_ref: &ObjectRef<K>) -> u32 {
        let count = self.counts.entry(obj_ref.clone()).or_default();
        *count = count.saturating_add(1);
        *count
    }

    /// How long an object with `failures` in a row waits before its retry,
    /// at least: zero without a backoff. Takes a token of the overall bucket.
    pub(crate) fn retry_delay(&mut self, failures: u32) -> Duration {
        let Some((backoff, bucket)) = &mut self.backoff else {
            return Duration::ZERO;
        };
        let own = backoff.delay(failures);
        let overall = bucket.as_mut().map_or(Duration::ZERO, TokenBucket::reserve);
        own.max(overall)
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;

    use super::*;

    fn millis(delay: Duration) -> u128 {
        delay.as_millis()
    }

    #[test]
    fn the_default_doubles_from_5_ms_to_1000_s() {
        let backoff = ErrorBackoff::default();
        let delays: Vec<u128> = (1..=6).map(|n| millis(backoff.delay(n))).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160]);
        // 5 ms * 2^17 = 655 s; the next doubling is capped.
        assert_eq!(backoff.delay(18), Duration::from_millis(655_360));
        assert_eq!(backoff.delay(19), Duration::from_secs(1000));
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(1000));
    }

    #[test]
    fn degenerate_backoffs_neither_overflow_nor_spin() {
        let zero = ErrorBackoff::per_object(Duration::ZERO, Duration::from_secs(1));
        assert_eq!(zero.delay(u32::MAX), Duration::ZERO);
        let huge = ErrorBackoff::per_object(Duration::MAX, Duration::MAX);
        assert_eq!(huge.delay(3), Duration::MAX);
        let inverted = ErrorBackoff::per_object(Duration::from_secs(10), Duration::from_secs(1));
        assert_eq!(inverted.delay(1), Duration::from_secs(1));
    }

    #[test]
    fn an_error_policy_reads_the_count_only_while_it_runs() {
        assert_eq!(consecutive_failures(), None);
        let seen = with_consecutive_failures(3, consecutive_failures);
        assert_eq!(seen, Some(3));
        assert_eq!(consecutive_failures(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn counts_grow_per_object_and_start_over_when_forgotten() {
        let mut failures = Failures::<ConfigMap>::new(Some(ErrorBackoff::default()));
        let (a, b) = (
            ObjectRef::new("a").within("ns"),
            ObjectRef::new("b").within("ns"),
        );
        assert_eq!([failures.failed(&a), failures.failed(&a)], [1, 2]);
        assert_eq!(failures.failed(&b), 1);
        assert_eq!(failures.failed(&a), 3);
        assert_eq!(millis(failures.retry_delay(3)), 20);
        failures.forget(&a);
        assert_eq!(failures.failed(&a), 1);
        assert_eq!(failures.failed(&b), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_overall_bucket_holds_back_retries_beyond_its_burst() {
        let limit = RateLimit::new(10.0, 2).expect("valid");
        let backoff = ErrorBackoff::per_object(Duration::from_millis(5), Duration::from_secs(1))
            .overall_limit(limit);
        let mut failures = Failures::<ConfigMap>::new(Some(backoff));
        // Three first failures of three objects: the third waits for a token.
        let delays: Vec<u128> = (0..3).map(|_| millis(failures.retry_delay(1))).collect();
        assert_eq!(delays, [5, 5, 100]);
    }

    #[test]
    fn without_a_backoff_the_delay_is_the_error_policys() {
        let mut failures = Failures::<ConfigMap>::new(None);
        assert_eq!(failures.retry_delay(30), Duration::ZERO);
    }
}
