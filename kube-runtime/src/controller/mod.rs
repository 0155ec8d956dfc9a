//! Controllers: reconcile every object of a kind whenever it, or something it
//! depends on, changes.
//!
//! A [`Controller`] watches a main resource (and optionally its children and
//! other related resources), keeps the main objects in a [`Store`], and calls
//! your `reconcile` function with the latest version of an object whenever it
//! should be looked at again. It guarantees:
//!
//! - **Latest state.** `reconcile` receives the object as the store holds it when
//!   the reconcile starts, not as it was when the trigger fired.
//! - **One at a time per object.** An object is never reconciled concurrently
//!   with itself; a trigger arriving during its reconcile makes it run once more
//!   right after.
//! - **Merging.** Many triggers for one object before it runs lead to one
//!   reconcile; a requeue keeps the earliest requested time. A debounce period
//!   ([`Config::debounce`]) also collapses bursts.
//! - **Bounded work.** At most [`Config::concurrency`] reconciles run at once.
//! - **Requeues.** The [`Action`] a reconcile returns (or `error_policy` returns
//!   for a failure) says when to look at the object again.
//!
//! ## Nothing waits forever on the cluster
//!
//! A reconcile that waits only on the client cannot hang: every request is
//! bounded (connecting, 30 s; no response bytes, 295 s; sending a body, 295 s;
//! an exec credential plugin, 2 min; an OIDC issuer, 30 s; all adjustable on
//! `kube_client::Config`), retries are bounded, and a limit that runs out comes
//! back as an error naming it, so `error_policy` decides when to try again.
//! The watchers feeding the controller take a watch that stays silent past
//! its timeout plus 30 s for a dead connection and open another.
//!
//! What the controller cannot bound is a reconcile waiting on something else
//! (a channel, a lock, a service called without a timeout). Such an object is
//! not reconciled again until its reconcile returns, and a graceful shutdown
//! waits for it; wrap those waits in `tokio::time::timeout`.
//!
//! ## Backoff, rate limits, metrics and readiness
//!
//! All off until asked for: [`Config::error_backoff`] retries each failing
//! object after growing delays (client-go's default controller rate limiter,
//! see [`ErrorBackoff`]; an error policy reads the count with
//! [`consecutive_failures`]); [`Config::rate_limit`] paces reconciles across
//! all objects; `Controller::with_metrics` (feature `metrics`) records
//! controller-runtime's metrics; [`Controller::synced`] tells a readiness
//! probe when the controller has listed what it watches.
//!
//! To run one active replica among several, drive the controller inside
//! [`LeaderElector::run`](crate::leader_election::LeaderElector::run): it runs
//! only while its replica holds the Lease, and is dropped in time when the
//! Lease is lost (see [`leader_election`](crate::leader_election)).
//!
//! ```no_run
//! use std::{sync::Arc, time::Duration};
//! use futures::StreamExt;
//! use k8s_openapi::api::{apps::v1::Deployment, core::v1::ConfigMap};
//! use kube_client::{Api, Client};
//! use kube_runtime::{Controller, controller::Action, watcher};
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("reconcile failed")]
//! struct Error;
//!
//! async fn reconcile(deployment: Arc<Deployment>, _ctx: Arc<()>) -> Result<Action, Error> {
//!     println!("reconciling {:?}", deployment.metadata.name);
//!     Ok(Action::requeue(Duration::from_secs(300)))
//! }
//!
//! fn error_policy(_: Arc<Deployment>, _: &Error, _: Arc<()>) -> Action {
//!     Action::requeue(Duration::from_secs(5))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::try_default().await?;
//! Controller::new(Api::<Deployment>::all(client.clone()), watcher::Config::default())
//!     .owns(Api::<ConfigMap>::all(client), watcher::Config::default())
//!     .shutdown_on_signal()
//!     .run(reconcile, error_policy, Arc::new(()))
//!     .for_each(|result| async move { println!("{result:?}") })
//!     .await;
//! # Ok(())
//! # }
//! ```

mod applier;
mod backoff;
mod instruments;
mod pace;
mod request;
mod runner;
#[cfg(feature = "unstable-runtime-subscribe")]
mod shared;
mod shutdown;
mod synced;
mod trigger;

use std::{
    fmt::Debug, future::Future, hash::Hash, panic::AssertUnwindSafe, sync::Arc, time::Duration,
};

use futures::{
    FutureExt, Stream, StreamExt, TryFuture, TryFutureExt,
    future::{self, BoxFuture},
    stream::{self, BoxStream, SelectAll},
};
use kube_client::{
    Api,
    core::{DynamicObject, Resource},
};
use serde::de::DeserializeOwned;
use thiserror::Error;
use tokio::runtime::Handle;
use tracing::Instrument;

pub use applier::applier;
use applier::{Instruments, applier_with};
pub use backoff::{ErrorBackoff, consecutive_failures};
pub use kube_client::client::rate_limit::RateLimit;
pub use request::{ReconcileReason, ReconcileRequest};
pub use runner::Error as RunnerErrorKind;
use synced::Sources;
pub use synced::Synced;
use trigger::{ReflectAndTrigger, related_by};
pub use trigger::{trigger_owners, trigger_self, trigger_with};

use crate::{
    WatchStreamExt,
    reflector::{self, ObjectRef, Store, Writer},
    utils::{Backoff, CancelableJoinHandle, StreamBackoff},
    watcher::{self, DefaultBackoff, metadata_watcher, watcher},
};

/// Why the runner stopped: the store's writer was dropped before the store was
/// filled.
pub type RunnerError = runner::Error<reflector::store::WriterDropped>;

/// What went wrong in a controller.
#[derive(Debug, Error)]
pub enum Error<ReconcilerErr: 'static, QueueErr: 'static> {
    /// A reconcile was requested for an object the store does not hold (it was
    /// deleted meanwhile). Usually harmless: deletions of owners and of watched
    /// objects often race with their triggers.
    #[error("object {0} was requested for reconciliation but is not in the store")]
    ObjectNotFound(Box<ObjectRef<DynamicObject>>),
    /// The reconcile function failed.
    #[error("reconciling {1} failed: {0}")]
    ReconcilerFailed(#[source] ReconcilerErr, Box<ObjectRef<DynamicObject>>),
    /// A trigger stream (a watcher) failed; it retries by itself.
    #[error("a trigger stream failed: {0}")]
    QueueError(#[source] QueueErr),
    /// The runner stopped.
    #[error("the controller's runner failed: {0}")]
    RunnerError(#[source] RunnerError),
}

/// What to do after a reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    requeue_after: Option<Duration>,
}

impl Action {
    /// Reconcile the object again after `duration`, even if nothing changes.
    ///
    /// A periodic requeue is how a controller notices drift in things it does not
    /// watch.
    ///
    /// A `duration` longer than a year (365 days) is shortened to a year, up to
    /// and including [`Duration::MAX`]: the scheduler's timers cannot hold much
    /// more than two years, and would panic.
    #[must_use]
    pub const fn requeue(duration: Duration) -> Self {
        let longest = crate::scheduler::LONGEST_DELAY;
        let duration = if duration.as_secs() >= longest.as_secs() {
            longest
        } else {
            duration
        };
        Self {
            requeue_after: Some(duration),
        }
    }

    /// Reconcile the object again only when a watched change triggers it.
    #[must_use]
    pub const fn await_change() -> Self {
        Self {
            requeue_after: None,
        }
    }

    /// When the object will be reconciled again regardless of changes.
    pub fn requeue_after(&self) -> Option<Duration> {
        self.requeue_after
    }
}

/// How a controller runs.
#[derive(Debug, Clone, Default)]
pub struct Config {
    debounce: Duration,
    concurrency: u16,
    error_backoff: Option<ErrorBackoff>,
    rate_limit: Option<RateLimit>,
}

impl Config {
    /// Waits this long after a trigger before reconciling, restarting the wait on
    /// each further trigger for the same object: bursts of changes lead to one
    /// reconcile. Zero (the default) reconciles as soon as possible.
    ///
    /// A debounce longer than a year (365 days) is shortened to a year, as
    /// requeues are (see [`Action::requeue`]).
    #[must_use]
    pub fn debounce(mut self, debounce: Duration) -> Self {
        self.debounce = debounce.min(crate::scheduler::LONGEST_DELAY);
        self
    }

    /// Runs at most this many reconciles at once; zero (the default) means no
    /// limit.
    #[must_use]
    pub fn concurrency(mut self, concurrency: u16) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Backs off each failing object on its own: after its n-th failure in a
    /// row, it is retried no sooner than `backoff` says (5 ms doubling to
    /// 1000 s for [`ErrorBackoff::default`], client-go's default), and the
    /// count starts over after a success. Off by default: the error policy's
    /// [`Action`] alone decides. See [`ErrorBackoff`] for how the two
    /// combine.
    #[must_use]
    pub fn error_backoff(mut self, backoff: ErrorBackoff) -> Self {
        self.error_backoff = Some(backoff);
        self
    }

    /// Starts reconciles no faster than `limit`: after a burst of
    /// `limit.burst()`, `limit.qps()` a second, across all objects (a token
    /// bucket, like controller-runtime's 10 a second with bursts of 100). Off
    /// by default.
    ///
    /// Objects wait their turn in the queue, where triggers for them keep
    /// merging; each reconcile still reads its object as it is when it
    /// starts.
    #[must_use]
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }
}

type TriggerStream<K> = BoxStream<'static, Result<ReconcileRequest<K>, watcher::Error>>;

/// A controller for objects of kind `K`: see the [module docs](self).
///
/// Build it with [`Controller::new`] (or [`Controller::for_stream`]), add
/// related resources with [`owns`](Self::owns) and [`watches`](Self::watches),
/// and start it with [`run`](Self::run).
pub struct Controller<K>
where
    K: Clone + Resource + Debug + 'static,
    K::DynamicType: Eq + Hash,
{
    /// Every source of reconcile requests, each paced by its own backoff.
    triggers: SelectAll<TriggerStream<K>>,
    /// A backoff over all triggers together, only when asked for.
    trigger_backoff: Option<Box<dyn Backoff + Send>>,
    graceful_shutdown: Vec<BoxFuture<'static, ()>>,
    forceful_shutdown: Vec<BoxFuture<'static, ()>>,
    dyntype: K::DynamicType,
    reader: Store<K>,
    config: Config,
    /// The `controller` label of its metrics; the lowercased kind if unset.
    name: Option<String>,
    #[cfg(feature = "metrics")]
    metrics: Option<crate::metrics::Metrics>,
    /// Its sources of objects, each marked once listed.
    sources: Arc<Sources>,
    synced: Synced,
}

impl<K> Controller<K>
where
    K: Clone + Resource + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    /// A controller for the objects `main_api` can see, selected by `wc`.
    #[must_use]
    pub fn new(main_api: Api<K>, wc: watcher::Config) -> Self
    where
        K::DynamicType: Default,
    {
        Self::new_with(main_api, wc, Default::default())
    }

    /// [`Controller::new`] for a type known at runtime.
    #[must_use]
    pub fn new_with(main_api: Api<K>, wc: watcher::Config, dyntype: K::DynamicType) -> Self {
        let writer = Writer::<K>::new(dyntype.clone());
        let reader = writer.as_reader();
        let main = ReflectAndTrigger::new(watcher(main_api, wc), writer);
        Self::with_trigger(main.boxed(), reader, dyntype)
    }

    /// A controller for objects arriving on `trigger`, read from `reader`: for
    /// callers who run (and perhaps share) their own reflector.
    ///
    /// Each object is reconciled with the state `reader` holds when its
    /// reconcile starts. A reflector stores each object before passing it on,
    /// so that state is at least the one that triggered the reconcile; but
    /// during a relist, the objects the relist has not reached yet are still
    /// in their earlier state (and those it will drop still there).
    /// [`Controller::new`] requests relisted objects only once the relist is
    /// complete.
    #[must_use]
    pub fn for_stream(
        trigger: impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
        reader: Store<K>,
    ) -> Self
    where
        K::DynamicType: Default,
    {
        Self::for_stream_with(trigger, reader, Default::default())
    }

    /// [`Controller::for_stream`] for a type known at runtime.
    #[must_use]
    pub fn for_stream_with(
        trigger: impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
        reader: Store<K>,
        dyntype: K::DynamicType,
    ) -> Self {
        let main = trigger_self(trigger, dyntype.clone());
        Self::with_trigger(main.boxed(), reader, dyntype)
    }

    fn with_trigger(main: TriggerStream<K>, reader: Store<K>, dyntype: K::DynamicType) -> Self {
        let sources = Arc::new(Sources::default());
        let synced = Synced::new();
        synced.follow(&sources);
        let mut controller = Self {
            triggers: SelectAll::new(),
            trigger_backoff: None,
            graceful_shutdown: Vec::new(),
            forceful_shutdown: Vec::new(),
            dyntype,
            reader,
            config: Config::default(),
            name: None,
            #[cfg(feature = "metrics")]
            metrics: None,
            sources,
            synced,
        };
        controller.push_trigger(main);
        // The main source has listed once its store is ready; this trigger
        // says so, then ends without requesting anything.
        let listed = controller.sources.add();
        let store = controller.reader.clone();
        controller.push_trigger(
            stream::once(async move {
                if store.wait_until_ready().await.is_ok() {
                    listed.set();
                }
            })
            .filter_map(|()| future::ready(None)),
        );
        controller
    }

    /// `watch`, marking a new source of this controller as listed once the
    /// watch has listed.
    fn tracked<T>(
        &self,
        watch: impl Stream<Item = watcher::Result<watcher::Event<T>>> + Send + 'static,
    ) -> impl Stream<Item = watcher::Result<watcher::Event<T>>> + Send + 'static {
        let listed = self.sources.add();
        watch.inspect(move |event| {
            if let Ok(watcher::Event::InitDone) = event {
                listed.set();
            }
        })
    }

    /// Adds a source of reconcile requests, paced by a [`DefaultBackoff`] of
    /// its own: a source that fails waits before it is polled again, while the
    /// others go on. (One backoff over all of them would let any failing
    /// watcher, say of children, hold back every reconcile for up to 30 s at a
    /// time.)
    pub(crate) fn push_trigger(
        &mut self,
        trigger: impl Stream<Item = Result<ReconcileRequest<K>, watcher::Error>> + Send + 'static,
    ) {
        self.triggers
            .push(StreamBackoff::new(trigger, DefaultBackoff::default()).boxed());
    }

    /// Records this controller's reconciles and queue in `metrics`, under
    /// controller-runtime's and client-go's names (see
    /// [`metrics`](crate::metrics)), labelled with its [name](Self::named).
    #[cfg(feature = "metrics")]
    #[must_use]
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Names the controller: the `controller` label of its metrics. Without
    /// a name, it is the kind it manages, lowercased (e.g. `deployment`), as
    /// controller-runtime names its controllers.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Whether this controller has listed everything it watches: see
    /// [`Synced`]. For readiness probes.
    pub fn synced(&self) -> Synced {
        self.synced.clone()
    }

    /// Reports to `synced` from now on, instead of the handle
    /// [`synced`](Self::synced) returned so far: for a handle made once and
    /// followed across controllers built again and again (e.g. once per term
    /// of leadership).
    #[must_use]
    pub fn with_synced(mut self, synced: Synced) -> Self {
        synced.follow(&self.sources);
        self.synced = synced;
        self
    }

    /// Sets debounce, concurrency, error backoff and rate limit.
    #[must_use]
    pub fn with_config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Also pauses all triggers together after any of them fails, with
    /// `backoff`'s delays.
    ///
    /// By default there is no such shared pause: each trigger source (the main
    /// watcher, each `owns` and `watches` watcher, each stream given) backs off
    /// on its own with a [`DefaultBackoff`] (0.8 s doubling to 30 s, starting
    /// over after 30 s without errors), so one failing source does not
    /// hold back the reconciles the others request.
    #[must_use]
    pub fn trigger_backoff(mut self, backoff: impl Backoff + 'static) -> Self {
        self.trigger_backoff = Some(Box::new(backoff));
        self
    }

    /// The store of main objects: the same the reconciles read from.
    pub fn store(&self) -> Store<K> {
        self.reader.clone()
    }

    /// Also reconciles an object when a child it controls changes: children of
    /// type `Child` (seen through `api`) trigger the owner named by their
    /// controller owner reference.
    ///
    /// Only the children's metadata is watched: owner references are all that is
    /// needed, and metadata is a fraction of the bytes of whole objects.
    #[must_use]
    pub fn owns<Child>(self, api: Api<Child>, wc: watcher::Config) -> Self
    where
        Child: Clone + Resource<DynamicType = ()> + DeserializeOwned + Debug + Send + 'static,
    {
        self.owns_with(api, (), wc)
    }

    /// [`Controller::owns`] for a child type known at runtime.
    #[must_use]
    pub fn owns_with<Child>(
        mut self,
        api: Api<Child>,
        dyntype: Child::DynamicType,
        wc: watcher::Config,
    ) -> Self
    where
        Child: Clone + Resource + DeserializeOwned + Debug + Send + 'static,
        Child::DynamicType: Debug + Eq + Hash + Clone,
    {
        let children = self.tracked(metadata_watcher(api, wc)).touched_objects();
        let triggers = trigger_owners(children, self.dyntype.clone(), dyntype);
        self.push_trigger(triggers);
        self
    }

    /// Also reconciles an object when a child arriving on `trigger` changes.
    #[must_use]
    pub fn owns_stream<Child>(
        self,
        trigger: impl Stream<Item = Result<Child, watcher::Error>> + Send + 'static,
    ) -> Self
    where
        Child: Resource<DynamicType = ()> + Send + 'static,
    {
        self.owns_stream_with(trigger, ())
    }

    /// [`Controller::owns_stream`] for a child type known at runtime.
    #[must_use]
    pub fn owns_stream_with<Child>(
        mut self,
        trigger: impl Stream<Item = Result<Child, watcher::Error>> + Send + 'static,
        dyntype: Child::DynamicType,
    ) -> Self
    where
        Child: Resource + Send + 'static,
        Child::DynamicType: Clone + Send + 'static,
    {
        let triggers = trigger_owners(trigger, self.dyntype.clone(), dyntype);
        self.push_trigger(triggers);
        self
    }

    /// Also reconciles the objects `mapper` names whenever an object of type
    /// `Other` (seen through `api`) changes — for relations other than
    /// ownership, e.g. a Secret referenced by name.
    #[must_use]
    pub fn watches<Other, I>(
        self,
        api: Api<Other>,
        wc: watcher::Config,
        mapper: impl Fn(Other) -> I + Sync + Send + 'static,
    ) -> Self
    where
        Other: Clone + Resource + DeserializeOwned + Debug + Send + 'static,
        Other::DynamicType: Default + Debug + Clone + Eq + Hash,
        I: 'static + IntoIterator<Item = ObjectRef<K>>,
        I::IntoIter: Send,
    {
        self.watches_with(api, Default::default(), wc, mapper)
    }

    /// [`Controller::watches`] for a type known at runtime.
    #[must_use]
    pub fn watches_with<Other, I>(
        mut self,
        api: Api<Other>,
        dyntype: Other::DynamicType,
        wc: watcher::Config,
        mapper: impl Fn(Other) -> I + Sync + Send + 'static,
    ) -> Self
    where
        Other: Clone + Resource + DeserializeOwned + Debug + Send + 'static,
        Other::DynamicType: Debug + Clone + Eq + Hash,
        I: 'static + IntoIterator<Item = ObjectRef<K>>,
        I::IntoIter: Send,
    {
        let others = self.tracked(watcher(api, wc)).touched_objects();
        self.push_trigger(related_by(others, mapper, dyntype));
        self
    }

    /// Also reconciles the objects `mapper` names for each object arriving on
    /// `trigger`.
    #[must_use]
    pub fn watches_stream<Other, I>(
        self,
        trigger: impl Stream<Item = Result<Other, watcher::Error>> + Send + 'static,
        mapper: impl Fn(Other) -> I + Sync + Send + 'static,
    ) -> Self
    where
        Other: Clone + Resource + Debug + Send + 'static,
        Other::DynamicType: Default + Debug + Clone + Send,
        I: 'static + IntoIterator<Item = ObjectRef<K>>,
        I::IntoIter: Send,
    {
        self.watches_stream_with(trigger, mapper, Default::default())
    }

    /// [`Controller::watches_stream`] for a type known at runtime.
    #[must_use]
    pub fn watches_stream_with<Other, I>(
        mut self,
        trigger: impl Stream<Item = Result<Other, watcher::Error>> + Send + 'static,
        mapper: impl Fn(Other) -> I + Sync + Send + 'static,
        dyntype: Other::DynamicType,
    ) -> Self
    where
        Other: Clone + Resource + Debug + Send + 'static,
        Other::DynamicType: Debug + Clone + Send,
        I: 'static + IntoIterator<Item = ObjectRef<K>>,
        I::IntoIter: Send,
    {
        self.push_trigger(related_by(trigger, mapper, dyntype));
        self
    }

    /// Reconciles every object in the store whenever `trigger` yields, e.g. on a
    /// timer or when a shared configuration changes.
    #[must_use]
    pub fn reconcile_all_on(mut self, trigger: impl Stream<Item = ()> + Send + 'static) -> Self {
        let store = self.reader.clone();
        let dyntype = self.dyntype.clone();
        let all = trigger.flat_map(move |()| {
            let requests: Vec<_> = store
                .state()
                .iter()
                .map(|obj| {
                    Ok(ReconcileRequest {
                        obj_ref: ObjectRef::key_of(&**obj, dyntype.clone()),
                        reason: ReconcileReason::BulkReconcile,
                    })
                })
                .collect();
            stream::iter(requests)
        });
        self.push_trigger(all);
        self
    }

    /// Reconciles the objects `trigger` names.
    #[must_use]
    pub fn reconcile_on(
        mut self,
        trigger: impl Stream<Item = ObjectRef<K>> + Send + 'static,
    ) -> Self {
        self.push_trigger(trigger.map(|obj_ref| {
            Ok(ReconcileRequest {
                obj_ref,
                reason: ReconcileReason::Unknown,
            })
        }));
        self
    }

    /// Starts a graceful shutdown when `trigger` completes: no new reconcile
    /// starts, the running ones finish, then the stream of results ends.
    #[must_use]
    pub fn graceful_shutdown_on(
        mut self,
        trigger: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.graceful_shutdown.push(trigger.boxed());
        self
    }

    /// Shuts down gracefully on the first SIGINT (Ctrl-C) or SIGTERM, and at once
    /// (dropping running reconciles) on the second.
    #[must_use]
    pub fn shutdown_on_signal(mut self) -> Self {
        let (first_tx, first_rx) = futures::channel::oneshot::channel::<()>();
        let second = async move {
            shutdown::signal().await;
            tracing::info!(
                "shutdown requested: finishing running reconciles (signal again to stop at once)"
            );
            let _ = first_tx.send(());
            shutdown::signal().await;
            tracing::info!("second shutdown signal: stopping now");
        };
        self.graceful_shutdown.push(first_rx.map(|_| ()).boxed());
        self.forceful_shutdown.push(second.boxed());
        self
    }

    /// Runs the controller: a stream of reconcile outcomes, which must be polled
    /// (e.g. with `for_each`) for anything to happen.
    ///
    /// Each reconcile runs as its own tokio task, so reconciles proceed in
    /// parallel on a multi-threaded runtime; dropping the stream aborts them.
    pub fn run<ReconcilerFut, Ctx>(
        self,
        mut reconciler: impl FnMut(Arc<K>, Arc<Ctx>) -> ReconcilerFut,
        error_policy: impl Fn(Arc<K>, &ReconcilerFut::Error, Arc<Ctx>) -> Action,
        context: Arc<Ctx>,
    ) -> impl Stream<Item = Result<(ObjectRef<K>, Action), Error<ReconcilerFut::Error, watcher::Error>>>
    where
        K::DynamicType: Debug + Unpin,
        ReconcilerFut: TryFuture<Ok = Action> + Send + 'static,
        ReconcilerFut::Error: std::error::Error + Send + 'static,
    {
        let graceful = shutdown::first_of(self.graceful_shutdown);
        let forceful = shutdown::first_of(self.forceful_shutdown);
        let queue = match self.trigger_backoff {
            Some(backoff) => StreamBackoff::new(self.triggers, backoff).left_stream(),
            None => self.triggers.right_stream(),
        };
        #[cfg(feature = "metrics")]
        let instruments = match &self.metrics {
            Some(metrics) => {
                let name = self
                    .name
                    .unwrap_or_else(|| K::kind(&self.dyntype).to_lowercase());
                Instruments::with_metrics(metrics, &name, self.config.concurrency)
            }
            None => Instruments::default(),
        };
        #[cfg(not(feature = "metrics"))]
        let instruments = Instruments::default();
        let panics = instruments.clone();
        // The stream keeps the sources alive: `Synced` handles see the
        // controller for as long as it runs.
        let sources = self.sources;
        applier_with(
            move |obj, ctx| {
                let reconcile = TryFutureExt::into_future(reconciler(obj, ctx)).in_current_span();
                let panics = panics.clone();
                let counted = async move {
                    match AssertUnwindSafe(reconcile).catch_unwind().await {
                        Ok(result) => result,
                        Err(panic) => {
                            panics.reconcile_panicked();
                            std::panic::resume_unwind(panic)
                        }
                    }
                };
                CancelableJoinHandle::spawn(counted, &Handle::current())
            },
            error_policy,
            context,
            self.reader,
            queue,
            self.config,
            graceful,
            instruments,
        )
        .take_until(forceful)
        .inspect(move |_| keep_alive(&sources))
    }
}

/// Holds on to what a closure must keep alive for as long as it lives.
fn keep_alive<T>(_: &T) {}

#[cfg(test)]
mod tests {
    use std::{
        convert::Infallible,
        sync::{
            Mutex,
            atomic::{AtomicUsize, Ordering},
        },
    };

    use futures::{channel::mpsc, poll};
    use k8s_openapi::{
        api::core::v1::{ConfigMap, Secret},
        apimachinery::pkg::apis::meta::v1::OwnerReference,
    };
    use kube_client::core::ObjectMeta;
    use tokio::time::sleep;

    use super::*;
    use crate::watcher::Event;

    fn meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            ..ObjectMeta::default()
        }
    }

    fn cm(name: &str) -> ConfigMap {
        ConfigMap {
            metadata: meta(name),
            ..ConfigMap::default()
        }
    }

    #[test]
    fn requeues_longer_than_a_year_are_shortened_to_a_year() {
        let year = Duration::from_secs(365 * 24 * 60 * 60);
        for (asked, kept) in [
            (Duration::from_secs(60), Duration::from_secs(60)),
            (
                year - Duration::from_millis(1),
                year - Duration::from_millis(1),
            ),
            (year + Duration::from_millis(1), year),
            (Duration::from_secs(800 * 24 * 60 * 60), year),
            (Duration::MAX, year),
        ] {
            assert_eq!(
                Action::requeue(asked).requeue_after(),
                Some(kept),
                "{asked:?}"
            );
        }
    }

    /// A controller over a store listed with `names`, fed by `trigger`.
    fn controller(
        names: &[&str],
        trigger: mpsc::UnboundedReceiver<Result<ConfigMap, watcher::Error>>,
    ) -> Controller<ConfigMap> {
        let (store, mut writer) = reflector::store();
        writer.apply_watcher_event(&Event::Init);
        for name in names {
            writer.apply_watcher_event(&Event::InitApply(cm(name)));
        }
        writer.apply_watcher_event(&Event::InitDone);
        Controller::for_stream(trigger, store)
    }

    /// Reconciles that record the names they saw and take `secs` seconds.
    fn recording(
        seen: Arc<Mutex<Vec<String>>>,
        secs: u64,
    ) -> impl FnMut(Arc<ConfigMap>, Arc<()>) -> BoxFuture<'static, Result<Action, Infallible>> {
        move |obj, _| {
            let seen = seen.clone();
            async move {
                sleep(Duration::from_secs(secs)).await;
                seen.lock()
                    .expect("lock")
                    .push(obj.metadata.name.clone().unwrap_or_default());
                Ok(Action::await_change())
            }
            .boxed()
        }
    }

    fn no_retry(_: Arc<ConfigMap>, _: &Infallible, _: Arc<()>) -> Action {
        Action::await_change()
    }

    #[tokio::test(start_paused = true)]
    async fn run_reconciles_triggered_objects_in_spawned_tasks() {
        let (tx, rx) = mpsc::unbounded();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop_tx, stop_rx) = futures::channel::oneshot::channel::<()>();
        let results = controller(&["a", "b"], rx)
            .graceful_shutdown_on(stop_rx.map(|_| ()))
            .run(recording(seen.clone(), 1), no_retry, Arc::new(()));
        let mut results = Box::pin(results);
        tx.unbounded_send(Ok(cm("a"))).expect("open");
        tx.unbounded_send(Ok(cm("b"))).expect("open");
        let mut done = vec![
            results
                .next()
                .await
                .expect("an outcome")
                .expect("success")
                .0
                .name,
            results
                .next()
                .await
                .expect("an outcome")
                .expect("success")
                .0
                .name,
        ];
        done.sort();
        assert_eq!(done, ["a", "b"]);
        stop_tx.send(()).expect("controller alive");
        assert!(
            results.next().await.is_none(),
            "graceful shutdown ends the stream"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn graceful_shutdown_lets_in_flight_reconciles_finish() {
        let (tx, rx) = mpsc::unbounded();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop_tx, stop_rx) = futures::channel::oneshot::channel::<()>();
        let mut results = Box::pin(
            controller(&["slow", "late"], rx)
                .graceful_shutdown_on(stop_rx.map(|_| ()))
                .run(recording(seen.clone(), 30), no_retry, Arc::new(())),
        );
        tx.unbounded_send(Ok(cm("slow"))).expect("open");
        assert!(poll!(results.next()).is_pending());
        sleep(Duration::from_secs(1)).await;
        stop_tx.send(()).expect("controller alive");
        tx.unbounded_send(Ok(cm("late"))).expect("open");
        let outcomes: Vec<_> = results.collect().await;
        assert_eq!(outcomes.len(), 1, "{outcomes:?}");
        assert_eq!(
            *seen.lock().expect("lock"),
            ["slow"],
            "the in-flight reconcile completed, no new one started"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_run_stream_aborts_running_reconciles() {
        let (tx, rx) = mpsc::unbounded();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut results = Box::pin(controller(&["a"], rx).run(
            recording(seen.clone(), 10),
            no_retry,
            Arc::new(()),
        ));
        tx.unbounded_send(Ok(cm("a"))).expect("open");
        assert!(poll!(results.next()).is_pending());
        drop(results);
        sleep(Duration::from_secs(20)).await;
        assert!(
            seen.lock().expect("lock").is_empty(),
            "the reconcile outlived its controller"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn reconcile_all_on_requests_every_stored_object() {
        let (_tx, rx) = mpsc::unbounded();
        let (all_tx, all_rx) = mpsc::unbounded::<()>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut results = Box::pin(
            controller(&["a", "b", "c"], rx)
                .reconcile_all_on(all_rx)
                .run(recording(seen.clone(), 0), no_retry, Arc::new(())),
        );
        all_tx.unbounded_send(()).expect("open");
        for _ in 0..3 {
            assert!(results.next().await.expect("an outcome").is_ok());
        }
        let mut names = seen.lock().expect("lock").clone();
        names.sort();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[tokio::test(start_paused = true)]
    async fn owned_children_trigger_their_owner() {
        let (_tx, rx) = mpsc::unbounded();
        let (child_tx, child_rx) = mpsc::unbounded::<Result<Secret, watcher::Error>>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut results = Box::pin(controller(&["owner"], rx).owns_stream(child_rx).run(
            recording(seen.clone(), 0),
            no_retry,
            Arc::new(()),
        ));
        let mut child_meta = meta("child");
        child_meta.owner_references = Some(vec![OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "owner".into(),
            uid: "u".into(),
            controller: Some(true),
            ..OwnerReference::default()
        }]);
        child_tx
            .unbounded_send(Ok(Secret {
                metadata: child_meta,
                ..Secret::default()
            }))
            .expect("open");
        let (obj_ref, _) = results.next().await.expect("an outcome").expect("success");
        assert_eq!(obj_ref, ObjectRef::new("owner").within("ns"));
    }

    #[tokio::test(start_paused = true)]
    async fn watched_objects_trigger_what_the_mapper_names() {
        let (_tx, rx) = mpsc::unbounded();
        let (other_tx, other_rx) = mpsc::unbounded::<Result<Secret, watcher::Error>>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mapped = Arc::new(AtomicUsize::new(0));
        let mut results = Box::pin(
            controller(&["a", "b"], rx)
                .watches_stream(other_rx, {
                    let mapped = mapped.clone();
                    move |secret: Secret| {
                        mapped.fetch_add(1, Ordering::SeqCst);
                        let name = secret.metadata.name.unwrap_or_default();
                        // The secret "for-b" concerns the config map "b".
                        name.strip_prefix("for-")
                            .map(|target| ObjectRef::new(target).within("ns"))
                    }
                })
                .run(recording(seen.clone(), 0), no_retry, Arc::new(())),
        );
        other_tx
            .unbounded_send(Ok(Secret {
                metadata: meta("for-b"),
                ..Secret::default()
            }))
            .expect("open");
        let (obj_ref, _) = results.next().await.expect("an outcome").expect("success");
        assert_eq!(obj_ref.name, "b");
        assert_eq!(mapped.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_trigger_source_does_not_hold_back_the_others() {
        let (tx, rx) = mpsc::unbounded();
        let (other_tx, other_rx) = mpsc::unbounded::<Result<Secret, watcher::Error>>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut results = Box::pin(
            controller(&["a"], rx)
                .watches_stream(other_rx, |_: Secret| Vec::<ObjectRef<ConfigMap>>::new())
                .run(recording(seen.clone(), 0), no_retry, Arc::new(())),
        );
        // The other source fails again and again; its backoff grows.
        for _ in 0..5 {
            other_tx
                .unbounded_send(Err(watcher::Error::NoResourceVersion))
                .expect("open");
        }
        let first = results.next().await.expect("an outcome");
        assert!(matches!(first, Err(Error::QueueError(_))), "{first:?}");

        // Meanwhile the main source's trigger goes through at once.
        let start = tokio::time::Instant::now();
        tx.unbounded_send(Ok(cm("a"))).expect("open");
        let next = results.next().await.expect("an outcome");
        assert!(
            matches!(&next, Ok((obj_ref, _)) if obj_ref.name == "a"),
            "{next:?}"
        );
        assert!(
            start.elapsed() < Duration::from_millis(800),
            "held back by the other source's backoff: {:?}",
            start.elapsed()
        );

        // The failing source itself is paced: its remaining errors arrive
        // spread over its growing delays, not at once.
        let mut errors = 0;
        while errors < 4 {
            if let Err(Error::QueueError(_)) = results.next().await.expect("an outcome") {
                errors += 1;
            }
        }
        assert!(
            start.elapsed() >= Duration::from_millis(800 + 1600 + 3200),
            "the failing source was not backed off: {:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn trigger_errors_are_reported_and_the_trigger_is_backed_off() {
        let (tx, rx) = mpsc::unbounded();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut results = Box::pin(controller(&["a"], rx).run(
            recording(seen.clone(), 0),
            no_retry,
            Arc::new(()),
        ));
        tx.unbounded_send(Err(watcher::Error::NoResourceVersion))
            .expect("open");
        tx.unbounded_send(Ok(cm("a"))).expect("open");
        let first = results.next().await.expect("an outcome");
        assert!(
            matches!(
                first,
                Err(Error::QueueError(watcher::Error::NoResourceVersion))
            ),
            "{first:?}"
        );
        let start = tokio::time::Instant::now();
        assert!(results.next().await.expect("an outcome").is_ok());
        assert!(
            start.elapsed() >= Duration::from_millis(800),
            "retried without backoff"
        );
    }
}
