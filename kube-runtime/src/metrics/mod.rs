//! Operator metrics with controller-runtime's and client-go's names, types,
//! labels and buckets, in a `prometheus-client` registry, so that the
//! dashboards and alerts written for Go operators work unchanged.
//!
//! ```no_run
//! use std::sync::Arc;
//! use futures::StreamExt;
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube_client::{Api, Client};
//! use kube_runtime::{
//!     Controller, controller::Action, leader_election::LeaderElector, metrics::Metrics, watcher,
//! };
//! use prometheus_client::registry::Registry;
//!
//! # async fn reconcile(_: Arc<ConfigMap>, _: Arc<()>) -> Result<Action, kube_client::Error> { todo!() }
//! # fn error_policy(_: Arc<ConfigMap>, _: &kube_client::Error, _: Arc<()>) -> Action { todo!() }
//! # async fn run(client: Client) {
//! let mut registry = Registry::default();
//! let metrics = Metrics::new(&mut registry);
//! let elector = LeaderElector::new(client.clone(), "default", "my-operator", "replica-a")
//!     .with_metrics(metrics.clone());
//! let controller = Controller::new(Api::<ConfigMap>::all(client), watcher::Config::default())
//!     .with_metrics(metrics)
//!     .run(reconcile, error_policy, Arc::new(()))
//!     .for_each(|_| async {});
//! let _ = elector.run(controller).await;
//! // Serve `registry` at /metrics, e.g. with `probes::Probes` (feature `probes`).
//! # }
//! ```
//!
//! Every controller given these metrics (with
//! [`Controller::with_metrics`](crate::Controller::with_metrics)) writes its
//! own series, labelled with its name: the lowercased kind it manages, e.g.
//! `configmapgenerator`, or the name given with
//! [`Controller::named`](crate::Controller::named). Two controllers running
//! at once never share a series: a name already in use gets a suffix (`-2`,
//! `-3`, ...) and a warning in the log. A controller started again under the
//! same name, say after its replica won back leadership, continues its
//! series.
//!
//! | metric | type | labels | meaning |
//! |---|---|---|---|
//! | `controller_runtime_reconcile_total` | counter | `controller`, `result` | finished reconciles: `success` (`Action::await_change`), `requeue_after` (`Action::requeue`), `error`; `requeue` exists for dashboards and stays 0 |
//! | `controller_runtime_reconcile_errors_total` | counter | `controller` | failed reconciles |
//! | `controller_runtime_terminal_reconcile_errors_total` | counter | `controller` | failed reconciles the error policy did not retry (`Action::await_change`) |
//! | `controller_runtime_reconcile_panics_total` | counter | `controller` | reconciles that panicked (the panic goes on to the controller's stream) |
//! | `controller_runtime_reconcile_time_seconds` | histogram | `controller` | time spent in reconcile, controller-runtime's buckets (5 ms to 60 s) |
//! | `controller_runtime_max_concurrent_reconciles` | gauge | `controller` | [`Config::concurrency`](crate::controller::Config::concurrency); `+Inf` when unbounded |
//! | `controller_runtime_active_workers` | gauge | `controller` | reconciles running now |
//! | `workqueue_depth` | gauge | `controller`, `name` | objects due for a reconcile, not yet started |
//! | `workqueue_adds_total` | counter | `controller`, `name` | objects that became due (merged requests count once) |
//! | `workqueue_queue_duration_seconds` | histogram | `controller`, `name` | from due to started, client-go's buckets (10 ns to 1000 s) |
//! | `workqueue_work_duration_seconds` | histogram | `controller`, `name` | from started to done, client-go's buckets |
//! | `workqueue_unfinished_work_seconds` | gauge | `controller`, `name` | seconds spent so far by the reconciles still running, summed |
//! | `workqueue_longest_running_processor_seconds` | gauge | `controller`, `name` | seconds the longest running reconcile has run |
//! | `workqueue_retries_total` | counter | `controller`, `name` | failed reconciles scheduled again |
//! | `watcher_restarts_total` | counter | `controller` | failures of the watches feeding the controller (each retried with backoff) |
//! | `leader_election_master_status` | gauge | `name` (the Lease) | 1 while this replica leads, 0 otherwise |
//!
//! `watcher_restarts_total` has no counterpart in controller-runtime, whose
//! informers only log failed watches; it keeps its earlier name. The client's
//! `rest_client_requests_total` and `rest_client_request_duration_seconds`
//! come from `kube_client::client::middleware::ClientMetrics` (feature
//! `metrics` of `kube-client`, or of `kube`).
//!
//! Register the metrics in the root registry: a prefix or a sub-registry
//! would rename them away from the names dashboards look for.

pub(crate) mod controller;
mod in_flight;
mod names;

use std::sync::Arc;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

pub(crate) use controller::{ControllerMetrics, ReconcileResult};
use in_flight::InFlightCollector;
use names::Names;

/// controller-runtime's buckets for reconcile times, in seconds.
const RECONCILE_TIME_BUCKETS: [f64; 40] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9,
    1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 15.0, 20.0,
    25.0, 30.0, 40.0, 50.0, 60.0,
];

/// client-go's work queue buckets: 10 ns, then tenfold up to 1000 s.
fn workqueue_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(10e-9, 10.0, 12)
}

/// The `controller` label.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct ControllerLabel {
    pub(crate) controller: String,
}

/// The `controller` and `result` labels of the reconcile count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct ResultLabels {
    pub(crate) controller: String,
    pub(crate) result: &'static str,
}

/// The labels of client-go's work queue metrics: controller-runtime sets both
/// to the controller's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct QueueLabels {
    pub(crate) controller: String,
    pub(crate) name: String,
}

/// The `name` label of leader election: the Lease's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LeaseLabel {
    name: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric family, registered once.
#[derive(Debug)]
pub(crate) struct Families {
    pub(crate) reconcile_total: Family<ResultLabels, Counter>,
    pub(crate) reconcile_errors: Family<ControllerLabel, Counter>,
    pub(crate) terminal_errors: Family<ControllerLabel, Counter>,
    pub(crate) reconcile_panics: Family<ControllerLabel, Counter>,
    pub(crate) reconcile_time: HistogramFamily<ControllerLabel>,
    pub(crate) max_concurrent: Family<ControllerLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
    pub(crate) active_workers: Family<ControllerLabel, Gauge>,
    pub(crate) depth: Family<QueueLabels, Gauge>,
    pub(crate) adds: Family<QueueLabels, Counter>,
    pub(crate) queue_duration: HistogramFamily<QueueLabels>,
    pub(crate) work_duration: HistogramFamily<QueueLabels>,
    pub(crate) retries: Family<QueueLabels, Counter>,
    pub(crate) watcher_restarts: Family<ControllerLabel, Counter>,
    leader: Family<LeaseLabel, Gauge>,
    pub(crate) in_flight: Arc<InFlightCollector>,
    pub(crate) names: Names,
}

/// The metrics of an operator's controllers and leader election, registered
/// in a `prometheus-client` registry (see the [module](self) for the list).
///
/// Cheap to clone: clones write to the same families. Make one per registry
/// and hand clones to every controller and elector.
#[derive(Debug, Clone)]
pub struct Metrics {
    families: Arc<Families>,
}

impl Metrics {
    /// Creates the metric families and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> Self {
        let families = Families {
            reconcile_total: Family::default(),
            reconcile_errors: Family::default(),
            terminal_errors: Family::default(),
            reconcile_panics: Family::default(),
            reconcile_time: Family::new_with_constructor(|| Histogram::new(RECONCILE_TIME_BUCKETS)),
            max_concurrent: Family::default(),
            active_workers: Family::default(),
            depth: Family::default(),
            adds: Family::default(),
            queue_duration: Family::new_with_constructor(|| Histogram::new(workqueue_buckets())),
            work_duration: Family::new_with_constructor(|| Histogram::new(workqueue_buckets())),
            retries: Family::default(),
            watcher_restarts: Family::default(),
            leader: Family::default(),
            in_flight: Arc::default(),
            names: Names::default(),
        };
        let f = &families;
        registry.register(
            "controller_runtime_reconcile",
            "Reconciles finished, by controller and result",
            f.reconcile_total.clone(),
        );
        registry.register(
            "controller_runtime_reconcile_errors",
            "Reconciles that returned an error, by controller",
            f.reconcile_errors.clone(),
        );
        registry.register(
            "controller_runtime_terminal_reconcile_errors",
            "Failed reconciles the error policy did not retry, by controller",
            f.terminal_errors.clone(),
        );
        registry.register(
            "controller_runtime_reconcile_panics",
            "Reconciles that panicked, by controller",
            f.reconcile_panics.clone(),
        );
        registry.register(
            "controller_runtime_reconcile_time_seconds",
            "Seconds spent in each reconcile, by controller",
            f.reconcile_time.clone(),
        );
        registry.register(
            "controller_runtime_max_concurrent_reconciles",
            "How many reconciles a controller runs at once at most",
            f.max_concurrent.clone(),
        );
        registry.register(
            "controller_runtime_active_workers",
            "Reconciles running now, by controller",
            f.active_workers.clone(),
        );
        registry.register(
            "workqueue_depth",
            "Objects due for a reconcile and not yet started",
            f.depth.clone(),
        );
        registry.register(
            "workqueue_adds",
            "Objects that became due for a reconcile",
            f.adds.clone(),
        );
        registry.register(
            "workqueue_queue_duration_seconds",
            "Seconds from due to the start of the reconcile",
            f.queue_duration.clone(),
        );
        registry.register(
            "workqueue_work_duration_seconds",
            "Seconds from the start of a reconcile to its end",
            f.work_duration.clone(),
        );
        registry.register(
            "workqueue_retries",
            "Failed reconciles scheduled to run again",
            f.retries.clone(),
        );
        registry.register(
            "watcher_restarts",
            "Failures of the watches feeding a controller, each retried with backoff",
            f.watcher_restarts.clone(),
        );
        registry.register(
            "leader_election_master_status",
            "1 while this replica holds the Lease named by 'name', 0 while it stands by",
            f.leader.clone(),
        );
        registry.register_collector(Box::new(Arc::clone(&f.in_flight)));
        Self {
            families: Arc::new(families),
        }
    }

    /// The series of one controller, under `name` (or a free variant of it),
    /// running at most `concurrency` reconciles at once (0: no limit).
    pub(crate) fn controller(&self, name: &str, concurrency: u16) -> ControllerMetrics {
        ControllerMetrics::new(Arc::clone(&self.families), name, concurrency)
    }

    /// The `leader_election_master_status` series of the Lease `lease`, at 0.
    pub(crate) fn leader(&self, lease: &str) -> Gauge {
        let gauge = self
            .families
            .leader
            .get_or_create(&LeaseLabel { name: lease.into() })
            .clone();
        gauge.set(0);
        gauge
    }
}
