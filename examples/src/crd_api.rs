//! Every verb of `Api<K>` on a custom resource: create the definition, then
//! create, get, list, replace, patch (merge, JSON and status) and delete an
//! object of it.

use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client, CustomResource, CustomResourceExt, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
    runtime::wait::{await_condition, conditions},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A counter: the spec of the `Counter` custom resource.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Counter",
    namespaced,
    status = "CounterStatus"
)]
pub struct CounterSpec {
    /// What is counted.
    pub label: String,
    /// The count.
    pub count: i64,
}

/// What a counter controller would report.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct CounterStatus {
    /// Whether the count was checked.
    pub checked: bool,
}

/// What each step returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The names listed after creating.
    pub listed: Vec<String>,
    /// The count after replace, merge patch and JSON patch.
    pub counts: [i64; 3],
    /// The status after the status patch.
    pub status: Option<CounterStatus>,
    /// Whether the spec was left alone by the status patch.
    pub spec_after_status_patch: CounterSpec,
    /// Whether the object was gone after deleting it.
    pub gone: bool,
}

/// Creates the `Counter` definition unless it exists, and waits until it is
/// established.
pub async fn ensure_crd(client: &Client) -> anyhow::Result<()> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    match crds.create(&PostParams::default(), &Counter::crd()).await {
        Ok(_) => tracing::info!("created {}", Counter::crd_name()),
        Err(kube::Error::Api(status)) if status.is_already_exists() => {}
        Err(error) => return Err(error.into()),
    }
    let established = await_condition(crds, Counter::crd_name(), conditions::is_crd_established());
    tokio::time::timeout(Duration::from_secs(30), established)
        .await
        .context("the Counter definition was not established in 30s")??;
    Ok(())
}

/// Walks one counter named `name` through every verb in `namespace`.
pub async fn run(client: Client, namespace: &str, name: &str) -> anyhow::Result<Outcome> {
    ensure_crd(&client).await?;
    let counters: Api<Counter> = Api::namespaced(client, namespace);

    let counter = Counter::new(
        name,
        CounterSpec {
            label: "visitors".into(),
            count: 1,
        },
    );
    let created = counters.create(&PostParams::default(), &counter).await?;
    tracing::info!(counter = %created.name_any(), rv = ?created.resource_version(), "created");
    let fetched = counters.get(name).await?;
    anyhow::ensure!(fetched.spec == counter.spec, "get returned another spec");

    let listed = counters
        .list(&ListParams::default())
        .await?
        .iter()
        .map(ResourceExt::name_any)
        .collect();

    // Replace sends the whole object; its resourceVersion makes it conditional.
    let mut next = fetched;
    next.spec.count = 10;
    let replaced = counters
        .replace(name, &PostParams::default(), &next)
        .await?;

    let merge = serde_json::json!({ "spec": { "count": 20 } });
    let merged = counters
        .patch(name, &PatchParams::default(), &Patch::Merge(&merge))
        .await?;

    let json_patch: json_patch::Patch = serde_json::from_value(serde_json::json!([
        { "op": "test", "path": "/spec/count", "value": 20 },
        { "op": "replace", "path": "/spec/count", "value": 30 },
    ]))?;
    let json_patched = counters
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Json::<()>(json_patch),
        )
        .await?;

    // The status subresource changes only the status, whatever else is sent.
    let status = serde_json::json!({
        "status": { "checked": true },
        "spec": { "count": -1 },
    });
    let status_patched = counters
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;

    counters.delete(name, &DeleteParams::default()).await?;
    let gone = counters.get_opt(name).await?.is_none();

    Ok(Outcome {
        listed,
        counts: [
            replaced.spec.count,
            merged.spec.count,
            json_patched.spec.count,
        ],
        status: status_patched.status,
        spec_after_status_patch: status_patched.spec,
        gone,
    })
}
