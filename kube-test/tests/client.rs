//! `TestEnv` used the way tests use it: through kube-client.

use std::{
    future::Future,
    net::TcpStream,
    time::{Duration, Instant},
};

use k8s_openapi::{
    api::core::v1::{ConfigMap, Namespace, ServiceAccount},
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube_client::{
    Api, Client,
    api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ObjectMeta, PostParams},
};
use kube_test::TestEnv;
use serde_json::json;

/// How long the controllers get to act; they normally take well under a second.
const CONTROLLER_TIMEOUT: Duration = Duration::from_secs(60);

/// Polls `check` until it returns true, failing the test after the timeout.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + CONTROLLER_TIMEOUT;
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {CONTROLLER_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn is_gone<K>(api: &Api<K>, name: &str) -> bool
where
    K: k8s_openapi::serde::de::DeserializeOwned + Clone + std::fmt::Debug,
{
    api.get_opt(name).await.expect("get").is_none()
}

fn config_map(name: &str, owner: Option<OwnerReference>) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            owner_references: owner.map(|o| vec![o]),
            ..ObjectMeta::default()
        },
        data: Some([("key".to_string(), "value".to_string())].into()),
        ..ConfigMap::default()
    }
}

/// A namespaced CRD with an open schema, in a group of the test's own.
fn crd(group: &str, kind: &str, plural: &str) -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group,
            "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(), "listKind": format!("{kind}List")},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
            }],
        },
    }))
    .expect("CRD")
}

fn owner_reference(api_version: &str, kind: &str, meta: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: meta.name.clone().expect("owner name"),
        uid: meta.uid.clone().expect("owner uid"),
        block_owner_deletion: Some(true),
        ..OwnerReference::default()
    }
}

#[tokio::test]
async fn admin_client_reaches_kubernetes_1_37() {
    let env = TestEnv::start().await.expect("control plane");
    let config = env.config().await.expect("config");
    assert_eq!(
        config.cluster_url.to_string().trim_end_matches('/'),
        env.server_url()
    );

    let client = env.client().await.expect("client");
    let version = client.apiserver_version().await.expect("version");
    assert!(version.git_version.starts_with("v1.37."), "{version:?}");

    let namespaces: Vec<String> = Api::<Namespace>::all(client)
        .list(&Default::default())
        .await
        .expect("list namespaces")
        .items
        .into_iter()
        .filter_map(|ns| ns.metadata.name)
        .collect();
    for expected in ["default", "kube-system"] {
        assert!(namespaces.iter().any(|n| n == expected), "{namespaces:?}");
    }
}

#[tokio::test]
async fn fresh_namespaces_are_unique_and_ready_for_pods() {
    let env = TestEnv::start().await.expect("control plane");
    let first = env.fresh_namespace().await.expect("namespace");
    let second = env.fresh_namespace().await.expect("namespace");
    assert_ne!(first, second);

    let client = env.client().await.expect("client");
    for ns in [&first, &second] {
        let default_sa = Api::<ServiceAccount>::namespaced(client.clone(), ns)
            .get_opt("default")
            .await
            .expect("get ServiceAccount");
        assert!(default_sa.is_some(), "no default ServiceAccount in {ns}");
    }
}

#[tokio::test]
async fn installed_crds_serve_custom_resources_and_install_again() {
    let env = TestEnv::start().await.expect("control plane");
    let group = "install.kube-test.example.com";
    env.install_crd(crd(group, "Gadget", "gadgets"))
        .await
        .expect("install");
    // Installing again is an update, not a conflict.
    env.install_crd(crd(group, "Gadget", "gadgets"))
        .await
        .expect("reinstall");

    let ns = env.fresh_namespace().await.expect("namespace");
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", "Gadget"), "gadgets");
    let gadgets: Api<DynamicObject> =
        Api::namespaced_with(env.client().await.expect("client"), &ns, &resource);
    let gadget = DynamicObject::new("one", &resource).data(json!({"spec": {"size": 3}}));
    gadgets
        .create(&PostParams::default(), &gadget)
        .await
        .expect("create gadget");
    let fetched = gadgets.get("one").await.expect("get gadget");
    assert_eq!(fetched.data["spec"]["size"], 3);
}

#[tokio::test]
async fn foreground_deletion_removes_dependents_then_the_owner() {
    let env = TestEnv::start().await.expect("control plane");
    let ns = env.fresh_namespace().await.expect("namespace");
    let config_maps: Api<ConfigMap> = Api::namespaced(env.client().await.expect("client"), &ns);
    let owner = config_maps
        .create(&PostParams::default(), &config_map("owner", None))
        .await
        .expect("create owner");
    let reference = owner_reference("v1", "ConfigMap", &owner.metadata);
    config_maps
        .create(
            &PostParams::default(),
            &config_map("dependent", Some(reference)),
        )
        .await
        .expect("create dependent");

    let deleting = config_maps
        .delete("owner", &DeleteParams::foreground())
        .await
        .expect("delete owner")
        .left()
        .expect("foreground deletion returns the owner, still present");
    let finalizers = deleting.metadata.finalizers.unwrap_or_default();
    assert!(
        finalizers.iter().any(|f| f == "foregroundDeletion"),
        "{finalizers:?}"
    );

    eventually("the dependent's deletion", || {
        is_gone(&config_maps, "dependent")
    })
    .await;
    eventually("the owner's deletion", || is_gone(&config_maps, "owner")).await;
}

#[tokio::test]
async fn dependents_of_a_custom_resource_are_collected_with_it() {
    let env = TestEnv::start().await.expect("control plane");
    // A CRD of its own, installed right before use: the garbage collector
    // has to notice the new resource type.
    let group = "gc.kube-test.example.com";
    env.install_crd(crd(group, "Owner", "owners"))
        .await
        .expect("install");
    let ns = env.fresh_namespace().await.expect("namespace");
    let client = env.client().await.expect("client");

    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", "Owner"), "owners");
    let owners: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
    let owner = owners
        .create(
            &PostParams::default(),
            &DynamicObject::new("parent", &resource),
        )
        .await
        .expect("create owner");
    let config_maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let reference = owner_reference(&format!("{group}/v1"), "Owner", &owner.metadata);
    config_maps
        .create(
            &PostParams::default(),
            &config_map("child", Some(reference)),
        )
        .await
        .expect("create dependent");

    owners
        .delete("parent", &DeleteParams::background())
        .await
        .expect("delete owner");
    eventually("the dependent's deletion", || {
        is_gone(&config_maps, "child")
    })
    .await;
}

#[tokio::test]
async fn restart_keeps_objects_and_clients_keep_working() {
    let env = TestEnv::start_owned().await.expect("control plane");
    let ns = env.fresh_namespace().await.expect("namespace");
    let client = env.client().await.expect("client");
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    config_maps
        .create(&PostParams::default(), &config_map("kept", None))
        .await
        .expect("create");

    env.restart().await.expect("restart");

    // A client made before the restart reconnects; a new one works too.
    let kept = config_maps
        .get("kept")
        .await
        .expect("get with the old client");
    assert_eq!(
        kept.data.unwrap_or_default().get("key").map(String::as_str),
        Some("value")
    );
    let fresh: Api<ConfigMap> = Api::namespaced(env.client().await.expect("client"), &ns);
    assert!(fresh.get_opt("kept").await.expect("get").is_some());
}

#[tokio::test]
async fn dropping_an_owned_env_stops_it_and_removes_its_state() {
    let env = TestEnv::start_owned().await.expect("control plane");
    let state_dir = env.state_dir().to_path_buf();
    let address = env.server_url().trim_start_matches("https://").to_string();
    let client: Client = env.client().await.expect("client");
    client
        .apiserver_version()
        .await
        .expect("running before drop");
    assert!(state_dir.join("kubeconfig").is_file());

    drop(env);

    assert!(!state_dir.exists(), "{} still exists", state_dir.display());
    assert!(
        TcpStream::connect(&address).is_err(),
        "{address} still accepts connections"
    );
}
