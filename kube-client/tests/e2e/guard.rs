//! `DeserializeGuard`: listing and watching objects of which some do not fit
//! the Rust type, against the real apiserver. The broken ones come back as
//! errors carrying their metadata; the others as the type.

use std::borrow::Cow;

use futures::TryStreamExt;
use k8s_openapi::{NamespaceResourceScope, api::core::v1::ConfigMap};
use kube_client::{
    Api,
    api::{ListParams, ObjectMeta, PostParams, WatchEvent, WatchParams},
    core::{DeserializeGuard, Resource},
};
use serde::Deserialize;

use crate::common::{client_in_fresh_namespace, config_map};

/// Marks the ConfigMaps of this test among those the control plane makes.
const LABEL: (&str, &str) = ("guarded", "yes");

/// A ConfigMap read as settings that must have a `mode`.
#[derive(Debug, Clone, Deserialize)]
struct Settings {
    metadata: ObjectMeta,
    data: SettingsData,
}

#[derive(Debug, Clone, Deserialize)]
struct SettingsData {
    mode: String,
}

impl Resource for Settings {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "ConfigMap".into()
    }

    fn group(_: &()) -> Cow<'_, str> {
        "".into()
    }

    fn version(_: &()) -> Cow<'_, str> {
        "v1".into()
    }

    fn plural(_: &()) -> Cow<'_, str> {
        "configmaps".into()
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[tokio::test]
async fn objects_that_do_not_fit_the_type_come_back_as_errors_with_metadata() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    for (name, data) in [
        ("fast", vec![("mode", "fast")]),
        ("modeless", vec![("colour", "blue")]),
    ] {
        maps.create(&PostParams::default(), &config_map(name, &[LABEL], &data))
            .await
            .expect("create");
    }

    let settings: Api<DeserializeGuard<Settings>> = Api::namespaced(client, &ns);
    let list = settings
        .list(&ListParams::default().labels("guarded=yes"))
        .await
        .expect("the list decodes despite the bad item");
    let mut verdicts: Vec<(String, Result<String, String>)> = list
        .items
        .iter()
        .map(|guard| {
            let name = guard.meta().name.clone().unwrap_or_default();
            let verdict = match &guard.0 {
                Ok(s) => Ok(s.data.mode.clone()),
                Err(invalid) => Err(invalid.error.clone()),
            };
            (name, verdict)
        })
        .collect();
    verdicts.sort();
    assert_eq!(verdicts.len(), 2, "{verdicts:?}");
    assert_eq!(verdicts[0], ("fast".to_string(), Ok("fast".to_string())));
    assert_eq!(verdicts[1].0, "modeless");
    let error = verdicts[1].1.clone().expect_err("no mode");
    assert!(error.contains("mode"), "{error}");

    // A watch from the list's version sees a new broken object as an error,
    // without ending.
    let version = list.metadata.resource_version.clone().unwrap_or_default();
    let mut events = settings
        .watch(
            &WatchParams::default().labels("guarded=yes").timeout(30),
            &version,
        )
        .await
        .expect("watch");
    maps.create(
        &PostParams::default(),
        &config_map("late", &[LABEL], &[("colour", "red")]),
    )
    .await
    .expect("create");
    maps.create(
        &PostParams::default(),
        &config_map("later", &[LABEL], &[("mode", "slow")]),
    )
    .await
    .expect("create");
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match events.try_next().await.expect("a watch event") {
            Some(WatchEvent::Added(guard)) => seen.push((
                guard.meta().name.clone().unwrap_or_default(),
                guard.0.is_ok(),
            )),
            Some(WatchEvent::Bookmark(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        seen,
        [("late".to_string(), false), ("later".to_string(), true)]
    );
}
