//! Pacing the starts of reconciles by a token bucket: a controller's overall
//! reconcile rate limit.

use std::{
    pin::Pin,
    task::{Context, Poll, ready},
};

use kube_client::client::rate_limit::{RateLimit, TokenBucket};
use tokio::time::{Instant, Sleep, sleep_until};

use crate::scheduler::due_after;

/// Lets a reconcile start only with a token of its bucket; without a bucket,
/// every start may go.
#[derive(Debug, Default)]
pub(crate) struct Pace {
    bucket: Option<TokenBucket>,
    /// Wakes the runner when the next token is earned.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Pace {
    /// At most `limit` starts: a burst, then `qps` a second.
    pub(crate) fn limited(limit: RateLimit) -> Self {
        Self {
            bucket: Some(TokenBucket::new(limit)),
            timer: None,
        }
    }

    /// Ready when a token is there to take; otherwise wakes the task once it
    /// has been earned.
    pub(crate) fn poll_token(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(bucket) = &mut self.bucket else {
            return Poll::Ready(());
        };
        loop {
            let wait = bucket.time_to_next_token();
            if wait.is_zero() {
                self.timer = None;
                return Poll::Ready(());
            }
            let deadline: Instant = due_after(wait);
            let timer = self
                .timer
                .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
            if timer.deadline() != deadline {
                timer.as_mut().reset(deadline);
            }
            ready!(timer.as_mut().poll(cx));
        }
    }

    /// Takes the token of a start; call once [`poll_token`](Self::poll_token)
    /// was ready.
    pub(crate) fn take_token(&mut self) {
        if let Some(bucket) = &mut self.bucket {
            bucket.reserve();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{future::poll_fn, time::Duration};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn without_a_limit_every_start_may_go() {
        let mut pace = Pace::default();
        for _ in 0..1000 {
            poll_fn(|cx| pace.poll_token(cx)).await;
            pace.take_token();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn starts_beyond_the_burst_wait_for_the_rate() {
        let mut pace = Pace::limited(RateLimit::new(10.0, 2).expect("valid"));
        let origin = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..5 {
            poll_fn(|cx| pace.poll_token(cx)).await;
            pace.take_token();
            starts.push(origin.elapsed().as_millis());
        }
        assert_eq!(starts, [0, 0, 100, 200, 300]);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(
            poll_fn(|cx| Poll::Ready(pace.poll_token(cx).is_ready())).await,
            "tokens are earned back while idle"
        );
    }
}
