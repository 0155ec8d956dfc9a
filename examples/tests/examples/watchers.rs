//! event_watcher, node_watcher, pod_reflector, secret_reflector and multi_watcher.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use examples::{
    event_watcher, multi_watcher, node_watcher, pod_api, pod_reflector,
    secret_reflector::{self, Decoded},
};
use futures::StreamExt;
use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{ConfigMap, Node, Pod, Secret},
};
use kube::{
    Api, Resource, ResourceExt,
    api::{DeleteParams, Patch, PatchParams, PostParams},
    runtime::{
        events::{Event, EventType, Recorder, Reporter},
        reflector,
    },
};

use crate::common::{client, client_in_fresh_namespace, first, within};

fn named<K: Resource + Default>(name: &str) -> K {
    let mut obj = K::default();
    obj.meta_mut().name = Some(name.into());
    obj
}

#[tokio::test]
async fn published_events_are_followed_as_lines() {
    let (client, ns) = client_in_fresh_namespace().await;
    let mut lines = Box::pin(event_watcher::run(client.clone(), Some(&ns)));
    let subject = Api::<ConfigMap>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &named("subject"))
        .await
        .expect("created");
    let event = Event {
        type_: EventType::Warning,
        reason: "Tested".into(),
        note: Some("the watcher sees this".into()),
        action: "Test".into(),
        secondary: None,
    };
    Recorder::new(client, Reporter::from("event-watcher-test"))
        .publish(&event, &subject.object_ref(&()))
        .await
        .expect("published");
    let line = first("the published event", &mut lines, |line: &String| {
        line.contains("Tested").then(|| line.clone())
    })
    .await;
    assert_eq!(
        line,
        "Warning Tested ConfigMap/subject: the watcher sees this"
    );
}

#[tokio::test]
async fn nodes_are_reported_for_labels_and_cordoning_but_not_annotations() {
    let client = client().await;
    // Nodes are cluster-scoped: a label unique to this test keeps others' out.
    let run = format!("{}", std::process::id());
    let selector = format!("example.com/node-watcher-test={run}");
    let nodes: Api<Node> = Api::all(client.clone());
    let mut node: Node = named(&format!("node-watcher-{run}"));
    node.metadata.labels = Some(BTreeMap::from([
        ("example.com/node-watcher-test".into(), run.clone()),
        ("zone".into(), "a".into()),
    ]));
    let _ = nodes
        .delete(&node.name_any(), &DeleteParams::default())
        .await;
    let name = nodes
        .create(&PostParams::default(), &node)
        .await
        .expect("node created")
        .name_any();

    let mut reports = Box::pin(node_watcher::run(client.clone(), &selector));
    let added = first(
        "the new node",
        &mut reports,
        |n: &node_watcher::NodeState| Some(n.clone()),
    )
    .await;
    assert_eq!(added.name, name);
    assert!(added.labels.contains(&"zone=a".to_string()));
    assert!(!added.cordoned);

    let params = PatchParams::default();
    let annotate = serde_json::json!({ "metadata": { "annotations": { "note": "ignored" } } });
    nodes
        .patch(&name, &params, &Patch::Merge(&annotate))
        .await
        .expect("annotated");
    let relabel = serde_json::json!({ "metadata": { "labels": { "zone": "b" } } });
    nodes
        .patch(&name, &params, &Patch::Merge(&relabel))
        .await
        .expect("relabelled");
    let next = first(
        "the relabelled node",
        &mut reports,
        |n: &node_watcher::NodeState| Some(n.clone()),
    )
    .await;
    assert!(
        next.labels.contains(&"zone=b".to_string()),
        "the annotation change was filtered out, so the next report is the label change: {next:?}"
    );

    nodes.cordon(&name).await.expect("cordoned");
    let cordoned = first(
        "the cordoned node",
        &mut reports,
        |n: &node_watcher::NodeState| Some(n.clone()),
    )
    .await;
    assert!(cordoned.cordoned);

    nodes
        .delete(&name, &DeleteParams::default())
        .await
        .expect("node deleted");
}

/// Polls `stream` in the background (a reflector only fills its store while
/// polled), and waits until its store has completed the first list.
async fn drive<S, K>(stream: S, store: &reflector::Store<K>) -> tokio::task::JoinHandle<()>
where
    S: futures::Stream + Send + 'static,
    K: kube::runtime::reflector::Lookup + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    let task = tokio::spawn(stream.for_each(|_| async {}));
    within("the first list", store.wait_until_ready())
        .await
        .expect("the store is filled");
    task
}

/// Waits until `check` holds, looking every 50 ms.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    within(what, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
}

#[tokio::test]
async fn the_pod_store_follows_the_namespace_without_managed_fields() {
    let (client, ns) = client_in_fresh_namespace().await;
    let (store, stream) = pod_reflector::run(client.clone(), &ns);
    let reflecting = drive(stream, &store).await;
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    for name in ["web-0", "web-1"] {
        pods.create(
            &PostParams::default(),
            &pod_api::blog_pod(name).expect("a pod"),
        )
        .await
        .expect("created");
    }
    eventually("both pods in the store", || store.len() == 2).await;
    assert_eq!(
        pod_reflector::summary(&store),
        ["web-0 (Pending)", "web-1 (Pending)"]
    );
    assert!(
        store
            .state()
            .iter()
            .all(|pod| pod.managed_fields().is_empty()),
        "managed fields are dropped before storing"
    );

    pods.delete("web-0", &DeleteParams::default())
        .await
        .expect("deleted");
    eventually("the deleted pod to leave the store", || store.len() == 1).await;
    assert_eq!(pod_reflector::summary(&store), ["web-1 (Pending)"]);
    reflecting.abort();
}

#[tokio::test]
async fn secrets_are_read_decoded_from_the_store() {
    let (client, ns) = client_in_fresh_namespace().await;
    let (store, stream) = secret_reflector::run(client.clone(), &ns);
    let reflecting = drive(stream, &store).await;
    let mut secret: Secret = named("credentials");
    secret.string_data = Some(BTreeMap::from([("user".into(), "admin".into())]));
    Api::<Secret>::namespaced(client, &ns)
        .create(&PostParams::default(), &secret)
        .await
        .expect("created");
    eventually("the Secret in the store", || {
        secret_reflector::lookup(&store, &ns, "credentials", "user").is_some()
    })
    .await;
    assert_eq!(
        secret_reflector::lookup(&store, &ns, "credentials", "user"),
        Some(Decoded::Text("admin".into()))
    );
    assert_eq!(
        secret_reflector::lookup(&store, &ns, "credentials", "missing"),
        None
    );
    reflecting.abort();
}

#[tokio::test]
async fn three_kinds_arrive_on_one_stream() {
    let (client, ns) = client_in_fresh_namespace().await;
    let mut changes = multi_watcher::run(client.clone(), &ns).boxed();
    Api::<ConfigMap>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &named("settings"))
        .await
        .expect("ConfigMap created");
    Api::<Secret>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &named("token"))
        .await
        .expect("Secret created");
    let deployment: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "web" },
        "spec": {
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": { "containers": [{ "name": "web", "image": "nginx:1.29" }] },
            },
        },
    }))
    .expect("a Deployment");
    Api::<Deployment>::namespaced(client, &ns)
        .create(&PostParams::default(), &deployment)
        .await
        .expect("Deployment created");

    let wanted = BTreeSet::from(["ConfigMap/settings", "Secret/token", "Deployment/web"]);
    let mut seen = BTreeSet::new();
    first(
        "all three kinds",
        &mut changes,
        |changed: &multi_watcher::Watched| {
            let description = changed.describe();
            if let Some(found) = wanted.iter().find(|w| **w == description) {
                seen.insert(*found);
            }
            (seen == wanted).then_some(())
        },
    )
    .await;
}
