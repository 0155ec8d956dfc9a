//! The runner: executes due messages with bounded concurrency, never two for the
//! same message at once.
//!
//! The runner pulls due messages from a [`Scheduler`] and starts one execution
//! per message. While a message executes, the scheduler holds further requests
//! for it (they merge into one due entry), so the same object is never handled
//! twice concurrently, and a change arriving mid-execution is handled once more
//! right after. When `max_concurrent_executions` are running, every due message
//! waits.
//!
//! The runner is generic over the execution future, so executions are stored
//! inline in a [`FuturesUnordered`] without boxing, and the runner is `Send`
//! exactly when its parts are.

use std::{
    collections::HashSet,
    convert::Infallible,
    future::Future,
    hash::Hash,
    hash::{BuildHasher, RandomState},
    pin::Pin,
    task::{Context, Poll},
};

use futures::{
    FutureExt, Stream, StreamExt,
    future::{self, Fuse},
    stream::FuturesUnordered,
};
use pin_project::pin_project;
use thiserror::Error;

use tokio::time::Instant;

use super::pace::Pace;
use crate::scheduler::{ScheduleRequest, Scheduler};

/// Why a runner stopped early.
#[derive(Debug, Error)]
pub enum Error<ReadyErr> {
    /// The condition it waited for before starting work failed.
    #[error("the runner's readiness condition failed: {0}")]
    Readiness(#[source] ReadyErr),
}

/// One execution, remembering the fingerprint of the message it runs for.
#[pin_project]
struct Execution<F> {
    fingerprint: u64,
    #[pin]
    future: F,
}

impl<F: Future> Future for Execution<F> {
    type Output = (u64, F::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = futures::ready!(this.future.poll(cx));
        Poll::Ready((*this.fingerprint, output))
    }
}

/// Runs due messages; each item of the stream is one finished execution.
#[pin_project]
#[must_use = "streams do nothing unless polled"]
pub(crate) struct Runner<
    T,
    R,
    F,
    MkF,
    Ready = future::Ready<Result<(), Infallible>>,
    Stop = future::Pending<()>,
> {
    #[pin]
    scheduler: Scheduler<T, R>,
    run_msg: MkF,
    running: FuturesUnordered<Execution<F>>,
    /// Fingerprints of the messages of `running`, for the scheduler's hold.
    ///
    /// Keeping a fingerprint rather than the message saves a copy of every
    /// message run. Two messages sharing a fingerprint only makes the second
    /// wait for the first to finish: never two runs of one message at once.
    in_flight: HashSet<u64>,
    fingerprints: RandomState,
    max_concurrent_executions: u16,
    /// Paces the starts, when a rate limit is set.
    pace: Pace,
    /// Work starts only once this completes (e.g. the store is filled).
    #[pin]
    ready: Fuse<Ready>,
    is_ready: bool,
    /// After this completes, no new execution starts.
    #[pin]
    stop: Fuse<Stop>,
    stopping: bool,
    /// Set once the stream has ended (or failed for good).
    finished: bool,
}

impl<T, R, F, MkF> Runner<T, R, F, MkF>
where
    T: Eq + Hash + Clone,
    R: Stream<Item = ScheduleRequest<T>>,
    MkF: FnMut(&T, Instant) -> F,
    F: Future,
{
    /// A runner over `scheduler`, starting `run_msg(&message, due_since)` for
    /// each due message (`due_since`: when it became due); `0` means no
    /// concurrency limit.
    pub(crate) fn new(
        scheduler: Scheduler<T, R>,
        max_concurrent_executions: u16,
        run_msg: MkF,
    ) -> Self {
        Self {
            scheduler,
            run_msg,
            running: FuturesUnordered::new(),
            in_flight: HashSet::new(),
            fingerprints: RandomState::new(),
            max_concurrent_executions,
            pace: Pace::default(),
            ready: future::ready(Ok(())).fuse(),
            is_ready: false,
            stop: future::pending().fuse(),
            stopping: false,
            finished: false,
        }
    }
}

impl<T, R, F, MkF, Ready, Stop> Runner<T, R, F, MkF, Ready, Stop> {
    /// Starts executions only as `pace` allows.
    pub(crate) fn paced_by(mut self, pace: Pace) -> Self {
        self.pace = pace;
        self
    }

    /// Starts nothing until `ready` completes; requests are absorbed (and merged)
    /// meanwhile. If it fails, the runner yields the error and ends.
    pub(crate) fn delay_tasks_until<NewReady, ReadyErr>(
        self,
        ready: NewReady,
    ) -> Runner<T, R, F, MkF, NewReady, Stop>
    where
        NewReady: Future<Output = Result<(), ReadyErr>>,
    {
        Runner {
            scheduler: self.scheduler,
            run_msg: self.run_msg,
            running: self.running,
            in_flight: self.in_flight,
            fingerprints: self.fingerprints,
            max_concurrent_executions: self.max_concurrent_executions,
            pace: self.pace,
            ready: ready.fuse(),
            is_ready: false,
            stop: self.stop,
            stopping: self.stopping,
            finished: self.finished,
        }
    }

    /// Stops starting new executions once `stop` completes; the stream ends
    /// when the running ones have finished.
    pub(crate) fn stop_on<NewStop: Future<Output = ()>>(
        self,
        stop: NewStop,
    ) -> Runner<T, R, F, MkF, Ready, NewStop> {
        Runner {
            scheduler: self.scheduler,
            run_msg: self.run_msg,
            running: self.running,
            in_flight: self.in_flight,
            fingerprints: self.fingerprints,
            max_concurrent_executions: self.max_concurrent_executions,
            pace: self.pace,
            ready: self.ready,
            is_ready: self.is_ready,
            stop: stop.fuse(),
            stopping: self.stopping,
            finished: self.finished,
        }
    }

    /// How many messages are scheduled or due, not yet running.
    #[cfg(test)]
    pub(crate) fn queue_len(&self) -> usize
    where
        T: Eq + Hash + Clone,
        R: Stream<Item = ScheduleRequest<T>>,
    {
        self.scheduler.len()
    }

    /// How many messages are due and not yet running, and how many have
    /// become due in all.
    pub(crate) fn due(&self) -> (usize, u64)
    where
        T: Eq + Hash + Clone,
        R: Stream<Item = ScheduleRequest<T>>,
    {
        (self.scheduler.due_len(), self.scheduler.became_due())
    }

    /// How many executions are running.
    #[cfg(test)]
    pub(crate) fn running_len(&self) -> usize {
        self.running.len()
    }
}

impl<T, R, F, MkF, Ready, ReadyErr, Stop> Stream for Runner<T, R, F, MkF, Ready, Stop>
where
    T: Eq + Hash + Clone,
    R: Stream<Item = ScheduleRequest<T>>,
    MkF: FnMut(&T, Instant) -> F,
    F: Future,
    Ready: Future<Output = Result<(), ReadyErr>>,
    Stop: Future<Output = ()>,
{
    type Item = Result<F::Output, Error<ReadyErr>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.finished {
            return Poll::Ready(None);
        }
        if !*this.is_ready {
            match this.ready.as_mut().poll(cx) {
                Poll::Ready(Ok(())) => *this.is_ready = true,
                Poll::Ready(Err(err)) => {
                    *this.finished = true;
                    return Poll::Ready(Some(Err(Error::Readiness(err))));
                }
                Poll::Pending => {
                    // Keep absorbing requests meanwhile, so none is lost and
                    // duplicates merge.
                    let _ = this.scheduler.as_mut().poll_next_due(cx, |_| false);
                    return Poll::Pending;
                }
            }
        }
        if !*this.stopping && this.stop.as_mut().poll(cx).is_ready() {
            *this.stopping = true;
        }
        loop {
            if let Poll::Ready(Some((fingerprint, output))) = this.running.poll_next_unpin(cx) {
                this.in_flight.remove(&fingerprint);
                return Poll::Ready(Some(Ok(output)));
            }
            if *this.stopping {
                if this.running.is_empty() {
                    *this.finished = true;
                    return Poll::Ready(None);
                }
                return Poll::Pending;
            }
            let has_slot = *this.max_concurrent_executions == 0
                || this.in_flight.len() < usize::from(*this.max_concurrent_executions);
            // A token is looked for only with a slot free, so that it is not
            // earned and then left waiting; its timer wakes this task.
            let may_start = has_slot && this.pace.poll_token(cx).is_ready();
            let next = if may_start {
                let (in_flight, fingerprints) = (&*this.in_flight, &*this.fingerprints);
                this.scheduler.as_mut().poll_next_due(cx, |message| {
                    !in_flight.contains(&fingerprints.hash_one(message))
                })
            } else {
                // Keep absorbing requests, emitting nothing until a slot frees
                // (the running executions wake this task when they finish)
                // and a token is earned.
                this.scheduler.as_mut().poll_next_due(cx, |_| false)
            };
            match next {
                Poll::Ready(Some((message, due_since))) => {
                    this.pace.take_token();
                    let fingerprint = this.fingerprints.hash_one(&message);
                    let future = (this.run_msg)(&message, due_since);
                    this.in_flight.insert(fingerprint);
                    this.running.push(Execution {
                        fingerprint,
                        future,
                    });
                }
                Poll::Ready(None) if this.running.is_empty() => {
                    *this.finished = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            Arc, Mutex,
            atomic::{AtomicUsize, Ordering},
        },
        time::Duration,
    };

    use futures::{SinkExt, channel::mpsc, future, poll};
    use tokio::time::{Instant, sleep};

    use super::*;
    use crate::scheduler::{debounced_scheduler, scheduler};

    fn now(message: &'static str) -> ScheduleRequest<&'static str> {
        ScheduleRequest {
            message,
            run_at: Instant::now(),
        }
    }

    /// Counts executions running at once, and the most seen.
    #[derive(Clone, Default)]
    struct Gauge {
        active: Arc<AtomicUsize>,
        peak: Arc<AtomicUsize>,
        finished: Arc<AtomicUsize>,
    }

    impl Gauge {
        /// An execution that takes `secs` seconds, counted by the gauge.
        fn execution(&self, secs: u64) -> impl Future<Output = usize> + use<> {
            let gauge = self.clone();
            async move {
                let active = gauge.active.fetch_add(1, Ordering::SeqCst) + 1;
                gauge.peak.fetch_max(active, Ordering::SeqCst);
                sleep(Duration::from_secs(secs)).await;
                gauge.active.fetch_sub(1, Ordering::SeqCst);
                gauge.finished.fetch_add(1, Ordering::SeqCst)
            }
        }

        fn peak(&self) -> usize {
            self.peak.load(Ordering::SeqCst)
        }

        fn finished(&self) -> usize {
            self.finished.load(Ordering::SeqCst)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn never_runs_one_message_concurrently_with_itself() {
        let (mut tx, rx) = mpsc::unbounded();
        let gauge = Gauge::default();
        let mut runner = Box::pin(Runner::new(scheduler(rx), 10, {
            let gauge = gauge.clone();
            move |_: &&str, _| gauge.execution(1)
        }));
        tx.send(now("obj")).await.expect("open");
        assert!(
            poll!(runner.next()).is_pending(),
            "the first run is in flight"
        );
        for _ in 0..3 {
            tx.send(now("obj")).await.expect("open");
            assert!(poll!(runner.next()).is_pending());
        }
        drop(tx);
        let outputs: Vec<_> = runner.map(|r| r.ok()).collect().await;
        assert_eq!(outputs, [Some(0), Some(1)]);
        assert_eq!(gauge.peak(), 1, "the object ran alone each time");
    }

    #[tokio::test(start_paused = true)]
    async fn trigger_during_a_run_reruns_once_right_after() {
        let (mut tx, rx) = mpsc::unbounded();
        let starts = Arc::new(Mutex::new(Vec::new()));
        let origin = Instant::now();
        let mut runner = Box::pin(Runner::new(scheduler(rx), 0, {
            let starts = starts.clone();
            move |_: &&str, _| {
                starts
                    .lock()
                    .expect("lock")
                    .push(origin.elapsed().as_secs());
                sleep(Duration::from_secs(10))
            }
        }));
        tx.send(now("obj")).await.expect("open");
        assert!(poll!(runner.next()).is_pending());
        tokio::time::advance(Duration::from_secs(3)).await;
        // Two triggers mid-run: they merge into a single rerun.
        tx.send(now("obj")).await.expect("open");
        tx.send(now("obj")).await.expect("open");
        drop(tx);
        assert_eq!(runner.as_mut().count().await, 2);
        assert_eq!(
            *starts.lock().expect("lock"),
            [0, 10],
            "the rerun starts as the first run ends"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_bound_is_respected() {
        let gauge = Gauge::default();
        let messages: Vec<_> = ["a", "b", "c", "d", "e", "f"]
            .into_iter()
            .map(now)
            .collect();
        let runner = Runner::new(scheduler(futures::stream::iter(messages)), 2, {
            let gauge = gauge.clone();
            move |_: &&str, _| gauge.execution(1)
        });
        assert_eq!(runner.count().await, 6);
        assert_eq!(gauge.peak(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_no_concurrency_limit() {
        let gauge = Gauge::default();
        let messages: Vec<_> = ["a", "b", "c", "d", "e", "f"]
            .into_iter()
            .map(now)
            .collect();
        let runner = Runner::new(scheduler(futures::stream::iter(messages)), 0, {
            let gauge = gauge.clone();
            move |_: &&str, _| gauge.execution(1)
        });
        assert_eq!(runner.count().await, 6);
        assert_eq!(gauge.peak(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn requests_merge_while_every_slot_is_busy() {
        let (mut tx, rx) = mpsc::unbounded();
        let started = Arc::new(Mutex::new(Vec::new()));
        let mut runner = Box::pin(Runner::new(scheduler(rx), 1, {
            let started = started.clone();
            move |m: &&str, _| {
                started.lock().expect("lock").push(*m);
                sleep(Duration::from_secs(1))
            }
        }));
        tx.send(now("a")).await.expect("open");
        assert!(poll!(runner.next()).is_pending());
        for _ in 0..5 {
            tx.send(now("b")).await.expect("open");
        }
        assert!(poll!(runner.next()).is_pending());
        assert_eq!(runner.queue_len(), 1, "five requests for b wait as one");
        drop(tx);
        assert_eq!(runner.as_mut().count().await, 2);
        assert_eq!(*started.lock().expect("lock"), ["a", "b"]);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_for_readiness_without_losing_requests() {
        let (ready_tx, ready_rx) = futures::channel::oneshot::channel::<()>();
        let started = Arc::new(Mutex::new(Vec::new()));
        let runner = Runner::new(
            scheduler(futures::stream::iter([now("a"), now("b"), now("a")])),
            0,
            {
                let started = started.clone();
                move |m: &&str, _| {
                    started.lock().expect("lock").push(*m);
                    future::ready(())
                }
            },
        )
        .delay_tasks_until(async move { ready_rx.await.map_err(|_| "readiness sender dropped") });
        let mut runner = Box::pin(runner);
        assert!(poll!(runner.next()).is_pending());
        assert!(
            started.lock().expect("lock").is_empty(),
            "nothing runs before readiness"
        );
        assert_eq!(
            runner.queue_len(),
            2,
            "requests were absorbed and merged meanwhile"
        );
        ready_tx.send(()).expect("receiver alive");
        assert_eq!(runner.as_mut().count().await, 2);
        assert_eq!(*started.lock().expect("lock"), ["a", "b"]);
    }

    #[tokio::test(start_paused = true)]
    async fn readiness_failure_is_reported_and_ends_the_runner() {
        let runner = Runner::new(
            scheduler(futures::stream::iter([now("a")])),
            0,
            |_: &&str, _| future::ready(()),
        )
        .delay_tasks_until(future::ready(Err::<(), _>("store writer dropped")));
        let outcomes: Vec<_> = runner.collect().await;
        assert!(
            matches!(
                outcomes[..],
                [Err(Error::Readiness("store writer dropped"))]
            ),
            "{outcomes:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn graceful_stop_lets_running_executions_finish() {
        let (mut tx, rx) = mpsc::unbounded();
        let (stop_tx, stop_rx) = futures::channel::oneshot::channel::<()>();
        let gauge = Gauge::default();
        let runner = Runner::new(scheduler(rx), 0, {
            let gauge = gauge.clone();
            move |_: &&str, _| gauge.execution(5)
        })
        .stop_on(async move {
            let _ = stop_rx.await;
        });
        let mut runner = Box::pin(runner);
        tx.send(now("in-flight")).await.expect("open");
        assert!(poll!(runner.next()).is_pending());
        assert_eq!(runner.running_len(), 1);
        stop_tx.send(()).expect("runner alive");
        // Requests after the stop are not started.
        tx.send(now("late")).await.expect("open");
        assert!(
            runner.next().await.is_some(),
            "the in-flight execution completes"
        );
        assert!(runner.next().await.is_none(), "then the runner ends");
        assert_eq!(gauge.finished(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn ends_when_the_scheduler_is_drained() {
        let runner = Runner::new(
            debounced_scheduler(
                futures::stream::iter([now("a"), now("b")]),
                Duration::from_secs(1),
            ),
            0,
            |_: &&str, _| future::ready(()),
        );
        assert_eq!(runner.count().await, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_spaces_the_starts() {
        use kube_client::client::rate_limit::RateLimit;

        let origin = Instant::now();
        let starts = Arc::new(Mutex::new(Vec::new()));
        let messages: Vec<_> = ["a", "b", "c", "d"].into_iter().map(now).collect();
        let runner = Runner::new(scheduler(futures::stream::iter(messages)), 0, {
            let starts = starts.clone();
            move |_: &&str, _| {
                starts
                    .lock()
                    .expect("lock")
                    .push(origin.elapsed().as_millis());
                future::ready(())
            }
        })
        .paced_by(Pace::limited(RateLimit::new(2.0, 1).expect("valid")));
        assert_eq!(runner.count().await, 4);
        assert_eq!(*starts.lock().expect("lock"), [0, 500, 1000, 1500]);
    }

    #[tokio::test(start_paused = true)]
    async fn executions_are_told_when_their_message_became_due() {
        let origin = Instant::now();
        let waited = Arc::new(Mutex::new(Vec::new()));
        let messages = vec![
            now("one"),
            now("other"),
            ScheduleRequest {
                message: "later",
                run_at: origin + Duration::from_secs(1),
            },
        ];
        // One at a time, each taking 2 s: the second waits 2 s, "later" 3 s.
        let runner = Runner::new(scheduler(futures::stream::iter(messages)), 1, {
            let waited = waited.clone();
            move |_: &&str, due_since: Instant| {
                waited.lock().expect("lock").push((
                    due_since.duration_since(origin).as_secs(),
                    due_since.elapsed().as_secs(),
                ));
                sleep(Duration::from_secs(2))
            }
        });
        assert_eq!(runner.count().await, 3);
        // (due at, waited): which of the two due at once goes first is the
        // timer's choice.
        assert_eq!(*waited.lock().expect("lock"), [(0, 0), (0, 2), (1, 3)]);
    }
}
