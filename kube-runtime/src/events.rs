//! Publishing Kubernetes events (`events.k8s.io/v1`) about the objects a
//! controller manages, as `kubectl describe` shows them.
//!
//! A [`Recorder`] publishes an [`Event`] about an object. Repeats of the same
//! event (same type, reason, action, reporter and objects) within a few minutes
//! are not published again: the existing event's `series` is updated with the
//! count and last time instead, as client-go does, so a failing reconcile
//! looping every few seconds produces one event with a growing count, not
//! thousands.
//!
//! ```no_run
//! use kube_client::{Client, core::Resource};
//! use kube_runtime::events::{Event, EventType, Recorder, Reporter};
//! # async fn run(client: Client, pod: k8s_openapi::api::core::v1::Pod) -> Result<(), kube_client::Error> {
//! let recorder = Recorder::new(client, Reporter::from("my-controller"));
//! let event = Event {
//!     type_: EventType::Normal,
//!     reason: "Configured".into(),
//!     note: Some("applied the desired configuration".into()),
//!     action: "Reconcile".into(),
//!     secondary: None,
//! };
//! recorder.publish(&event, &pod.object_ref(&())).await?;
//! # Ok(())
//! # }
//! ```

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use k8s_openapi::{
    api::{
        core::v1::ObjectReference,
        events::v1::{Event as K8sEvent, EventSeries},
    },
    apimachinery::pkg::apis::meta::v1::MicroTime,
};
use kube_client::{
    Api, Client,
    core::{
        ObjectMeta,
        params::{Patch, PatchParams, PostParams},
    },
};
use tokio::time::Instant;

/// How long a published event is remembered for aggregating repeats.
const SERIES_WINDOW: Duration = Duration::from_secs(6 * 60);
/// The apiserver refuses notes longer than this (bytes).
const MAX_NOTE_BYTES: usize = 1024;

/// An event to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Normal or warning.
    pub type_: EventType,
    /// Why the action was taken, in UpperCamelCase, e.g. `ConfigApplied`.
    pub reason: String,
    /// A human-readable description (at most 1 KiB; longer notes are cut).
    pub note: Option<String>,
    /// What was done, in UpperCamelCase, e.g. `Reconcile`.
    pub action: String,
    /// A second object involved, if any.
    pub secondary: Option<ObjectReference>,
}

/// The severity of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something may need attention.
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Who publishes: the controller's name and, optionally, its instance (e.g. the
/// pod name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reporter {
    /// The controller's name, e.g. `example.com/my-controller`.
    pub controller: String,
    /// The instance of the controller.
    pub instance: Option<String>,
}

impl From<String> for Reporter {
    fn from(controller: String) -> Self {
        Self {
            controller,
            instance: None,
        }
    }
}

impl From<&str> for Reporter {
    fn from(controller: &str) -> Self {
        Self::from(controller.to_string())
    }
}

/// An [`ObjectReference`] compared and hashed by the fields that name the
/// object (API version, kind, namespace, name, uid), not by the version it was
/// seen at: two events about the same object aggregate into one series.
#[derive(Debug, Clone)]
pub struct Reference(ObjectReference);

impl PartialEq for Reference {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.0, &other.0);
        a.api_version == b.api_version
            && a.kind == b.kind
            && a.namespace == b.namespace
            && a.name == b.name
            && a.uid == b.uid
    }
}

impl Eq for Reference {}

impl Hash for Reference {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let r = &self.0;
        r.api_version.hash(state);
        r.kind.hash(state);
        r.namespace.hash(state);
        r.name.hash(state);
        r.uid.hash(state);
    }
}

/// What makes two events "the same event" for aggregation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    type_: EventType,
    reason: String,
    action: String,
    regarding: Reference,
    related: Option<Reference>,
}

impl SeriesKey {
    fn new(ev: &Event, regarding: &ObjectReference) -> Self {
        Self {
            type_: ev.type_,
            reason: ev.reason.clone(),
            action: ev.action.clone(),
            regarding: Reference(regarding.clone()),
            related: ev.secondary.clone().map(Reference),
        }
    }
}

/// A published event, remembered so repeats update it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Series {
    name: String,
    namespace: String,
    count: i32,
    last_seen: Instant,
}

/// The events published recently, by what makes them the same event.
///
/// Pure bookkeeping, driven by the caller's clock: it decides whether an event
/// is new or a repeat, and forgets events not seen for [`SERIES_WINDOW`].
#[derive(Debug)]
struct SeriesCache {
    series: HashMap<SeriesKey, Series>,
    last_sweep: Instant,
}

impl SeriesCache {
    fn new(now: Instant) -> Self {
        Self {
            series: HashMap::new(),
            last_sweep: now,
        }
    }

    /// Counts a repeat of `key` seen at `now`, returning the updated series to
    /// publish; `None` when the event is new (or was forgotten) and must be
    /// created.
    fn repeat(&mut self, key: &SeriesKey, now: Instant) -> Option<Series> {
        self.sweep(now);
        let series = self.series.get_mut(key)?;
        if now.duration_since(series.last_seen) >= SERIES_WINDOW {
            self.series.remove(key);
            return None;
        }
        series.count = series.count.saturating_add(1);
        series.last_seen = now;
        Some(series.clone())
    }

    /// Remembers a freshly created event.
    fn created(&mut self, key: SeriesKey, name: String, namespace: String, now: Instant) {
        let series = Series {
            name,
            namespace,
            count: 1,
            last_seen: now,
        };
        self.series.insert(key, series);
    }

    /// Forgets the event of `key`, e.g. when the apiserver no longer has it.
    fn forget(&mut self, key: &SeriesKey) {
        self.series.remove(key);
    }

    /// Drops expired series, at most once per window so publishing stays O(1).
    fn sweep(&mut self, now: Instant) {
        if now.duration_since(self.last_sweep) < SERIES_WINDOW {
            return;
        }
        self.series
            .retain(|_, series| now.duration_since(series.last_seen) < SERIES_WINDOW);
        self.last_sweep = now;
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.series.len()
    }
}

/// Publishes events, aggregating repeats. Cheap to clone; clones share the
/// aggregation memory.
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    reporter: Reporter,
    cache: Arc<Mutex<SeriesCache>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("reporter", &self.reporter)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder publishing as `reporter`.
    #[must_use]
    pub fn new(client: Client, reporter: Reporter) -> Self {
        Self {
            client,
            reporter,
            cache: Arc::new(Mutex::new(SeriesCache::new(Instant::now()))),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, SeriesCache> {
        // Every cache update is a single map operation, so a panic elsewhere
        // while the lock was held cannot have left it inconsistent.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes `ev` about the object `reference` names (a repeat within a few
    /// minutes updates the existing event's series instead).
    ///
    /// The event lives in the object's namespace, or in `default` for
    /// cluster-scoped objects.
    pub async fn publish(
        &self,
        ev: &Event,
        reference: &ObjectReference,
    ) -> Result<(), kube_client::Error> {
        let key = SeriesKey::new(ev, reference);
        let now = Instant::now();
        let repeat = self.cache().repeat(&key, now);
        if let Some(series) = repeat {
            match self.update_series(&series).await {
                Ok(()) => return Ok(()),
                // Deleted meanwhile (events expire): publish it afresh.
                Err(kube_client::Error::Api(status)) if status.is_not_found() => {
                    self.cache().forget(&key)
                }
                Err(err) => return Err(err),
            }
        }
        let created = self.create(ev, reference).await?;
        let name = created.metadata.name.unwrap_or_default();
        let namespace = created.metadata.namespace.unwrap_or_default();
        self.cache().created(key, name, namespace, now);
        Ok(())
    }

    async fn create(
        &self,
        ev: &Event,
        reference: &ObjectReference,
    ) -> Result<K8sEvent, kube_client::Error> {
        let namespace = reference.namespace.as_deref().unwrap_or("default");
        let now = jiff::Timestamp::now();
        let prefix = reference.name.as_deref().unwrap_or("event");
        let event = K8sEvent {
            metadata: ObjectMeta {
                // As client-go names them: unique per object and nanosecond.
                name: Some(format!("{prefix}.{:x}", now.as_nanosecond())),
                namespace: Some(namespace.to_string()),
                ..ObjectMeta::default()
            },
            action: Some(ev.action.clone()),
            reason: Some(ev.reason.clone()),
            note: ev.note.as_deref().map(truncate_note),
            type_: Some(ev.type_.as_str().to_string()),
            event_time: Some(MicroTime(now)),
            regarding: Some(reference.clone()),
            related: ev.secondary.clone(),
            reporting_controller: Some(self.reporter.controller.clone()),
            reporting_instance: Some(
                self.reporter
                    .instance
                    .clone()
                    .unwrap_or_else(|| self.reporter.controller.clone()),
            ),
            ..K8sEvent::default()
        };
        let api: Api<K8sEvent> = Api::namespaced(self.client.clone(), namespace);
        api.create(&PostParams::default(), &event).await
    }

    async fn update_series(&self, series: &Series) -> Result<(), kube_client::Error> {
        let api: Api<K8sEvent> = Api::namespaced(self.client.clone(), &series.namespace);
        let patch = serde_json::json!({
            "series": EventSeries {
                count: series.count,
                last_observed_time: MicroTime(jiff::Timestamp::now()),
            }
        });
        api.patch(&series.name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        Ok(())
    }
}

/// Cuts a note to the apiserver's limit, on a character boundary.
fn truncate_note(note: &str) -> String {
    if note.len() <= MAX_NOTE_BYTES {
        return note.to_string();
    }
    let mut end = MAX_NOTE_BYTES;
    while !note.is_char_boundary(end) {
        end -= 1;
    }
    note[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_notes_are_cut_on_char_boundaries() {
        assert_eq!(truncate_note("short"), "short");
        let long = "é".repeat(700);
        let cut = truncate_note(&long);
        assert!(cut.len() <= MAX_NOTE_BYTES);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    fn pod_ref(name: &str, version: &str) -> ObjectReference {
        ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            namespace: Some("ns".into()),
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            resource_version: Some(version.into()),
            ..ObjectReference::default()
        }
    }

    fn event(reason: &str) -> Event {
        Event {
            type_: EventType::Warning,
            reason: reason.into(),
            note: Some("details differ between repeats".into()),
            action: "Reconcile".into(),
            secondary: None,
        }
    }

    #[test]
    fn the_same_event_about_another_version_of_the_object_is_a_repeat() {
        let a = SeriesKey::new(&event("Failed"), &pod_ref("p", "1"));
        let b = SeriesKey::new(
            &Event {
                note: Some("another note".into()),
                ..event("Failed")
            },
            &pod_ref("p", "2"),
        );
        assert_eq!(a, b);
        assert_ne!(a, SeriesKey::new(&event("Other"), &pod_ref("p", "1")));
        assert_ne!(a, SeriesKey::new(&event("Failed"), &pod_ref("q", "1")));
        let mut secondary = event("Failed");
        secondary.secondary = Some(pod_ref("q", "1"));
        assert_ne!(a, SeriesKey::new(&secondary, &pod_ref("p", "1")));
    }

    #[tokio::test(start_paused = true)]
    async fn repeats_within_the_window_grow_one_series() {
        let mut cache = SeriesCache::new(Instant::now());
        let key = SeriesKey::new(&event("Failed"), &pod_ref("p", "1"));
        assert_eq!(
            cache.repeat(&key, Instant::now()),
            None,
            "a first occurrence is created"
        );
        cache.created(key.clone(), "p.1".into(), "ns".into(), Instant::now());
        for expected in 2..=4 {
            tokio::time::advance(Duration::from_secs(60)).await;
            let series = cache.repeat(&key, Instant::now()).expect("a repeat");
            assert_eq!((series.name.as_str(), series.count), ("p.1", expected));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_event_quiet_for_the_window_starts_a_new_series() {
        let mut cache = SeriesCache::new(Instant::now());
        let key = SeriesKey::new(&event("Failed"), &pod_ref("p", "1"));
        cache.created(key.clone(), "p.1".into(), "ns".into(), Instant::now());
        tokio::time::advance(SERIES_WINDOW).await;
        assert_eq!(cache.repeat(&key, Instant::now()), None);
        assert_eq!(cache.len(), 0, "the stale series is forgotten");
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_slides_with_each_repeat() {
        let mut cache = SeriesCache::new(Instant::now());
        let key = SeriesKey::new(&event("Failed"), &pod_ref("p", "1"));
        cache.created(key.clone(), "p.1".into(), "ns".into(), Instant::now());
        for _ in 0..3 {
            tokio::time::advance(SERIES_WINDOW - Duration::from_secs(1)).await;
            assert!(cache.repeat(&key, Instant::now()).is_some());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn expired_series_of_other_events_are_swept() {
        let mut cache = SeriesCache::new(Instant::now());
        for name in ["a", "b", "c"] {
            let key = SeriesKey::new(&event("Failed"), &pod_ref(name, "1"));
            cache.created(key, name.into(), "ns".into(), Instant::now());
        }
        tokio::time::advance(SERIES_WINDOW).await;
        let fresh = SeriesKey::new(&event("Failed"), &pod_ref("d", "1"));
        assert_eq!(cache.repeat(&fresh, Instant::now()), None);
        assert_eq!(cache.len(), 0, "publishing anything sweeps what expired");
    }

    #[test]
    fn forgotten_events_are_created_again() {
        let now = Instant::now();
        let mut cache = SeriesCache::new(now);
        let key = SeriesKey::new(&event("Failed"), &pod_ref("p", "1"));
        cache.created(key.clone(), "p.1".into(), "ns".into(), now);
        cache.forget(&key);
        assert_eq!(cache.repeat(&key, now), None);
    }
}
