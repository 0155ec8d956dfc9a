//! Kinds known only at runtime: discover what the server serves, then use
//! `Api<DynamicObject>` on any of it.

use kube::{
    Api, Client, Discovery, ResourceExt,
    api::{DynamicObject, ListParams},
    discovery::{Scope, verbs},
};

/// One resource the server serves, and how many objects it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    /// `group/version` (`v1` for the core group).
    pub api_version: String,
    /// The kind.
    pub kind: String,
    /// Whether it lives in namespaces.
    pub namespaced: bool,
    /// The names of its objects in the namespace asked about (every object for
    /// cluster-scoped kinds).
    pub names: Vec<String>,
}

/// Every listable resource the server serves (in its preferred version),
/// with the objects of each in `namespace`.
pub async fn run(client: Client, namespace: &str) -> anyhow::Result<Vec<Served>> {
    let discovery = Discovery::new(client.clone()).run().await?;
    let mut served = Vec::new();
    for group in discovery.groups() {
        for (resource, capabilities) in group.recommended_resources() {
            if !capabilities.supports_operation(verbs::LIST) {
                continue;
            }
            let namespaced = capabilities.scope == Scope::Namespaced;
            let api: Api<DynamicObject> = if namespaced {
                Api::namespaced_with(client.clone(), namespace, &resource)
            } else {
                Api::all_with(client.clone(), &resource)
            };
            let names = match api.list(&ListParams::default()).await {
                Ok(list) => list.iter().map(ResourceExt::name_any).collect(),
                // Some aggregated or deprecated kinds refuse lists; say so and go on.
                Err(error) => {
                    tracing::warn!(kind = %resource.kind, %error, "cannot list");
                    continue;
                }
            };
            served.push(Served {
                api_version: resource.api_version.clone(),
                kind: resource.kind.clone(),
                namespaced,
                names,
            });
        }
    }
    Ok(served)
}
