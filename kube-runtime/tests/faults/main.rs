//! Watchers and reflectors through the faults real clusters inflict:
//! connections dropped mid-watch, `410 Gone`, failing lists, silent (dead)
//! watch connections — injected by `kube_test::faults::FaultProxy` in front of
//! the real apiserver. Whatever happens, the stream goes on, and once the
//! faults stop the reflector's store equals a fresh list.

use std::{collections::BTreeMap, time::Duration};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api,
    api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams},
};
use kube_runtime::{
    WatchStreamExt,
    reflector::{self, Store},
    watcher,
};
use kube_test::{
    TestEnv,
    faults::{Fault, FaultProxy, FaultRule, Match, SeenRequest, Verb},
};
use tokio::task::JoinHandle;

/// How long a store may take to catch up once the faults stop: the watcher's
/// backoff may have grown to several seconds, and a dead watch is only
/// noticed after its timeout plus 30 s.
const CONVERGENCE: Duration = Duration::from_secs(120);

struct Setup {
    proxy: FaultProxy,
    /// Bypasses the proxy: the truth, and the writer of changes.
    direct: Api<ConfigMap>,
    /// Through the proxy.
    faulty: Api<ConfigMap>,
}

async fn setup() -> Setup {
    let env = TestEnv::start().await.expect("the control plane starts");
    let proxy = FaultProxy::start(env)
        .await
        .expect("the fault proxy starts");
    let ns = env.fresh_namespace().await.expect("a namespace");
    let direct = Api::namespaced(env.client().await.expect("client"), &ns);
    let faulty = Api::namespaced(proxy.client().expect("proxy client"), &ns);
    Setup {
        proxy,
        direct,
        faulty,
    }
}

/// A reflector through the proxy, driven by a task of its own; the task is
/// aborted when the guard drops.
struct Reflector {
    store: Store<ConfigMap>,
    task: JoinHandle<usize>,
}

impl Reflector {
    fn start(api: Api<ConfigMap>, config: watcher::Config) -> Self {
        let (store, writer) = reflector::store();
        let stream = watcher(api, config).default_backoff().reflect(writer);
        let task = tokio::spawn(async move {
            let mut errors = 0;
            let mut stream = std::pin::pin!(stream);
            while let Some(item) = stream.next().await {
                if let Err(error) = item {
                    errors += 1;
                    tracing::debug!(%error, "watcher error");
                }
            }
            errors
        });
        Self { store, task }
    }
}

impl Drop for Reflector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        data: Some([("v".to_string(), value.to_string())].into()),
        ..ConfigMap::default()
    }
}

/// Name to resource version.
type Versions = BTreeMap<String, String>;

fn versions<'a>(objects: impl IntoIterator<Item = &'a ConfigMap>) -> Versions {
    objects
        .into_iter()
        .map(|cm| {
            (
                cm.metadata.name.clone().unwrap_or_default(),
                cm.metadata.resource_version.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// Waits until the store holds exactly what a fresh list holds, at the same
/// resource versions.
async fn assert_converges(setup: &Setup, reflector: &Reflector) {
    let deadline = tokio::time::Instant::now() + CONVERGENCE;
    loop {
        let listed = setup
            .direct
            .list(&ListParams::default())
            .await
            .expect("a fresh list");
        let listed = versions(&listed.items);
        let state = reflector.store.state();
        let stored = versions(state.iter().map(AsRef::as_ref));
        if listed == stored {
            return;
        }
        assert!(
            !reflector.task.is_finished(),
            "the watcher stream ended; it must go on forever"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the store did not converge within {CONVERGENCE:?}:\nlisted {listed:?}\nstored {stored:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until at least `count` requests the proxy saw are `like` this.
async fn await_requests(
    proxy: &FaultProxy,
    what: &str,
    count: usize,
    like: impl Fn(&SeenRequest) -> bool,
) {
    let deadline = tokio::time::Instant::now() + CONVERGENCE;
    loop {
        let seen = proxy.requests().iter().filter(|r| like(r)).count();
        if seen >= count {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {seen} of {count} {what} within {CONVERGENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates, updates and deletes objects directly while the faults act.
async fn churn(api: &Api<ConfigMap>, round: usize) {
    for i in 0..10 {
        api.create(
            &PostParams::default(),
            &config_map(&format!("r{round}-{i}"), "0"),
        )
        .await
        .expect("create");
    }
    for i in 0..10 {
        let patch = serde_json::json!({"data": {"v": "1"}});
        api.patch(
            &format!("r{round}-{i}"),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .expect("update");
    }
    for i in (0..10).step_by(3) {
        api.delete(&format!("r{round}-{i}"), &DeleteParams::default())
            .await
            .expect("delete");
    }
}

#[tokio::test]
async fn a_reflector_recovers_from_watches_dropped_mid_stream() {
    let setup = setup().await;
    churn(&setup.direct, 0).await;
    let reflector = Reflector::start(setup.faulty.clone(), watcher::Config::default());
    assert_converges(&setup, &reflector).await;

    // Every watch now breaks off after one event, starting with the open one.
    setup
        .proxy
        .inject(FaultRule::new(Match::watches(), Fault::DropAfterEvents(1)));
    setup.proxy.disconnect_all();
    for round in 1..=3 {
        churn(&setup.direct, round).await;
    }
    // Each new watch resumes from the last event seen and is cut again.
    await_requests(&setup.proxy, "cut watches", 3, |r| {
        r.verb == Verb::Watch && r.faulted()
    })
    .await;
    setup.proxy.clear();
    assert_converges(&setup, &reflector).await;
}

#[tokio::test]
async fn a_reflector_relists_after_410_gone_and_keeps_no_ghosts() {
    let setup = setup().await;
    churn(&setup.direct, 0).await;
    let reflector = Reflector::start(setup.faulty.clone(), watcher::Config::default());
    assert_converges(&setup, &reflector).await;
    let lists_before = setup
        .proxy
        .requests()
        .iter()
        .filter(|r| r.verb == Verb::List)
        .count();

    // The open watch is cut and the next three expire at once, while objects
    // come and go.
    setup
        .proxy
        .inject(FaultRule::new(Match::watches(), Fault::WatchGone { after_events: 0 }).times(3));
    setup.proxy.disconnect_all();
    churn(&setup.direct, 1).await;
    await_requests(&setup.proxy, "watches ended with 410 Gone", 3, |r| {
        matches!(r.fault, Some(Fault::WatchGone { .. }))
    })
    .await;
    // Each 410 makes the watcher list again.
    await_requests(&setup.proxy, "lists", lists_before + 3, |r| {
        r.verb == Verb::List
    })
    .await;
    assert_converges(&setup, &reflector).await;
}

#[tokio::test]
async fn a_reflector_gets_through_failing_lists() {
    let setup = setup().await;
    churn(&setup.direct, 0).await;
    // The first lists fail with 500 (not retried by the client: the watcher
    // backs off and lists again), then with 503 (retried by the client).
    setup
        .proxy
        .inject(FaultRule::new(Match::lists(), Fault::internal_error()).times(2));
    setup
        .proxy
        .inject(FaultRule::new(Match::lists(), Fault::service_unavailable()).times(2));
    let reflector = Reflector::start(setup.faulty.clone(), watcher::Config::default());
    assert_converges(&setup, &reflector).await;
    let statuses: Vec<_> = setup
        .proxy
        .requests()
        .iter()
        .filter(|r| r.verb == Verb::List)
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses[..5],
        [Some(500), Some(500), Some(503), Some(503), Some(200)]
    );

    // Later relists fail too, and the store still catches up.
    setup
        .proxy
        .inject(FaultRule::new(Match::watches(), Fault::WatchGone { after_events: 0 }).times(1));
    setup
        .proxy
        .inject(FaultRule::new(Match::lists(), Fault::internal_error()).times(1));
    setup.proxy.disconnect_all();
    churn(&setup.direct, 1).await;
    assert_converges(&setup, &reflector).await;
}

/// Every watch (or streaming list) the proxy lets through is closed as soon
/// as it opens, without an event, for 10 s. The watcher takes that for a
/// failing server and backs off (0.8 s, 1.6 s, 3.2 s, 6.4 s at least): a
/// handful of requests, not one after another as fast as they are answered.
async fn assert_watches_closed_at_once_are_paced(config: watcher::Config) {
    let setup = setup().await;
    setup
        .proxy
        .inject(FaultRule::new(Match::watches(), Fault::EndAfterEvents(0)));
    let reflector = Reflector::start(setup.faulty.clone(), config);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(!reflector.task.is_finished(), "the watcher stream ended");
    drop(reflector);
    let seen = setup.proxy.requests();
    let watches = seen.iter().filter(|r| r.verb == Verb::Watch).count();
    let lists = seen.iter().filter(|r| r.verb == Verb::List).count();
    assert!(
        (2..=6).contains(&watches) && lists <= 1,
        "{watches} watches and {lists} lists in 10 s"
    );
}

#[tokio::test]
async fn watches_closed_at_once_are_retried_at_the_pace_of_the_backoff() {
    assert_watches_closed_at_once_are_paced(watcher::Config::default()).await;
}

#[tokio::test]
async fn streaming_lists_closed_at_once_are_retried_at_the_pace_of_the_backoff() {
    assert_watches_closed_at_once_are_paced(watcher::Config::default().streaming_lists()).await;
}

/// A watch connection that goes silent is noticed (its timeout plus 30 s)
/// and replaced; this test takes about 35 s.
#[tokio::test]
async fn a_reflector_replaces_a_silent_watch() {
    let setup = setup().await;
    churn(&setup.direct, 0).await;
    setup
        .proxy
        .inject(FaultRule::new(Match::watches(), Fault::StallAfterEvents(0)).times(1));
    let reflector = Reflector::start(setup.faulty.clone(), watcher::Config::default().timeout(2));
    assert_converges(&setup, &reflector).await;
    // Changes made while the first watch is silent reach the store through
    // its replacement.
    churn(&setup.direct, 1).await;
    assert_converges(&setup, &reflector).await;
    let watches = setup
        .proxy
        .requests()
        .iter()
        .filter(|r| r.verb == Verb::Watch)
        .count();
    assert!(watches >= 2, "the silent watch was replaced: {watches}");
}

/// One of each fault in turn, with every request delayed a little. Each fault
/// the watcher sees costs it a growing backoff (0.8 s doubling, with jitter),
/// so the faults the client absorbs by itself (`429`, a closed connection on
/// a list) are mixed with a few the watcher must handle.
#[tokio::test]
async fn a_reflector_gets_through_every_fault_at_once() {
    let setup = setup().await;
    let reflector = Reflector::start(setup.faulty.clone(), watcher::Config::default());
    assert_converges(&setup, &reflector).await;
    let proxy = &setup.proxy;
    proxy.inject(FaultRule::new(Match::watches(), Fault::DropAfterEvents(3)).times(1));
    proxy.inject(FaultRule::new(Match::watches(), Fault::WatchGone { after_events: 2 }).times(1));
    proxy.inject(FaultRule::new(Match::watches(), Fault::DropAfterBytes(100)).times(1));
    proxy.inject(FaultRule::new(Match::lists(), Fault::too_many_requests(1)).times(1));
    proxy.inject(FaultRule::new(Match::lists(), Fault::CloseBeforeForwarding).times(1));
    proxy.inject(FaultRule::new(Match::lists(), Fault::internal_error()).times(1));
    proxy.inject(FaultRule::new(
        Match::any(),
        Fault::Delay(Duration::from_millis(20)),
    ));
    proxy.disconnect_all();
    for round in 1..=3 {
        churn(&setup.direct, round).await;
    }
    await_requests(proxy, "injected faults", 6, |r| {
        r.faulted() && !matches!(r.fault, Some(Fault::Delay(_)))
    })
    .await;
    assert_converges(&setup, &reflector).await;
    proxy.clear();
    churn(&setup.direct, 4).await;
    assert_converges(&setup, &reflector).await;
}

/// A reconcile waiting on an apiserver that never answers is not stuck: the
/// client's read timeout ends each attempt, the client gives up after its
/// bounded retries, the reconcile fails, `error_policy` requeues it, and the
/// next reconcile goes through.
#[tokio::test]
async fn a_reconcile_waiting_on_a_silent_apiserver_fails_and_is_retried() {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use kube_runtime::{Controller, controller::Action};

    struct Context {
        api: Api<ConfigMap>,
        reconciles: AtomicUsize,
    }

    let setup = setup().await;
    setup
        .direct
        .create(&PostParams::default(), &config_map("slow", "0"))
        .await
        .expect("create");
    let mut config = setup.proxy.config();
    config.read_timeout = Some(Duration::from_secs(1));
    let client = kube_client::Client::try_from(config).expect("client");
    let namespace = setup.direct.namespace().unwrap_or_default().to_string();
    let impatient: Api<ConfigMap> = Api::namespaced(client, &namespace);
    // Every attempt the client makes at the reconcile's first GET goes unanswered.
    setup.proxy.inject(
        FaultRule::new(
            Match::gets().path_contains("/configmaps/slow"),
            Fault::StallResponse,
        )
        .times(5),
    );

    let context = Arc::new(Context {
        api: impatient.clone(),
        reconciles: AtomicUsize::new(0),
    });
    let reconcile = |object: Arc<ConfigMap>, ctx: Arc<Context>| async move {
        let name = object.metadata.name.clone().unwrap_or_default();
        if name == "slow" {
            ctx.reconciles.fetch_add(1, Ordering::SeqCst);
        }
        ctx.api.get(&name).await?;
        Ok::<_, kube_client::Error>(Action::await_change())
    };
    let error_policy = |_: Arc<ConfigMap>, _: &kube_client::Error, _: Arc<Context>| {
        Action::requeue(Duration::from_millis(100))
    };
    let results = Controller::new(impatient, watcher::Config::default())
        .run(reconcile, error_policy, context.clone())
        // The namespace's own `kube-root-ca.crt` is reconciled too.
        .filter(|result| {
            let name = match result {
                Ok((object, _)) => Some(&object.name),
                Err(kube_runtime::controller::Error::ReconcilerFailed(_, object)) => {
                    Some(&object.name)
                }
                Err(_) => None,
            };
            futures::future::ready(name.is_none_or(|name| name == "slow"))
        })
        .take(2)
        .collect::<Vec<_>>();
    let results = tokio::time::timeout(CONVERGENCE, results)
        .await
        .expect("the controller is not stuck on the silent request");

    match &results[0] {
        Err(kube_runtime::controller::Error::ReconcilerFailed(error, object)) => {
            match error.transport() {
                Some(kube_client::error::TransportError::Timeout { limit, .. }) => {
                    assert_eq!(*limit, kube_client::error::TimeoutLimit::ReadTimeout);
                }
                other => panic!("expected a read timeout, got {other:?} from {error:?}"),
            }
            assert_eq!(object.name, "slow");
        }
        other => panic!("expected the first reconcile to time out, got {other:?}"),
    }
    match &results[1] {
        Ok((object, _)) => assert_eq!(object.name, "slow"),
        other => panic!("expected the retried reconcile to succeed, got {other:?}"),
    }
    assert_eq!(context.reconciles.load(Ordering::SeqCst), 2);
    let stalled = setup
        .proxy
        .requests()
        .iter()
        .filter(|r| r.verb == Verb::Get && r.faulted())
        .count();
    assert_eq!(
        stalled, 5,
        "the client tried the GET a bounded number of times"
    );
}

/// One failing trigger source does not hold back the others: while every
/// watch of the children fails (and that watcher backs off further and
/// further), a change to a parent is still reconciled at once.
#[tokio::test]
async fn a_failing_child_watch_does_not_hold_back_the_parents() {
    use std::sync::Arc;

    use kube_runtime::{Controller, controller::Action};

    let setup = setup().await;
    let labelled = |name: &str, role: &str, value: &str| {
        let mut cm = config_map(name, value);
        cm.metadata.labels = Some([("role".to_string(), role.to_string())].into());
        cm
    };
    setup
        .direct
        .create(&PostParams::default(), &labelled("parent", "parent", "1"))
        .await
        .expect("create");
    // Every watch of the children fails; their lists go through.
    setup.proxy.inject(FaultRule::new(
        Match::watches().query_contains("role%3Dchild"),
        Fault::internal_error(),
    ));

    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel::<String>();
    let reconcile = |object: Arc<ConfigMap>,
                     seen: Arc<tokio::sync::mpsc::UnboundedSender<String>>| async move {
        let value = object
            .data
            .as_ref()
            .and_then(|data| data.get("v").cloned())
            .unwrap_or_default();
        let _ = seen.send(value);
        Ok::<_, kube_client::Error>(Action::await_change())
    };
    let error_policy = |_: Arc<ConfigMap>, _: &kube_client::Error, _: Arc<_>| {
        Action::requeue(Duration::from_secs(1))
    };
    let controller = Controller::new(
        setup.faulty.clone(),
        watcher::Config::default().labels("role=parent"),
    )
    .owns(
        setup.faulty.clone(),
        watcher::Config::default().labels("role=child"),
    )
    .run(reconcile, error_policy, Arc::new(seen_tx))
    .for_each(|_| futures::future::ready(()));
    let controller = tokio::spawn(controller);

    let first = tokio::time::timeout(CONVERGENCE, seen.recv())
        .await
        .expect("the parent is reconciled");
    assert_eq!(first.as_deref(), Some("1"));
    // Let the children's watcher fail a few times: its delays grow to
    // several seconds.
    await_requests(&setup.proxy, "failed child watches", 4, |r| {
        r.verb == Verb::Watch && r.faulted()
    })
    .await;

    let patch = serde_json::json!({"data": {"v": "2"}});
    setup
        .direct
        .patch("parent", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("update");
    // Far less than the children's current delay (3.2 s and more, doubling).
    let prompt = Duration::from_secs(3);
    let reconciled = tokio::time::timeout(prompt, async {
        while let Some(value) = seen.recv().await {
            if value == "2" {
                return true;
            }
        }
        false
    })
    .await;
    controller.abort();
    assert_eq!(
        reconciled,
        Ok(true),
        "the parent's change waited on the children's backoff"
    );
}
