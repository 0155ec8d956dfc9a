//! Leader election on a real Lease: one leader at a time, hand-over on release.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::channel::oneshot;
use k8s_openapi::api::coordination::v1::Lease;
use kube_client::Api;
use kube_runtime::leader_election::{LeaderElector, Outcome};

use crate::common::{client_in_fresh_namespace, within};

#[tokio::test]
async fn one_replica_leads_and_hands_over_when_it_stops() {
    let (client, ns) = client_in_fresh_namespace().await;
    let elector = |identity: &str| {
        LeaderElector::new(client.clone(), &ns, "e2e-lock", identity)
            .lease_duration(Duration::from_secs(4))
            .renew_deadline(Duration::from_secs(3))
            .retry_period(Duration::from_millis(500))
    };
    let (first, second) = (elector("first"), elector("second"));
    let leaders = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let lead = |leaders: Arc<AtomicUsize>, most: Arc<AtomicUsize>, done: oneshot::Receiver<()>| async move {
        let now = leaders.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        let _ = done.await;
        leaders.fetch_sub(1, Ordering::SeqCst);
    };

    let (stop_first, first_done) = oneshot::channel();
    let first_run = tokio::spawn({
        let first = first.clone();
        let work = lead(leaders.clone(), most.clone(), first_done);
        async move { first.run(work).await }
    });
    within("the first replica to lead", async {
        while !first.is_leader() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;

    let (stop_second, second_done) = oneshot::channel();
    let second_run = tokio::spawn({
        let second = second.clone();
        let work = lead(leaders.clone(), most.clone(), second_done);
        async move { second.run(work).await }
    });
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    let holder = || async {
        let lease = leases.get("e2e-lock").await.expect("the lease exists");
        lease.spec.and_then(|spec| spec.holder_identity)
    };
    // The second replica waits while the first keeps renewing.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!second.is_leader(), "two leaders");
        assert_eq!(holder().await.as_deref(), Some("first"));
    }

    stop_first.send(()).expect("the first replica is working");
    let first_outcome = within("the first replica to stop", first_run)
        .await
        .expect("ran");
    assert_eq!(
        first_outcome.expect("no election error"),
        Outcome::Completed(())
    );
    within("the second replica to take over", async {
        while !second.is_leader() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(holder().await.as_deref(), Some("second"));

    stop_second.send(()).expect("the second replica is working");
    let second_outcome = within("the second replica to stop", second_run)
        .await
        .expect("ran");
    assert_eq!(
        second_outcome.expect("no election error"),
        Outcome::Completed(())
    );
    assert_eq!(most.load(Ordering::SeqCst), 1, "both replicas led at once");
    assert_eq!(holder().await, None, "released at the end");
}
