//! The [`Store`]: an in-memory copy of a collection, kept current by a
//! [`Writer`].

use std::{
    collections::HashMap,
    fmt,
    hash::Hash,
    sync::{Arc, PoisonError, RwLock},
};

use kube_client::core::{Resource, Selector, SelectorExt};
use thiserror::Error;
use tokio::sync::watch;

use super::object_ref::{Lookup, ObjectRef};
use crate::watcher;

type Cache<K> = Arc<RwLock<HashMap<ObjectRef<K>, Arc<K>>>>;

/// Applies watcher events to a [`Store`]; there is one writer per store.
///
/// Objects are kept behind `Arc`, so readers share them without copying.
pub struct Writer<K: 'static + Lookup + Clone>
where
    K::DynamicType: Eq + Hash + Clone,
{
    store: Cache<K>,
    /// The objects of a relist in progress; swapped in whole at `InitDone`.
    buffer: HashMap<ObjectRef<K>, Arc<K>>,
    dyntype: K::DynamicType,
    ready: watch::Sender<bool>,
    /// Announces stored objects to subscribers, for shared writers.
    #[cfg(feature = "unstable-runtime-subscribe")]
    dispatcher: Option<super::dispatch::Dispatcher<K>>,
}

impl<K: 'static + Lookup + Clone> Writer<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    /// A writer for an empty store of the runtime type `dyntype`.
    pub fn new(dyntype: K::DynamicType) -> Self {
        let (ready, _) = watch::channel(false);
        Self {
            store: Arc::default(),
            buffer: HashMap::new(),
            dyntype,
            ready,
            #[cfg(feature = "unstable-runtime-subscribe")]
            dispatcher: None,
        }
    }

    /// A writer that announces what it stores to subscribers
    /// ([`subscribe`](Self::subscribe)), each of which may lag `buf_size`
    /// objects behind before the writer waits for it. Feed it with
    /// [`WatchStreamExt::reflect_shared`](crate::WatchStreamExt::reflect_shared).
    #[cfg(feature = "unstable-runtime-subscribe")]
    pub fn new_shared(buf_size: usize, dyntype: K::DynamicType) -> Self {
        let mut writer = Self::new(dyntype);
        writer.dispatcher = Some(super::dispatch::Dispatcher::new(buf_size));
        writer
    }

    /// A stream of the objects this writer stores from now on; `None` unless
    /// the writer was made shared ([`new_shared`](Self::new_shared)).
    #[cfg(feature = "unstable-runtime-subscribe")]
    pub fn subscribe(&self) -> Option<super::dispatch::ReflectHandle<K>> {
        self.dispatcher
            .as_ref()
            .map(|dispatcher| dispatcher.subscribe(self.as_reader()))
    }

    /// Applies an event, then announces what it stored to the subscribers.
    #[cfg(feature = "unstable-runtime-subscribe")]
    pub(crate) async fn apply_and_announce(&mut self, event: &watcher::Event<K>) {
        let mut stored = Vec::new();
        self.apply_borrowed(event, |key| stored.push(key.clone()));
        if let Some(dispatcher) = &self.dispatcher {
            for key in stored {
                dispatcher.announce(key).await;
            }
        }
    }

    /// A reader of the store this writer fills.
    pub fn as_reader(&self) -> Store<K> {
        Store {
            store: Arc::clone(&self.store),
            ready: self.ready.subscribe(),
        }
    }

    /// The key an object is stored under: type, name and namespace only (the
    /// version and uid are left out, saving two allocations per event).
    fn key_of(&self, obj: &K) -> ObjectRef<K> {
        ObjectRef::key_of(obj, self.dyntype.clone())
    }

    /// Applies one watcher event.
    ///
    /// `Apply` and `Delete` change the store at once. `Init` starts collecting a
    /// fresh copy aside, `InitApply` adds to it, and `InitDone` replaces the whole
    /// store with it in one step: readers never see a half-relisted store, objects
    /// deleted while the watch was down disappear, and none vanish in between.
    /// A `Delete` during a relist removes the object from the copy as well.
    pub fn apply_watcher_event(&mut self, event: &watcher::Event<K>) {
        self.apply_borrowed(event, |_| {});
    }

    /// [`apply_watcher_event`](Self::apply_watcher_event) for an event the caller
    /// no longer needs: its object is moved into the store instead of cloned,
    /// saving a deep copy per event.
    pub fn apply_watcher_event_owned(&mut self, event: watcher::Event<K>) {
        self.apply_owned(event, |_| {});
    }

    /// Applies a borrowed event, copying only what the store keeps: the object
    /// of an `Apply` or `InitApply` is cloned straight into its `Arc` (objects
    /// are large, and every move of one is a copy), a deleted one not at all.
    /// `changed` is told what [`apply_owned`](Self::apply_owned) tells it.
    pub(crate) fn apply_borrowed(
        &mut self,
        event: &watcher::Event<K>,
        changed: impl FnMut(&ObjectRef<K>),
    ) {
        match event {
            watcher::Event::Apply(obj) => {
                let key = self.key_of(obj);
                self.store_object(key, Arc::new(obj.clone()), changed);
            }
            watcher::Event::Delete(obj) => self.remove_object(obj),
            watcher::Event::Init => self.start_relist(),
            watcher::Event::InitApply(obj) => {
                let key = self.key_of(obj);
                self.buffer.insert(key, Arc::new(obj.clone()));
            }
            watcher::Event::InitDone => self.finish_relist(changed),
        }
    }

    /// Applies an owned event (see
    /// [`apply_watcher_event_owned`](Self::apply_watcher_event_owned)); `changed` is told the key of every object whose new state readers can see
    /// after this call: the applied object, or every object of a completed
    /// relist.
    pub(crate) fn apply_owned(
        &mut self,
        event: watcher::Event<K>,
        changed: impl FnMut(&ObjectRef<K>),
    ) {
        match event {
            watcher::Event::Apply(obj) => {
                let key = self.key_of(&obj);
                self.store_object(key, Arc::new(obj), changed);
            }
            watcher::Event::Delete(obj) => self.remove_object(&obj),
            watcher::Event::Init => self.start_relist(),
            watcher::Event::InitApply(obj) => {
                let key = self.key_of(&obj);
                self.buffer.insert(key, Arc::new(obj));
            }
            watcher::Event::InitDone => self.finish_relist(changed),
        }
    }

    fn store_object(
        &mut self,
        key: ObjectRef<K>,
        obj: Arc<K>,
        mut changed: impl FnMut(&ObjectRef<K>),
    ) {
        changed(&key);
        self.write().insert(key, obj);
    }

    /// Removes the object from what readers see and, during a relist, from
    /// the fresh copy too: a streaming list may report a deletion before it
    /// ends, and the object must not come back when the copy is swapped in.
    fn remove_object(&mut self, obj: &K) {
        let key = self.key_of(obj);
        self.buffer.remove(&key);
        self.write().remove(&key);
    }

    /// Sized for the current content: a relist usually returns about as many
    /// objects, so the buffer does not rehash while it fills.
    fn start_relist(&mut self) {
        self.buffer = HashMap::with_capacity(self.read_len());
    }

    fn finish_relist(&mut self, mut changed: impl FnMut(&ObjectRef<K>)) {
        let fresh = std::mem::take(&mut self.buffer);
        fresh.keys().for_each(&mut changed);
        let stale = std::mem::replace(&mut *self.write(), fresh);
        // Free the old copy after releasing the lock.
        drop(stale);
        self.ready.send_replace(true);
    }

    fn read_len(&self) -> usize {
        self.store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ObjectRef<K>, Arc<K>>> {
        // A panic while holding the lock cannot leave the map half-updated (every
        // update is a single insert, remove or swap), so a poisoned lock is safe
        // to keep using.
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K: 'static + Lookup + Clone> Default for Writer<K>
where
    K::DynamicType: Eq + Hash + Clone + Default,
{
    fn default() -> Self {
        Self::new(K::DynamicType::default())
    }
}

impl<K: 'static + Lookup + Clone> fmt::Debug for Writer<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("buffered", &self.buffer.len())
            .field("ready", &*self.ready.borrow())
            .finish_non_exhaustive()
    }
}

/// A read-only, always-current view of a collection, filled by a [`Writer`]
/// through a [`reflector`](super::reflector).
///
/// Cheap to clone and safe to share between tasks. Until the first list has
/// completed the store is empty: use [`wait_until_ready`](Self::wait_until_ready)
/// before trusting that an object is absent.
pub struct Store<K: 'static + Lookup>
where
    K::DynamicType: Eq + Hash,
{
    store: Cache<K>,
    ready: watch::Receiver<bool>,
}

impl<K: 'static + Lookup> Clone for Store<K>
where
    K::DynamicType: Eq + Hash,
{
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            ready: self.ready.clone(),
        }
    }
}

impl<K: 'static + Lookup> fmt::Debug for Store<K>
where
    K::DynamicType: Eq + Hash,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// The writer was dropped before the store's first list completed.
#[derive(Debug, Error)]
#[error("the store's writer was dropped before the initial list completed")]
pub struct WriterDropped;

impl<K: 'static + Lookup> Store<K>
where
    K::DynamicType: Eq + Hash,
{
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ObjectRef<K>, Arc<K>>> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the first list has completed, so the store holds the whole
    /// collection. Fails if the writer is dropped first.
    pub async fn wait_until_ready(&self) -> Result<(), WriterDropped> {
        let mut ready = self.ready.clone();
        ready
            .wait_for(|ready| *ready)
            .await
            .map(|_| ())
            .map_err(|_| WriterDropped)
    }

    /// The stored object `key` refers to, if any.
    ///
    /// A namespaced reference also finds a cluster-scoped object of that name: an
    /// owner reference taken from a namespaced child carries the child's namespace
    /// even when the owner is cluster-scoped.
    #[must_use]
    pub fn get(&self, key: &ObjectRef<K>) -> Option<Arc<K>>
    where
        K::DynamicType: Clone,
    {
        let store = self.read();
        store.get(key).cloned().or_else(|| {
            key.namespace.as_ref()?;
            let mut cluster_key = key.clone();
            cluster_key.namespace = None;
            store.get(&cluster_key).cloned()
        })
    }

    /// A snapshot of every stored object.
    #[must_use]
    pub fn state(&self) -> Vec<Arc<K>> {
        self.read().values().cloned().collect()
    }

    /// Some object matching `predicate`, if any.
    #[must_use]
    pub fn find<P>(&self, predicate: P) -> Option<Arc<K>>
    where
        P: Fn(&K) -> bool,
    {
        self.read().values().find(|obj| predicate(obj)).cloned()
    }

    /// Every object matching `predicate`.
    #[must_use]
    pub fn state_filter<P>(&self, predicate: P) -> Vec<Arc<K>>
    where
        P: Fn(&K) -> bool,
    {
        self.read()
            .values()
            .filter(|obj| predicate(obj))
            .cloned()
            .collect()
    }

    /// Every object whose labels match `selector`.
    #[must_use]
    pub fn state_filter_selector(&self, selector: &Selector) -> Vec<Arc<K>>
    where
        K: Resource,
    {
        self.state_filter(|obj| {
            selector.matches(obj.meta().labels.as_ref().unwrap_or(&Default::default()))
        })
    }

    /// How many objects are stored.
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the store is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }
}

/// A store and a shared writer for it ([`Writer::new_shared`]), whose
/// subscribers may each lag `buf_size` objects behind.
#[cfg(feature = "unstable-runtime-subscribe")]
#[must_use]
pub fn store_shared<K>(buf_size: usize) -> (Store<K>, Writer<K>)
where
    K: 'static + Lookup + Clone,
    K::DynamicType: Eq + Hash + Clone + Default,
{
    let writer = Writer::new_shared(buf_size, K::DynamicType::default());
    (writer.as_reader(), writer)
}

/// An empty store and its writer, for a type known at compile time.
#[must_use]
pub fn store<K>() -> (Store<K>, Writer<K>)
where
    K: 'static + Lookup + Clone,
    K::DynamicType: Eq + Hash + Clone + Default,
{
    let writer = Writer::default();
    (writer.as_reader(), writer)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
    use kube_client::core::ObjectMeta;

    use super::*;
    use crate::watcher::Event;

    fn cm(name: &str, value: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                ..ObjectMeta::default()
            },
            data: Some([("v".to_string(), value.to_string())].into()),
            ..ConfigMap::default()
        }
    }

    fn value(store: &Store<ConfigMap>, name: &str) -> Option<String> {
        store
            .get(&ObjectRef::new(name).within("ns"))
            .and_then(|cm| cm.data.as_ref()?.get("v").cloned())
    }

    #[test]
    fn applies_and_deletes_while_watching() {
        let (store, mut writer) = store::<ConfigMap>();
        writer.apply_watcher_event(&Event::Apply(cm("a", "1")));
        writer.apply_watcher_event(&Event::Apply(cm("a", "2")));
        writer.apply_watcher_event(&Event::Apply(cm("b", "1")));
        assert_eq!(value(&store, "a").as_deref(), Some("2"));
        assert_eq!(store.len(), 2);
        writer.apply_watcher_event(&Event::Delete(cm("a", "2")));
        assert_eq!(value(&store, "a"), None);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn relist_swaps_the_whole_content_at_init_done() {
        let (store, mut writer) = store::<ConfigMap>();
        for event in [
            Event::Init,
            Event::InitApply(cm("a", "1")),
            Event::InitApply(cm("ghost", "1")),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        assert_eq!(store.len(), 2);

        // A relist in progress leaves the old content visible...
        writer.apply_watcher_event(&Event::Init);
        writer.apply_watcher_event(&Event::InitApply(cm("a", "2")));
        assert_eq!(value(&store, "a").as_deref(), Some("1"));
        assert_eq!(value(&store, "ghost").as_deref(), Some("1"));
        // ...until it completes, when deleted objects vanish and changes land at once.
        writer.apply_watcher_event(&Event::InitApply(cm("new", "1")));
        writer.apply_watcher_event(&Event::InitDone);
        assert_eq!(value(&store, "a").as_deref(), Some("2"));
        assert_eq!(value(&store, "ghost"), None);
        assert_eq!(value(&store, "new").as_deref(), Some("1"));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn a_deletion_during_a_relist_leaves_the_object_out_of_the_relisted_store() {
        let (store, mut writer) = store::<ConfigMap>();
        for event in [
            Event::Init,
            Event::InitApply(cm("a", "1")),
            Event::InitApply(cm("b", "1")),
            Event::InitDone,
            Event::Init,
            Event::InitApply(cm("a", "2")),
            Event::InitApply(cm("b", "2")),
            Event::Delete(cm("b", "2")),
        ] {
            writer.apply_watcher_event(&event);
        }
        assert_eq!(value(&store, "b"), None, "gone from what readers see");
        writer.apply_watcher_event(&Event::InitDone);
        assert_eq!(value(&store, "a").as_deref(), Some("2"));
        assert_eq!(value(&store, "b"), None, "and from the relisted content");
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn finds_and_filters() {
        let (store, mut writer) = store::<ConfigMap>();
        let mut labelled = cm("l", "x");
        labelled.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
        for event in [
            Event::Init,
            Event::InitApply(cm("a", "1")),
            Event::InitApply(labelled),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        assert!(
            store
                .find(|cm| cm.metadata.name.as_deref() == Some("a"))
                .is_some()
        );
        assert!(
            store
                .find(|cm| cm.metadata.name.as_deref() == Some("zz"))
                .is_none()
        );
        let selector: Selector = "app=web".parse().expect("valid selector");
        assert_eq!(store.state_filter_selector(&selector).len(), 1);
        assert_eq!(store.state().len(), 2);
        assert!(!store.is_empty());
    }

    #[test]
    fn namespaced_refs_find_cluster_scoped_objects() {
        let (store, mut writer) = store::<Namespace>();
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some("team".into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        writer.apply_watcher_event(&Event::Apply(ns));
        assert!(store.get(&ObjectRef::new("team")).is_some());
        assert!(
            store
                .get(&ObjectRef::new("team").within("child-ns"))
                .is_some()
        );
    }

    #[tokio::test]
    async fn wait_until_ready_resolves_at_the_first_init_done() {
        let (store, mut writer) = store::<ConfigMap>();
        let waiting = tokio::spawn({
            let store = store.clone();
            async move { store.wait_until_ready().await }
        });
        writer.apply_watcher_event(&Event::Init);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "not ready before InitDone");
        writer.apply_watcher_event(&Event::InitDone);
        let result = tokio::time::timeout(Duration::from_secs(5), waiting).await;
        assert!(matches!(result, Ok(Ok(Ok(())))));
    }

    #[tokio::test]
    async fn wait_until_ready_fails_when_the_writer_is_dropped() {
        let (store, writer) = store::<ConfigMap>();
        drop(writer);
        assert!(store.wait_until_ready().await.is_err());
    }

    /// The stored objects as sorted `name=value` pairs.
    fn content(store: &Store<ConfigMap>) -> Vec<String> {
        let mut content: Vec<_> = store
            .state()
            .iter()
            .map(|cm| {
                let name = cm.metadata.name.clone().unwrap_or_default();
                let value = cm
                    .data
                    .as_ref()
                    .and_then(|d| d.get("v").cloned())
                    .unwrap_or_default();
                format!("{name}={value}")
            })
            .collect();
        content.sort();
        content
    }

    #[test]
    fn readers_see_the_old_or_the_new_listing_never_a_mix() {
        let (store, mut writer) = store::<ConfigMap>();
        for event in [
            Event::Init,
            Event::InitApply(cm("kept", "1")),
            Event::InitApply(cm("deleted", "1")),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        let before = content(&store);
        let relist = [
            Event::Init,
            Event::InitApply(cm("created", "1")),
            Event::InitApply(cm("kept", "2")),
        ];
        for event in &relist {
            writer.apply_watcher_event(event);
            assert_eq!(
                content(&store),
                before,
                "the relist leaked out after {event:?}"
            );
        }
        writer.apply_watcher_event(&Event::InitDone);
        assert_eq!(content(&store), ["created=1", "kept=2"]);
    }

    #[test]
    fn an_empty_relist_empties_the_store() {
        let (store, mut writer) = store::<ConfigMap>();
        for event in [
            Event::Init,
            Event::InitApply(cm("a", "1")),
            Event::InitDone,
            Event::Init,
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn stays_ready_through_later_relists() {
        let (store, mut writer) = store::<ConfigMap>();
        writer.apply_watcher_event(&Event::Init);
        writer.apply_watcher_event(&Event::InitDone);
        writer.apply_watcher_event(&Event::Init);
        let ready = tokio::time::timeout(Duration::from_secs(5), store.wait_until_ready()).await;
        assert!(
            matches!(ready, Ok(Ok(()))),
            "a relist in progress made the store unready"
        );
    }

    #[test]
    fn stored_objects_are_shared_not_copied_by_readers() {
        let (store, mut writer) = store::<ConfigMap>();
        writer.apply_watcher_event(&Event::Apply(cm("a", "1")));
        let first = store
            .get(&ObjectRef::new("a").within("ns"))
            .expect("stored");
        let second = store
            .get(&ObjectRef::new("a").within("ns"))
            .expect("stored");
        assert!(Arc::ptr_eq(&first, &second));
        let found = store.find(|_| true).expect("stored");
        assert!(Arc::ptr_eq(&first, &found));
    }

    #[test]
    fn keys_ignore_the_version_and_uid_of_the_reference() {
        let (store, mut writer) = store::<ConfigMap>();
        let mut obj = cm("a", "1");
        obj.metadata.resource_version = Some("7".into());
        obj.metadata.uid = Some("u".into());
        writer.apply_watcher_event(&Event::Apply(obj.clone()));
        // A reference taken from an older version still finds the object.
        let mut old_ref = ObjectRef::from_obj(&obj);
        old_ref.extra.resource_version = Some("3".into());
        assert!(store.get(&old_ref).is_some());
    }
}
