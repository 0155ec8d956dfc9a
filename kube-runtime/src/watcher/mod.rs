//! Watchers: a list followed by a watch, kept alive forever.
//!
//! A Kubernetes watch is a stream of changes from a resource version onwards. On
//! its own it is fragile: the server ends it after a timeout, a network blip cuts
//! it, and a resource version too old to resume from (`410 Gone`) means events
//! were missed. A *watcher* hides all of that:
//!
//! 1. It lists the collection (page by page), emitting [`Event::Init`], one
//!    [`Event::InitApply`] per object and [`Event::InitDone`] — or, with
//!    [`InitialListStrategy::StreamingList`], gets the same state as a *streaming
//!    list* of watch events.
//! 2. It watches from the list's resource version, emitting [`Event::Apply`] and
//!    [`Event::Delete`], remembering the newest resource version seen (objects and
//!    bookmarks alike).
//! 3. When the server ends the watch, it watches again from that version. When the
//!    version is too old (`410 Gone`) — or newer than the apiserver has seen, after
//!    a failover to one that lags behind — it lists again from scratch with a
//!    consistent read, starting over with [`Event::Init`]: consumers such as the
//!    [`reflector`](mod@crate::reflector) drop, at the next [`Event::InitDone`],
//!    whatever that list did not hold, so nothing missed during the gap survives
//!    as a ghost.
//!
//! A watch the server closes within a second of opening it, without a single
//! event, is not a watch that ran its course (that takes its `timeoutSeconds`)
//! but a sign of a failing server or proxy: as client-go does, the watcher
//! yields an error for it, so the backoff paces the next attempt. So does a
//! streaming list that ends before its last bookmark.
//!
//! Errors are yielded as they happen and the watcher carries on where it was on the
//! next poll. Retrying immediately would hammer a struggling apiserver, so wrap the
//! stream in a backoff: [`WatchStreamExt::default_backoff`](crate::WatchStreamExt::default_backoff).
//! The backoff waits after failures (0.8 s doubling to 30 s, starting over after
//! 30 s without one) but not after a `410 Gone`: relisting is the cure for having
//! fallen behind, and waiting would only leave the watcher further behind. A
//! [`Controller`](crate::Controller) gives each of its watchers such a backoff of
//! its own.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use k8s_openapi::api::core::v1::Pod;
//! use kube_client::{Api, Client};
//! use kube_runtime::{WatchStreamExt, watcher};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pods: Api<Pod> = Api::default_namespaced(Client::try_default().await?);
//! watcher(pods, watcher::Config::default())
//!     .default_backoff()
//!     .applied_objects()
//!     .try_for_each(|pod| async move {
//!         println!("saw {:?}", pod.metadata.name);
//!         Ok(())
//!     })
//!     .await?;
//! # Ok(())
//! # }
//! ```

mod backoff;
mod failures;
mod machine;
#[cfg(test)]
mod reflector_cases;
#[cfg(test)]
mod script;

use std::fmt::{self, Debug, Display};

use futures::{Stream, StreamExt, stream::BoxStream};
use kube_client::{
    Api,
    core::{
        ObjectList, PartialObjectMeta, Resource, Selector, Status, WatchEvent,
        params::{ListParams, VersionMatch, WatchParams},
    },
};
use serde::de::DeserializeOwned;
use thiserror::Error;

pub use backoff::{DefaultBackoff, ExponentialBackoff};
pub(crate) use machine::ListWatch;

/// Why a watcher step failed. The watcher recovers by itself on the next poll.
#[derive(Debug, Error)]
pub enum Error {
    /// Listing the collection failed.
    #[error("failed to list the collection: {0}")]
    InitialListFailed(#[source] kube_client::Error),
    /// Starting a watch failed.
    #[error("failed to start a watch: {0}")]
    WatchStartFailed(#[source] kube_client::Error),
    /// The watch ended with an error: the apiserver sent an `ERROR` event
    /// (e.g. `410 Gone`: the watcher lists again), or the watch broke off in a
    /// way the watcher takes for a failing server — closed at once without any
    /// event, a streaming list ended before its last bookmark. The watcher
    /// describes the latter with a `Status` of its own, with `code` 0.
    #[error("the watch ended with an error: {0}")]
    WatchError(#[source] Box<Status>),
    /// The watch stream broke (connection lost, undecodable event).
    #[error("the watch stream failed: {0}")]
    WatchFailed(#[source] kube_client::Error),
    /// A list answered without a resource version, so no watch can follow it
    /// (the resource probably does not support watch).
    #[error(
        "the list carried no metadata.resourceVersion, so it cannot be watched (does the resource support watch?)"
    )]
    NoResourceVersion,
}

impl Error {
    /// Whether this is the apiserver's `410 Gone`: the watcher's resource
    /// version (or list continue token) is too old, and the watcher lists
    /// again from scratch. A sign of having fallen behind, not of a failing
    /// server.
    pub(crate) fn means_relist(&self) -> bool {
        match self {
            Error::WatchError(status) => status.is_gone(),
            Error::InitialListFailed(error)
            | Error::WatchStartFailed(error)
            | Error::WatchFailed(error) => {
                matches!(error, kube_client::Error::Api(status) if status.is_gone())
            }
            Error::NoResourceVersion => false,
        }
    }
}

/// The result of a watcher step.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a watcher saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<K> {
    /// An object was created or changed while watching.
    Apply(K),
    /// An object was deleted while watching; this is its last state.
    ///
    /// It can also come between [`Event::Init`] and [`Event::InitDone`], when
    /// a streaming list reports a deletion before it ends: the object is no
    /// longer part of the state being listed (the reflector drops it).
    Delete(K),
    /// A (re)list starts: the objects that follow, up to [`Event::InitDone`], are
    /// the complete state of the collection.
    Init,
    /// An object that exists as of the (re)list.
    InitApply(K),
    /// The (re)list is complete; anything not seen since [`Event::Init`] is gone.
    InitDone,
}

impl<K> Event<K> {
    /// Changes the object carried by the event, if any, e.g. to drop
    /// `managedFields` before storing it.
    #[must_use]
    pub fn modify(mut self, mut f: impl FnMut(&mut K)) -> Self {
        match &mut self {
            Event::Apply(obj) | Event::Delete(obj) | Event::InitApply(obj) => f(obj),
            Event::Init | Event::InitDone => {}
        }
        self
    }

    /// The object carried by the event, if any.
    pub fn object(&self) -> Option<&K> {
        match self {
            Event::Apply(obj) | Event::Delete(obj) | Event::InitApply(obj) => Some(obj),
            Event::Init | Event::InitDone => None,
        }
    }
}

impl<K: Resource> Display for Event<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |obj: &K| obj.meta().name.clone().unwrap_or_default();
        match self {
            Event::Apply(obj) => write!(f, "Apply({})", name(obj)),
            Event::Delete(obj) => write!(f, "Delete({})", name(obj)),
            Event::Init => f.write_str("Init"),
            Event::InitApply(obj) => write!(f, "InitApply({})", name(obj)),
            Event::InitDone => f.write_str("InitDone"),
        }
    }
}

/// Which resource version the initial list asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ListSemantic {
    /// The latest state: a consistent read (the default).
    #[default]
    MostRecent,
    /// Any recent state (`resourceVersion=0`): served from the apiserver's cache,
    /// cheaper for the server, possibly a little stale.
    Any,
}

/// How the initial state is obtained.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum InitialListStrategy {
    /// A paginated LIST, then a WATCH from its resource version (the default).
    #[default]
    ListWatch,
    /// One WATCH with `sendInitialEvents=true`: the current state arrives as events,
    /// ended by a bookmark, then changes follow on the same connection. Lighter on
    /// the apiserver's memory for large collections (Kubernetes 1.32+).
    ///
    /// An apiserver that refuses it as invalid (`422`, without the WatchList
    /// feature) or malformed (`400`) gets a paginated LIST instead, each time
    /// the watcher (re)lists.
    StreamingList,
}

/// What a watcher watches and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Only objects whose labels match.
    pub label_selector: Option<String>,
    /// Only objects whose fields match.
    pub field_selector: Option<String>,
    /// How long each watch request stays open, in seconds, before the server ends
    /// it and the watcher resumes. Unset means 290 seconds.
    pub timeout: Option<u32>,
    /// Which resource version the initial list asks for.
    pub list_semantic: ListSemantic,
    /// How the initial state is obtained.
    pub initial_list_strategy: InitialListStrategy,
    /// The page size of the initial list (500 by default, as client-go); `None`
    /// lists everything in one response.
    pub page_size: Option<u32>,
    /// Ask for bookmarks, so a resumed watch starts from a recent version. Keep
    /// them on unless the server cannot send them.
    pub bookmarks: bool,
    /// Drop every object's `metadata.managedFields` while decoding it (off by
    /// default; see [`Config::strip_managed_fields`]).
    pub strip_managed_fields: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            label_selector: None,
            field_selector: None,
            timeout: None,
            list_semantic: ListSemantic::default(),
            initial_list_strategy: InitialListStrategy::default(),
            page_size: Some(500),
            bookmarks: true,
            strip_managed_fields: false,
        }
    }
}

/// The watch timeout used when none is configured: a little under five minutes,
/// so idle connections are recycled well before typical proxy and load-balancer
/// idle limits.
const DEFAULT_WATCH_TIMEOUT_SECS: u32 = 290;

impl Config {
    /// Sets how long each watch request stays open, in seconds.
    #[must_use]
    pub fn timeout(mut self, timeout_secs: u32) -> Self {
        self.timeout = Some(timeout_secs);
        self
    }

    /// Only watches objects whose fields match.
    #[must_use]
    pub fn fields(mut self, field_selector: &str) -> Self {
        self.field_selector = Some(field_selector.to_string());
        self
    }

    /// Only watches objects whose labels match (kubectl syntax).
    #[must_use]
    pub fn labels(mut self, label_selector: &str) -> Self {
        self.label_selector = Some(label_selector.to_string());
        self
    }

    /// Only watches objects matching a parsed [`Selector`].
    #[must_use]
    pub fn labels_from(mut self, selector: &Selector) -> Self {
        self.label_selector = Some(selector.to_string());
        self
    }

    /// Sets which resource version the initial list asks for.
    #[must_use]
    pub fn list_semantic(mut self, semantic: ListSemantic) -> Self {
        self.list_semantic = semantic;
        self
    }

    /// Lets the initial list be served from the apiserver's cache.
    #[must_use]
    pub fn any_semantic(self) -> Self {
        self.list_semantic(ListSemantic::Any)
    }

    /// Turns bookmarks off.
    #[must_use]
    pub fn disable_bookmarks(mut self) -> Self {
        self.bookmarks = false;
        self
    }

    /// Sets the page size of the initial list.
    #[must_use]
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = Some(page_size);
        self
    }

    /// Gets the initial state through a streaming list.
    #[must_use]
    pub fn streaming_lists(mut self) -> Self {
        self.initial_list_strategy = InitialListStrategy::StreamingList;
        self
    }

    /// Drops every object's `metadata.managedFields` as it is decoded, for
    /// consumers that never read it (a controller's store, most often).
    ///
    /// Server-side apply records there which manager owns which field: for
    /// small objects such as ConfigMaps it is often the larger part of the
    /// decoded object. Removing it afterwards (with
    /// [`WatchStreamExt::modify`](crate::WatchStreamExt::modify), or
    /// controller-runtime's `TransformStripManagedFields`) still pays for
    /// decoding and allocating it; here the decoder steps over it and nothing
    /// is allocated for it. The objects' `managed_fields` are `None`.
    ///
    /// ```
    /// use kube_runtime::watcher;
    /// let config = watcher::Config::default().strip_managed_fields();
    /// assert!(config.strip_managed_fields);
    /// ```
    #[must_use]
    pub fn strip_managed_fields(mut self) -> Self {
        self.strip_managed_fields = true;
        self
    }

    /// The params of the first page of a (re)list; `consistent` overrides
    /// [`ListSemantic::Any`] (after `410 Gone`).
    fn first_page_params(&self, consistent: bool) -> ListParams {
        let params = ListParams {
            label_selector: self.label_selector.clone(),
            field_selector: self.field_selector.clone(),
            limit: self.page_size,
            ..ListParams::default()
        };
        match self.list_semantic {
            ListSemantic::Any if !consistent => params.at("0").matching(VersionMatch::NotOlderThan),
            ListSemantic::Any | ListSemantic::MostRecent => params,
        }
    }

    /// The resource version a streaming list starts from: `0` lets the
    /// apiserver serve it from its cache, empty asks for a consistent read.
    fn streaming_list_version(&self, consistent: bool) -> &'static str {
        match self.list_semantic {
            ListSemantic::Any if !consistent => "0",
            ListSemantic::Any | ListSemantic::MostRecent => "",
        }
    }

    /// The params of a following page: the continue token fixes the version.
    fn next_page_params(&self, continue_token: &str) -> ListParams {
        ListParams {
            label_selector: self.label_selector.clone(),
            field_selector: self.field_selector.clone(),
            limit: self.page_size,
            continue_token: Some(continue_token.to_string()),
            ..ListParams::default()
        }
    }

    /// The params of a watch; `initial_events` asks for a streaming list.
    fn watch_params(&self, initial_events: bool) -> WatchParams {
        WatchParams {
            label_selector: self.label_selector.clone(),
            field_selector: self.field_selector.clone(),
            timeout: Some(self.timeout.unwrap_or(DEFAULT_WATCH_TIMEOUT_SECS)),
            bookmarks: self.bookmarks || initial_events,
            send_initial_events: initial_events,
        }
    }
}

/// Lists and watches full objects through an `Api<K>`, without their
/// `managedFields` when `strip` is set.
struct FullObject<K> {
    api: Api<K>,
    strip: bool,
}

impl<K> ListWatch for FullObject<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    type Value = K;

    async fn list(&self, lp: &ListParams) -> kube_client::Result<ObjectList<K>> {
        if self.strip {
            self.api.list_without_managed_fields(lp).await
        } else {
            self.api.list(lp).await
        }
    }

    async fn watch(
        &self,
        wp: &WatchParams,
        version: &str,
    ) -> kube_client::Result<BoxStream<'static, kube_client::Result<WatchEvent<K>>>> {
        Ok(if self.strip {
            let events = self.api.watch_without_managed_fields(wp, version).await?;
            events.boxed()
        } else {
            self.api.watch(wp, version).await?.boxed()
        })
    }
}

/// Lists and watches only the metadata of objects through an `Api<K>`,
/// without their `managedFields` when `strip` is set.
struct MetaOnly<K> {
    api: Api<K>,
    strip: bool,
}

impl<K> ListWatch for MetaOnly<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    type Value = PartialObjectMeta<K>;

    async fn list(&self, lp: &ListParams) -> kube_client::Result<ObjectList<PartialObjectMeta<K>>> {
        if self.strip {
            self.api.list_metadata_without_managed_fields(lp).await
        } else {
            self.api.list_metadata(lp).await
        }
    }

    async fn watch(
        &self,
        wp: &WatchParams,
        version: &str,
    ) -> kube_client::Result<
        BoxStream<'static, kube_client::Result<WatchEvent<PartialObjectMeta<K>>>>,
    > {
        Ok(if self.strip {
            let events = self.api.watch_metadata_without_managed_fields(wp, version);
            events.await?.boxed()
        } else {
            self.api.watch_metadata(wp, version).await?.boxed()
        })
    }
}

/// Watches a collection forever: the initial state, then every change, recovering
/// from timeouts, disconnects and `410 Gone` by itself.
///
/// See the [module docs](self) for the event sequence. Wrap the stream in a
/// backoff ([`WatchStreamExt::default_backoff`](crate::WatchStreamExt::default_backoff))
/// so errors do not make it retry in a tight loop.
#[doc(alias = "informer")]
pub fn watcher<K: Resource + Clone + DeserializeOwned + Debug + Send + 'static>(
    api: Api<K>,
    watcher_config: Config,
) -> impl Stream<Item = Result<Event<K>>> + Send {
    let strip = watcher_config.strip_managed_fields;
    machine::run(FullObject { api, strip }, watcher_config)
}

/// Like [`watcher`], but fetches only each object's metadata: far fewer bytes when
/// only names, labels or owners matter.
pub fn metadata_watcher<K: Resource + Clone + DeserializeOwned + Debug + Send + 'static>(
    api: Api<K>,
    watcher_config: Config,
) -> impl Stream<Item = Result<Event<PartialObjectMeta<K>>>> + Send {
    let strip = watcher_config.strip_managed_fields;
    machine::run(MetaOnly { api, strip }, watcher_config)
}

/// Watches one object by name: yields `Some(object)` whenever it is created or
/// changes, and `None` while it does not exist.
pub fn watch_object<K: Resource + Clone + DeserializeOwned + Debug + Send + 'static>(
    api: Api<K>,
    name: &str,
) -> impl Stream<Item = Result<Option<K>>> + Send + use<K> {
    let config = Config::default().fields(&format!("metadata.name={name}"));
    let mut seen_during_init = false;
    watcher(api, config).filter_map(move |event| {
        let item = match event {
            Err(err) => Some(Err(err)),
            Ok(Event::Init) => {
                seen_during_init = false;
                None
            }
            Ok(Event::InitApply(obj)) => {
                seen_during_init = true;
                Some(Ok(Some(obj)))
            }
            Ok(Event::InitDone) => (!seen_during_init).then_some(Ok(None)),
            Ok(Event::Apply(obj)) => Some(Ok(Some(obj))),
            Ok(Event::Delete(_)) => Some(Ok(None)),
        };
        futures::future::ready(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_builds_list_and_watch_params() {
        let config = Config::default()
            .labels("app=web")
            .fields("metadata.name=x")
            .timeout(30);
        let first = config.first_page_params(false);
        assert_eq!(first.label_selector.as_deref(), Some("app=web"));
        assert_eq!(first.field_selector.as_deref(), Some("metadata.name=x"));
        assert_eq!(first.limit, Some(500));
        assert_eq!(first.resource_version, None);

        let any = config.clone().any_semantic().first_page_params(false);
        assert_eq!(any.resource_version.as_deref(), Some("0"));
        assert_eq!(any.version_match, Some(VersionMatch::NotOlderThan));
        let relist = config.clone().any_semantic().first_page_params(true);
        assert_eq!(
            relist.resource_version, None,
            "a relist after 410 Gone reads consistently"
        );
        assert_eq!(relist.version_match, None);

        let next = config.clone().any_semantic().next_page_params("tok");
        assert_eq!(next.continue_token.as_deref(), Some("tok"));
        assert_eq!(
            next.resource_version, None,
            "continue pages carry no version"
        );

        let watch = config.watch_params(false);
        assert_eq!(watch.timeout, Some(30));
        assert!(watch.bookmarks);
        assert!(!watch.send_initial_events);
        let streaming = Config::default().disable_bookmarks().watch_params(true);
        assert!(streaming.bookmarks, "streaming lists always need bookmarks");
        assert!(streaming.send_initial_events);
        assert_eq!(streaming.timeout, Some(DEFAULT_WATCH_TIMEOUT_SECS));
    }

    #[test]
    fn modify_reaches_every_object_event() {
        let double = |e: Event<u32>| e.modify(|n| *n *= 2);
        assert_eq!(double(Event::Apply(2)), Event::Apply(4));
        assert_eq!(double(Event::InitApply(3)), Event::InitApply(6));
        assert_eq!(double(Event::Delete(1)), Event::Delete(2));
        assert_eq!(double(Event::InitDone), Event::InitDone);
    }
}
