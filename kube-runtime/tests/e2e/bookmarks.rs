//! Bookmarks in practice: the apiserver sends them to a watch that asks, and
//! the watcher resumes its next watch from their resource version — past
//! changes it was never shown — in both list-watch and streaming-list modes.
//!
//! The watcher's resume version is read off the wire: the watch runs through
//! kube-test's fault proxy (with no faults), which records every request.
//! The apiserver sends a bookmark two seconds before a watch's timeout, so
//! watches here last four seconds.
//!
//! Resource versions are opaque to clients in general; these tests compare
//! them as numbers because on this control plane they are etcd revisions.

use futures::{Stream, StreamExt, pin_mut};
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api,
    api::{ObjectMeta, PostParams},
};
use kube_runtime::watcher::{self, Event, watcher};
use kube_test::faults::{FaultProxy, Verb};
use tokio::time::{Duration, sleep};

use crate::common::{OURS, create, next, within};

/// Each watch lasts this long (seconds); the apiserver bookmarks two seconds
/// before the end.
const WATCH_TIMEOUT: u32 = 4;

struct Setup {
    proxy: FaultProxy,
    /// Bypasses the proxy.
    direct: Api<ConfigMap>,
    /// Through the proxy.
    watched: Api<ConfigMap>,
}

async fn setup() -> Setup {
    let (proxy, direct, namespace) = crate::common::proxy_and_fresh_namespace().await;
    let direct = Api::namespaced(direct, &namespace);
    let watched = Api::namespaced(proxy.client().expect("a proxy client"), &namespace);
    Setup {
        proxy,
        direct,
        watched,
    }
}

/// The resource versions the watcher's watches started from, in order
/// (streaming lists, which start from no version, left out).
fn watch_versions(proxy: &FaultProxy) -> Vec<u64> {
    proxy
        .requests()
        .iter()
        .filter(|request| request.verb == Verb::Watch)
        .filter_map(|request| {
            let (_, query) = request.path.split_once('?')?;
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("resourceVersion="))?
                .parse()
                .ok()
        })
        .collect()
}

/// Creates ConfigMaps the watcher's label selector leaves out: changes it
/// is never shown, which still advance the resource version. Returns the
/// last one's version.
async fn unseen_changes(api: &Api<ConfigMap>) -> u64 {
    let mut last = 0;
    for i in 0..3 {
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some(format!("unseen-{i}")),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        };
        let created = api
            .create(&PostParams::default(), &cm)
            .await
            .expect("created");
        last = created
            .metadata
            .resource_version
            .and_then(|version| version.parse().ok())
            .expect("a numeric resource version");
    }
    last
}

/// Polls `events` (the watcher only works while polled) until `done` holds
/// for the resume versions seen so far; no event may arrive meanwhile.
async fn drive_until<S>(
    what: &str,
    proxy: &FaultProxy,
    events: &mut S,
    mut done: impl FnMut(&[u64]) -> bool,
) -> Vec<u64>
where
    S: Stream<Item = watcher::Result<Event<ConfigMap>>> + Unpin,
{
    within(what, async {
        loop {
            let versions = watch_versions(proxy);
            if done(&versions) {
                break versions;
            }
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(event)) => panic!("no change was made that the watcher may see: {event:?}"),
                    Some(Err(err)) => panic!("the watcher failed: {err}"),
                    None => panic!("the watcher ended"),
                },
                () = sleep(Duration::from_millis(100)) => {}
            }
        }
    })
    .await
}

/// Waits for the initial state to be delivered.
async fn until_init_done<S>(events: &mut S)
where
    S: Stream<Item = watcher::Result<Event<ConfigMap>>> + Unpin,
{
    while !matches!(next("the initial state", events).await, Ok(Event::InitDone)) {}
}

async fn resumes_from_bookmarks(config: watcher::Config) {
    let setup = setup().await;
    create(&setup.direct, "watched", "1").await;
    let events = watcher(
        setup.watched.clone(),
        config.labels(OURS).timeout(WATCH_TIMEOUT),
    );
    pin_mut!(events);
    until_init_done(&mut events).await;

    let unseen = unseen_changes(&setup.direct).await;
    let versions = drive_until(
        "a watch resumed from past the unseen changes",
        &setup.proxy,
        &mut events,
        |versions| versions.iter().any(|version| *version >= unseen),
    )
    .await;
    eprintln!("unseen changes up to {unseen}; watches started from {versions:?}");

    // The apiserver accepts the resumed watch: a change it may see arrives.
    create(&setup.direct, "later", "1").await;
    match next("the change after the resume", &mut events).await {
        Ok(Event::Apply(cm)) => assert_eq!(cm.metadata.name.as_deref(), Some("later")),
        other => panic!("expected the new object, got {other:?}"),
    }
}

#[tokio::test]
async fn bookmarks_advance_the_resume_version_of_a_list_watch() {
    resumes_from_bookmarks(watcher::Config::default()).await;
}

#[tokio::test]
async fn bookmarks_advance_the_resume_version_after_a_streaming_list() {
    resumes_from_bookmarks(watcher::Config::default().streaming_lists()).await;
}

#[tokio::test]
async fn without_bookmarks_the_watcher_resumes_from_the_last_change_it_saw() {
    let setup = setup().await;
    create(&setup.direct, "watched", "1").await;
    let events = watcher(
        setup.watched.clone(),
        watcher::Config::default()
            .labels(OURS)
            .timeout(WATCH_TIMEOUT)
            .disable_bookmarks(),
    );
    pin_mut!(events);
    until_init_done(&mut events).await;

    let unseen = unseen_changes(&setup.direct).await;
    let versions = drive_until(
        "two resumed watches",
        &setup.proxy,
        &mut events,
        |versions| versions.len() >= 3,
    )
    .await;
    eprintln!("unseen changes up to {unseen}; watches started from {versions:?}");
    assert!(
        versions.iter().all(|version| *version < unseen),
        "without bookmarks nothing tells the watcher of changes it does not see"
    );
    assert!(
        versions.windows(2).all(|pair| pair[0] == pair[1]),
        "every watch starts from the list's version"
    );
}
