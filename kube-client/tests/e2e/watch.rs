//! Raw watches against the real apiserver.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api,
    api::{
        DeleteParams, ListParams, Patch, PatchParams, PostParams, ResourceExt, WatchEvent,
        WatchParams,
    },
};
use serde_json::json;

use crate::common::{client_in_fresh_namespace, config_map};

/// Enough for any event of these tests to arrive.
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_watch_sees_added_modified_deleted_in_order() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let start = maps
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("a list has a resource version");
    let wp = WatchParams::default()
        .labels("watched=yes")
        .timeout(20)
        .disable_bookmarks();
    let mut events = maps.watch(&wp, &start).await.expect("watch");

    maps.create(
        &PostParams::default(),
        &config_map("w", &[("watched", "yes")], &[("n", "1")]),
    )
    .await
    .expect("create");
    maps.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"n": "2"}})),
    )
    .await
    .expect("patch");
    maps.delete("w", &DeleteParams::default())
        .await
        .expect("delete");

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = tokio::time::timeout(PATIENCE, events.try_next())
            .await
            .expect("events arrive in time")
            .expect("a valid event")
            .expect("the watch stays open");
        seen.push(match event {
            WatchEvent::Added(cm) => format!("ADDED {}", cm.data.unwrap_or_default()["n"]),
            WatchEvent::Modified(cm) => format!("MODIFIED {}", cm.data.unwrap_or_default()["n"]),
            WatchEvent::Deleted(cm) => format!("DELETED {}", cm.name_any()),
            other => panic!("unexpected event {other:?}"),
        });
    }
    assert_eq!(seen, ["ADDED 1", "MODIFIED 2", "DELETED w"]);
}

#[tokio::test]
async fn a_short_watch_with_bookmarks_gets_a_bookmark_then_ends() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let start = maps
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("resource version");
    // The apiserver sends a bookmark shortly before a watch's timeout.
    let events: Vec<_> = tokio::time::timeout(
        PATIENCE,
        maps.watch(&WatchParams::default().timeout(10), &start)
            .await
            .expect("watch")
            .collect::<Vec<_>>(),
    )
    .await
    .expect("the server ends the watch after its timeout");
    let bookmarks: Vec<String> = events
        .into_iter()
        .map(|e| e.expect("valid events"))
        .filter_map(|e| match e {
            WatchEvent::Bookmark(b) => Some(b.metadata.resource_version),
            _ => None,
        })
        .collect();
    assert!(!bookmarks.is_empty(), "no BOOKMARK before the timeout");
    assert!(bookmarks.iter().all(|rv| !rv.is_empty()));
}

#[tokio::test]
async fn a_watch_from_a_too_old_version_is_gone() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    // Make sure the store has moved on from the first resource versions.
    for i in 0..3 {
        maps.create(
            &PostParams::default(),
            &config_map(&format!("old-{i}"), &[], &[]),
        )
        .await
        .expect("create");
    }
    let outcome = match maps.watch(&WatchParams::default().timeout(10), "1").await {
        Err(kube_client::Error::Api(status)) => *status,
        Err(other) => panic!("expected 410 Gone, got {other}"),
        Ok(mut events) => {
            let first = tokio::time::timeout(PATIENCE, events.next())
                .await
                .expect("an event in time");
            match first {
                Some(Ok(WatchEvent::Error(status))) => status,
                other => panic!("expected an ERROR event, got {other:?}"),
            }
        }
    };
    assert_eq!(outcome.code, 410, "{outcome:?}");
    assert!(outcome.is_gone(), "{outcome:?}");
}

#[tokio::test]
async fn a_metadata_watch_streams_partial_objects() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let start = maps
        .list_metadata(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("resource version");
    let mut events = maps
        .watch_metadata(
            &WatchParams::default().fields("metadata.name=m").timeout(20),
            &start,
        )
        .await
        .expect("watch");
    maps.create(
        &PostParams::default(),
        &config_map("m", &[("kind", "meta")], &[("secret-ish", "not sent")]),
    )
    .await
    .expect("create");
    let event = tokio::time::timeout(PATIENCE, events.try_next())
        .await
        .expect("in time")
        .expect("valid")
        .expect("open");
    match event {
        WatchEvent::Added(meta) => {
            assert_eq!(meta.metadata.name.as_deref(), Some("m"));
            assert_eq!(
                meta.types.map(|t| t.kind).as_deref(),
                Some("PartialObjectMetadata")
            );
        }
        other => panic!("expected ADDED, got {other:?}"),
    }
}
