//! Where the applier reports what it does: the controller's metrics, when it
//! has any. Without the `metrics` feature every report is a no-op.

use tokio::time::Instant;

#[cfg(feature = "metrics")]
use crate::metrics::{ControllerMetrics, Metrics, ReconcileResult};

/// How a finished reconcile turned out, for the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Succeeded, with a requeue (`true`) or without.
    Succeeded { requeued: bool },
    /// Failed, retried (`true`) or left until the object changes.
    Failed { retried: bool },
}

/// A reconcile under way.
#[derive(Debug)]
pub(crate) struct Started {
    #[cfg(feature = "metrics")]
    running: Option<crate::metrics::controller::Running>,
}

/// The reports of one controller.
#[derive(Debug, Clone, Default)]
pub(crate) struct Instruments {
    #[cfg(feature = "metrics")]
    metrics: Option<ControllerMetrics>,
}

impl Instruments {
    /// Reports into `metrics` under `name` (see [`Metrics`] for how names
    /// are kept apart).
    #[cfg(feature = "metrics")]
    pub(crate) fn with_metrics(metrics: &Metrics, name: &str, concurrency: u16) -> Self {
        Self {
            metrics: Some(metrics.controller(name, concurrency)),
        }
    }

    /// A reconcile starts, its object having been due since `due_since`.
    pub(crate) fn reconcile_started(&self, _due_since: Instant) -> Started {
        Started {
            #[cfg(feature = "metrics")]
            running: self
                .metrics
                .as_ref()
                .map(|metrics| metrics.reconcile_started(_due_since)),
        }
    }

    /// The reconcile `started` ended.
    pub(crate) fn reconcile_finished(&self, _started: Started, _outcome: Outcome) {
        #[cfg(feature = "metrics")]
        if let (Some(metrics), Some(running)) = (&self.metrics, _started.running) {
            let result = match _outcome {
                Outcome::Succeeded { requeued: false } => ReconcileResult::Success,
                Outcome::Succeeded { requeued: true } => ReconcileResult::RequeueAfter,
                Outcome::Failed { retried: true } => ReconcileResult::Error,
                Outcome::Failed { retried: false } => ReconcileResult::TerminalError,
            };
            metrics.reconcile_finished(running, result);
        }
    }

    /// An object due since `due_since` was not in the store: nothing ran.
    pub(crate) fn object_missing(&self, _due_since: Instant) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.object_missing(_due_since);
        }
    }

    /// A reconcile panicked.
    pub(crate) fn reconcile_panicked(&self) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.reconcile_panicked();
        }
    }

    /// A trigger (a watch) failed.
    pub(crate) fn queue_failed(&self) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.watcher_failed();
        }
    }

    /// `depth` objects are due, after `added` more became due.
    pub(crate) fn queue(&self, _depth: usize, _added: u64) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.queue(_depth, _added);
        }
    }
}
