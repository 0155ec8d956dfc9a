//! The backoff abstraction: an endless (or finite) sequence of delays that can
//! start over.

use std::time::Duration;

use tokio::time::Instant;

/// Delays between retries. `next()` returning `None` means: give up.
pub trait Backoff: Iterator<Item = Duration> + Send + Sync + Unpin {
    /// Starts the sequence over, after a success.
    fn reset(&mut self);
}

impl<B: Backoff + ?Sized> Backoff for Box<B> {
    fn reset(&mut self) {
        (**self).reset();
    }
}

/// A backoff whose resets only take effect once `reset_duration` has passed since
/// the last delay was handed out.
///
/// A stream that fails, recovers for a moment and fails again would otherwise
/// retry at the shortest delay forever.
#[derive(Debug, Clone)]
pub struct ResetTimerBackoff<B: Backoff> {
    backoff: B,
    last_delay_at: Option<Instant>,
    reset_duration: Duration,
}

impl<B: Backoff> ResetTimerBackoff<B> {
    /// Wraps `backoff`, honouring resets only after `reset_duration` without delays.
    pub fn new(backoff: B, reset_duration: Duration) -> Self {
        Self {
            backoff,
            last_delay_at: None,
            reset_duration,
        }
    }
}

impl<B: Backoff> Iterator for ResetTimerBackoff<B> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.last_delay_at = Some(Instant::now());
        self.backoff.next()
    }
}

impl<B: Backoff> Backoff for ResetTimerBackoff<B> {
    fn reset(&mut self) {
        // Without a delay handed out since the last reset there is nothing to
        // undo; streams reset after every item, so this stays cheap.
        if let Some(at) = self.last_delay_at
            && at.elapsed() >= self.reset_duration
        {
            self.backoff.reset();
            self.last_delay_at = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watcher::ExponentialBackoff;

    fn fixed() -> ExponentialBackoff {
        ExponentialBackoff::new(Duration::from_secs(1), Duration::from_secs(60), 2.0, false)
    }

    #[tokio::test(start_paused = true)]
    async fn resets_only_after_a_quiet_period() {
        let mut backoff = ResetTimerBackoff::new(fixed(), Duration::from_secs(10));
        assert_eq!(backoff.next(), Some(Duration::from_secs(1)));
        assert_eq!(backoff.next(), Some(Duration::from_secs(2)));
        backoff.reset();
        assert_eq!(
            backoff.next(),
            Some(Duration::from_secs(4)),
            "too soon to reset"
        );
        tokio::time::advance(Duration::from_secs(11)).await;
        backoff.reset();
        assert_eq!(
            backoff.next(),
            Some(Duration::from_secs(1)),
            "quiet long enough"
        );
    }
}
