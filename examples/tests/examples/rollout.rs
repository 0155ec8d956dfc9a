//! configmap_rollout: a changed ConfigMap rolls exactly the Deployments using
//! it, found through the Deployments' store index.

use std::{collections::BTreeMap, time::Duration};

use examples::configmap_rollout::{self, HASH_ANNOTATION};
use k8s_openapi::api::{apps::v1::Deployment, core::v1::ConfigMap};
use kube::{
    Api,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::common::{client_in_fresh_namespace, within};

fn deployment(name: &str, pod: Value) -> Deployment {
    let mut pod = pod;
    pod["containers"][0]["name"] = "main".into();
    pod["containers"][0]["image"] = "nginx:1.27".into();
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod},
        },
    }))
    .expect("a Deployment")
}

fn config_map(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"setting": value}}))
        .expect("a ConfigMap")
}

/// The hash stamped on each Deployment's pod template, once `ready` holds.
async fn stamps(
    api: &Api<Deployment>,
    what: &str,
    ready: impl Fn(&BTreeMap<String, Option<String>>) -> bool,
) -> BTreeMap<String, Option<String>> {
    within(what, async {
        loop {
            let mut found = BTreeMap::new();
            for deployment in api.list(&Default::default()).await.expect("listed") {
                let stamp = deployment
                    .spec
                    .template
                    .metadata
                    .and_then(|meta| meta.annotations)
                    .and_then(|annotations| annotations.get(HASH_ANNOTATION).cloned());
                found.insert(deployment.metadata.name.unwrap_or_default(), stamp);
            }
            if ready(&found) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

#[tokio::test]
async fn a_changed_config_map_rolls_exactly_the_deployments_using_it() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    for cm in [config_map("settings", "1"), config_map("other", "1")] {
        maps.create(&PostParams::default(), &cm)
            .await
            .expect("created");
    }
    let mounted = json!({
        "volumes": [{"name": "config", "configMap": {"name": "settings"}}],
        "containers": [{"volumeMounts": [{"name": "config", "mountPath": "/etc/app"}]}],
    });
    let from_env = json!({"containers": [{"envFrom": [{"configMapRef": {"name": "settings"}}]}]});
    let elsewhere =
        json!({"volumes": [{"name": "c", "configMap": {"name": "other"}}], "containers": [{}]});
    let unrelated = json!({"containers": [{}]});
    for (name, pod) in [
        ("web", mounted),
        ("worker", from_env),
        ("batch", elsewhere),
        ("plain", unrelated),
    ] {
        deployments
            .create(&PostParams::default(), &deployment(name, pod))
            .await
            .expect("created");
    }

    let (stop, stopped) = oneshot::channel::<()>();
    let controller = tokio::spawn({
        let (client, ns) = (client.clone(), ns.clone());
        async move {
            configmap_rollout::run(client, &ns, async {
                let _ = stopped.await;
            })
            .await
        }
    });

    let first = stamps(
        &deployments,
        "every user of a ConfigMap to be stamped",
        |found| {
            ["web", "worker", "batch"]
                .iter()
                .all(|d| found.get(*d).is_some_and(Option::is_some))
        },
    )
    .await;
    assert_eq!(
        first["plain"], None,
        "a Deployment using no ConfigMap is left alone"
    );
    assert_eq!(
        first["web"], first["worker"],
        "the same ConfigMap, the same hash"
    );

    let patch = json!({"data": {"setting": "2"}});
    maps.patch("settings", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("ConfigMap changed");
    let second = stamps(
        &deployments,
        "the users of the changed ConfigMap to be stamped again",
        |found| ["web", "worker"].iter().all(|d| found[*d] != first[*d]),
    )
    .await;
    assert_eq!(second["web"], second["worker"]);
    assert_eq!(
        second["batch"], first["batch"],
        "a Deployment using another ConfigMap keeps its hash"
    );
    assert_eq!(second["plain"], None);

    let _ = stop.send(());
    let stats = within("the controller to stop", controller)
        .await
        .expect("stopped");
    let reconciles = stats.reconciles();
    assert!(
        reconciles.contains_key(&format!("{ns}/web")),
        "{reconciles:?}"
    );
}
