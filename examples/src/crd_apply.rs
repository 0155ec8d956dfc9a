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

/// A notice: the spec of the `Notice` custom resource.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Notice", namespaced)]
pub struct NoticeSpec {
    /// The words.
    pub message: String,
    /// How urgent it is, when someone cares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
}

/// What applying showed.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The resource version after the first apply and after the unchanged second one.
    pub versions: (String, String),
    /// The spec once another manager set the priority.
    pub merged: NoticeSpec,
    /// The managers owning fields of the object.
    pub managers: Vec<String>,
}

/// Applies the definition and a notice `name` in `namespace`.
pub async fn run(client: Client, namespace: &str, name: &str) -> anyhow::Result<Outcome> {
    // The definition is applied like any object; waiting for it makes the
    // next request certain to find the new resource.
    crate::cluster::install_crd(&client, &Notice::crd(), MANAGER).await?;

    let notices: Api<Notice> = Api::namespaced(client, namespace);
    let params = PatchParams::apply(MANAGER);
    let desired = Notice::new(
        name,
        NoticeSpec {
            message: "hello".into(),
            priority: None,
        },
    );
    let first = notices
        .patch(name, &params, &Patch::Apply(&desired))
        .await?;
    let second = notices
        .patch(name, &params, &Patch::Apply(&desired))
        .await?;

    // Another manager applies only the field it cares about; the message stays ours.
    let priority = serde_json::json!({
        "apiVersion": Notice::api_resource().api_version,
        "kind": "Notice",
        "spec": { "priority": 3 },
    });
    let merged = notices
        .patch(
            name,
            &PatchParams::apply("priority-setter"),
            &Patch::Apply(&priority),
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
