//! Pacing a fallible stream: wait before polling again after an error.

use std::{
    any::Any,
    pin::Pin,
    task::{Context, Poll, ready},
    time::Duration,
};

use futures::{Stream, TryStream};
use pin_project::pin_project;
use tokio::time::{Instant, Sleep, sleep};

use super::Backoff;

/// Wraps a stream of `Result`s so that after each `Err` it waits the backoff's
/// next delay before polling the inner stream again, and asks the backoff to
/// start over after each `Ok`. When the backoff runs out, the stream ends
/// after the error.
///
/// A watcher's `410 Gone` is the exception: its resource version expired and
/// it lists again, which is the remedy, so waiting would only leave its
/// consumers further behind — and a watch resumed after a long wait is more
/// likely to find its version expired again. Such an error is passed on
/// without waiting and without growing the delays, unless the previous one
/// came less than 10 s before (a watcher that keeps falling behind at once is
/// paced like any failure).
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
    /// When the last relist went through without waiting.
    last_relist: Option<Instant>,
}

/// A watcher's relists after `410 Gone` go through without waiting at most
/// once per this long.
pub(crate) const RELIST_SPACING: Duration = Duration::from_secs(10);

/// Whether `error` is a watcher's `410 Gone`, after which it lists again.
/// The wrapper takes any error type, and only a watcher's can mean this, so
/// it looks for one by type.
fn means_relist(error: &dyn Any) -> bool {
    error
        .downcast_ref::<crate::watcher::Error>()
        .is_some_and(crate::watcher::Error::means_relist)
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
            last_relist: None,
        }
    }
}

impl<S: TryStream, B: Backoff> Stream for StreamBackoff<S, B>
where
    S::Error: 'static,
{
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
            Some(Err(error))
                if means_relist(error)
                    && this
                        .last_relist
                        .is_none_or(|at| at.elapsed() >= RELIST_SPACING) =>
            {
                tracing::debug!("the watcher fell behind and lists again; not waiting");
                *this.last_relist = Some(Instant::now());
            }
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
    async fn a_watcher_that_fell_behind_relists_without_waiting() {
        use crate::watcher::Error;
        let gone = || {
            let status = kube_client::core::Status::failure("too old resource version", "Expired")
                .with_code(410);
            Err::<u8, _>(Error::WatchError(Box::new(status)))
        };
        let failed = || Err::<u8, _>(Error::NoResourceVersion);
        let items = vec![failed(), gone(), failed(), gone(), Ok(1)];
        let backoff =
            ExponentialBackoff::new(Duration::from_secs(1), Duration::from_secs(60), 2.0, false);
        let start = Instant::now();
        let timed: Vec<_> = StreamBackoff::new(stream::iter(items), backoff)
            .map(|item| (item.is_ok(), start.elapsed().as_secs()))
            .collect()
            .await;
        assert_eq!(
            timed,
            [(false, 0), (false, 1), (false, 1), (false, 3), (true, 7)],
            "a failure waits 1 s; the first 410 does not wait and leaves the delays as \
             they were (the next failure waits 2 s); a second 410 within the spacing \
             is paced like a failure (4 s)"
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
