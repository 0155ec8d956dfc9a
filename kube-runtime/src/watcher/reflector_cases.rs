//! What a reflector must survive, case by case: the situations client-go's
//! reflector tests put a reflector through (`tools/cache/reflector_test.go`
//! and `reflector_watchlist_test.go`), played against the watcher's state
//! machine with a scripted apiserver and a paused clock. Where it matters,
//! the events also go into a reflector's store, whose content is checked.

use std::{collections::BTreeMap, time::Duration};

use futures::{StreamExt, pin_mut};
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::core::{
    Status, WatchEvent,
    response::{StatusCause, StatusDetails, reason},
    watch::{Bookmark, BookmarkMeta},
};
use tokio::time::Instant;

use super::{
    Config,
    machine::run,
    script::{
        Script, api_error, bookmark, cm, describe, gone, next_item, page, requests_within, take,
    },
};
use crate::{
    WatchStreamExt,
    reflector::{self, Store},
};

/// Runs a watcher over `script` for `n` items, applying its events to a
/// store: the items described, and the store.
async fn reflect(script: &Script, config: Config, n: usize) -> (Vec<String>, Store<ConfigMap>) {
    let (store, mut writer) = reflector::store();
    let stream = run(script.clone(), config);
    pin_mut!(stream);
    let mut seen = Vec::new();
    for _ in 0..n {
        let item = next_item(&mut stream).await;
        seen.push(describe(&item));
        if let Ok(event) = item {
            writer.apply_watcher_event_owned(event);
        }
    }
    (seen, store)
}

/// The store's content: name to resource version.
fn content(store: &Store<ConfigMap>) -> BTreeMap<String, String> {
    store
        .state()
        .iter()
        .map(|cm| {
            (
                cm.metadata.name.clone().unwrap_or_default(),
                cm.metadata.resource_version.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn versions(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, version)| (name.to_string(), version.to_string()))
        .collect()
}

/// Runs a watcher over `script` behind the default backoff for `n` items:
/// each item described, with when it came (paused time since the start).
async fn paced(script: &Script, config: Config, n: usize) -> Vec<(String, Duration)> {
    let start = Instant::now();
    let stream = run(script.clone(), config).default_backoff();
    pin_mut!(stream);
    let mut seen = Vec::new();
    for _ in 0..n {
        let item = next_item(&mut stream).await;
        seen.push((describe(&item), start.elapsed()));
    }
    seen
}

/// Checks that every error in `seen` was followed by a wait of at least the
/// backoff's first delay (0.8 s) before the next item.
fn assert_backed_off(seen: &[(String, Duration)]) {
    let errors = seen
        .iter()
        .filter(|(item, _)| item.starts_with("Err"))
        .count();
    assert!(errors > 0, "no error to back off from: {seen:?}");
    for pair in seen.windows(2) {
        let [(item, at), (_, next_at)] = pair else {
            continue;
        };
        if item.starts_with("Err") {
            assert!(
                *next_at - *at >= Duration::from_millis(800),
                "retried {:?} after {item}: {seen:?}",
                *next_at - *at
            );
        }
    }
}

fn items(seen: &[(String, Duration)]) -> Vec<&str> {
    seen.iter().map(|(item, _)| item.as_str()).collect()
}

/// `504 Timeout` for a resource version newer than the apiserver has seen,
/// in the format of Kubernetes 1.19 and later.
fn too_large_resource_version() -> kube_client::Error {
    let status = Status::failure(
        "Too large resource version: 10, current: 7",
        reason::TIMEOUT,
    )
    .with_code(504)
    .with_details(StatusDetails {
        causes: vec![StatusCause {
            reason: "ResourceVersionTooLarge".into(),
            message: "Too large resource version".into(),
            field: String::new(),
        }],
        retry_after_seconds: 1,
        ..StatusDetails::default()
    });
    kube_client::Error::Api(status.boxed())
}

/// The same, in the format of Kubernetes 1.17 and 1.18: no cause type, only
/// the message.
fn too_large_resource_version_without_cause() -> kube_client::Error {
    let status = Status::failure("Too large resource version", reason::TIMEOUT).with_code(504);
    kube_client::Error::Api(status.boxed())
}

fn annotated_bookmark(version: &str, initial_events_end: &str) -> WatchEvent<ConfigMap> {
    WatchEvent::Bookmark(Bookmark {
        types: Default::default(),
        metadata: BookmarkMeta {
            resource_version: version.into(),
            annotations: [(
                Bookmark::INITIAL_EVENTS_END.to_string(),
                initial_events_end.to_string(),
            )]
            .into(),
        },
    })
}

#[tokio::test(start_paused = true)]
async fn a_full_relist_after_expiry_replaces_the_store_without_ghosts() {
    let script = Script::default()
        .list(Ok(page(vec![cm("a", "1"), cm("b", "2")], "10", None)))
        .watch(vec![
            Ok(WatchEvent::Modified(cm("a", "11"))),
            Ok(WatchEvent::Error(gone())),
        ])
        // Meanwhile b was deleted and c created: no event said so.
        .list(Ok(page(vec![cm("a", "11"), cm("c", "15")], "20", None)))
        .watch_open(vec![Ok(WatchEvent::Added(cm("d", "21")))]);
    let (seen, store) = reflect(&script, Config::default(), 10).await;
    assert_eq!(
        seen[..5],
        [
            "Init",
            "InitApply(a)",
            "InitApply(b)",
            "InitDone",
            "Apply(a)"
        ]
    );
    assert!(seen[5].contains("Expired (410)"), "{}", seen[5]);
    assert_eq!(
        seen[6..],
        ["Init", "InitApply(a)", "InitApply(c)", "InitDone"]
    );
    assert_eq!(content(&store), versions(&[("a", "11"), ("c", "15")]));
    assert_eq!(
        script.requests(),
        [
            "list rv=- continue=-",
            "watch rv=10 initial=false bookmarks=true",
            "list rv=- continue=-"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_list_too_large_for_one_response_restarts_in_full_when_its_continue_token_expires() {
    let script = Script::default()
        .list(Ok(page(vec![cm("a", "1"), cm("b", "2")], "10", Some("p2"))))
        .list(Err(api_error(410, reason::EXPIRED)))
        .list(Ok(page(vec![cm("a", "1"), cm("b", "2")], "12", Some("q2"))))
        .list(Ok(page(vec![cm("c", "12")], "12", None)))
        .watch_open(vec![]);
    let (seen, store) = reflect(&script, Config::default().page_size(2), 8).await;
    assert_eq!(seen[..3], ["Init", "InitApply(a)", "InitApply(b)"]);
    assert!(seen[3].starts_with("Err(failed to list"), "{}", seen[3]);
    assert_eq!(
        seen[4..],
        ["Init", "InitApply(a)", "InitApply(b)", "InitApply(c)"]
    );
    assert_eq!(
        script.requests()[..4],
        [
            "list rv=- continue=-",
            "list rv=- continue=p2",
            "list rv=- continue=-",
            "list rv=- continue=q2"
        ],
        "the whole list again, never the rest of a list at another version"
    );
    assert_eq!(content(&store).len(), 3, "stored as they came");
    // The writer is gone: readiness would have had to come before.
    let ready = tokio::time::timeout(Duration::from_secs(1), store.wait_until_ready()).await;
    assert!(!matches!(ready, Ok(Ok(()))), "not synced before InitDone");
}

#[tokio::test(start_paused = true)]
async fn a_429_on_list_is_retried_after_a_backoff() {
    let script = Script::default()
        .list(Err(api_error(429, reason::TOO_MANY_REQUESTS)))
        .list(Err(api_error(429, reason::TOO_MANY_REQUESTS)))
        .list(Ok(page(vec![cm("a", "1")], "10", None)))
        .watch_open(vec![]);
    let seen = paced(&script, Config::default(), 5).await;
    assert_eq!(items(&seen)[2..], ["Init", "InitApply(a)", "InitDone"]);
    assert_backed_off(&seen);
    assert_eq!(script.requests()[..3], ["list rv=- continue=-"; 3]);
}

#[tokio::test(start_paused = true)]
async fn a_5xx_on_list_is_retried_after_a_backoff() {
    let script = Script::default()
        .list(Err(api_error(500, reason::INTERNAL_ERROR)))
        .list(Err(api_error(503, reason::SERVICE_UNAVAILABLE)))
        .list(Err(api_error(504, reason::TIMEOUT)))
        .list(Ok(page(vec![cm("a", "1")], "10", None)))
        .watch_open(vec![]);
    let seen = paced(&script, Config::default(), 6).await;
    assert_eq!(items(&seen)[3..], ["Init", "InitApply(a)", "InitDone"]);
    assert_backed_off(&seen);
}

#[tokio::test(start_paused = true)]
async fn a_429_on_watch_is_retried_from_the_same_version_after_a_backoff_without_relisting() {
    let script = Script::default()
        .list(Ok(page(vec![], "10", None)))
        .watch_fails(api_error(429, reason::TOO_MANY_REQUESTS))
        .watch(vec![Ok(WatchEvent::Error(
            Status::failure("busy", reason::TOO_MANY_REQUESTS).with_code(429),
        ))])
        .watch_open(vec![Ok(WatchEvent::Added(cm("a", "11")))]);
    let seen = paced(&script, Config::default(), 5).await;
    assert_eq!(items(&seen)[..2], ["Init", "InitDone"]);
    assert_eq!(items(&seen)[4], "Apply(a)");
    assert_backed_off(&seen);
    assert_eq!(
        script.requests(),
        [
            "list rv=- continue=-",
            "watch rv=10 initial=false bookmarks=true",
            "watch rv=10 initial=false bookmarks=true",
            "watch rv=10 initial=false bookmarks=true"
        ],
        "one list only"
    );
}

#[tokio::test(start_paused = true)]
async fn a_5xx_on_watch_is_retried_from_the_same_version_after_a_backoff_without_relisting() {
    let script = Script::default()
        .list(Ok(page(vec![], "10", None)))
        .watch_fails(api_error(503, reason::SERVICE_UNAVAILABLE))
        .watch(vec![
            Ok(WatchEvent::Added(cm("a", "11"))),
            Ok(WatchEvent::Error(
                Status::failure("etcdserver: no leader", reason::INTERNAL_ERROR).with_code(500),
            )),
        ])
        .watch(vec![Err(api_error(500, reason::INTERNAL_ERROR))])
        .watch_open(vec![Ok(WatchEvent::Added(cm("b", "12")))]);
    let seen = paced(&script, Config::default(), 7).await;
    assert_eq!(
        items(&seen)
            .into_iter()
            .filter(|item| !item.starts_with("Err"))
            .collect::<Vec<_>>(),
        ["Init", "InitDone", "Apply(a)", "Apply(b)"]
    );
    assert_backed_off(&seen);
    assert_eq!(
        script.requests(),
        [
            "list rv=- continue=-",
            "watch rv=10 initial=false bookmarks=true",
            "watch rv=10 initial=false bookmarks=true",
            "watch rv=11 initial=false bookmarks=true",
            "watch rv=11 initial=false bookmarks=true"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_watch_timeout_resumes_from_the_last_version_without_error() {
    let timeout = Duration::from_secs(290);
    let script = Script::default()
        .list(Ok(page(vec![], "10", None)))
        .watch_closing_after(vec![Ok(WatchEvent::Added(cm("a", "11")))], timeout)
        // A quiet watch, ended by its timeout too.
        .watch_closing_after(vec![], timeout)
        .watch_open(vec![Ok(WatchEvent::Added(cm("b", "12")))]);
    let seen = paced(&script, Config::default(), 4).await;
    assert_eq!(items(&seen), ["Init", "InitDone", "Apply(a)", "Apply(b)"]);
    assert_eq!(
        seen[3].1,
        timeout * 2,
        "each watch resumed as soon as it ended"
    );
    assert_eq!(
        script.requests()[1..],
        [
            "watch rv=10 initial=false bookmarks=true",
            "watch rv=11 initial=false bookmarks=true",
            "watch rv=11 initial=false bookmarks=true"
        ]
    );
    assert_eq!(
        script.watch_timeouts(),
        [Some(290); 3],
        "the server is asked to end each watch"
    );
}

#[tokio::test(start_paused = true)]
async fn bookmarks_advance_the_resource_version() {
    let script = Script::default()
        .list(Ok(page(vec![], "5", None)))
        .watch(vec![
            Ok(WatchEvent::Added(cm("a", "10"))),
            Ok(WatchEvent::Modified(cm("a", "20"))),
            Ok(bookmark("30", false)),
        ])
        .watch(vec![
            Ok(WatchEvent::Deleted(cm("a", "40"))),
            Ok(bookmark("50", false)),
        ])
        .watch(vec![Ok(bookmark("60", false))])
        .watch_open(vec![]);
    let requests = requests_within(&script, Config::default(), Duration::from_secs(10)).await;
    assert_eq!(
        requests[1..],
        [
            "watch rv=5 initial=false bookmarks=true",
            "watch rv=30 initial=false bookmarks=true",
            "watch rv=50 initial=false bookmarks=true",
            "watch rv=60 initial=false bookmarks=true"
        ],
        "objects, deletions and bookmarks alike move the resume version"
    );
}

#[tokio::test(start_paused = true)]
async fn streaming_list_is_synced_only_at_its_end_bookmark() {
    // A bookmark whose initial-events-end annotation is not "true" ends
    // nothing.
    let script = Script::default().watch_open(vec![
        Ok(WatchEvent::Added(cm("p1", "1"))),
        Ok(WatchEvent::Added(cm("p2", "2"))),
        Ok(annotated_bookmark("2", "false")),
    ]);
    let (store, mut writer) = reflector::store();
    let stream = run(script.clone(), Config::default().streaming_lists());
    pin_mut!(stream);
    for _ in 0..3 {
        let event = next_item(&mut stream).await.expect("no error");
        writer.apply_watcher_event_owned(event);
    }
    let more = tokio::time::timeout(Duration::from_secs(3600), stream.next()).await;
    assert!(more.is_err(), "nothing more came, least of all InitDone");
    assert_eq!(store.len(), 2, "stored as they came");
    let ready = tokio::time::timeout(Duration::from_secs(1), store.wait_until_ready()).await;
    assert!(ready.is_err(), "the store is not ready");

    let script = Script::default().watch_open(vec![
        Ok(WatchEvent::Added(cm("p1", "1"))),
        Ok(WatchEvent::Added(cm("p2", "2"))),
        Ok(annotated_bookmark("2", "true")),
    ]);
    let (seen, store) = reflect(&script, Config::default().streaming_lists(), 4).await;
    assert_eq!(seen, ["Init", "InitApply(p1)", "InitApply(p2)", "InitDone"]);
    assert_eq!(content(&store), versions(&[("p1", "1"), ("p2", "2")]));
}

#[tokio::test(start_paused = true)]
async fn streaming_list_stopped_before_sync_starts_a_new_streaming_list() {
    let script = Script::default()
        .watch(vec![Ok(WatchEvent::Added(cm("p1", "1")))])
        .watch_open(vec![
            Ok(WatchEvent::Added(cm("p1", "1"))),
            Ok(bookmark("1", true)),
        ]);
    let (seen, store) = reflect(&script, Config::default().streaming_lists(), 6).await;
    assert_eq!(seen[..2], ["Init", "InitApply(p1)"]);
    assert!(seen[2].starts_with("Err("), "{}", seen[2]);
    assert_eq!(seen[3..], ["Init", "InitApply(p1)", "InitDone"]);
    assert_eq!(content(&store), versions(&[("p1", "1")]));
    assert_eq!(
        script.requests(),
        ["watch rv= initial=true bookmarks=true"; 2]
    );
}

#[tokio::test(start_paused = true)]
async fn streaming_list_stopped_after_sync_resumes_with_a_plain_watch() {
    let script = Script::default()
        .watch(vec![
            Ok(WatchEvent::Added(cm("p1", "1"))),
            Ok(WatchEvent::Added(cm("p2", "2"))),
            Ok(bookmark("2", true)),
            Ok(WatchEvent::Added(cm("p3", "3"))),
        ])
        .watch_open(vec![Ok(WatchEvent::Added(cm("p4", "4")))]);
    let (seen, store) = reflect(&script, Config::default().streaming_lists(), 6).await;
    assert_eq!(
        seen,
        [
            "Init",
            "InitApply(p1)",
            "InitApply(p2)",
            "InitDone",
            "Apply(p3)",
            "Apply(p4)"
        ]
    );
    assert_eq!(
        content(&store),
        versions(&[("p1", "1"), ("p2", "2"), ("p3", "3"), ("p4", "4")])
    );
    assert_eq!(
        script.requests(),
        [
            "watch rv= initial=true bookmarks=true",
            "watch rv=3 initial=false bookmarks=true"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn streaming_list_refused_with_429_is_retried_after_a_backoff() {
    let script = Script::default()
        .watch_fails(api_error(429, reason::TOO_MANY_REQUESTS))
        .watch_fails(api_error(429, reason::TOO_MANY_REQUESTS))
        .watch_open(vec![
            Ok(WatchEvent::Added(cm("p1", "1"))),
            Ok(bookmark("2", true)),
        ]);
    let seen = paced(&script, Config::default().streaming_lists(), 5).await;
    assert_eq!(items(&seen)[2..], ["Init", "InitApply(p1)", "InitDone"]);
    assert_backed_off(&seen);
    assert_eq!(
        script.requests(),
        ["watch rv= initial=true bookmarks=true"; 3],
        "a 429 is no reason to give up streaming"
    );
}

#[tokio::test(start_paused = true)]
async fn an_expired_watch_after_a_streaming_list_lists_again_by_streaming() {
    let script = Script::default()
        .watch(vec![
            Ok(WatchEvent::Added(cm("p1", "1"))),
            Ok(bookmark("2", true)),
            Ok(WatchEvent::Added(cm("p3", "3"))),
        ])
        .watch_fails(api_error(410, reason::EXPIRED))
        .watch_open(vec![
            Ok(WatchEvent::Added(cm("p3", "3"))),
            Ok(bookmark("4", true)),
        ]);
    let (seen, store) = reflect(&script, Config::default().streaming_lists(), 8).await;
    assert_eq!(
        seen[..4],
        ["Init", "InitApply(p1)", "InitDone", "Apply(p3)"]
    );
    assert!(seen[4].contains("410"), "{}", seen[4]);
    assert_eq!(seen[5..], ["Init", "InitApply(p3)", "InitDone"]);
    assert_eq!(content(&store), versions(&[("p3", "3")]));
    assert_eq!(
        script.requests(),
        [
            "watch rv= initial=true bookmarks=true",
            "watch rv=3 initial=false bookmarks=true",
            "watch rv= initial=true bookmarks=true"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_410_on_an_exact_resource_version_relists_with_a_consistent_read() {
    // A watch from the list's exact version, refused as expired; the cache
    // (rv=0) could be older still, so the relist reads from etcd.
    let script = Script::default()
        .list(Ok(page(vec![cm("a", "5")], "10", None)))
        .watch_fails(api_error(410, reason::EXPIRED))
        .list(Ok(page(vec![cm("a", "5"), cm("b", "11")], "11", None)))
        .watch_open(vec![]);
    let seen = take(&script, Config::default().any_semantic(), 7).await;
    assert!(
        seen[3].starts_with("Err(failed to start a watch"),
        "{seen:?}"
    );
    assert_eq!(seen[4..], ["Init", "InitApply(a)", "InitApply(b)"]);
    assert_eq!(
        script.requests()[..3],
        [
            "list rv=0 continue=-",
            "watch rv=10 initial=false bookmarks=true",
            "list rv=- continue=-"
        ]
    );

    // A list refused as expired is retried as a consistent read too.
    let script = Script::default()
        .list(Err(api_error(410, reason::EXPIRED)))
        .list(Ok(page(vec![cm("a", "5")], "10", None)))
        .watch_open(vec![]);
    let seen = take(&script, Config::default().any_semantic(), 4).await;
    assert!(seen[0].starts_with("Err(failed to list"), "{seen:?}");
    assert_eq!(
        script.requests()[..2],
        ["list rv=0 continue=-", "list rv=- continue=-"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_resource_version_too_large_for_the_server_relists_with_a_consistent_read() {
    // After a failover to an apiserver that lags behind, the version the
    // watcher resumes from is in that server's future; waiting for it may
    // never end, so the watcher lists again from etcd.
    for too_large in [
        too_large_resource_version(),
        too_large_resource_version_without_cause(),
    ] {
        let script = Script::default()
            .list(Ok(page(vec![cm("a", "5")], "10", None)))
            .watch_fails(too_large)
            .list(Ok(page(vec![cm("a", "5")], "12", None)))
            .watch_open(vec![]);
        let seen = take(&script, Config::default().any_semantic(), 6).await;
        assert!(
            seen[3].contains("Too large resource version"),
            "{}",
            seen[3]
        );
        assert_eq!(seen[4..], ["Init", "InitApply(a)"]);
        assert_eq!(
            script.requests()[..3],
            [
                "list rv=0 continue=-",
                "watch rv=10 initial=false bookmarks=true",
                "list rv=- continue=-"
            ]
        );
    }
}

#[tokio::test(start_paused = true)]
async fn streaming_list_applies_updates_and_deletes_arriving_mid_stream() {
    let script = Script::default().watch_open(vec![
        Ok(WatchEvent::Added(cm("p1", "1"))),
        Ok(WatchEvent::Added(cm("p2", "2"))),
        Ok(WatchEvent::Modified(cm("p1", "3"))),
        Ok(WatchEvent::Added(cm("p3", "4"))),
        Ok(WatchEvent::Deleted(cm("p3", "5"))),
        Ok(bookmark("5", true)),
    ]);
    let (seen, store) = reflect(&script, Config::default().streaming_lists(), 7).await;
    assert_eq!(
        seen.last().map(String::as_str),
        Some("InitDone"),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|item| item.starts_with("Err")), "{seen:?}");
    assert_eq!(content(&store), versions(&[("p1", "3"), ("p2", "2")]));
    assert_eq!(
        script.requests(),
        ["watch rv= initial=true bookmarks=true"],
        "no relist"
    );
}

#[tokio::test(start_paused = true)]
async fn streaming_list_falls_back_to_list_and_watch_when_the_server_cannot_stream() {
    // What an apiserver without the WatchList feature answers.
    let refusal = || {
        kube_client::Error::Api(
            Status::failure(
                "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
                reason::INVALID,
            )
            .with_code(422)
            .boxed(),
        )
    };
    let script = Script::default()
        .watch_fails(refusal())
        .list(Ok(page(vec![cm("p1", "1")], "1", None)))
        .watch_open(vec![Ok(WatchEvent::Added(cm("p2", "2")))]);
    let (seen, store) = reflect(&script, Config::default().streaming_lists(), 4).await;
    assert_eq!(seen, ["Init", "InitApply(p1)", "InitDone", "Apply(p2)"]);
    assert_eq!(content(&store), versions(&[("p1", "1"), ("p2", "2")]));
    assert_eq!(
        script.requests(),
        [
            "watch rv= initial=true bookmarks=true",
            "list rv=- continue=-",
            "watch rv=1 initial=false bookmarks=true"
        ]
    );
}
