//! dynamic_api and dynamic_watcher.

use std::collections::BTreeMap;

use examples::{dynamic_api, dynamic_watcher};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, ResourceExt,
    api::{ObjectMeta, PostParams},
};

use crate::common::{client_in_fresh_namespace, first};

fn config_map(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("k".into(), "v".into())])),
        ..ConfigMap::default()
    }
}

#[tokio::test]
async fn discovery_finds_every_listable_kind_and_its_objects() {
    let (client, ns) = client_in_fresh_namespace().await;
    Api::<ConfigMap>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &config_map("found"))
        .await
        .expect("created");
    let served = dynamic_api::run(client, &ns)
        .await
        .expect("dynamic_api runs");

    let find = |api_version: &str, kind: &str| {
        served
            .iter()
            .find(|s| s.api_version == api_version && s.kind == kind)
            .unwrap_or_else(|| panic!("{api_version} {kind} is served"))
    };
    let config_maps = find("v1", "ConfigMap");
    assert!(config_maps.namespaced);
    assert!(
        config_maps.names.contains(&"found".to_string()),
        "{config_maps:?}"
    );
    let namespaces = find("v1", "Namespace");
    assert!(!namespaces.namespaced);
    assert!(namespaces.names.contains(&ns));
    assert!(find("apps/v1", "Deployment").names.is_empty());
}

#[tokio::test]
async fn a_kind_named_at_runtime_is_watched() {
    let (client, ns) = client_in_fresh_namespace().await;
    let kind = dynamic_watcher::parse_kind("v1/ConfigMap").expect("parsed");
    let mut objects = Box::pin(
        dynamic_watcher::run(client.clone(), &kind, Some(&ns))
            .await
            .expect("the kind is discovered"),
    );
    Api::<ConfigMap>::namespaced(client, &ns)
        .create(&PostParams::default(), &config_map("watched"))
        .await
        .expect("created");
    let seen = first("the created ConfigMap", &mut objects, |obj| {
        (obj.name_any() == "watched").then(|| obj.data["data"]["k"].clone())
    })
    .await;
    assert_eq!(seen, "v");
}

#[tokio::test]
async fn an_unknown_kind_is_a_discovery_error() {
    let (client, ns) = client_in_fresh_namespace().await;
    let kind = dynamic_watcher::parse_kind("example.com/v1/Nonexistent").expect("parsed");
    let outcome = dynamic_watcher::run(client, &kind, Some(&ns)).await;
    assert!(outcome.is_err(), "no such kind is served");
}
