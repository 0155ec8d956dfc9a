//! A scripted apiserver for the watcher's state machine tests: lists and
//! watches answer from a script, every request is recorded, and time is
//! tokio's (paused in the tests), so no network and no real waiting.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use futures::{Stream, StreamExt, pin_mut, stream::BoxStream};
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::core::{
    ListMeta, ObjectList, ObjectMeta, Status, WatchEvent,
    params::{ListParams, WatchParams},
    response::reason,
    watch::{Bookmark, BookmarkMeta},
};

use super::{Config, Event, machine::ListWatch};
use crate::WatchStreamExt;

/// A ConfigMap `name` at resource version `version`.
pub(super) fn cm(name: &str, version: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            resource_version: Some(version.into()),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    }
}

/// One page of a list at `version`, with a continue token if more follow.
pub(super) fn page(
    items: Vec<ConfigMap>,
    version: &str,
    continue_token: Option<&str>,
) -> ObjectList<ConfigMap> {
    ObjectList {
        types: Default::default(),
        metadata: ListMeta {
            resource_version: Some(version.into()),
            continue_: continue_token.map(Into::into),
            ..ListMeta::default()
        },
        items,
    }
}

/// A bookmark at `version`; `initial_end` marks the end of a streaming
/// list's initial events.
pub(super) fn bookmark(version: &str, initial_end: bool) -> WatchEvent<ConfigMap> {
    let mut annotations = std::collections::BTreeMap::new();
    if initial_end {
        annotations.insert(Bookmark::INITIAL_EVENTS_END.to_string(), "true".to_string());
    }
    WatchEvent::Bookmark(Bookmark {
        types: Default::default(),
        metadata: BookmarkMeta {
            resource_version: version.into(),
            annotations,
        },
    })
}

/// The apiserver refusing a request with `code` and `why` as its reason.
pub(super) fn api_error(code: u16, why: &str) -> kube_client::Error {
    kube_client::Error::Api(Status::failure("scripted", why).with_code(code).boxed())
}

/// The `Status` of an expired resource version.
pub(super) fn gone() -> Status {
    Status::failure("too old resource version", reason::EXPIRED).with_code(410)
}

/// How a scripted watch ends once its events are delivered.
#[derive(Clone, Copy)]
enum Ending {
    /// The server closes it at once.
    Closes,
    /// The server closes it after this long (its timeout).
    ClosesAfter(Duration),
    /// It stays open, sending nothing more.
    StaysOpen,
}

type Events = Vec<kube_client::Result<WatchEvent<ConfigMap>>>;

/// The answer to a watch request: refused, or events and how they end.
type WatchAnswer = kube_client::Result<(Events, Ending)>;

/// A scripted apiserver: each request takes the next scripted answer and is
/// recorded. A watch answer is a list of events and how the stream ends after
/// them. Requests beyond the script get a `500` (lists) or a watch that stays
/// open and silent (watches).
#[derive(Clone, Default)]
pub(super) struct Script {
    lists: Arc<Mutex<VecDeque<kube_client::Result<ObjectList<ConfigMap>>>>>,
    watches: Arc<Mutex<VecDeque<WatchAnswer>>>,
    requests: Arc<Mutex<Vec<String>>>,
    watch_timeouts: Arc<Mutex<Vec<Option<u32>>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Script {
    /// The next list answers this.
    pub(super) fn list(self, answer: kube_client::Result<ObjectList<ConfigMap>>) -> Self {
        lock(&self.lists).push_back(answer);
        self
    }

    fn push_watch(self, answer: WatchAnswer) -> Self {
        lock(&self.watches).push_back(answer);
        self
    }

    /// The next watch delivers `events`, and the server closes it at once.
    pub(super) fn watch(self, events: Events) -> Self {
        self.push_watch(Ok((events, Ending::Closes)))
    }

    /// The next watch delivers `events`, then stays open.
    pub(super) fn watch_open(self, events: Events) -> Self {
        self.push_watch(Ok((events, Ending::StaysOpen)))
    }

    /// The next watch delivers `events`, then the server closes it after
    /// `after` (a watch timeout).
    pub(super) fn watch_closing_after(self, events: Events, after: Duration) -> Self {
        self.push_watch(Ok((events, Ending::ClosesAfter(after))))
    }

    /// The next watch is refused with `err`.
    pub(super) fn watch_fails(self, err: kube_client::Error) -> Self {
        self.push_watch(Err(err))
    }

    /// Every request so far, described in order.
    pub(super) fn requests(&self) -> Vec<String> {
        lock(&self.requests).clone()
    }

    /// The `timeoutSeconds` of every watch so far.
    pub(super) fn watch_timeouts(&self) -> Vec<Option<u32>> {
        lock(&self.watch_timeouts).clone()
    }
}

impl ListWatch for Script {
    type Value = ConfigMap;

    async fn list(&self, lp: &ListParams) -> kube_client::Result<ObjectList<ConfigMap>> {
        lock(&self.requests).push(format!(
            "list rv={} continue={}",
            lp.resource_version.as_deref().unwrap_or("-"),
            lp.continue_token.as_deref().unwrap_or("-")
        ));
        let answer = lock(&self.lists).pop_front();
        answer.unwrap_or_else(|| Err(api_error(500, "unscripted list")))
    }

    async fn watch(
        &self,
        wp: &WatchParams,
        version: &str,
    ) -> kube_client::Result<BoxStream<'static, kube_client::Result<WatchEvent<ConfigMap>>>> {
        lock(&self.requests).push(format!(
            "watch rv={version} initial={} bookmarks={}",
            wp.send_initial_events, wp.bookmarks
        ));
        lock(&self.watch_timeouts).push(wp.timeout);
        let answer = lock(&self.watches).pop_front();
        let (events, ending) = answer.unwrap_or_else(|| Ok((vec![], Ending::StaysOpen)))?;
        let events = futures::stream::iter(events);
        Ok(match ending {
            Ending::Closes => events.boxed(),
            Ending::ClosesAfter(after) => events
                .chain(
                    futures::stream::once(tokio::time::sleep(after))
                        .filter_map(|()| async { None }),
                )
                .boxed(),
            Ending::StaysOpen => events.chain(futures::stream::pending()).boxed(),
        })
    }
}

/// What a watcher over the script yields.
pub(super) type Item = super::Result<Event<ConfigMap>>;

/// The next item of a watcher; fails if it goes an hour (of paused time)
/// without one.
pub(super) async fn next_item<S: Stream<Item = Item> + Unpin>(stream: &mut S) -> Item {
    tokio::time::timeout(Duration::from_secs(3600), stream.next())
        .await
        .expect("the watcher made no progress")
        .expect("the watcher never ends")
}

/// An item described: the event, or the error as `Err(message)`.
pub(super) fn describe(item: &Item) -> String {
    match item {
        Ok(event) => event.to_string(),
        Err(err) => format!("Err({err})"),
    }
}

/// Takes `n` items from a watcher over the script, describing each.
pub(super) async fn take(script: &Script, config: Config, n: usize) -> Vec<String> {
    let stream = super::machine::run(script.clone(), config);
    pin_mut!(stream);
    let mut seen = Vec::new();
    for _ in 0..n {
        seen.push(describe(&next_item(&mut stream).await));
    }
    seen
}

/// The requests a watcher over `script`, behind the default backoff, makes
/// within `span` of paused time.
pub(super) async fn requests_within(
    script: &Script,
    config: Config,
    span: Duration,
) -> Vec<String> {
    let stream = super::machine::run(script.clone(), config).default_backoff();
    pin_mut!(stream);
    let _ = tokio::time::timeout(span, async { while stream.next().await.is_some() {} }).await;
    script.requests()
}
