//! Finalizers against a real apiserver: added first, cleanup before deletion,
//! other finalizers left alone.

use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api, ResourceExt,
    api::{DeleteParams, Patch, PatchParams},
};
use kube_runtime::{
    controller::Action,
    finalizer::{Event, finalizer},
};

use crate::common::{client_in_fresh_namespace, create, within};

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
