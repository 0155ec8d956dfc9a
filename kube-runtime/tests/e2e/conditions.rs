//! Status conditions under server-side apply: with `conditions` declared a
//! list map keyed by `type` (`kube::core::conditions::schema`), two field
//! managers each apply their own condition to an object's status and neither
//! removes the other's; without it, the list is atomic and the last apply
//! replaces it whole.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{
    CustomResource, CustomResourceExt,
    api::{Api, Patch, PatchParams, PostParams},
    core::conditions::{self, FALSE, TRUE},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::common::client_in_fresh_namespace;

/// A resource whose status conditions are a list map, as they should be.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "conditions.e2e.example.com",
    version = "v1",
    kind = "Gadget",
    namespaced,
    status = "GadgetStatus"
)]
pub struct GadgetSpec {
    size: u32,
}

/// What the controllers make of a gadget.
#[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
pub struct GadgetStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "kube::core::conditions::schema")]
    conditions: Vec<Condition>,
}

/// The same, with conditions declared as a plain list.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "conditions.e2e.example.com",
    version = "v1",
    kind = "PlainGadget",
    namespaced,
    status = "PlainGadgetStatus"
)]
pub struct PlainGadgetSpec {
    size: u32,
}

/// Conditions without the list-map schema.
#[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
pub struct PlainGadgetStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    conditions: Vec<Condition>,
}

/// Applies `manager`'s view of the status of `name`: these conditions only.
async fn apply_conditions<K>(
    api: &Api<K>,
    kind: &str,
    name: &str,
    manager: &str,
    owned: &[Condition],
) where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let status = json!({
        "apiVersion": "conditions.e2e.example.com/v1",
        "kind": kind,
        "metadata": {"name": name},
        "status": {"conditions": owned},
    });
    api.patch_status(
        name,
        &PatchParams::apply(manager).force(),
        &Patch::Apply(status),
    )
    .await
    .unwrap_or_else(|error| panic!("{manager} applying its conditions: {error}"));
}

/// The condition types of the stored object's status, sorted.
fn types(conditions: &[Condition]) -> Vec<&str> {
    let mut types: Vec<&str> = conditions.iter().map(|c| c.type_.as_str()).collect();
    types.sort_unstable();
    types
}

#[tokio::test]
async fn two_managers_apply_their_own_conditions_and_neither_removes_the_others() {
    let env = kube_test::TestEnv::start()
        .await
        .expect("the kube-test control plane must start");
    let crd = Gadget::crd();
    let schema = serde_json::to_value(&crd).expect("the CRD encodes");
    let listed = &schema["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
        ["properties"]["conditions"];
    assert_eq!(listed["x-kubernetes-list-type"], "map", "{listed}");
    env.install_crd(crd).await.expect("the CRD is installed");
    let (client, ns) = client_in_fresh_namespace().await;
    let gadgets: Api<Gadget> = Api::namespaced(client, &ns);
    gadgets
        .create(
            &PostParams::default(),
            &Gadget::new("g", GadgetSpec { size: 1 }),
        )
        .await
        .expect("created");

    let reconciled = conditions::new("Reconciled", TRUE, "Done", "spec applied");
    let healthy = conditions::new("Healthy", FALSE, "Probing", "first probe pending");
    apply_conditions(
        &gadgets,
        "Gadget",
        "g",
        "reconciler",
        std::slice::from_ref(&reconciled),
    )
    .await;
    apply_conditions(&gadgets, "Gadget", "g", "prober", &[healthy]).await;
    let stored = gadgets.get_status("g").await.expect("read");
    let list = stored.status.map(|s| s.conditions).unwrap_or_default();
    assert_eq!(types(&list), ["Healthy", "Reconciled"]);
    assert!(conditions::is_true(&list, "Reconciled"));
    assert!(conditions::is_false(&list, "Healthy"));

    // The prober changes its condition: the reconciler's stays as it was.
    let mut prober_view = list.clone();
    conditions::remove(&mut prober_view, "Reconciled");
    assert!(conditions::set(
        &mut prober_view,
        conditions::new("Healthy", TRUE, "Probed", "all probes pass")
    ));
    apply_conditions(&gadgets, "Gadget", "g", "prober", &prober_view).await;
    let stored = gadgets.get_status("g").await.expect("read");
    let list = stored.status.map(|s| s.conditions).unwrap_or_default();
    assert!(conditions::is_true(&list, "Healthy"));
    let kept = conditions::find(&list, "Reconciled").expect("the reconciler's condition");
    assert_eq!(kept.message, reconciled.message);
    assert_eq!(
        kept.last_transition_time.0.as_second(),
        reconciled.last_transition_time.0.as_second()
    );

    // The reconciler gives its condition up: only that one goes.
    apply_conditions(&gadgets, "Gadget", "g", "reconciler", &[]).await;
    let stored = gadgets.get_status("g").await.expect("read");
    let list = stored.status.map(|s| s.conditions).unwrap_or_default();
    assert_eq!(types(&list), ["Healthy"]);
}

#[tokio::test]
async fn without_the_list_map_schema_the_last_apply_replaces_every_condition() {
    let env = kube_test::TestEnv::start()
        .await
        .expect("the kube-test control plane must start");
    env.install_crd(PlainGadget::crd())
        .await
        .expect("the CRD is installed");
    let (client, ns) = client_in_fresh_namespace().await;
    let gadgets: Api<PlainGadget> = Api::namespaced(client, &ns);
    gadgets
        .create(
            &PostParams::default(),
            &PlainGadget::new("g", PlainGadgetSpec { size: 1 }),
        )
        .await
        .expect("created");
    let reconciled = conditions::new("Reconciled", TRUE, "Done", "spec applied");
    let healthy = conditions::new("Healthy", FALSE, "Probing", "first probe pending");
    apply_conditions(&gadgets, "PlainGadget", "g", "reconciler", &[reconciled]).await;
    apply_conditions(&gadgets, "PlainGadget", "g", "prober", &[healthy]).await;
    let stored = gadgets.get_status("g").await.expect("read");
    let list = stored.status.map(|s| s.conditions).unwrap_or_default();
    assert_eq!(
        types(&list),
        ["Healthy"],
        "the atomic list was replaced whole"
    );
}
