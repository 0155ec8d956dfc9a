//! Discovery, dynamic objects and the server version.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::{
    api::core::v1::ConfigMap,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube_client::{
    Api, Client, Discovery,
    api::{
        ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
        ResourceExt,
    },
    core::{GroupVersionKind, gvk::GroupVersion},
    discovery::{self, Scope, verbs},
};
use serde_json::json;

use crate::common::{api_status, client, client_in_fresh_namespace, config_map};

#[tokio::test]
async fn the_apiserver_reports_its_version() {
    let info = client().await.apiserver_version().await.expect("version");
    assert_eq!(info.major, "1");
    assert_eq!(info.minor, "37", "{info:?}");
    assert!(
        info.git_version.starts_with("v1.37."),
        "{}",
        info.git_version
    );
}

#[tokio::test]
async fn discovery_finds_core_and_apps() {
    let client = client().await;
    for discovery in [
        Discovery::new(client.clone()).run().await.expect("run"),
        Discovery::new(client.clone())
            .run_aggregated()
            .await
            .expect("aggregated discovery on 1.37"),
    ] {
        assert!(discovery.has_group(""), "the core group");
        let apps = discovery.get("apps").expect("apps");
        assert_eq!(apps.preferred_version_or_latest(), "v1");
        let (deployments, caps) = apps.recommended_kind("Deployment").expect("Deployment");
        assert_eq!(deployments.plural, "deployments");
        assert_eq!(caps.scope, Scope::Namespaced);
        assert!(caps.supports_operation(verbs::WATCH));
        let subresources: Vec<&str> = caps
            .subresources
            .iter()
            .map(|(r, _)| r.plural.as_str())
            .collect();
        assert!(subresources.contains(&"scale"), "{subresources:?}");
        assert!(subresources.contains(&"status"), "{subresources:?}");

        let (pods, caps) = discovery
            .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Pod"))
            .expect("pods");
        assert_eq!(
            (pods.plural.as_str(), pods.api_version.as_str()),
            ("pods", "v1")
        );
        assert!(caps.subresources.iter().any(|(r, _)| r.plural == "log"));
        let (nodes, caps) = discovery
            .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Node"))
            .expect("nodes");
        assert_eq!(nodes.plural, "nodes");
        assert_eq!(caps.scope, Scope::Cluster);
        assert!(
            discovery
                .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Nope"))
                .is_none()
        );
        let names: Vec<&str> = discovery
            .groups_alphabetical()
            .iter()
            .map(|g| g.name())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    let only_apps = Discovery::new(client.clone())
        .filter(&["apps"])
        .run()
        .await
        .expect("filtered");
    assert_eq!(only_apps.groups().count(), 1);
    let without_rbac = Discovery::new(client)
        .exclude(&["rbac.authorization.k8s.io"])
        .run()
        .await
        .expect("excluded");
    assert!(!without_rbac.has_group("rbac.authorization.k8s.io"));
    assert!(without_rbac.has_group("apps"));
}

#[tokio::test]
async fn oneshot_lookups_find_groups_and_kinds_or_say_what_is_missing() {
    let client = client().await;
    let core = discovery::group(&client, "").await.expect("core");
    assert!(core.versions().any(|v| v == "v1"));
    let apps = discovery::pinned_group(&client, &GroupVersion::gv("apps", "v1"))
        .await
        .expect("apps/v1");
    assert_eq!(apps.versions().collect::<Vec<_>>(), ["v1"]);
    let (ar, _) =
        discovery::pinned_kind(&client, &GroupVersionKind::gvk("apps", "v1", "StatefulSet"))
            .await
            .expect("statefulsets");
    assert_eq!(ar.plural, "statefulsets");

    let err = discovery::group(&client, "nope.example.com")
        .await
        .expect_err("missing");
    assert!(err.to_string().contains("nope.example.com"), "{err}");
    let err = discovery::pinned_kind(&client, &GroupVersionKind::gvk("apps", "v1", "Gizmo"))
        .await
        .expect_err("missing kind");
    assert!(err.to_string().contains("Gizmo"), "{err}");
}

fn unique_group() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("e2e{nanos}.kube-client.test")
}

fn crd(group: &str) -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "metadata": {"name": format!("widgets.{group}")},
        "spec": {
            "group": group,
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                        "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
                    }
                }},
                "subresources": {"status": {}}
            }]
        }
    }))
    .expect("a valid CRD")
}

/// Polls `check` until it answers `Some`, for at most 30 s.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..150 {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn install_crd(client: &Client, group: &str) -> Api<CustomResourceDefinition> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &crd(group))
        .await
        .expect("create CRD");
    let name = format!("widgets.{group}");
    eventually("the CRD to be established", || {
        let crds = crds.clone();
        let name = name.clone();
        async move {
            let crd = crds.get(&name).await.ok()?;
            let conditions = crd.status?.conditions?;
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
                .then_some(())
        }
    })
    .await;
    crds
}

#[tokio::test]
async fn a_new_crd_is_discovered_and_served_to_dynamic_objects() {
    let (client, ns) = client_in_fresh_namespace().await;
    let group = unique_group();
    let before = Discovery::new(client.clone()).run().await.expect("run");
    assert!(!before.has_group(&group));

    let crds = install_crd(&client, &group).await;
    let gvk = GroupVersionKind::gvk(&group, "v1", "Widget");
    let (resource, caps) = eventually("discovery to show the CRD", || {
        let client = client.clone();
        let group = group.clone();
        let gvk = gvk.clone();
        async move {
            let found = Discovery::new(client).filter(&[&group]).run().await.ok()?;
            found.resolve_gvk(&gvk)
        }
    })
    .await;
    assert_eq!(resource.plural, "widgets");
    assert_eq!(caps.scope, Scope::Namespaced);
    assert!(caps.subresources.iter().any(|(r, _)| r.plural == "status"));

    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
    let widget = DynamicObject::new("w1", &resource).data(json!({"spec": {"size": 3}}));
    let created = widgets
        .create(&PostParams::default(), &widget)
        .await
        .expect("create widget");
    assert_eq!(created.data["spec"]["size"], 3);
    let patched = widgets
        .patch(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 4}})),
        )
        .await
        .expect("patch widget");
    assert_eq!(patched.data["spec"]["size"], 4);
    let with_status = widgets
        .patch_status(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"ready": true}})),
        )
        .await
        .expect("patch status");
    assert_eq!(with_status.data["status"]["ready"], true);
    let listed = widgets.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        before.resolve_object(&listed.items[0]),
        None,
        "the old discovery does not know the kind"
    );
    widgets
        .delete("w1", &DeleteParams::default())
        .await
        .expect("delete widget");
    assert!(widgets.get_opt("w1").await.expect("get_opt").is_none());

    crds.delete(&format!("widgets.{group}"), &DeleteParams::default())
        .await
        .expect("delete CRD");
}

#[tokio::test]
async fn dynamic_objects_work_on_config_maps() {
    let (client, ns) = client_in_fresh_namespace().await;
    let (resource, _) =
        discovery::pinned_kind(&client, &GroupVersionKind::gvk("", "v1", "ConfigMap"))
            .await
            .expect("configmaps");
    let dynamic: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
    let object = DynamicObject::new("dyn", &resource).data(json!({"data": {"k": "v"}}));
    dynamic
        .create(&PostParams::default(), &object)
        .await
        .expect("create");

    let typed: Api<ConfigMap> = Api::namespaced(client, &ns);
    let cm = typed.get("dyn").await.expect("typed get");
    assert_eq!(cm.data.unwrap_or_default()["k"], "v");

    let fetched = dynamic.get("dyn").await.expect("dynamic get");
    assert_eq!(fetched.name_any(), "dyn");
    let back: ConfigMap = fetched.try_parse().expect("a ConfigMap");
    assert_eq!(back.data.unwrap_or_default()["k"], "v");

    let exists = api_status(
        dynamic
            .create(
                &PostParams::default(),
                &DynamicObject::new("dyn", &resource),
            )
            .await,
    );
    assert!(exists.is_already_exists());
    dynamic
        .delete("dyn", &DeleteParams::default())
        .await
        .expect("delete");
    typed
        .create(&PostParams::default(), &config_map("typed", &[], &[]))
        .await
        .expect("typed create");
    let all: Api<DynamicObject> =
        Api::all_with(dynamic.into_client(), &ApiResource::erase::<ConfigMap>(&()));
    let everywhere = all
        .list(
            &ListParams::default().fields(&format!("metadata.namespace={ns},metadata.name=typed")),
        )
        .await
        .expect("list across namespaces");
    assert_eq!(everywhere.items.len(), 1);
}

#[tokio::test]
async fn a_dynamic_api_for_a_cluster_scoped_kind_ignores_a_namespace() {
    let client = client().await;
    let (ar, caps) = discovery::pinned_kind(
        &client,
        &GroupVersionKind::gvk("scheduling.k8s.io", "v1", "PriorityClass"),
    )
    .await
    .expect("priorityclasses are served");
    assert_eq!(caps.scope, Scope::Cluster);

    for api in [
        Api::<DynamicObject>::dynamic(client.clone(), &ar, &caps.scope).constrain("default"),
        Api::<DynamicObject>::dynamic(client.clone(), &ar, &caps.scope).constrain_default(),
    ] {
        assert_eq!(
            api.resource_url(),
            "/apis/scheduling.k8s.io/v1/priorityclasses"
        );
        // The apiserver creates these two classes at start-up.
        let names: Vec<String> = api
            .list(&ListParams::default())
            .await
            .expect("cluster-wide list")
            .iter()
            .map(ResourceExt::name_any)
            .collect();
        for class in ["system-cluster-critical", "system-node-critical"] {
            assert!(
                names.iter().any(|n| n == class),
                "{class} missing in {names:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_dynamic_api_for_a_namespaced_kind_starts_cluster_wide() {
    let (client, first) = client_in_fresh_namespace().await;
    let second = crate::common::env()
        .await
        .fresh_namespace()
        .await
        .expect("a second namespace");
    let marker = unique_group();
    for ns in [&first, &second] {
        let maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        maps.create(
            &PostParams::default(),
            &config_map("spread", &[("e2e-marker", &marker)], &[]),
        )
        .await
        .expect("create");
    }
    let (ar, caps) = discovery::pinned_kind(&client, &GroupVersionKind::gvk("", "v1", "ConfigMap"))
        .await
        .expect("configmaps are served");
    assert_eq!(caps.scope, Scope::Namespaced);
    let selected = ListParams::default().labels(&format!("e2e-marker={marker}"));

    let namespaces_seen = |list: kube_client::core::ObjectList<DynamicObject>| {
        let mut seen: Vec<String> = list.iter().filter_map(|o| o.namespace()).collect();
        seen.sort();
        seen
    };
    let mut both = vec![first.clone(), second.clone()];
    both.sort();

    let dynamic: Api<DynamicObject> = Api::dynamic(client.clone(), &ar, &caps.scope);
    assert_eq!(dynamic.resource_url(), "/api/v1/configmaps");
    let seen = namespaces_seen(dynamic.list(&selected).await.expect("list"));
    assert_eq!(seen, both);
    let all: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let seen = namespaces_seen(all.list(&selected).await.expect("list"));
    assert_eq!(seen, both);

    let constrained = dynamic.constrain(&first);
    let seen = namespaces_seen(constrained.list(&selected).await.expect("list"));
    assert_eq!(seen, [first]);
}
