//! Leader election on `coordination.k8s.io/v1` Leases, with client-go's
//! semantics.
//!
//! Several replicas of an operator can run for availability, but only one
//! should act. Each replica runs a [`LeaderElector`] on the same Lease; the one
//! holding the Lease leads:
//!
//! - A candidate tries to acquire the Lease every `retry_period`. It may take it
//!   when nobody holds it, or when the holder has not renewed it for
//!   `lease_duration` — measured on the candidate's own clock from when it last
//!   saw the Lease change, so clock skew between machines does not matter.
//! - The leader renews the Lease every `retry_period`. If it has not managed to
//!   renew for `renew_deadline`, it steps down. Because `renew_deadline` is
//!   shorter than `lease_duration`, a leader that cannot reach the apiserver
//!   stops working *before* anyone else can take over: there is never a moment
//!   with two leaders.
//! - On a clean stop the leader releases the Lease, so another replica takes
//!   over within one `retry_period` instead of waiting for it to expire.
//!
//! [`LeaderElector::run`] runs a future only while leading, and drops it the
//! moment leadership is lost — at the latest `renew_deadline` after the last
//! successful renewal, while the others still wait for the Lease to expire.
//! The future is typically a whole [`Controller`], driven to its end: dropping
//! it stops its watches and aborts its running reconciles. The Controller is
//! built inside the loop, so each term of leadership starts from a fresh list
//! rather than from a store that went stale while another replica led.
//!
//! ```no_run
//! use std::{sync::Arc, time::Duration};
//!
//! use futures::StreamExt;
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube_client::{Api, Client};
//! use kube_runtime::{
//!     Controller,
//!     controller::Action,
//!     leader_election::{LeaderElector, Outcome},
//!     watcher,
//! };
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("reconcile failed")]
//! struct Error;
//!
//! async fn reconcile(_: Arc<ConfigMap>, _: Arc<()>) -> Result<Action, Error> {
//!     Ok(Action::requeue(Duration::from_secs(300)))
//! }
//!
//! fn error_policy(_: Arc<ConfigMap>, _: &Error, _: Arc<()>) -> Action {
//!     Action::requeue(Duration::from_secs(5))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::try_default().await?;
//! let identity = std::env::var("POD_NAME").unwrap_or_else(|_| "local".into());
//! let elector = LeaderElector::new(client.clone(), "default", "my-operator-lock", identity);
//! loop {
//!     let controller = Controller::new(Api::<ConfigMap>::all(client.clone()), watcher::Config::default())
//!         .shutdown_on_signal()
//!         .run(reconcile, error_policy, Arc::new(()))
//!         .for_each(|_| async {});
//!     match elector.run(controller).await? {
//!         // Shut down by a signal: the lease is released for the next replica.
//!         Outcome::Completed(()) => break,
//!         // The controller was stopped in time; compete again.
//!         Outcome::LostLeadership => continue,
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`Controller`]: crate::Controller

mod elect;
mod record;

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use k8s_openapi::api::coordination::v1::Lease;
use kube_client::{Api, Client};
use thiserror::Error;

use elect::{ApiLease, Elector, Settings};

/// Why an elector could not run.
#[derive(Debug, Error)]
pub enum Error {
    /// The timings cannot guarantee a single leader.
    #[error("invalid leader election timing: {0}")]
    InvalidTiming(String),
}

/// How a [`LeaderElector::run`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The work completed while leading, and the Lease was released — or, if
    /// releasing it failed or took longer than the renew deadline (logged as
    /// a warning), left to expire, so the next leader waits for that.
    Completed(T),
    /// Leadership was lost (the Lease could not be renewed in time, or another
    /// holder took it); the work was dropped.
    LostLeadership,
}

/// Competes for a Lease and runs work only while holding it.
#[derive(Clone)]
pub struct LeaderElector {
    api: Api<Lease>,
    settings: Settings,
    leading: Arc<AtomicBool>,
    #[cfg(feature = "metrics")]
    metrics: Option<crate::metrics::Metrics>,
}

impl std::fmt::Debug for LeaderElector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderElector")
            .field("settings", &self.settings)
            .field("leading", &self.is_leader())
            .finish_non_exhaustive()
    }
}

impl LeaderElector {
    /// An elector for the Lease `lease_name` in `namespace`, identifying itself
    /// as `identity` (unique per replica, e.g. the pod name), with client-go's
    /// default timings: 15 s lease, 10 s renew deadline, 2 s retry period.
    pub fn new(
        client: Client,
        namespace: &str,
        lease_name: &str,
        identity: impl Into<String>,
    ) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            settings: Settings {
                lease_name: lease_name.to_string(),
                identity: identity.into(),
                lease_duration: Duration::from_secs(15),
                renew_deadline: Duration::from_secs(10),
                retry_period: Duration::from_secs(2),
            },
            leading: Arc::default(),
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }

    /// Reports leadership in `metrics` as client-go does:
    /// `leader_election_master_status{name="<lease>"}` is 1 while this
    /// replica leads, 0 while it stands by.
    #[cfg(feature = "metrics")]
    #[must_use]
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// How long others wait, after last seeing the Lease change, before taking it.
    #[must_use]
    pub fn lease_duration(mut self, duration: Duration) -> Self {
        self.settings.lease_duration = duration;
        self
    }

    /// How long the leader keeps trying to renew before stepping down.
    #[must_use]
    pub fn renew_deadline(mut self, deadline: Duration) -> Self {
        self.settings.renew_deadline = deadline;
        self
    }

    /// How often candidates try to acquire, and the leader to renew.
    #[must_use]
    pub fn retry_period(mut self, period: Duration) -> Self {
        self.settings.retry_period = period;
        self
    }

    /// This replica's identity.
    pub fn identity(&self) -> &str {
        &self.settings.identity
    }

    /// Whether this elector currently leads.
    pub fn is_leader(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }

    /// Waits until this replica holds the Lease, then runs `work` until it
    /// completes (then releases the Lease) or leadership is lost (then drops
    /// `work` at once, and never polls it again once the renew deadline has
    /// passed).
    ///
    /// Dropping the returned future (e.g. when the process shuts down) drops
    /// `work` too, without releasing the Lease: the others take over once it
    /// expires.
    pub async fn run<F: Future>(&self, work: F) -> Result<Outcome<F::Output>, Error> {
        let lease = ApiLease {
            api: self.api.clone(),
            name: self.settings.lease_name.clone(),
        };
        let leading = LeadingFlag {
            flag: &self.leading,
            #[cfg(feature = "metrics")]
            gauge: self
                .metrics
                .as_ref()
                .map(|metrics| metrics.leader(&self.settings.lease_name)),
        };
        Elector::new(&lease, &self.settings)
            .run(work, |now_leading| leading.set(now_leading))
            .await
    }
}

/// What [`LeaderElector::is_leader`] (and the leadership gauge) reads;
/// cleared when the election is dropped midway, so a cancelled replica never
/// claims to lead.
struct LeadingFlag<'a> {
    flag: &'a AtomicBool,
    #[cfg(feature = "metrics")]
    gauge: Option<prometheus_client::metrics::gauge::Gauge>,
}

impl LeadingFlag<'_> {
    fn set(&self, leading: bool) {
        self.flag.store(leading, Ordering::SeqCst);
        #[cfg(feature = "metrics")]
        if let Some(gauge) = &self.gauge {
            gauge.set(i64::from(leading));
        }
    }
}

impl Drop for LeadingFlag<'_> {
    fn drop(&mut self) {
        self.set(false);
    }
}
