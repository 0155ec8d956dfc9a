//! Waiting for conditions against a real apiserver.

use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api,
    api::{DeleteParams, Patch, PatchParams},
};
use kube_runtime::wait::{await_condition, conditions, delete::delete_and_finalize};

use crate::common::{client_in_fresh_namespace, create, value_of, within};

#[tokio::test]
async fn await_condition_returns_the_object_once_the_condition_holds() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let waiting = tokio::spawn(await_condition(
        api.clone(),
        "later",
        conditions::is_created(),
    ));
    create(&api, "later", "1").await;
    let found = within("the condition", waiting)
        .await
        .expect("the task ran")
        .expect("no watch error");
    assert_eq!(found.as_ref().and_then(value_of), Some("1"));
}

#[tokio::test]
async fn delete_and_finalize_waits_for_finalizers() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    create(&api, "held", "1").await;
    let hold = serde_json::json!({ "metadata": { "finalizers": ["e2e.example/hold"] } });
    api.patch("held", &PatchParams::default(), &Patch::Merge(hold))
        .await
        .expect("patched");

    let deleting = tokio::spawn({
        let api = api.clone();
        async move { delete_and_finalize(api, "held", &DeleteParams::default()).await }
    });
    within("the deletion mark", async {
        loop {
            let current = api.get_opt("held").await.expect("readable");
            if current.is_some_and(|cm| cm.metadata.deletion_timestamp.is_some()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        !deleting.is_finished(),
        "returned while a finalizer still held the object"
    );

    let release = serde_json::json!({ "metadata": { "finalizers": null } });
    api.patch("held", &PatchParams::default(), &Patch::Merge(release))
        .await
        .expect("patched");
    within("the deletion to complete", deleting)
        .await
        .expect("the task ran")
        .expect("deleted and finalized");
    assert!(api.get_opt("held").await.expect("readable").is_none());
}

#[tokio::test]
async fn delete_and_finalize_of_an_absent_object_fails() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let result = delete_and_finalize(api, "missing", &DeleteParams::default()).await;
    assert!(
        matches!(&result, Err(kube_runtime::wait::delete::Error::Delete(kube_client::Error::Api(s))) if s.is_not_found()),
        "{result:?}"
    );
}
