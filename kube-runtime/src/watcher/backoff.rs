//! Backoff policies for retrying a failing watcher.

use std::time::Duration;

use backon::BackoffBuilder;

use crate::utils::{Backoff, ResetTimerBackoff};

/// Exponentially growing delays, optionally with jitter, that start over when
/// reset.
#[derive(Debug)]
pub struct ExponentialBackoff {
    builder: backon::ExponentialBuilder,
    current: backon::ExponentialBackoff,
}

impl ExponentialBackoff {
    /// Delays from `min_delay`, multiplied by `factor` each time, capped at
    /// `max_delay`; with `enable_jitter`, each delay gets a random addition of up
    /// to itself, so many clients failing together do not retry in lockstep.
    pub fn new(min_delay: Duration, max_delay: Duration, factor: f32, enable_jitter: bool) -> Self {
        let builder = backon::ExponentialBuilder::default()
            .with_min_delay(min_delay)
            .with_max_delay(max_delay)
            .with_factor(factor)
            .without_max_times();
        Self::from(if enable_jitter {
            builder.with_jitter()
        } else {
            builder
        })
    }
}

impl From<backon::ExponentialBuilder> for ExponentialBackoff {
    fn from(builder: backon::ExponentialBuilder) -> Self {
        Self {
            current: builder.build(),
            builder,
        }
    }
}

impl Iterator for ExponentialBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.current.next()
    }
}

impl Backoff for ExponentialBackoff {
    fn reset(&mut self) {
        self.current = self.builder.build();
    }
}

/// The backoff watchers use by default: 0.8 s doubling up to 30 s, with jitter
/// (each delay grows by a random part of up to itself), starting over once the
/// stream has gone [`DefaultBackoff::QUIET_RESET`] without an error.
///
/// Failures that follow each other closely — a server that is down, a watch
/// that breaks right after every successful list — slow the watcher down, so
/// it does not hammer the apiserver with relists. A failure after a healthy
/// stretch is a new incident and is retried promptly: after an apiserver
/// restart every watch must relist (its resource version is gone), and a
/// cluster whose apiservers restart one after another, as in a rolling
/// upgrade, should not leave watchers waiting up to a minute each time.
#[derive(Debug)]
pub struct DefaultBackoff(ResetTimerBackoff<ExponentialBackoff>);

impl DefaultBackoff {
    /// How long a stream must run without an error for the delays to start
    /// over from the shortest.
    pub const QUIET_RESET: Duration = Duration::from_secs(30);
}

impl Default for DefaultBackoff {
    fn default() -> Self {
        let exponential = ExponentialBackoff::new(
            Duration::from_millis(800),
            Duration::from_secs(30),
            2.0,
            true,
        );
        Self(ResetTimerBackoff::new(exponential, Self::QUIET_RESET))
    }
}

impl Iterator for DefaultBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.0.next()
    }
}

impl Backoff for DefaultBackoff {
    fn reset(&mut self) {
        self.0.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_grows_caps_and_resets() {
        let mut backoff = ExponentialBackoff::new(
            Duration::from_millis(100),
            Duration::from_millis(500),
            2.0,
            false,
        );
        // Whole milliseconds: the delays are computed in floating point.
        let delays: Vec<_> = backoff.by_ref().take(5).map(|d| d.as_millis()).collect();
        assert_eq!(
            delays,
            [100, 200, 400, 500, 500],
            "doubles, then stays at the cap"
        );
        backoff.reset();
        assert_eq!(backoff.next().map(|d| d.as_millis()), Some(100));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let mut backoff = ExponentialBackoff::new(
            Duration::from_millis(100),
            Duration::from_secs(10),
            2.0,
            true,
        );
        for base in [100u64, 200, 400, 800] {
            let delay = backoff.next().expect("endless");
            assert!(
                delay >= Duration::from_millis(base) && delay <= Duration::from_millis(base * 2),
                "{delay:?} outside [{base}ms, {}ms]",
                base * 2
            );
        }
    }

    #[test]
    fn default_backoff_never_runs_out() {
        let mut backoff = DefaultBackoff::default();
        let last = backoff.by_ref().take(50).last().expect("endless");
        assert!(last <= Duration::from_secs(60), "{last:?}");
        assert!(last >= Duration::from_secs(30), "{last:?}");
    }

    #[test]
    fn jitter_varies_between_backoffs() {
        let firsts: std::collections::HashSet<_> = (0..20)
            .filter_map(|_| DefaultBackoff::default().next())
            .collect();
        assert!(
            firsts.len() > 1,
            "every backoff started with the same delay: no jitter"
        );
    }

    /// How long the stream takes to yield its next item, which was sent already.
    async fn wait_for_next<S: futures::Stream + Unpin>(stream: &mut S) -> (S::Item, Duration) {
        let start = tokio::time::Instant::now();
        let item = futures::StreamExt::next(stream).await.expect("an item");
        (item, start.elapsed())
    }

    fn within(delay: Duration, from_ms: u64, to_ms: u64) -> bool {
        delay >= Duration::from_millis(from_ms) && delay < Duration::from_millis(to_ms)
    }

    #[tokio::test(start_paused = true)]
    async fn default_backoff_grows_with_jitter_and_resets_after_a_quiet_success() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<u8, &str>>();
        let mut stream = Box::pin(crate::utils::StreamBackoff::new(
            rx,
            DefaultBackoff::default(),
        ));
        let send = |item| tx.unbounded_send(item).expect("open");

        send(Err("e1"));
        assert_eq!(
            wait_for_next(&mut stream).await,
            (Err("e1"), Duration::ZERO)
        );
        let mut waits = Vec::new();
        for item in [Err("e2"), Err("e3"), Ok(1)] {
            send(item);
            waits.push(wait_for_next(&mut stream).await.1);
        }
        // 0.8 s doubling, each delay plus up to itself of jitter.
        assert!(within(waits[0], 800, 1600), "{waits:?}");
        assert!(within(waits[1], 1600, 3200), "{waits:?}");
        assert!(within(waits[2], 3200, 6400), "{waits:?}");

        // A success right after failures does not reset: a watch that fails
        // again at once keeps slowing down.
        send(Err("e4"));
        assert_eq!(wait_for_next(&mut stream).await.1, Duration::ZERO);
        send(Ok(2));
        let (_, wait) = wait_for_next(&mut stream).await;
        assert!(within(wait, 6400, 12800), "{wait:?}");

        // Short of the quiet period, the delays keep growing.
        tokio::time::sleep(DefaultBackoff::QUIET_RESET / 2).await;
        send(Ok(3));
        assert_eq!(wait_for_next(&mut stream).await, (Ok(3), Duration::ZERO));
        send(Err("e4b"));
        assert_eq!(wait_for_next(&mut stream).await.1, Duration::ZERO);
        send(Ok(3));
        let (_, wait) = wait_for_next(&mut stream).await;
        assert!(within(wait, 12800, 25600), "{wait:?}");

        // A success after a quiet period starts the delays over.
        tokio::time::sleep(DefaultBackoff::QUIET_RESET + Duration::from_secs(1)).await;
        send(Ok(3));
        assert_eq!(wait_for_next(&mut stream).await, (Ok(3), Duration::ZERO));
        send(Err("e5"));
        assert_eq!(wait_for_next(&mut stream).await.1, Duration::ZERO);
        send(Ok(4));
        let (_, wait) = wait_for_next(&mut stream).await;
        assert!(within(wait, 800, 1600), "{wait:?}");
    }
}
