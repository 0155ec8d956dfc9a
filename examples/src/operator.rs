//! The ConfigMap generator operator run as it would be in a cluster: one
//! replica leads (a Lease), failing generators back off one by one, and a
//! probe server answers `/healthz`, `/readyz` and `/metrics` with
//! controller-runtime's and client-go's metrics.
//!
//! ```text
//! operator [--local | --kubeconfig PATH] [--namespace NS] [--probes-addr ADDR]
//! ```
//!
//! `/readyz` answers 200 once this replica leads and its controller has
//! listed the generators and their ConfigMaps; a replica standing by answers
//! 503, so only the leader is in its Service.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use futures::{FutureExt, StreamExt};
use kube::{
    Client,
    client::middleware::ClientMetrics,
    runtime::{
        controller::{Config, ErrorBackoff, Synced},
        leader_election::{LeaderElector, Outcome},
        metrics::Metrics,
        probes::{ProbeServer, Probes, Standby},
    },
};
use prometheus_client::registry::Registry;

use crate::{
    cluster::Target,
    configmapgen::{self, Stats},
};

/// Where the probes listen unless told otherwise.
pub const DEFAULT_PROBES_ADDR: &str = "127.0.0.1:8080";

/// The Lease the replicas compete for.
pub const LEASE: &str = "configmapgen-operator";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// The cluster.
    pub target: Target,
    /// The namespace to work in; every namespace when `None`.
    pub namespace: Option<String>,
    /// Where the probe server listens.
    pub probes_addr: SocketAddr,
}

impl Args {
    /// `--namespace NS` and `--probes-addr ADDR`, and the cluster flags of
    /// [`Target::choose`].
    pub fn parse(args: &[String], kubeconfig_env: Option<String>) -> anyhow::Result<Self> {
        let mut namespace = None;
        let mut probes_addr = DEFAULT_PROBES_ADDR.parse()?;
        let mut rest = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--namespace" => {
                    namespace = Some(args.next().context("--namespace needs a name")?.clone());
                }
                "--probes-addr" => {
                    let addr = args
                        .next()
                        .context("--probes-addr needs an address, e.g. 127.0.0.1:8080")?;
                    probes_addr = addr.parse().with_context(|| {
                        format!("--probes-addr {addr:?} is not an address like 127.0.0.1:8080")
                    })?;
                }
                _ => rest.push(arg.clone()),
            }
        }
        Ok(Self {
            target: Target::choose(&rest, kubeconfig_env)?,
            namespace,
            probes_addr,
        })
    }
}

/// Every metric of the operator, in one registry until the probe server
/// takes it.
pub struct Observability {
    /// Where everything is registered.
    pub registry: Registry,
    /// Controllers, work queues, leader election.
    pub runtime: Metrics,
    /// The client's requests.
    pub client: ClientMetrics,
}

impl Observability {
    /// A registry holding the runtime's and the client's metrics.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let runtime = Metrics::new(&mut registry);
        let client = ClientMetrics::new(&mut registry);
        Self {
            registry,
            runtime,
            client,
        }
    }
}

impl Default for Observability {
    fn default() -> Self {
        Self::new()
    }
}

/// The operator, ready to run: its probe server already listens.
pub struct Operator {
    client: Client,
    namespace: Option<String>,
    elector: LeaderElector,
    metrics: Metrics,
    synced: Synced,
    probes: ProbeServer,
}

impl Operator {
    /// Starts the probe server on `probes_addr` for an operator working in
    /// `namespace` (all when `None`) through `client`, competing for the
    /// Lease [`LEASE`] in `lease_namespace` as `identity`.
    pub async fn start(
        client: Client,
        namespace: Option<String>,
        lease_namespace: &str,
        identity: &str,
        observability: Observability,
        probes_addr: SocketAddr,
    ) -> anyhow::Result<Self> {
        let elector = LeaderElector::new(client.clone(), lease_namespace, LEASE, identity)
            .with_metrics(observability.runtime.clone());
        let synced = Synced::new();
        let probes = Probes::new()
            .metrics(observability.registry)
            .ready_when_synced(synced.clone())
            .leader_election(elector.clone(), Standby::NotReady)
            .serve(probes_addr)
            .await
            .with_context(|| format!("listening for probes on {probes_addr}"))?;
        Ok(Self {
            client,
            namespace,
            elector,
            metrics: observability.runtime,
            synced,
            probes,
        })
    }

    /// Where the probe server listens.
    pub fn probes_addr(&self) -> SocketAddr {
        self.probes.local_addr()
    }

    /// Competes for the Lease and runs the controller while leading, until
    /// `shutdown` completes; returns what the controller did.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<Arc<Stats>> {
        let shutdown = shutdown.shared();
        let stats = Arc::new(Stats::default());
        loop {
            // A fresh controller each term: its store starts from a new list.
            let controller = configmapgen::controller(&self.client, self.namespace.as_deref())
                .with_config(Config::default().error_backoff(ErrorBackoff::default()))
                .with_metrics(self.metrics.clone())
                .with_synced(self.synced.clone())
                .graceful_shutdown_on(shutdown.clone())
                .run(
                    configmapgen::reconcile,
                    configmapgen::error_policy,
                    configmapgen::context(self.client.clone(), stats.clone()),
                )
                .for_each(|outcome| async move { configmapgen::log_outcome(outcome) });
            // Stopped while standing by: nothing to hand over. While leading,
            // the controller stops itself and the Lease is released.
            let stop_standing_by = {
                let (shutdown, elector) = (shutdown.clone(), self.elector.clone());
                async move {
                    shutdown.await;
                    if elector.is_leader() {
                        std::future::pending::<()>().await;
                    }
                }
            };
            tokio::select! {
                outcome = self.elector.run(controller) => match outcome? {
                    Outcome::Completed(()) => break,
                    Outcome::LostLeadership => {
                        tracing::warn!("lost the lease; standing by to compete again");
                    }
                },
                () = stop_standing_by => break,
            }
        }
        Ok(stats)
    }
}
