//! The applier: the engine under [`Controller`](super::Controller).
//!
//! ```text
//! queue (triggers) ─┐
//!                   ├─> scheduler ─> runner ─> reconcile ─> outcome ─┐
//! requeues ─────────┘                                                │
//!     ^──────────────── action.requeue_after ────────────────────────┘
//! ```
//!
//! Queue errors cannot travel through the scheduler (it carries requests, not
//! results), so they are passed to the output on a side channel.

use std::{
    fmt::Debug,
    future::Future,
    hash::Hash,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use futures::{
    FutureExt, Stream, StreamExt, TryFuture, TryFutureExt, TryStream, TryStreamExt,
    channel::{mpsc, oneshot},
    future::{self, Either},
    stream,
};
use kube_client::core::Resource;
use pin_project::pin_project;
use tokio::time::Instant;
use tracing::Instrument;

pub(crate) use super::instruments::Instruments;
use super::{
    Action, Config, Error, ReconcileReason, ReconcileRequest,
    backoff::{Failures, with_consecutive_failures},
    instruments::{Outcome, Started},
    pace::Pace,
    runner::Runner,
};
use crate::{
    reflector::{ObjectRef, Store, store::WriterDropped},
    scheduler::{ScheduleRequest, debounced_scheduler, due_after},
};

/// Reconciles the objects of `store` as `queue` requests them: the engine under
/// [`Controller`](super::Controller), for callers who build their own trigger
/// stream.
///
/// Each request is scheduled (merged, debounced), then run with the store's
/// latest version of the object, at most `config.concurrency` at a time (and
/// as `config`'s rate limit allows) and never twice at once for one object.
/// The action returned by `reconciler` (or by `error_policy` after a failure,
/// lengthened by `config`'s error backoff) schedules the next reconcile.
/// Nothing runs before the store has completed its first list. Queue errors
/// are passed through.
///
/// The stream ends once `queue` has ended and everything scheduled by then has
/// run; requeues asked for after the queue ended are dropped.
#[allow(clippy::type_complexity)]
pub fn applier<K, QueueStream, ReconcilerFut, Ctx>(
    reconciler: impl FnMut(Arc<K>, Arc<Ctx>) -> ReconcilerFut,
    error_policy: impl Fn(Arc<K>, &ReconcilerFut::Error, Arc<Ctx>) -> Action,
    context: Arc<Ctx>,
    store: Store<K>,
    queue: QueueStream,
    config: Config,
) -> impl Stream<Item = Result<(ObjectRef<K>, Action), Error<ReconcilerFut::Error, QueueStream::Error>>>
where
    K: Clone + Resource + 'static,
    K::DynamicType: Debug + Eq + Hash + Clone + Unpin,
    ReconcilerFut: TryFuture<Ok = Action>,
    ReconcilerFut::Error: std::error::Error + 'static,
    QueueStream: TryStream,
    QueueStream::Ok: Into<ReconcileRequest<K>>,
    QueueStream::Error: std::error::Error + 'static,
{
    applier_with(
        reconciler,
        error_policy,
        context,
        store,
        queue,
        config,
        future::pending(),
        Instruments::default(),
    )
}

/// How one scheduled reconcile ended, before the error policy and requeue.
enum Finished<K: Resource, R> {
    /// The object was not in the store.
    Missing {
        obj_ref: ObjectRef<K>,
        due_since: Instant,
    },
    /// The reconcile ran.
    Ran {
        obj_ref: ObjectRef<K>,
        obj: Arc<K>,
        result: R,
        started: Started,
    },
}

/// [`applier`] with a graceful stop signal (once it completes, no new reconcile
/// starts and the stream ends when the running ones have finished) and
/// instruments.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(crate) fn applier_with<K, QueueStream, ReconcilerFut, Ctx>(
    mut reconciler: impl FnMut(Arc<K>, Arc<Ctx>) -> ReconcilerFut,
    error_policy: impl Fn(Arc<K>, &ReconcilerFut::Error, Arc<Ctx>) -> Action,
    context: Arc<Ctx>,
    store: Store<K>,
    queue: QueueStream,
    config: Config,
    stop: impl Future<Output = ()>,
    instruments: Instruments,
) -> impl Stream<Item = Result<(ObjectRef<K>, Action), Error<ReconcilerFut::Error, QueueStream::Error>>>
where
    K: Clone + Resource + 'static,
    K::DynamicType: Debug + Eq + Hash + Clone + Unpin,
    ReconcilerFut: TryFuture<Ok = Action>,
    ReconcilerFut::Error: std::error::Error + 'static,
    QueueStream: TryStream,
    QueueStream::Ok: Into<ReconcileRequest<K>>,
    QueueStream::Error: std::error::Error + 'static,
{
    let (requeue_tx, requeue_rx) = mpsc::unbounded::<ScheduleRequest<ReconcileRequest<K>>>();
    let (queue_error_tx, queue_error_rx) = mpsc::unbounded::<QueueStream::Error>();
    let (queue_done_tx, queue_done_rx) = oneshot::channel::<()>();

    // Trigger requests are due now; queue errors go to the side channel. When
    // the queue ends, requeues stop being accepted so the scheduler can drain.
    let queue_instruments = instruments.clone();
    let requests = queue
        .into_stream()
        .filter_map(move |item| {
            future::ready(match item {
                Ok(request) => Some(ScheduleRequest {
                    message: request.into(),
                    run_at: Instant::now(),
                }),
                Err(err) => {
                    queue_instruments.queue_failed();
                    // The receiver lives as long as the applier.
                    let _ = queue_error_tx.unbounded_send(err);
                    None
                }
            })
        })
        .chain(
            stream::once(async move {
                let _ = queue_done_tx.send(());
            })
            .filter_map(|()| future::ready(None)),
        );
    let requeues = requeue_rx.take_until(queue_done_rx);
    let scheduler = debounced_scheduler(stream::select(requests, requeues), config.debounce);

    let run_instruments = instruments.clone();
    let run_context = Arc::clone(&context);
    let run_store = store.clone();
    let run_reconcile = move |request: &ReconcileRequest<K>, due_since: Instant| {
        let obj_ref = request.obj_ref.clone();
        let Some(obj) = run_store.get(&obj_ref) else {
            return Either::Left(future::ready(Finished::Missing { obj_ref, due_since }));
        };
        let span = tracing::info_span!(
            "reconciling object",
            object.ref = %obj_ref,
            object.reason = %request.reason,
        );
        let started = run_instruments.reconcile_started(due_since);
        let reconcile = span.in_scope(|| reconciler(Arc::clone(&obj), Arc::clone(&run_context)));
        Either::Right(
            TryFutureExt::into_future(reconcile)
                .map(move |result| Finished::Ran {
                    obj_ref,
                    obj,
                    result,
                    started,
                })
                .instrument(span),
        )
    };

    let ready = async move { store.wait_until_ready().await };
    let pace = config.rate_limit.map_or_else(Pace::default, Pace::limited);
    let runner = Runner::new(scheduler, config.concurrency, run_reconcile)
        .paced_by(pace)
        .delay_tasks_until(ready)
        .stop_on(stop);

    let conclude_instruments = instruments.clone();
    let mut failures = Failures::new(config.error_backoff);
    let conclude = move |finished: Finished<K, Result<Action, ReconcilerFut::Error>>| match finished
    {
        Finished::Missing { obj_ref, due_since } => {
            conclude_instruments.object_missing(due_since);
            failures.forget(&obj_ref);
            Err(Error::ObjectNotFound(Box::new(obj_ref.erase())))
        }
        Finished::Ran {
            obj_ref,
            obj,
            result,
            started,
        } => {
            let (action, reason, outcome) = match &result {
                Ok(action) => {
                    failures.forget(&obj_ref);
                    let requeued = action.requeue_after().is_some();
                    (
                        action.clone(),
                        ReconcileReason::ReconcilerRequestedRetry,
                        Outcome::Succeeded { requeued },
                    )
                }
                Err(err) => {
                    let count = failures.failed(&obj_ref);
                    let policy = with_consecutive_failures(count, || {
                        error_policy(obj, err, Arc::clone(&context))
                    });
                    // The backoff lengthens the policy's requeue, never
                    // turns "do not retry" into a retry.
                    let action = match policy.requeue_after() {
                        Some(delay) => Action::requeue(delay.max(failures.retry_delay(count))),
                        None => policy,
                    };
                    let retried = action.requeue_after().is_some();
                    (
                        action,
                        ReconcileReason::ErrorPolicyRequestedRetry,
                        Outcome::Failed { retried },
                    )
                }
            };
            conclude_instruments.reconcile_finished(started, outcome);
            if let Some(delay) = action.requeue_after() {
                // Once the queue has ended nobody listens: the requeue is dropped.
                let _ = requeue_tx.unbounded_send(ScheduleRequest {
                    message: ReconcileRequest {
                        obj_ref: obj_ref.clone(),
                        reason,
                    },
                    run_at: due_after(delay),
                });
            }
            match result {
                Ok(action) => Ok((obj_ref, action)),
                Err(err) => Err(Error::ReconcilerFailed(err, Box::new(obj_ref.erase()))),
            }
        }
    };

    Applier {
        runner,
        queue_errors: queue_error_rx,
        conclude,
        instruments,
        became_due: 0,
        runner_done: false,
    }
}

/// The applier's output: concluded reconciles, with queue errors merged in.
#[pin_project]
#[must_use = "streams do nothing unless polled"]
struct Applier<T, R, F, MkF, Ready, Stop, QueueErr, Conclude> {
    #[pin]
    runner: Runner<T, R, F, MkF, Ready, Stop>,
    queue_errors: mpsc::UnboundedReceiver<QueueErr>,
    conclude: Conclude,
    instruments: Instruments,
    /// How many objects had become due at the last report.
    became_due: u64,
    runner_done: bool,
}

impl<K, R, F, MkF, Ready, Stop, QueueErr, Conclude, ReconcilerErr> Stream
    for Applier<ReconcileRequest<K>, R, F, MkF, Ready, Stop, QueueErr, Conclude>
where
    K: Resource,
    K::DynamicType: Eq + Hash + Clone,
    R: Stream<Item = ScheduleRequest<ReconcileRequest<K>>>,
    MkF: FnMut(&ReconcileRequest<K>, Instant) -> F,
    F: Future,
    Ready: Future<Output = Result<(), WriterDropped>>,
    Stop: Future<Output = ()>,
    Conclude: FnMut(F::Output) -> Result<(ObjectRef<K>, Action), Error<ReconcilerErr, QueueErr>>,
    ReconcilerErr: 'static,
    QueueErr: 'static,
{
    type Item = Result<(ObjectRef<K>, Action), Error<ReconcilerErr, QueueErr>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.runner_done {
            // Errors queued while the runner finished; nothing new can come.
            return Poll::Ready(
                this.queue_errors
                    .try_recv()
                    .ok()
                    .map(|err| Err(Error::QueueError(err))),
            );
        }
        if let Poll::Ready(Some(err)) = this.queue_errors.poll_next_unpin(cx) {
            return Poll::Ready(Some(Err(Error::QueueError(err))));
        }
        let polled = this.runner.as_mut().poll_next(cx);
        let (depth, became_due) = this.runner.due();
        this.instruments
            .queue(depth, became_due.saturating_sub(*this.became_due));
        *this.became_due = became_due;
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(finished))) => Poll::Ready(Some((this.conclude)(finished))),
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(Error::RunnerError(err)))),
            Poll::Ready(None) => {
                *this.runner_done = true;
                let next = this.queue_errors.try_recv().ok();
                Poll::Ready(next.map(|err| Err(Error::QueueError(err))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        convert::Infallible,
        pin::pin,
        sync::{
            Mutex,
            atomic::{AtomicUsize, Ordering},
        },
        time::Duration,
    };

    use futures::{StreamExt, channel::mpsc, poll};
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube_client::core::ObjectMeta;
    use tokio::time::sleep;

    use super::*;
    use crate::{
        reflector::{self, Writer},
        watcher::Event,
    };

    #[derive(Debug, thiserror::Error)]
    #[error("scripted reconcile failure")]
    struct Failed;

    fn cm(name: &str, value: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                ..ObjectMeta::default()
            },
            data: Some([("v".to_string(), value.to_string())].into()),
            ..ConfigMap::default()
        }
    }

    fn value(obj: &ConfigMap) -> String {
        obj.data
            .as_ref()
            .and_then(|d| d.get("v").cloned())
            .unwrap_or_default()
    }

    fn obj_ref(name: &str) -> ObjectRef<ConfigMap> {
        ObjectRef::new(name).within("ns")
    }

    /// A store already listed with `objects`, and its writer.
    fn listed(objects: &[ConfigMap]) -> (Store<ConfigMap>, Writer<ConfigMap>) {
        let (store, mut writer) = reflector::store();
        writer.apply_watcher_event(&Event::Init);
        for obj in objects {
            writer.apply_watcher_event(&Event::InitApply(obj.clone()));
        }
        writer.apply_watcher_event(&Event::InitDone);
        (store, writer)
    }

    /// What the reconciler saw: each call's object name, value and start time.
    #[derive(Default)]
    struct Log {
        calls: Mutex<Vec<(String, String, Duration)>>,
        active: AtomicUsize,
        peak: AtomicUsize,
    }

    impl Log {
        fn calls(&self) -> Vec<(String, String, Duration)> {
            self.calls.lock().expect("lock").clone()
        }

        fn names(&self) -> Vec<String> {
            self.calls().into_iter().map(|(name, _, _)| name).collect()
        }

        /// The millisecond each call started at.
        fn start_millis(&self) -> Vec<u128> {
            self.calls()
                .into_iter()
                .map(|(_, _, at)| at.as_millis())
                .collect()
        }

        /// The second each call started at.
        fn start_secs(&self) -> Vec<u64> {
            self.calls()
                .into_iter()
                .map(|(_, _, at)| at.as_secs())
                .collect()
        }
    }

    type Queue = mpsc::UnboundedSender<Result<ObjectRef<ConfigMap>, Infallible>>;
    type Requests = mpsc::UnboundedReceiver<Result<ObjectRef<ConfigMap>, Infallible>>;

    /// A reconciler that logs its calls, takes `secs` seconds, and returns what
    /// `decide` says for the n-th call (0-based).
    fn reconciler(
        log: Arc<Log>,
        secs: u64,
        decide: impl Fn(usize) -> Result<Action, Failed> + Clone,
    ) -> impl FnMut(Arc<ConfigMap>, Arc<()>) -> future::BoxFuture<'static, Result<Action, Failed>>
    {
        let origin = Instant::now();
        move |obj, _ctx| {
            let log = log.clone();
            let index = {
                let mut calls = log.calls.lock().expect("lock");
                let name = obj.metadata.name.clone().unwrap_or_default();
                calls.push((name, value(&obj), origin.elapsed()));
                calls.len() - 1
            };
            let result = decide(index);
            async move {
                let active = log.active.fetch_add(1, Ordering::SeqCst) + 1;
                log.peak.fetch_max(active, Ordering::SeqCst);
                sleep(Duration::from_secs(secs)).await;
                log.active.fetch_sub(1, Ordering::SeqCst);
                result
            }
            .boxed()
        }
    }

    /// What an applier over [`ConfigMap`]s yields in these tests.
    type Outcome = Result<(ObjectRef<ConfigMap>, Action), Error<Failed, Infallible>>;

    /// An applier over a store holding only `a`, reconciling as
    /// [`reconciler`] does with `secs` and `decide`: its queue, the store's
    /// writer, and the applier.
    fn reconciling_a(
        log: &Arc<Log>,
        secs: u64,
        decide: impl Fn(usize) -> Result<Action, Failed> + Clone + 'static,
        config: Config,
    ) -> (Queue, Writer<ConfigMap>, impl Stream<Item = Outcome>) {
        let (store, writer) = listed(&[cm("a", "1")]);
        let (tx, rx) = queue();
        let reconcile = reconciler(log.clone(), secs, decide);
        let applier = applier(reconcile, never_requeue, Arc::new(()), store, rx, config);
        (tx, writer, applier)
    }

    fn await_change(_: usize) -> Result<Action, Failed> {
        Ok(Action::await_change())
    }

    /// The first reconcile asks to run again after `delay`, the others wait
    /// for changes.
    fn requeue_once(delay: Duration) -> impl Fn(usize) -> Result<Action, Failed> + Clone {
        move |n| {
            Ok(if n == 0 {
                Action::requeue(delay)
            } else {
                Action::await_change()
            })
        }
    }

    fn never_requeue(_: Arc<ConfigMap>, _: &Failed, _: Arc<()>) -> Action {
        Action::await_change()
    }

    fn queue() -> (
        Queue,
        mpsc::UnboundedReceiver<Result<ObjectRef<ConfigMap>, Infallible>>,
    ) {
        mpsc::unbounded()
    }

    /// A store listed with `o0`..`o{n-1}`, and a queue that requested each
    /// of them once, then ended.
    fn all_triggered(n: usize) -> (Store<ConfigMap>, Writer<ConfigMap>, Requests) {
        let objects: Vec<_> = (0..n).map(|i| cm(&format!("o{i}"), "1")).collect();
        let (store, writer) = listed(&objects);
        let (tx, rx) = queue();
        for i in 0..n {
            trigger(&tx, &format!("o{i}"));
        }
        (store, writer, rx)
    }

    fn trigger(queue: &Queue, name: &str) {
        queue
            .unbounded_send(Ok(obj_ref(name)))
            .expect("applier alive");
    }

    #[tokio::test(start_paused = true)]
    async fn reconciles_with_the_state_stored_when_the_reconcile_starts() {
        let (store, mut writer) = listed(&[cm("a", "1")]);
        let log = Arc::new(Log::default());
        let (tx, rx) = queue();
        let mut applier = pin!(applier(
            reconciler(log.clone(), 1, await_change),
            never_requeue,
            Arc::new(()),
            store,
            rx,
            Config::default(),
        ));
        trigger(&tx, "a");
        // The object changes between the trigger and the reconcile.
        writer.apply_watcher_event(&Event::Apply(cm("a", "2")));
        let outcome = applier.next().await.expect("an outcome").expect("success");
        assert_eq!(outcome, (obj_ref("a"), Action::await_change()));
        assert_eq!(log.calls()[0].1, "2");
    }

    #[tokio::test(start_paused = true)]
    async fn an_object_is_never_reconciled_concurrently_with_itself() {
        let log = Arc::new(Log::default());
        let (tx, _writer, applier) = reconciling_a(&log, 10, await_change, Config::default());
        let mut applier = pin!(applier);
        trigger(&tx, "a");
        assert!(
            poll!(applier.next()).is_pending(),
            "the first reconcile runs"
        );
        sleep(Duration::from_secs(3)).await;
        // Triggers during the reconcile: merged into one more run, right after.
        for _ in 0..3 {
            trigger(&tx, "a");
            assert!(poll!(applier.next()).is_pending());
        }
        drop(tx);
        let outcomes: Vec<_> = applier.collect().await;
        assert_eq!(outcomes.len(), 2);
        assert_eq!(log.peak.load(Ordering::SeqCst), 1);
        let starts = log.start_secs();
        assert_eq!(starts, [0, 10], "the rerun starts when the first run ends");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_bound_is_respected() {
        let (store, _writer, rx) = all_triggered(6);
        let log = Arc::new(Log::default());
        let outcomes: Vec<_> = applier(
            reconciler(log.clone(), 1, await_change),
            never_requeue,
            Arc::new(()),
            store,
            rx,
            Config::default().concurrency(2),
        )
        .collect()
        .await;
        assert_eq!(outcomes.len(), 6);
        assert!(outcomes.iter().all(Result::is_ok));
        assert_eq!(log.peak.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn requeue_reconciles_again_after_the_delay() {
        let log = Arc::new(Log::default());
        let (tx, _writer, applier) = reconciling_a(
            &log,
            0,
            requeue_once(Duration::from_secs(60)),
            Config::default(),
        );
        let mut applier = pin!(applier);
        trigger(&tx, "a");
        let first = applier.next().await.expect("an outcome").expect("success");
        assert_eq!(first.1.requeue_after(), Some(Duration::from_secs(60)));
        let second = applier.next().await.expect("an outcome").expect("success");
        assert_eq!(second.1, Action::await_change());
        let starts = log.start_secs();
        assert_eq!(starts, [0, 60]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_trigger_before_a_requeue_is_due_reconciles_at_once() {
        let (store, _writer) = listed(&[cm("a", "1")]);
        let log = Arc::new(Log::default());
        let (tx, rx) = queue();
        let mut applier = pin!(applier(
            reconciler(log.clone(), 0, |_| Ok(Action::requeue(
                Duration::from_secs(3600)
            ))),
            never_requeue,
            Arc::new(()),
            store,
            rx,
            Config::default(),
        ));
        trigger(&tx, "a");
        assert!(applier.next().await.expect("an outcome").is_ok());
        sleep(Duration::from_secs(5)).await;
        trigger(&tx, "a");
        assert!(applier.next().await.expect("an outcome").is_ok());
        let starts = log.start_secs();
        assert_eq!(starts, [0, 5], "the change is handled now, not in an hour");
    }

    #[tokio::test(start_paused = true)]
    async fn failures_are_reported_and_retried_as_the_error_policy_says() {
        let (store, _writer) = listed(&[cm("a", "1")]);
        let log = Arc::new(Log::default());
        let (tx, rx) = queue();
        let policy_calls = Arc::new(AtomicUsize::new(0));
        let decide = |n: usize| {
            if n == 0 {
                Err(Failed)
            } else {
                Ok(Action::await_change())
            }
        };
        let mut applier = pin!(applier(
            reconciler(log.clone(), 0, decide),
            {
                let policy_calls = policy_calls.clone();
                move |obj: Arc<ConfigMap>, _: &Failed, _: Arc<()>| {
                    assert_eq!(obj.metadata.name.as_deref(), Some("a"));
                    policy_calls.fetch_add(1, Ordering::SeqCst);
                    Action::requeue(Duration::from_secs(5))
                }
            },
            Arc::new(()),
            store,
            rx,
            Config::default(),
        ));
        trigger(&tx, "a");
        let failed = applier.next().await.expect("an outcome");
        assert!(
            matches!(&failed, Err(Error::ReconcilerFailed(Failed, obj)) if obj.name == "a"),
            "{failed:?}"
        );
        assert!(applier.next().await.expect("an outcome").is_ok());
        assert_eq!(policy_calls.load(Ordering::SeqCst), 1);
        let starts = log.start_secs();
        assert_eq!(starts, [0, 5]);
    }

    #[tokio::test(start_paused = true)]
    async fn objects_missing_from_the_store_are_reported_not_reconciled() {
        let (store, _writer) = listed(&[]);
        let log = Arc::new(Log::default());
        let (tx, rx) = queue();
        trigger(&tx, "gone");
        drop(tx);
        let outcomes: Vec<_> = applier(
            reconciler(log.clone(), 0, await_change),
            never_requeue,
            Arc::new(()),
            store,
            rx,
            Config::default(),
        )
        .collect()
        .await;
        assert!(
            matches!(&outcomes[..], [Err(Error::ObjectNotFound(obj))] if obj.name == "gone"),
            "{outcomes:?}"
        );
        assert!(log.calls().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn queue_errors_are_passed_through() {
        #[derive(Debug, thiserror::Error)]
        #[error("watch broke")]
        struct WatchBroke;

        let (store, _writer) = listed(&[cm("a", "1")]);
        let log = Arc::new(Log::default());
        let queue = futures::stream::iter([Err(WatchBroke), Ok(obj_ref("a")), Err(WatchBroke)]);
        let outcomes: Vec<_> = applier(
            reconciler(log.clone(), 0, await_change),
            never_requeue,
            Arc::new(()),
            store,
            queue,
            Config::default(),
        )
        .collect()
        .await;
        let errors = outcomes
            .iter()
            .filter(|o| matches!(o, Err(Error::QueueError(WatchBroke))))
            .count();
        let successes = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(
            (errors, successes, outcomes.len()),
            (2, 1, 3),
            "{outcomes:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_is_reconciled_before_the_store_is_listed() {
        let (store, mut writer) = reflector::store::<ConfigMap>();
        let log = Arc::new(Log::default());
        let (tx, rx) = queue();
        let mut applier = pin!(applier(
            reconciler(log.clone(), 0, await_change),
            never_requeue,
            Arc::new(()),
            store,
            rx,
            Config::default(),
        ));
        trigger(&tx, "a");
        trigger(&tx, "a");
        assert!(poll!(applier.next()).is_pending());
        assert!(
            log.calls().is_empty(),
            "reconciled against an unfilled store"
        );
        for event in [Event::Init, Event::InitApply(cm("a", "1")), Event::InitDone] {
            writer.apply_watcher_event(&event);
        }
        assert!(applier.next().await.expect("an outcome").is_ok());
        drop(tx);
        assert!(applier.next().await.is_none());
        assert_eq!(log.names(), ["a"], "the two early triggers merged");
    }

    #[tokio::test(start_paused = true)]
    async fn a_writer_dropped_before_the_first_list_ends_the_applier_with_an_error() {
        let (store, writer) = reflector::store::<ConfigMap>();
        let (tx, rx) = queue();
        trigger(&tx, "a");
        drop(writer);
        let outcomes: Vec<_> = applier(
            reconciler(Arc::default(), 0, await_change),
            never_requeue,
            Arc::new(()),
            store,
            rx,
            Config::default(),
        )
        .collect()
        .await;
        assert!(
            matches!(&outcomes[..], [Err(Error::RunnerError(_))]),
            "{outcomes:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn debounce_collapses_a_burst_of_triggers() {
        let log = Arc::new(Log::default());
        let (tx, _writer, applier) = reconciling_a(
            &log,
            0,
            await_change,
            Config::default().debounce(Duration::from_secs(2)),
        );
        let mut applier = pin!(applier);
        for _ in 0..5 {
            trigger(&tx, "a");
            assert!(poll!(applier.next()).is_pending());
            sleep(Duration::from_secs(1)).await;
        }
        drop(tx);
        let outcomes: Vec<_> = applier.collect().await;
        assert_eq!(outcomes.len(), 1);
        let starts = log.start_secs();
        assert_eq!(starts, [6], "2 s after the last trigger of the burst");
    }

    #[tokio::test(start_paused = true)]
    async fn graceful_stop_lets_running_reconciles_finish_and_starts_no_more() {
        let (store, _writer) = listed(&[cm("a", "1"), cm("b", "1")]);
        let log = Arc::new(Log::default());
        let (tx, rx) = queue();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let mut applier = pin!(applier_with(
            reconciler(log.clone(), 10, await_change),
            never_requeue,
            Arc::new(()),
            store,
            rx,
            Config::default(),
            async move {
                let _ = stop_rx.await;
            },
            Instruments::default(),
        ));
        trigger(&tx, "a");
        assert!(poll!(applier.next()).is_pending());
        stop_tx.send(()).expect("applier alive");
        trigger(&tx, "b");
        let outcomes: Vec<_> = applier.collect().await;
        assert_eq!(
            outcomes.len(),
            1,
            "the running reconcile finished: {outcomes:?}"
        );
        assert!(outcomes[0].is_ok());
        assert_eq!(log.names(), ["a"], "nothing started after the stop");
    }

    #[cfg(feature = "metrics")]
    #[tokio::test(start_paused = true)]
    async fn metrics_count_reconciles_by_result_and_the_queue() {
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = crate::metrics::Metrics::new(&mut registry);
        let names = ["ok", "later", "bad", "fatal"];
        let objects: Vec<_> = names.iter().map(|name| cm(name, "1")).collect();
        let (store, _writer) = listed(&objects);
        let (tx, rx) = queue();
        for name in names.iter().chain(&["missing"]) {
            trigger(&tx, name);
        }
        drop(tx);
        let outcomes: Vec<_> = applier_with(
            move |obj: Arc<ConfigMap>, _: Arc<()>| {
                let name = obj.metadata.name.clone().unwrap_or_default();
                async move {
                    sleep(Duration::from_secs(1)).await;
                    match name.as_str() {
                        "ok" => Ok(Action::await_change()),
                        "later" => Ok(Action::requeue(Duration::from_secs(60))),
                        _ => Err(Failed),
                    }
                }
            },
            // "bad" is retried, "fatal" is not.
            |obj: Arc<ConfigMap>, _: &Failed, _: Arc<()>| match obj.metadata.name.as_deref() {
                Some("bad") => Action::requeue(Duration::from_secs(3600)),
                _ => Action::await_change(),
            },
            Arc::new(()),
            store,
            rx,
            Config::default().concurrency(2),
            future::pending(),
            Instruments::with_metrics(&metrics, "test", 2),
        )
        .collect()
        .await;
        assert_eq!(outcomes.len(), 5);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodable");
        for expected in [
            r#"controller_runtime_reconcile_total{controller="test",result="success"} 1"#,
            r#"controller_runtime_reconcile_total{controller="test",result="requeue_after"} 1"#,
            r#"controller_runtime_reconcile_total{controller="test",result="error"} 2"#,
            r#"controller_runtime_reconcile_total{controller="test",result="requeue"} 0"#,
            r#"controller_runtime_reconcile_errors_total{controller="test"} 2"#,
            r#"controller_runtime_terminal_reconcile_errors_total{controller="test"} 1"#,
            r#"controller_runtime_reconcile_panics_total{controller="test"} 0"#,
            r#"controller_runtime_reconcile_time_seconds_count{controller="test"} 4"#,
            r#"controller_runtime_reconcile_time_seconds_sum{controller="test"} 4.0"#,
            r#"controller_runtime_max_concurrent_reconciles{controller="test"} 2.0"#,
            r#"controller_runtime_active_workers{controller="test"} 0"#,
            r#"workqueue_depth{controller="test",name="test"} 0"#,
            r#"workqueue_adds_total{controller="test",name="test"} 5"#,
            r#"workqueue_retries_total{controller="test",name="test"} 1"#,
            r#"workqueue_work_duration_seconds_count{controller="test",name="test"} 4"#,
            r#"workqueue_queue_duration_seconds_count{controller="test",name="test"} 5"#,
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_backoff_retries_a_failing_object_after_5_10_20_ms_and_starts_over_after_a_success()
     {
        let (store, _writer) = listed(&[cm("a", "1")]);
        let log = Arc::new(Log::default());
        let (tx, rx) = queue();
        // Fails four times, succeeds (asking to come back in a minute), then
        // fails twice more.
        let decide = |n: usize| match n {
            4 => Ok(Action::requeue(Duration::from_secs(60))),
            0..=6 => Err(Failed),
            _ => Ok(Action::await_change()),
        };
        let counts = Arc::new(Mutex::new(Vec::new()));
        let mut applier = pin!(applier(
            reconciler(log.clone(), 0, decide),
            {
                let counts = counts.clone();
                move |_: Arc<ConfigMap>, _: &Failed, _: Arc<()>| {
                    counts
                        .lock()
                        .expect("lock")
                        .push(crate::controller::consecutive_failures());
                    // As soon as the backoff allows.
                    Action::requeue(Duration::ZERO)
                }
            },
            Arc::new(()),
            store,
            rx,
            Config::default().error_backoff(crate::controller::ErrorBackoff::default()),
        ));
        trigger(&tx, "a");
        for _ in 0..8 {
            applier.next().await.expect("an outcome").ok();
        }
        let starts = log.start_millis();
        // 0, +5, +10, +20, +40 (success, back in 60 s), then +5, +10 again.
        assert_eq!(starts, [0, 5, 15, 35, 75, 60_075, 60_080, 60_090]);
        assert_eq!(
            *counts.lock().expect("lock"),
            [Some(1), Some(2), Some(3), Some(4), Some(1), Some(2)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_error_policy_sets_a_floor_under_the_backoff_and_may_stop_retries() {
        let (store, _writer) = listed(&[cm("a", "1")]);
        let log = Arc::new(Log::default());
        let (tx, rx) = queue();
        let mut applier = pin!(applier(
            reconciler(log.clone(), 0, |_| Err(Failed)),
            |_: Arc<ConfigMap>, _: &Failed, _: Arc<()>| {
                match crate::controller::consecutive_failures() {
                    // Three failures in a row: wait for a change.
                    Some(3) => Action::await_change(),
                    _ => Action::requeue(Duration::from_secs(1)),
                }
            },
            Arc::new(()),
            store,
            rx,
            Config::default().error_backoff(crate::controller::ErrorBackoff::per_object(
                Duration::from_millis(700),
                Duration::from_secs(60),
            )),
        ));
        trigger(&tx, "a");
        for _ in 0..3 {
            applier.next().await.expect("an outcome").ok();
        }
        assert!(
            tokio::time::timeout(Duration::from_secs(3600), applier.next())
                .await
                .is_err(),
            "retried after the policy said to wait for a change"
        );
        // The policy's second wins over 700 ms, then 1.4 s wins over it.
        let starts = log.start_millis();
        assert_eq!(starts, [0, 1000, 2400]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_paces_reconciles_across_objects() {
        let (store, _writer, rx) = all_triggered(5);
        let log = Arc::new(Log::default());
        let limit = crate::controller::RateLimit::new(2.0, 2).expect("valid");
        let outcomes: Vec<_> = applier(
            reconciler(log.clone(), 0, await_change),
            never_requeue,
            Arc::new(()),
            store,
            rx,
            Config::default().rate_limit(limit),
        )
        .collect()
        .await;
        assert_eq!(outcomes.len(), 5);
        let starts = log.start_millis();
        assert_eq!(starts, [0, 0, 500, 1000, 1500]);
    }

    /// The longest requeue, as documented on `Action::requeue`.
    const YEAR: Duration = Duration::from_secs(365 * 24 * 60 * 60);

    #[tokio::test(start_paused = true)]
    async fn requeues_beyond_a_year_neither_panic_nor_fire_before_a_year() {
        for delay in [Duration::from_secs(800 * 24 * 60 * 60), Duration::MAX] {
            let log = Arc::new(Log::default());
            let (tx, _writer, applier) =
                reconciling_a(&log, 0, requeue_once(delay), Config::default());
            let mut applier = pin!(applier);
            trigger(&tx, "a");
            assert!(applier.next().await.expect("an outcome").is_ok());
            let early = tokio::time::timeout(YEAR - Duration::from_secs(1), applier.next()).await;
            assert!(early.is_err(), "{delay:?} fired before a year");
            assert!(applier.next().await.expect("an outcome").is_ok());
            let starts = log.start_secs();
            assert_eq!(starts, [0, YEAR.as_secs()], "{delay:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_debounce_beyond_a_year_neither_panics_nor_fires_before_a_year() {
        let log = Arc::new(Log::default());
        let (tx, _writer, applier) = reconciling_a(
            &log,
            0,
            await_change,
            Config::default().debounce(Duration::MAX),
        );
        let mut applier = pin!(applier);
        trigger(&tx, "a");
        let early = tokio::time::timeout(YEAR - Duration::from_secs(1), applier.next()).await;
        assert!(early.is_err(), "fired before a year");
        assert!(applier.next().await.expect("an outcome").is_ok());
        assert_eq!(log.calls()[0].2.as_secs(), YEAR.as_secs());
    }
}
