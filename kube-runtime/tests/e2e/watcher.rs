//! The watcher against a real apiserver: lists, pages, streaming lists,
//! changes, metadata only, one object, and recovery across a restart.

use futures::{StreamExt, TryStreamExt, pin_mut};
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{Api, api::DeleteParams};
use kube_runtime::{
    WatchStreamExt, metadata_watcher, watcher as watch,
    watcher::{self, Event, watch_object},
};

use crate::common::{OURS, client_in_fresh_namespace, create, next, set_value, value_of, within};

/// `name=value` for an event's object, the variant name otherwise.
fn describe(event: &Event<ConfigMap>) -> String {
    let of = |cm: &ConfigMap| {
        format!(
            "{}={}",
            cm.metadata.name.as_deref().unwrap_or_default(),
            value_of(cm).unwrap_or_default()
        )
    };
    match event {
        Event::Init => "Init".into(),
        Event::InitApply(cm) => format!("InitApply({})", of(cm)),
        Event::InitDone => "InitDone".into(),
        Event::Apply(cm) => format!("Apply({})", of(cm)),
        Event::Delete(cm) => format!("Delete({})", of(cm)),
    }
}

/// The events up to and including the next `InitDone`, described, with the
/// `InitApply`s sorted (the apiserver lists in name order, a streaming list
/// need not).
async fn initial_state<S>(events: &mut S) -> Vec<String>
where
    S: futures::Stream<Item = watcher::Result<Event<ConfigMap>>> + Unpin,
{
    let mut seen = Vec::new();
    loop {
        let event = next("the initial state", events)
            .await
            .expect("no watcher error");
        let done = matches!(event, Event::InitDone);
        seen.push(describe(&event));
        if done {
            break;
        }
    }
    let last = seen.len() - 1;
    seen[1..last].sort();
    seen
}

async fn lists_then_streams_changes(config: watcher::Config) {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    for (name, value) in [("a", "1"), ("b", "1"), ("c", "1")] {
        create(&api, name, value).await;
    }
    let events = watch(api.clone(), config.labels(OURS));
    pin_mut!(events);
    assert_eq!(
        initial_state(&mut events).await,
        [
            "Init",
            "InitApply(a=1)",
            "InitApply(b=1)",
            "InitApply(c=1)",
            "InitDone"
        ]
    );

    create(&api, "d", "1").await;
    assert_eq!(
        describe(&next("d created", &mut events).await.expect("no error")),
        "Apply(d=1)"
    );
    set_value(&api, "a", "2").await;
    assert_eq!(
        describe(&next("a changed", &mut events).await.expect("no error")),
        "Apply(a=2)"
    );
    api.delete("b", &DeleteParams::default())
        .await
        .expect("deleted");
    assert_eq!(
        describe(&next("b deleted", &mut events).await.expect("no error")),
        "Delete(b=1)"
    );
}

#[tokio::test]
async fn watcher_lists_then_streams_changes() {
    lists_then_streams_changes(watcher::Config::default()).await;
}

#[tokio::test]
async fn watcher_lists_in_small_pages_without_missing_objects() {
    lists_then_streams_changes(watcher::Config::default().page_size(1)).await;
}

#[tokio::test]
async fn watcher_lists_from_the_cache_with_any_semantic() {
    lists_then_streams_changes(watcher::Config::default().any_semantic()).await;
}

#[tokio::test]
async fn streaming_list_delivers_the_initial_state_then_changes() {
    lists_then_streams_changes(watcher::Config::default().streaming_lists()).await;
}

#[tokio::test]
async fn watcher_filters_by_label() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let mut labelled = crate::common::config_map("picked", "1");
    if let Some(labels) = labelled.metadata.labels.as_mut() {
        labels.insert("app".to_string(), "web".to_string());
    }
    api.create(&Default::default(), &labelled)
        .await
        .expect("created");
    create(&api, "ignored", "1").await;
    let events = watch(api, watcher::Config::default().labels("app=web"));
    pin_mut!(events);
    assert_eq!(
        initial_state(&mut events).await,
        ["Init", "InitApply(picked=1)", "InitDone"]
    );
}

#[tokio::test]
async fn metadata_watcher_sees_names_without_data() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    create(&api, "a", "1").await;
    let objects =
        metadata_watcher(api.clone(), watcher::Config::default().labels(OURS)).applied_objects();
    pin_mut!(objects);
    let first = next("the listed object", &mut objects)
        .await
        .expect("no error");
    assert_eq!(first.metadata.name.as_deref(), Some("a"));
    create(&api, "b", "1").await;
    let second = next("the created object", &mut objects)
        .await
        .expect("no error");
    assert_eq!(second.metadata.name.as_deref(), Some("b"));
    assert!(second.metadata.resource_version.is_some());
}

/// Whether the apiserver's record of who set which field came along.
fn has_managed_fields(meta: &kube_client::api::ObjectMeta) -> bool {
    meta.managed_fields.as_ref().is_some_and(|f| !f.is_empty())
}

#[tokio::test]
async fn watchers_strip_managed_fields_from_listed_and_watched_objects_when_asked() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    create(&api, "a", "1").await;
    let config = watcher::Config::default().labels(OURS);

    let kept = watch(api.clone(), config.clone()).applied_objects();
    let stripped = watch(api.clone(), config.clone().strip_managed_fields()).applied_objects();
    let stripped_meta =
        metadata_watcher(api.clone(), config.strip_managed_fields()).applied_objects();
    pin_mut!(kept, stripped, stripped_meta);

    let listed = next("the listed object", &mut kept)
        .await
        .expect("no error");
    assert!(
        has_managed_fields(&listed.metadata),
        "the apiserver sends managedFields unless asked not to"
    );
    let listed = next("the listed object", &mut stripped)
        .await
        .expect("no error");
    assert!(!has_managed_fields(&listed.metadata));
    assert_eq!(value_of(&listed), Some("1"), "the rest is decoded");
    let listed = next("the listed metadata", &mut stripped_meta)
        .await
        .expect("no error");
    assert!(!has_managed_fields(&listed.metadata));
    assert_eq!(listed.metadata.name.as_deref(), Some("a"));

    set_value(&api, "a", "2").await;
    let watched = next("the changed object", &mut stripped)
        .await
        .expect("no error");
    assert!(!has_managed_fields(&watched.metadata));
    assert_eq!(value_of(&watched), Some("2"));
    let watched = next("the changed metadata", &mut stripped_meta)
        .await
        .expect("no error");
    assert!(!has_managed_fields(&watched.metadata));
    assert!(
        watched
            .metadata
            .labels
            .is_some_and(|l| l.contains_key("e2e"))
    );
    let watched = next("the changed object", &mut kept)
        .await
        .expect("no error");
    assert!(has_managed_fields(&watched.metadata));
}

#[tokio::test]
async fn watch_object_follows_one_object_through_its_life() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    create(&api, "other", "1").await;
    let states = watch_object(api.clone(), "target")
        .map_ok(|cm| cm.as_ref().and_then(value_of).map(String::from));
    pin_mut!(states);
    assert_eq!(next("absence", &mut states).await.expect("no error"), None);
    create(&api, "target", "1").await;
    assert_eq!(
        next("creation", &mut states)
            .await
            .expect("no error")
            .as_deref(),
        Some("1")
    );
    set_value(&api, "target", "2").await;
    assert_eq!(
        next("change", &mut states)
            .await
            .expect("no error")
            .as_deref(),
        Some("2")
    );
    api.delete("target", &DeleteParams::default())
        .await
        .expect("deleted");
    assert_eq!(next("deletion", &mut states).await.expect("no error"), None);
}

#[tokio::test]
async fn watcher_recovers_when_the_apiserver_restarts() {
    let env = kube_test::TestEnv::start_owned()
        .await
        .expect("an owned control plane");
    let client = env.client().await.expect("a client");
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    create(&api, "before", "1").await;
    let events = watch(api.clone(), watcher::Config::default()).default_backoff();
    pin_mut!(events);
    let mut initial = Vec::new();
    while !initial.contains(&"InitDone".to_string()) {
        if let Ok(event) = next("the initial state", &mut events).await {
            initial.push(describe(&event));
        }
    }
    assert!(
        initial.contains(&"InitApply(before=1)".to_string()),
        "{initial:?}"
    );

    within("the restart", env.restart())
        .await
        .expect("restarted");
    create(&api, "after", "1").await;
    // Errors, and perhaps a relist, come first: the watcher must get there.
    let recovered = within("the change made after the restart", async {
        loop {
            match events.next().await {
                Some(Ok(Event::Apply(cm) | Event::InitApply(cm)))
                    if cm.metadata.name.as_deref() == Some("after") =>
                {
                    break true;
                }
                Some(_) => {}
                None => break false,
            }
        }
    })
    .await;
    assert!(recovered, "the watcher ended");
}
