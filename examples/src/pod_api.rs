//! Pods through `Api<Pod>`: create, get, list by label, patch, delete.
//!
//! Without a scheduler and kubelets (as on the local control plane) a pod
//! stays `Pending`; everything here works all the same.

use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
};

/// What the pod looked like along the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The phase the apiserver gave the new pod.
    pub phase: Option<String>,
    /// The pods listed with `app=blog`.
    pub listed: Vec<String>,
    /// The labels after the patch.
    pub labels: Vec<(String, String)>,
    /// Whether the pod was gone after deleting it.
    pub gone: bool,
}

/// A pod named `name` running nginx, labelled `app=blog`.
pub fn blog_pod(name: &str) -> anyhow::Result<Pod> {
    Ok(serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": name, "labels": { "app": "blog" } },
        "spec": {
            "containers": [{
                "name": "web",
                "image": "nginx:1.29",
                "ports": [{ "containerPort": 80 }],
            }],
        },
    }))?)
}

/// Creates, inspects, patches and deletes the pod `name` in `namespace`.
pub async fn run(client: Client, namespace: &str, name: &str) -> anyhow::Result<Outcome> {
    let pods: Api<Pod> = Api::namespaced(client, namespace);

    let created = pods
        .create(&PostParams::default(), &blog_pod(name)?)
        .await?;
    tracing::info!(pod = %created.name_any(), "created");
    let phase = pods.get(name).await?.status.and_then(|s| s.phase);

    let listed = pods
        .list(&ListParams::default().labels("app=blog"))
        .await?
        .iter()
        .map(ResourceExt::name_any)
        .collect();

    let patch = serde_json::json!({ "metadata": { "labels": { "tier": "frontend" } } });
    let patched = pods
        .patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await?;
    let labels = patched
        .labels()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    // An unscheduled pod is deleted at once: no kubelet has to stop it.
    pods.delete(name, &DeleteParams::default()).await?;
    let gone = pods.get_opt(name).await?.is_none();

    Ok(Outcome {
        phase,
        listed,
        labels,
        gone,
    })
}
