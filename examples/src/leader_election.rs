//! Leader election: several replicas compete for a Lease, and only the
//! holder does the work. When it stops, it releases the Lease and another
//! replica takes over at once.

use std::{future::Future, time::Duration};

use k8s_openapi::api::coordination::v1::Lease;
use kube::{
    Api, Client,
    runtime::leader_election::{LeaderElector, Outcome},
};

/// An elector for the Lease `lease` in `namespace`, as replica `identity`,
/// with timings short enough to see hand-overs happen (a 6 s lease, renewed
/// every second, given up after 4 s without renewal).
pub fn elector(client: Client, namespace: &str, lease: &str, identity: &str) -> LeaderElector {
    LeaderElector::new(client, namespace, lease, identity)
        .lease_duration(Duration::from_secs(6))
        .renew_deadline(Duration::from_secs(4))
        .retry_period(Duration::from_secs(1))
}

/// Runs `work` as replica `identity` once it holds the Lease, and reports
/// how that ended.
pub async fn run<F: Future>(
    client: Client,
    namespace: &str,
    lease: &str,
    identity: &str,
    work: F,
) -> anyhow::Result<Outcome<F::Output>> {
    let elector = elector(client, namespace, lease, identity);
    tracing::info!(%identity, %lease, "waiting to lead");
    Ok(elector.run(work).await?)
}

/// Who holds the Lease now, if anyone.
pub async fn holder(
    client: Client,
    namespace: &str,
    lease: &str,
) -> anyhow::Result<Option<String>> {
    let leases: Api<Lease> = Api::namespaced(client, namespace);
    Ok(leases
        .get_opt(lease)
        .await?
        .and_then(|l| l.spec)
        .and_then(|spec| spec.holder_identity)
        .filter(|holder| !holder.is_empty()))
}
