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

use super::{Action, Config, Error, ReconcileReason, ReconcileRequest, runner::Runner};
use crate::{
    reflector::{ObjectRef, Store, store::WriterDropped},
    scheduler::{ScheduleRequest, debounced_scheduler},
};

/// Where the applier reports what it does: the metrics, when enabled.
#[derive(Clone, Default)]
pub(crate) struct Instruments {
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<crate::metrics::Metrics>,
}

impl Instruments {
    fn reconcile_started(&self) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.reconcile_started();
        }
    }

    fn reconcile_finished(&self, _started: Instant, _succeeded: bool) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.reconcile_finished(_started.elapsed().as_secs_f64(), _succeeded);
        }
    }

    fn object_missing(&self) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.object_missing();
        }
    }

    fn queue_failed(&self) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.watcher_failed();
        }
    }

    fn queue_depth(&self, _depth: usize) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.set_queue_depth(_depth);
        }
    }
}

/// Reconciles the objects of `store` as `queue` requests them: the engine under
/// [`Controller`](super::Controller), for callers who build their own trigger
/// stream.
///
/// Each request is scheduled (merged, debounced), then run with the store's
/// latest version of the object, at most `config.concurrency` at a time and
/// never twice at once for one object. The action returned by `reconciler` (or by
/// `error_policy` after a failure) schedules the next reconcile. Nothing runs
/// before the store has completed its first list. Queue errors are passed
/// through.
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
    Missing(ObjectRef<K>),
    /// The reconcile ran.
    Ran {
        obj_ref: ObjectRef<K>,
        obj: Arc<K>,
        result: R,
        started: Instant,
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
    let run_reconcile = move |request: &ReconcileRequest<K>| {
        let obj_ref = request.obj_ref.clone();
        let Some(obj) = run_store.get(&obj_ref) else {
            return Either::Left(future::ready(Finished::Missing(obj_ref)));
        };
        let span = tracing::info_span!(
            "reconciling object",
            object.ref = %obj_ref,
            object.reason = %request.reason,
        );
        run_instruments.reconcile_started();
        let started = Instant::now();
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
    let runner = Runner::new(scheduler, config.concurrency, run_reconcile)
        .delay_tasks_until(ready)
        .stop_on(stop);

    let conclude_instruments = instruments.clone();
    let conclude = move |finished: Finished<K, Result<Action, ReconcilerFut::Error>>| match finished
    {
        Finished::Missing(obj_ref) => {
            conclude_instruments.object_missing();
            Err(Error::ObjectNotFound(Box::new(obj_ref.erase())))
        }
        Finished::Ran {
            obj_ref,
            obj,
            result,
            started,
        } => {
            conclude_instruments.reconcile_finished(started, result.is_ok());
            let (action, reason) = match &result {
                Ok(action) => (action.clone(), ReconcileReason::ReconcilerRequestedRetry),
                Err(err) => (
                    error_policy(obj, err, Arc::clone(&context)),
                    ReconcileReason::ErrorPolicyRequestedRetry,
                ),
            };
            if let Some(delay) = action.requeue_after() {
                // Once the queue has ended nobody listens: the requeue is dropped.
                let _ = requeue_tx.unbounded_send(ScheduleRequest {
                    message: ReconcileRequest {
                        obj_ref: obj_ref.clone(),
                        reason,
                    },
                    run_at: Instant::now() + delay,
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
    runner_done: bool,
}

impl<K, R, F, MkF, Ready, Stop, QueueErr, Conclude, ReconcilerErr> Stream
    for Applier<ReconcileRequest<K>, R, F, MkF, Ready, Stop, QueueErr, Conclude>
where
    K: Resource,
    K::DynamicType: Eq + Hash + Clone,
    R: Stream<Item = ScheduleRequest<ReconcileRequest<K>>>,
    MkF: FnMut(&ReconcileRequest<K>) -> F,
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
        this.instruments.queue_depth(this.runner.queue_len());
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
