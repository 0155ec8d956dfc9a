//! Server-side apply: declare the definition and an object of it, apply them
//! again unchanged (a no-op), then let two managers own different fields.

use anyhow::Context as _;
use kube::{
    Api, Client, CustomResource, CustomResourceExt, ResourceExt,
    api::{Patch, PatchParams},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The field manager this example applies as.
pub const MANAGER: &str = "crd-apply-example";

/// A greeting: the spec of the `Greeting` custom resource.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Greeting", namespaced)]
pub struct GreetingSpec {
    /// The words.
    pub message: String,
    /// How loudly, when someone cares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<u8>,
}

/// What applying showed.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The resource version after the first apply and after the unchanged second one.
    pub versions: (String, String),
    /// The spec once another manager set the volume.
    pub merged: GreetingSpec,
    /// The managers owning fields of the object.
    pub managers: Vec<String>,
}

/// Applies the definition and a greeting `name` in `namespace`.
pub async fn run(client: Client, namespace: &str, name: &str) -> anyhow::Result<Outcome> {
    // The definition is applied like any object; waiting for it makes the
    // next request certain to find the new resource.
    crate::cluster::install_crd(&client, &Greeting::crd(), MANAGER).await?;

    let greetings: Api<Greeting> = Api::namespaced(client, namespace);
    let params = PatchParams::apply(MANAGER);
    let desired = Greeting::new(
        name,
        GreetingSpec {
            message: "hello".into(),
            volume: None,
        },
    );
    let first = greetings
        .patch(name, &params, &Patch::Apply(&desired))
        .await?;
    let second = greetings
        .patch(name, &params, &Patch::Apply(&desired))
        .await?;

    // Another manager applies only the field it cares about; the message stays ours.
    let volume = serde_json::json!({
        "apiVersion": Greeting::api_resource().api_version,
        "kind": "Greeting",
        "spec": { "volume": 11 },
    });
    let merged = greetings
        .patch(
            name,
            &PatchParams::apply("volume-knob"),
            &Patch::Apply(&volume),
        )
        .await?;

    let mut managers: Vec<String> = merged
        .managed_fields()
        .iter()
        .filter_map(|entry| entry.manager.clone())
        .collect();
    managers.sort();
    Ok(Outcome {
        versions: (
            first.resource_version().context("no resourceVersion")?,
            second.resource_version().context("no resourceVersion")?,
        ),
        merged: merged.spec,
        managers,
    })
}
