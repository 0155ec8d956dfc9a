//! A controller against a real apiserver: reconciles on changes of its objects
//! and of the children they own, and requeues.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube_client::{
    Api, Client, Resource,
    api::{ObjectMeta, Patch, PatchParams},
};
use kube_runtime::{
    Controller,
    controller::{Action, Config},
    reflector::ObjectRef,
    watcher,
};

use crate::common::{OURS, client_in_fresh_namespace, create, eventually, next, set_value, within};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Failed(#[from] kube_client::Error);

/// What the reconciles saw, shared with the test.
struct Context {
    client: Client,
    seen: Mutex<Vec<String>>,
}

/// Mirrors each ConfigMap into a Secret it owns, recording `name=value` for
/// every reconcile.
async fn mirror(cm: Arc<ConfigMap>, ctx: Arc<Context>) -> Result<Action, Failed> {
    let name = cm.metadata.name.clone().unwrap_or_default();
    let namespace = cm.metadata.namespace.clone().unwrap_or_default();
    let value = cm
        .data
        .as_ref()
        .and_then(|d| d.get("v"))
        .cloned()
        .unwrap_or_default();
    ctx.seen
        .lock()
        .expect("lock")
        .push(format!("{name}={value}"));
    let owner = cm
        .controller_owner_ref(&())
        .expect("a stored object has a name and uid");
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(format!("{name}-mirror")),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        string_data: Some(BTreeMap::from([("v".to_string(), value)])),
        ..Secret::default()
    };
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let params = PatchParams::apply("kube-runtime-e2e").force();
    secrets
        .patch(&format!("{name}-mirror"), &params, &Patch::Apply(&secret))
        .await?;
    Ok(Action::await_change())
}

fn retry_soon(_: Arc<ConfigMap>, _: &Failed, _: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(1))
}

/// Waits until the reconciles have seen `entry`.
async fn until_seen(ctx: &Context, entry: &str, results: &mut (impl futures::Stream + Unpin)) {
    within(&format!("a reconcile seeing {entry}"), async {
        while !ctx
            .seen
            .lock()
            .expect("lock")
            .iter()
            .any(|seen| seen == entry)
        {
            results.next().await;
        }
    })
    .await;
}

#[tokio::test]
async fn controller_reconciles_objects_and_owned_children() {
    let (client, ns) = client_in_fresh_namespace().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    create(&config_maps, "a", "1").await;
    let ctx = Arc::new(Context {
        client: client.clone(),
        seen: Mutex::default(),
    });
    let results = Controller::new(config_maps.clone(), watcher::Config::default().labels(OURS))
        .owns(secrets.clone(), watcher::Config::default())
        .with_config(Config::default().concurrency(2))
        .run(mirror, retry_soon, ctx.clone());
    let mut results = Box::pin(results);

    until_seen(&ctx, "a=1", &mut results).await;
    let mirror_a = within("the mirror secret", secrets.get("a-mirror"))
        .await
        .expect("created by the reconcile");
    assert_eq!(
        mirror_a
            .metadata
            .owner_references
            .as_ref()
            .map(|o| o[0].name.as_str()),
        Some("a")
    );

    // A change of the object reconciles it with its new state.
    set_value(&config_maps, "a", "2").await;
    until_seen(&ctx, "a=2", &mut results).await;

    // A change of an owned child reconciles its owner.
    let reconciles_before = ctx.seen.lock().expect("lock").len();
    let touch = serde_json::json!({ "metadata": { "labels": { "touched": "yes" } } });
    secrets
        .patch("a-mirror", &PatchParams::default(), &Patch::Merge(touch))
        .await
        .expect("patched");
    within("a reconcile triggered by the child", async {
        while ctx.seen.lock().expect("lock").len() == reconciles_before {
            results.next().await;
        }
    })
    .await;

    // New objects are picked up.
    create(&config_maps, "b", "1").await;
    until_seen(&ctx, "b=1", &mut results).await;
}

#[tokio::test]
async fn controller_requeues_as_the_reconcile_asks() {
    let (client, ns) = client_in_fresh_namespace().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    create(&config_maps, "periodic", "1").await;
    let runs = Arc::new(Mutex::new(0u32));
    let results = Controller::new(config_maps, watcher::Config::default().labels(OURS)).run(
        |_, runs: Arc<Mutex<u32>>| async move {
            *runs.lock().expect("lock") += 1;
            Ok::<_, Failed>(Action::requeue(Duration::from_millis(200)))
        },
        |_, _, _| Action::await_change(),
        runs.clone(),
    );
    let mut results = Box::pin(results);
    within("three reconciles without any change", async {
        while *runs.lock().expect("lock") < 3 {
            results.next().await;
        }
    })
    .await;
}

/// What the reconciles of the graceful shutdown test share with it.
struct Shutdown {
    api: Api<ConfigMap>,
    /// Where the first reconcile says it started.
    started: futures::channel::mpsc::UnboundedSender<String>,
    /// What every reconcile waits for before finishing.
    gate: tokio::sync::Semaphore,
    reconciled: Mutex<Vec<String>>,
}

/// Waits at the gate, then marks the object as finished on the apiserver.
async fn finish_after_the_gate(cm: Arc<ConfigMap>, ctx: Arc<Shutdown>) -> Result<Action, Failed> {
    let name = cm.metadata.name.clone().unwrap_or_default();
    ctx.reconciled.lock().expect("lock").push(name.clone());
    let _ = ctx.started.unbounded_send(name.clone());
    let _permit = ctx.gate.acquire().await.expect("the gate stays open");
    let finished = serde_json::json!({ "metadata": { "annotations": { "finished": "yes" } } });
    ctx.api
        .patch(&name, &PatchParams::default(), &Patch::Merge(finished))
        .await?;
    Ok(Action::await_change())
}

#[tokio::test]
async fn graceful_shutdown_lets_the_reconcile_in_flight_finish_and_starts_no_other() {
    let (client, ns) = client_in_fresh_namespace().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    create(&config_maps, "in-flight", "1").await;
    let (started, mut reconcile_started) = futures::channel::mpsc::unbounded();
    let ctx = Arc::new(Shutdown {
        api: config_maps.clone(),
        started,
        gate: tokio::sync::Semaphore::new(0),
        reconciled: Mutex::default(),
    });
    let (shutdown, shutdown_requested) = futures::channel::oneshot::channel::<()>();
    let controller = Controller::new(config_maps.clone(), watcher::Config::default().labels(OURS))
        .with_config(Config::default().concurrency(1))
        .graceful_shutdown_on(async {
            let _ = shutdown_requested.await;
        });
    let store = controller.store();
    let outcomes = tokio::spawn(
        controller
            .run(finish_after_the_gate, retry_soon_for_shutdown, ctx.clone())
            .collect::<Vec<_>>(),
    );

    assert_eq!(
        next("the first reconcile", &mut reconcile_started).await,
        "in-flight"
    );
    // Another object is due while the only worker is busy.
    create(&config_maps, "queued", "1").await;
    eventually("the controller to see the queued object", || async {
        store.get(&ObjectRef::new("queued").within(&ns)).map(|_| ())
    })
    .await;

    shutdown.send(()).expect("the controller is running");
    ctx.gate.add_permits(10);
    let outcomes = within("the controller to shut down", outcomes)
        .await
        .expect("the controller did not panic");

    let finished: Vec<_> = outcomes
        .iter()
        .map(|outcome| match outcome {
            Ok((obj_ref, _)) => obj_ref.name.clone(),
            Err(err) => panic!("the reconcile failed: {err}"),
        })
        .collect();
    assert_eq!(finished, ["in-flight"], "the reconcile in flight reported");
    assert_eq!(
        *ctx.reconciled.lock().expect("lock"),
        ["in-flight"],
        "no reconcile started after the shutdown request"
    );
    let marked = config_maps.get("in-flight").await.expect("exists");
    assert_eq!(
        marked
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("finished"))
            .map(String::as_str),
        Some("yes"),
        "the reconcile in flight ran to its end"
    );
}

fn retry_soon_for_shutdown(_: Arc<ConfigMap>, _: &Failed, _: Arc<Shutdown>) -> Action {
    Action::requeue(Duration::from_secs(1))
}
