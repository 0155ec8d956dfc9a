//! Pacing a fallible stream: wait before polling again after an error.

use std::{
    pin::Pin,
    task::{Context, Poll, ready},
};

use futures::{Stream, TryStream};
use pin_project::pin_project;
use tokio::time::{Sleep, sleep};

use super::Backoff;

/// Wraps a stream of `Result`s so that after each `Err` it waits the backoff's
/// next delay before polling the inner stream again, and starts the backoff over
/// after each `Ok`. When the backoff runs out, the stream ends after the error.
///
/// Errors are passed through unchanged: the consumer still sees every one.
#[pin_project]
#[must_use = "streams do nothing unless polled"]
pub struct StreamBackoff<S, B> {
    #[pin]
    stream: S,
    backoff: B,
    #[pin]
    state: State,
}

#[pin_project(project = StateProj)]
enum State {
    /// Poll the inner stream.
    Ready,
    /// Wait before polling it again.
    Waiting(#[pin] Sleep),
    /// The backoff gave up.
    GaveUp,
}

impl<S: TryStream, B: Backoff> StreamBackoff<S, B> {
    /// Paces `stream` with `backoff`.
    pub fn new(stream: S, backoff: B) -> Self {
        Self {
            stream,
            backoff,
            state: State::Ready,
        }
    }
}

impl<S: TryStream, B: Backoff> Stream for StreamBackoff<S, B> {
    type Item = Result<S::Ok, S::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        match this.state.as_mut().project() {
            StateProj::GaveUp => return Poll::Ready(None),
            StateProj::Waiting(delay) => {
                ready!(delay.poll(cx));
                this.state.set(State::Ready);
            }
            StateProj::Ready => {}
        }
        let item = ready!(this.stream.try_poll_next(cx));
        match &item {
            Some(Ok(_)) => this.backoff.reset(),
            Some(Err(_)) => match this.backoff.next() {
                Some(delay) => {
                    tracing::debug!(?delay, "stream failed; waiting before retrying");
                    this.state.set(State::Waiting(sleep(delay)));
                }
                None => this.state.set(State::GaveUp),
            },
            None => {}
        }
        Poll::Ready(item)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::{StreamExt, stream};
    use tokio::time::Instant;

    use super::*;
    use crate::watcher::ExponentialBackoff;

    #[tokio::test(start_paused = true)]
    async fn waits_after_errors_and_resets_after_success() {
        let items: Vec<Result<u8, &str>> = vec![Err("a"), Err("b"), Ok(1), Err("c"), Ok(2)];
        let backoff =
            ExponentialBackoff::new(Duration::from_secs(1), Duration::from_secs(60), 2.0, false);
        let start = Instant::now();
        let timed: Vec<_> = StreamBackoff::new(stream::iter(items), backoff)
            .map(|item| (item, start.elapsed().as_secs()))
            .collect()
            .await;
        assert_eq!(
            timed,
            [
                (Err("a"), 0),
                (Err("b"), 1),
                (Ok(1), 3),
                (Err("c"), 3),
                (Ok(2), 4)
            ],
            "1 s after the first error, 2 s after the second, 1 s again after a success"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn ends_when_the_backoff_gives_up() {
        struct Twice(u8);
        impl Iterator for Twice {
            type Item = Duration;
            fn next(&mut self) -> Option<Duration> {
                self.0 += 1;
                (self.0 <= 2).then_some(Duration::from_millis(10))
            }
        }
        impl Backoff for Twice {
            fn reset(&mut self) {
                self.0 = 0;
            }
        }
        let errors = stream::repeat(Err::<(), _>("down"));
        let seen: Vec<_> = StreamBackoff::new(errors, Twice(0)).collect().await;
        assert_eq!(
            seen.len(),
            3,
            "two retries, then the third error ends the stream"
        );
    }
}
