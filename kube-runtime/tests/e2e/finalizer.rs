//! Finalizers against a real apiserver: added first, cleanup before deletion,
//! other finalizers left alone.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api, ResourceExt,
    api::{DeleteParams, Patch, PatchParams},
};
use kube_runtime::{
    Controller,
    controller::Action,
    finalizer::{Event, finalizer},
    reflector::ObjectRef,
    watcher,
};

use crate::common::{Background, OURS, client_in_fresh_namespace, create, eventually, within};

const FINALIZER: &str = "e2e.kube-runtime.example/cleanup";

#[derive(Debug, thiserror::Error)]
#[error("never fails")]
struct Never;

/// Runs [`finalizer`] once on the current state of `name`, recording which
/// event the reconcile received.
async fn reconcile_once(
    api: &Api<ConfigMap>,
    name: &str,
    log: &Arc<Mutex<Vec<&'static str>>>,
) -> Action {
    let current = api.get(name).await.expect("the object exists");
    let log = log.clone();
    within(
        "the finalizer step",
        finalizer(api, FINALIZER, Arc::new(current), |event| async move {
            log.lock().expect("lock").push(match event {
                Event::Apply(_) => "apply",
                Event::Cleanup(_) => "cleanup",
            });
            Ok::<_, Never>(Action::await_change())
        }),
    )
    .await
    .expect("the finalizer step succeeds")
}

#[tokio::test]
async fn finalizer_is_added_first_and_cleanup_runs_before_the_object_goes() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    create(&api, "guarded", "1").await;
    // Another controller's finalizer, which must survive ours.
    let other = serde_json::json!({ "metadata": { "finalizers": ["other.example/keep"] } });
    api.patch("guarded", &PatchParams::default(), &Patch::Merge(other))
        .await
        .expect("patched");
    let log = Arc::new(Mutex::new(Vec::new()));

    reconcile_once(&api, "guarded", &log).await;
    assert!(
        log.lock().expect("lock").is_empty(),
        "no work before the finalizer is in place"
    );
    let finalizers = api
        .get("guarded")
        .await
        .expect("exists")
        .finalizers()
        .to_vec();
    assert_eq!(finalizers, ["other.example/keep", FINALIZER]);

    reconcile_once(&api, "guarded", &log).await;
    assert_eq!(*log.lock().expect("lock"), ["apply"]);

    api.delete("guarded", &DeleteParams::default())
        .await
        .expect("deletion accepted");
    let marked = api.get("guarded").await.expect("held by the finalizers");
    assert!(marked.metadata.deletion_timestamp.is_some());

    reconcile_once(&api, "guarded", &log).await;
    assert_eq!(*log.lock().expect("lock"), ["apply", "cleanup"]);
    let remaining = api
        .get("guarded")
        .await
        .expect("still held by the other finalizer");
    assert_eq!(remaining.finalizers(), ["other.example/keep"]);

    let release = serde_json::json!({ "metadata": { "finalizers": null } });
    api.patch("guarded", &PatchParams::default(), &Patch::Merge(release))
        .await
        .expect("patched");
    assert!(
        api.get_opt("guarded").await.expect("readable").is_none(),
        "gone once every finalizer is"
    );
}

/// What the reconciles of [`cleanup_runs_exactly_once_while_changes_keep_triggering_reconciles`]
/// did, per object.
#[derive(Default)]
struct Tally {
    applies: Mutex<BTreeMap<String, usize>>,
    cleanups: Mutex<BTreeMap<String, usize>>,
    running: AtomicUsize,
}

fn count(counts: &Mutex<BTreeMap<String, usize>>, name: &str) {
    *counts
        .lock()
        .expect("lock")
        .entry(name.to_string())
        .or_default() += 1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_runs_exactly_once_while_changes_keep_triggering_reconciles() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let names: Vec<String> = (0..6).map(|i| format!("guarded-{i}")).collect();
    let tally = Arc::new(Tally::default());

    let controller = Controller::new(api.clone(), watcher::Config::default().labels(OURS));
    let store = controller.store();
    let reconcile = {
        let api = api.clone();
        move |cm: Arc<ConfigMap>, tally: Arc<Tally>| {
            let api = api.clone();
            async move {
                tally.running.fetch_add(1, Ordering::SeqCst);
                let name = cm.name_any();
                let (name, tally_ref) = (&name, &tally);
                let result = finalizer(&api, FINALIZER, cm, |event| async move {
                    let (name, tally) = (name, tally_ref);
                    match event {
                        Event::Apply(_) => count(&tally.applies, name),
                        Event::Cleanup(_) => {
                            count(&tally.cleanups, name);
                            // Cleanup takes a while, so changes pile up behind it.
                            tokio::time::sleep(Duration::from_millis(300)).await;
                        }
                    }
                    Ok::<_, Never>(Action::await_change())
                })
                .await;
                tally.running.fetch_sub(1, Ordering::SeqCst);
                result
            }
        }
    };
    let _controller = Background::drive(controller.run(
        reconcile,
        |_, _, _| Action::requeue(Duration::from_millis(200)),
        tally.clone(),
    ));

    for name in &names {
        create(&api, name, "0").await;
    }
    for name in &names {
        eventually(
            &format!("{name} to be reconciled with its finalizer"),
            || async {
                let current = api.get(name).await.expect("exists");
                let protected = current.finalizers().iter().any(|f| f == FINALIZER);
                let applied = tally.applies.lock().expect("lock").contains_key(name);
                (protected && applied).then_some(())
            },
        )
        .await;
    }

    // Changes keep coming, before and after the deletion, until each object
    // is gone.
    let churn = tokio::spawn({
        let (api, names) = (api.clone(), names.clone());
        async move {
            let mut live = names;
            let mut round = 0u32;
            while !live.is_empty() {
                round += 1;
                let mut still = Vec::new();
                for name in live {
                    let change = serde_json::json!({ "data": { "v": round.to_string() } });
                    match api
                        .patch(&name, &PatchParams::default(), &Patch::Merge(change))
                        .await
                    {
                        Ok(_) => still.push(name),
                        Err(kube_client::Error::Api(status)) if status.is_not_found() => {}
                        Err(err) => panic!("changing {name}: {err}"),
                    }
                }
                live = still;
            }
            round
        }
    });
    for name in &names {
        api.delete(name, &DeleteParams::default())
            .await
            .expect("deletion accepted");
    }
    let rounds = within("the churn to see every object go", churn)
        .await
        .expect("the churn did not panic");

    // Once the store has seen every deletion and no reconcile is running,
    // nothing can clean up any more.
    eventually(
        "the controller to forget the objects and go idle",
        || async {
            let forgotten = names
                .iter()
                .all(|name| store.get(&ObjectRef::new(name).within(&ns)).is_none());
            (forgotten && tally.running.load(Ordering::SeqCst) == 0).then_some(())
        },
    )
    .await;
    let cleanups = tally.cleanups.lock().expect("lock").clone();
    eprintln!("{rounds} rounds of changes; cleanups per object: {cleanups:?}");
    let expected: BTreeMap<String, usize> = names.iter().map(|name| (name.clone(), 1)).collect();
    assert_eq!(cleanups, expected, "each cleanup must run exactly once");
}

#[tokio::test]
async fn removal_finds_its_finalizer_after_another_controller_removed_theirs() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    create(&api, "shared", "1").await;
    let others = serde_json::json!({
        "metadata": { "finalizers": ["other.example/first", "other.example/last"] }
    });
    api.patch("shared", &PatchParams::default(), &Patch::Merge(others))
        .await
        .expect("patched");
    let log = Arc::new(Mutex::new(Vec::new()));
    reconcile_once(&api, "shared", &log).await;
    api.delete("shared", &DeleteParams::default())
        .await
        .expect("deletion accepted");

    let marked = api.get("shared").await.expect("held by the finalizers");
    assert_eq!(
        marked.finalizers(),
        ["other.example/first", "other.example/last", FINALIZER]
    );
    let cleanup = finalizer(&api, FINALIZER, Arc::new(marked), |event| {
        assert!(matches!(event, Event::Cleanup(_)));
        async {
            // Meanwhile another controller finishes: its finalizer goes, and
            // ours moves from where it was when the object was read.
            let done = serde_json::json!({
                "metadata": { "finalizers": ["other.example/last", FINALIZER] }
            });
            api.patch("shared", &PatchParams::default(), &Patch::Merge(done))
                .await
                .expect("patched");
            Ok::<_, Never>(Action::await_change())
        }
    });
    within("the cleanup", cleanup)
        .await
        .expect("the finalizer is removed once the list is read again");
    let remaining = api.get("shared").await.expect("held by the last finalizer");
    assert_eq!(remaining.finalizers(), ["other.example/last"]);

    let release = serde_json::json!({ "metadata": { "finalizers": null } });
    api.patch("shared", &PatchParams::default(), &Patch::Merge(release))
        .await
        .expect("patched");
}
