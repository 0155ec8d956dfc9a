//! Controller metrics, exposed through a `prometheus-client` registry.
//!
//! ```
//! use prometheus_client::registry::Registry;
//! use kube_runtime::metrics::Metrics;
//!
//! let mut registry = Registry::default();
//! let metrics = Metrics::new(&mut registry);
//! // Controller::new(..).with_metrics(metrics).run(..)
//! let mut text = String::new();
//! prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
//! assert!(text.contains("reconcile_duration_seconds"));
//! ```
//!
//! | metric | type | meaning |
//! |---|---|---|
//! | `reconciles_total{result}` | counter | finished reconciles by `result`: `success`, `error`, `missing` (object gone) |
//! | `reconcile_duration_seconds` | histogram | time spent in reconcile |
//! | `reconcile_errors_total` | counter | failed reconciles |
//! | `queue_depth` | gauge | objects scheduled or due, not yet running |
//! | `active_workers` | gauge | reconciles running now |
//! | `watcher_restarts_total` | counter | failures of the watches feeding the controller (each is retried) |
//!
//! Names get the registry's prefix, if any; register each controller into a
//! sub-registry with its own label or prefix to tell them apart.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// The result label of `reconciles_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

/// The metrics of one controller. Cheap to clone; clones update the same
/// metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    reconciles: Family<ResultLabel, Counter>,
    reconcile_duration: Histogram,
    reconcile_errors: Counter,
    queue_depth: Gauge,
    active_workers: Gauge,
    watcher_restarts: Counter,
}

impl Metrics {
    /// Creates the metrics and registers them into `registry`.
    pub fn new(registry: &mut Registry) -> Self {
        let metrics = Self {
            reconciles: Family::default(),
            reconcile_duration: Histogram::new([
                0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            reconcile_errors: Counter::default(),
            queue_depth: Gauge::default(),
            active_workers: Gauge::default(),
            watcher_restarts: Counter::default(),
        };
        registry.register(
            "reconciles",
            "Finished reconciles, by result",
            metrics.reconciles.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time spent in reconcile",
            metrics.reconcile_duration.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Failed reconciles",
            metrics.reconcile_errors.clone(),
        );
        registry.register(
            "queue_depth",
            "Objects scheduled or due, not yet running",
            metrics.queue_depth.clone(),
        );
        registry.register(
            "active_workers",
            "Reconciles running now",
            metrics.active_workers.clone(),
        );
        registry.register(
            "watcher_restarts",
            "Failures of the watches feeding the controller",
            metrics.watcher_restarts.clone(),
        );
        metrics
    }

    pub(crate) fn reconcile_started(&self) {
        self.active_workers.inc();
    }

    pub(crate) fn reconcile_finished(&self, seconds: f64, succeeded: bool) {
        self.active_workers.dec();
        self.reconcile_duration.observe(seconds);
        let result = if succeeded { "success" } else { "error" };
        self.reconciles.get_or_create(&ResultLabel { result }).inc();
        if !succeeded {
            self.reconcile_errors.inc();
        }
    }

    pub(crate) fn object_missing(&self) {
        self.reconciles
            .get_or_create(&ResultLabel { result: "missing" })
            .inc();
    }

    pub(crate) fn set_queue_depth(&self, depth: usize) {
        self.queue_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    pub(crate) fn watcher_failed(&self) {
        self.watcher_restarts.inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_encodes() {
        let mut registry = Registry::with_prefix("ctl");
        let metrics = Metrics::new(&mut registry);
        metrics.reconcile_started();
        metrics.reconcile_finished(0.02, true);
        metrics.reconcile_started();
        metrics.reconcile_finished(1.5, false);
        metrics.object_missing();
        metrics.set_queue_depth(7);
        metrics.watcher_failed();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodable");
        for expected in [
            "ctl_reconciles_total{result=\"success\"} 1",
            "ctl_reconciles_total{result=\"error\"} 1",
            "ctl_reconciles_total{result=\"missing\"} 1",
            "ctl_reconcile_errors_total 1",
            "ctl_queue_depth 7",
            "ctl_active_workers 0",
            "ctl_watcher_restarts_total 1",
            "ctl_reconcile_duration_seconds_count 2",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }
}
