//! The series of one running controller: resolved once, so that each update
//! is an atomic operation, not a lookup.

use std::sync::{Arc, atomic::AtomicU64};

use prometheus_client::metrics::{counter::Counter, gauge::Gauge, histogram::Histogram};
use tokio::time::Instant;

use super::{ControllerLabel, Families, QueueLabels, ResultLabels, names::NameClaim};

/// How a reconcile ended, as controller-runtime's `result` label tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReconcileResult {
    /// Succeeded; reconciled again only on a change.
    Success,
    /// Succeeded, asking to be reconciled again after a while.
    RequeueAfter,
    /// Failed, and scheduled again by the error policy.
    Error,
    /// Failed, and the error policy did not schedule it again.
    TerminalError,
}

/// The metrics of one controller. Cheap to clone. When the last clone is
/// dropped (the controller stopped), its gauges fall to zero and its name is
/// free for the next controller.
#[derive(Debug, Clone)]
pub(crate) struct ControllerMetrics {
    series: Arc<Series>,
}

#[derive(Debug)]
struct Series {
    families: Arc<Families>,
    claim: NameClaim,
    success: Counter,
    requeue_after: Counter,
    error: Counter,
    errors: Counter,
    terminal_errors: Counter,
    panics: Counter,
    reconcile_time: Histogram,
    active_workers: Gauge,
    depth: Gauge,
    adds: Counter,
    queue_duration: Histogram,
    work_duration: Histogram,
    retries: Counter,
    watcher_restarts: Counter,
}

/// A reconcile under way, as the metrics know it.
#[derive(Debug)]
pub(crate) struct Running {
    number: u64,
    started: Instant,
}

impl ControllerMetrics {
    pub(super) fn new(families: Arc<Families>, wanted: &str, concurrency: u16) -> Self {
        let claim = families.names.claim(wanted);
        let name = claim.name().to_string();
        families.in_flight.register(&name);
        let controller = ControllerLabel {
            controller: name.clone(),
        };
        let queue = QueueLabels {
            controller: name.clone(),
            name: name.clone(),
        };
        let result = |result| {
            families
                .reconcile_total
                .get_or_create(&ResultLabels {
                    controller: name.clone(),
                    result,
                })
                .clone()
        };
        // Every result is listed from the start, as controller-runtime does,
        // so rates can be taken before the first error.
        let (success, requeue_after, error) =
            (result("success"), result("requeue_after"), result("error"));
        result("requeue");
        let max = if concurrency == 0 {
            f64::INFINITY
        } else {
            f64::from(concurrency)
        };
        let max_gauge: Gauge<f64, AtomicU64> =
            families.max_concurrent.get_or_create(&controller).clone();
        max_gauge.set(max);
        let series = Series {
            success,
            requeue_after,
            error,
            errors: families.reconcile_errors.get_or_create(&controller).clone(),
            terminal_errors: families.terminal_errors.get_or_create(&controller).clone(),
            panics: families.reconcile_panics.get_or_create(&controller).clone(),
            reconcile_time: families.reconcile_time.get_or_create(&controller).clone(),
            active_workers: families.active_workers.get_or_create(&controller).clone(),
            depth: families.depth.get_or_create(&queue).clone(),
            adds: families.adds.get_or_create(&queue).clone(),
            queue_duration: families.queue_duration.get_or_create(&queue).clone(),
            work_duration: families.work_duration.get_or_create(&queue).clone(),
            retries: families.retries.get_or_create(&queue).clone(),
            watcher_restarts: families.watcher_restarts.get_or_create(&controller).clone(),
            claim,
            families: Arc::clone(&families),
        };
        Self {
            series: Arc::new(series),
        }
    }

    /// The name in the `controller` label.
    pub(crate) fn name(&self) -> &str {
        self.series.claim.name()
    }

    /// A reconcile starts, having been due since `due_since`.
    pub(crate) fn reconcile_started(&self, due_since: Instant) -> Running {
        let s = &self.series;
        let started = Instant::now();
        s.queue_duration
            .observe(started.saturating_duration_since(due_since).as_secs_f64());
        s.active_workers.inc();
        Running {
            number: s.families.in_flight.start(self.name()),
            started,
        }
    }

    /// A reconcile ended with `result`.
    pub(crate) fn reconcile_finished(&self, running: Running, result: ReconcileResult) {
        let s = &self.series;
        let took = running.started.elapsed().as_secs_f64();
        s.families.in_flight.finish(self.name(), running.number);
        s.active_workers.dec();
        s.reconcile_time.observe(took);
        s.work_duration.observe(took);
        match result {
            ReconcileResult::Success => s.success.inc(),
            ReconcileResult::RequeueAfter => s.requeue_after.inc(),
            ReconcileResult::Error => {
                s.error.inc();
                s.errors.inc();
                s.retries.inc()
            }
            ReconcileResult::TerminalError => {
                s.error.inc();
                s.errors.inc();
                s.terminal_errors.inc()
            }
        };
    }

    /// A request was taken from the queue for an object no longer in the
    /// store: it waited, but no reconcile ran.
    pub(crate) fn object_missing(&self, due_since: Instant) {
        self.series
            .queue_duration
            .observe(due_since.elapsed().as_secs_f64());
    }

    /// A reconcile panicked.
    pub(crate) fn reconcile_panicked(&self) {
        self.series.panics.inc();
    }

    /// The queue holds `depth` due objects, after `added` more became due.
    pub(crate) fn queue(&self, depth: usize, added: u64) {
        let s = &self.series;
        s.depth.set(i64::try_from(depth).unwrap_or(i64::MAX));
        if added > 0 {
            s.adds.inc_by(added);
        }
    }

    /// A watch feeding the controller failed.
    pub(crate) fn watcher_failed(&self) {
        self.series.watcher_restarts.inc();
    }
}

impl Drop for Series {
    fn drop(&mut self) {
        self.active_workers.set(0);
        self.depth.set(0);
        self.families.in_flight.forget(self.claim.name());
    }
}
