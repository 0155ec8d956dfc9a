//! Leader election on a real Lease: one leader at a time, hand-over when the
//! leader stops or vanishes, and a leader that cannot renew stops its
//! controller before anyone else may take over.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::{StreamExt, TryStreamExt, channel::oneshot};
use k8s_openapi::api::{coordination::v1::Lease, core::v1::ConfigMap};
use kube_client::{Api, Client};
use kube_runtime::{
    Controller,
    controller::Action,
    leader_election::{Error, LeaderElector, Outcome},
    watcher::{self, watch_object},
};
use kube_test::faults::{Fault, FaultRule, Match, Verb};
use tokio::{task::JoinHandle, time::Instant};

use crate::common::{Background, OURS, client_in_fresh_namespace, create, eventually, within};

/// Timings short enough for a test, long enough for a busy machine.
const LEASE_DURATION: Duration = Duration::from_secs(6);
const RENEW_DEADLINE: Duration = Duration::from_secs(4);
const RETRY_PERIOD: Duration = Duration::from_secs(1);

fn elector(client: &Client, namespace: &str, lock: &str, identity: &str) -> LeaderElector {
    LeaderElector::new(client.clone(), namespace, lock, identity)
        .lease_duration(LEASE_DURATION)
        .renew_deadline(RENEW_DEADLINE)
        .retry_period(RETRY_PERIOD)
}

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

/// One competing replica: its elector, and the task running the election
/// with work that lasts until told to stop.
struct Replica {
    identity: String,
    elector: LeaderElector,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<Outcome<()>, Error>>,
}

impl Replica {
    fn start(elector: LeaderElector) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn({
            let elector = elector.clone();
            async move {
                elector
                    .run(async {
                        let _ = stopped.await;
                    })
                    .await
            }
        });
        Self {
            identity: elector.identity().to_string(),
            elector,
            stop: Some(stop),
            task,
        }
    }
}

/// Samples who leads, by each elector's own account, every few milliseconds
/// until dropped, remembering every moment two claimed to lead at once.
struct LeaderSampler {
    overlaps: Arc<Mutex<Vec<Vec<String>>>>,
    samples: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl LeaderSampler {
    fn start(electors: Vec<LeaderElector>) -> Self {
        let overlaps = Arc::new(Mutex::new(Vec::new()));
        let samples = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let (overlaps, samples) = (overlaps.clone(), samples.clone());
            async move {
                loop {
                    let leading: Vec<String> = electors
                        .iter()
                        .filter(|elector| elector.is_leader())
                        .map(|elector| elector.identity().to_string())
                        .collect();
                    if leading.len() > 1 {
                        overlaps.lock().expect("lock").push(leading);
                    }
                    samples.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        Self {
            overlaps,
            samples,
            task,
        }
    }
}

impl Drop for LeaderSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits until one of `replicas` other than those named in `not` leads, and
/// returns its index.
async fn new_leader(replicas: &[Replica], not: &[&str]) -> usize {
    eventually("a new leader", || async {
        replicas
            .iter()
            .position(|r| r.elector.is_leader() && !not.contains(&r.identity.as_str()))
    })
    .await
}

/// The Lease's renew time, as written by its holder.
async fn renew_time(leases: &Api<Lease>, name: &str) -> Option<jiff::Timestamp> {
    let lease = leases.get_opt(name).await.expect("readable")?;
    lease.spec?.renew_time.map(|time| time.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_never_lead_at_once_and_hand_over_within_a_lease_duration() {
    let (client, ns) = client_in_fresh_namespace().await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    let mut replicas: Vec<Replica> = ["a", "b", "c"]
        .into_iter()
        .map(|identity| Replica::start(elector(&client, &ns, "e2e-trio", identity)))
        .collect();
    let sampler = LeaderSampler::start(replicas.iter().map(|r| r.elector.clone()).collect());

    let first = new_leader(&replicas, &[]).await;
    // It keeps leading through several renewals, the others waiting.
    let renewals = Mutex::new(Vec::new());
    eventually("three renewals of the lease", || async {
        let time = renew_time(&leases, "e2e-trio").await?;
        let mut renewals = renewals.lock().expect("lock");
        if renewals.last() != Some(&time) {
            renewals.push(time);
        }
        (renewals.len() > 3).then_some(())
    })
    .await;
    assert!(
        replicas[first].elector.is_leader(),
        "the leader kept leading"
    );

    // A clean stop releases the lease: another replica takes over quickly.
    let stopped = Instant::now();
    let _ = replicas[first].stop.take().expect("working").send(());
    let second = new_leader(&replicas, &[&replicas[first].identity]).await;
    let after_release = stopped.elapsed();
    let outcome = within("the first leader to stop", &mut replicas[first].task)
        .await
        .expect("ran")
        .expect("no election error");
    assert_eq!(outcome, Outcome::Completed(()));

    // A leader that vanishes (its task is dropped: no release) is replaced
    // once its lease expires.
    let vanished = Instant::now();
    replicas[second].task.abort();
    let not = [
        replicas[first].identity.as_str(),
        replicas[second].identity.as_str(),
    ];
    let third = new_leader(&replicas, &not).await;
    let after_expiry = vanished.elapsed();
    assert!(
        !replicas[second].elector.is_leader(),
        "a dropped election does not claim to lead"
    );

    let _ = replicas[third].stop.take().expect("working").send(());
    within("the last leader to stop", &mut replicas[third].task)
        .await
        .expect("ran")
        .expect("no election error");
    let samples = sampler.samples.load(Ordering::SeqCst);
    let overlaps = sampler.overlaps.lock().expect("lock").clone();
    eprintln!(
        "hand-over after a release: {after_release:?}; after a leader vanished: {after_expiry:?} \
         (lease {LEASE_DURATION:?}, retry {RETRY_PERIOD:?}); {samples} samples, {} with two leaders",
        overlaps.len()
    );
    assert!(
        overlaps.is_empty(),
        "two replicas led at once: {overlaps:?}"
    );
    // A released lease is free at once: the next attempt, within a jittered
    // retry period, takes it.
    assert!(
        after_release < LEASE_DURATION,
        "hand-over after a release took {after_release:?}"
    );
    // A candidate sees the vanished leader's last renewal within one
    // (jittered, up to 1.2×) retry period, waits a lease duration from then,
    // and tries again within another: a lease duration and up to 2.4 retry
    // periods, plus request latency.
    let bound = LEASE_DURATION + RETRY_PERIOD * 4;
    assert!(
        after_expiry < bound,
        "hand-over after the leader vanished took {after_expiry:?}, more than {bound:?}"
    );
}

#[derive(Debug, thiserror::Error)]
#[error("never fails")]
struct Never;

/// Records the wall-clock time its owner was dropped.
struct DropClock(Arc<Mutex<Option<jiff::Timestamp>>>);

impl Drop for DropClock {
    fn drop(&mut self) {
        *self.0.lock().expect("lock") = Some(jiff::Timestamp::now());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_cannot_renew_stops_its_controller_before_its_lease_can_expire() {
    let (proxy, direct, ns) = crate::common::proxy_and_fresh_namespace().await;
    let leases: Api<Lease> = Api::namespaced(direct.clone(), &ns);
    let config_maps: Api<ConfigMap> = Api::namespaced(direct.clone(), &ns);
    create(&config_maps, "work", "1").await;

    // Every renewal the Lease sees, by holder.
    let renewals = Arc::new(Mutex::new(Vec::<(String, jiff::Timestamp)>::new()));
    let _lease_watch = Background::drive(
        watch_object(leases.clone(), "e2e-cannot-renew").inspect_ok({
            let renewals = renewals.clone();
            move |lease| {
                let spec = lease.as_ref().and_then(|lease| lease.spec.as_ref());
                if let Some((Some(holder), Some(time))) =
                    spec.map(|spec| (&spec.holder_identity, &spec.renew_time))
                {
                    renewals
                        .lock()
                        .expect("lock")
                        .push((holder.clone(), time.0));
                }
            }
        }),
    );

    // The first replica talks to the apiserver through the proxy, and runs a
    // controller that reconciles over and over while it leads.
    let faulty = proxy.client().expect("a proxy client");
    let first = elector(&faulty, &ns, "e2e-cannot-renew", "first");
    let reconciles = Arc::new(Mutex::new(Vec::<jiff::Timestamp>::new()));
    let controller_dropped = Arc::new(Mutex::new(None));
    let controller = Controller::new(
        Api::<ConfigMap>::namespaced(faulty.clone(), &ns),
        watcher::Config::default().labels(OURS),
    )
    .run(
        |_, reconciles: Arc<Mutex<Vec<jiff::Timestamp>>>| async move {
            reconciles
                .lock()
                .expect("lock")
                .push(jiff::Timestamp::now());
            Ok::<_, Never>(Action::requeue(Duration::from_millis(100)))
        },
        |_, _, _| Action::await_change(),
        reconciles.clone(),
    );
    let first_run = tokio::spawn({
        let (first, dropped) = (first.clone(), controller_dropped.clone());
        async move {
            // Only runs, and is dropped, with the leadership.
            let work = async move {
                let _clock = DropClock(dropped);
                controller.for_each(|_| futures::future::ready(())).await;
            };
            first.run(work).await
        }
    });
    eventually("the first replica's controller to reconcile", || async {
        (reconciles.lock().expect("lock").len() >= 3).then_some(())
    })
    .await;
    assert!(first.is_leader());

    // A second replica waits, talking to the apiserver directly.
    let second = elector(&direct, &ns, "e2e-cannot-renew", "second");
    let second_leads_at = Arc::new(Mutex::new(None));
    let _second_run = Background::drive(futures::stream::once({
        let (second, leads_at) = (second.clone(), second_leads_at.clone());
        async move {
            second
                .run(async move {
                    *leads_at.lock().expect("lock") = Some(jiff::Timestamp::now());
                    futures::future::pending::<()>().await;
                })
                .await
        }
    }));

    // From now on the first replica's Lease writes fail.
    proxy.inject(FaultRule::new(
        Match::verb(Verb::Update).path_contains("leases"),
        Fault::internal_error(),
    ));
    let outcome = within("the first replica to step down", first_run)
        .await
        .expect("ran")
        .expect("no election error");
    assert_eq!(outcome, Outcome::LostLeadership);
    let stopped = controller_dropped
        .lock()
        .expect("lock")
        .expect("the controller was dropped");
    let last_reconcile = reconciles
        .lock()
        .expect("lock")
        .iter()
        .max()
        .copied()
        .expect("reconciled");

    let taken_over = eventually("the second replica to take over", || async {
        *second_leads_at.lock().expect("lock")
    })
    .await;
    let last_renewal = renewals
        .lock()
        .expect("lock")
        .iter()
        .filter(|(holder, _)| holder == "first")
        .map(|(_, time)| *time)
        .max()
        .expect("the first replica renewed");
    let since = |earlier: jiff::Timestamp, later: jiff::Timestamp| {
        Duration::try_from(later.duration_since(earlier)).unwrap_or_default()
    };
    let worked_past_renewal = since(last_renewal, stopped);
    let gap = since(stopped, taken_over);
    eprintln!(
        "controller stopped {worked_past_renewal:?} after the last renewal \
         (renew deadline {RENEW_DEADLINE:?}, lease {LEASE_DURATION:?}); \
         the second replica took over {gap:?} later"
    );
    assert!(
        worked_past_renewal < LEASE_DURATION,
        "the controller ran {worked_past_renewal:?} past the last renewal, when others may take over after {LEASE_DURATION:?}"
    );
    assert!(
        last_reconcile <= stopped,
        "a reconcile started after the controller stopped"
    );
    assert!(
        stopped < taken_over,
        "the second replica led while the first's controller still ran"
    );
    assert!(!first.is_leader());
    assert!(second.is_leader());
}
