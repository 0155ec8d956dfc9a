//! The [`Store`]: an in-memory copy of a collection, kept current by a
//! [`Writer`].
//!
//! A store can carry named indexes ([`Writer::with_index`]): each maps an
//! object to the keys it can be found under, and [`Store::by_index`] returns
//! the objects under one key without scanning the store. The writer updates
//! the indexes in the same step as the objects, so a reader never sees an
//! object and its index entries disagree. A store without indexes pays
//! nothing for them: no allocation and no extra lock per event.
//!
//! ```
//! use k8s_openapi::api::core::v1::Pod;
//! use kube_runtime::reflector::store::Writer;
//!
//! // Pods by the node they run on.
//! let writer = Writer::<Pod>::default()
//!     .with_index("node", |pod: &Pod| pod.spec.as_ref()?.node_name.clone());
//! let store = writer.as_reader();
//! // ...feed `writer` with a reflector, then:
//! let on_node = store.by_index("node", "node-1")?;
//! # assert!(on_node.is_empty());
//! # Ok::<(), kube_runtime::reflector::store::UnknownIndex>(())
//! ```

use std::{
    collections::HashMap,
    fmt,
    hash::Hash,
    sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use kube_client::core::{Resource, Selector, SelectorExt};
use thiserror::Error;
use tokio::sync::watch;

pub use super::index::UnknownIndex;
use super::{
    index::{Index, Indexer, Indexes, KeyChange, key_changes},
    object_ref::{Lookup, ObjectRef},
};
use crate::watcher;

type Cache<K> = Arc<RwLock<Content<K>>>;

/// A store's content: the objects, and every index of them, behind the
/// store's lock.
struct Content<K: Lookup>
where
    K::DynamicType: Eq + Hash,
{
    objects: HashMap<ObjectRef<K>, Slot<K>>,
    indexes: Indexes<K>,
}

/// A stored object, and the listing that last stored it.
struct Slot<K> {
    object: Arc<K>,
    /// The writer counts its listings (one per `Init`): at `InitDone`, an
    /// object still marked with an earlier one was not listed again.
    listing: u64,
}

impl<K: Lookup> Default for Content<K>
where
    K::DynamicType: Eq + Hash,
{
    fn default() -> Self {
        Self {
            objects: HashMap::new(),
            indexes: Indexes::default(),
        }
    }
}

impl<K: Lookup> Content<K>
where
    K::DynamicType: Eq + Hash,
{
    fn object(&self, key: &ObjectRef<K>) -> Option<&Arc<K>> {
        self.objects.get(key).map(|slot| &slot.object)
    }

    fn all_objects(&self) -> impl Iterator<Item = &Arc<K>> {
        self.objects.values().map(|slot| &slot.object)
    }
}

impl<K: Lookup> Content<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    /// Stores `slot` under `key`; `changes` says how its index keys move.
    /// Returns the object it replaces, to be dropped after the lock is
    /// released.
    fn insert(
        &mut self,
        key: ObjectRef<K>,
        slot: Slot<K>,
        changes: Vec<KeyChange>,
    ) -> Option<Slot<K>> {
        self.indexes.update(&key, Some(&slot.object), changes);
        self.objects.insert(key, slot)
    }

    /// Removes the object under `key`; `changes` drops its index keys.
    /// Returns it, to be dropped after the lock is released.
    fn remove(&mut self, key: &ObjectRef<K>, changes: Vec<KeyChange>) -> Option<Slot<K>> {
        self.indexes.update(key, None, changes);
        self.objects.remove(key)
    }

    /// How the index keys of the object under `key` change when it becomes
    /// `new` (or is deleted, for `None`). Nothing to work out without indexers.
    fn key_changes(
        &self,
        indexers: &[Indexer<K>],
        key: &ObjectRef<K>,
        new: Option<&K>,
    ) -> Vec<KeyChange> {
        if indexers.is_empty() {
            return Vec::new();
        }
        key_changes(indexers, self.object(key).map(|obj| &**obj), new)
    }

    /// The index `indexer` makes of these objects.
    fn index_with(&self, indexer: &Indexer<K>) -> Index<K> {
        let objects = self.objects.iter().map(|(key, slot)| (key, &slot.object));
        Index::build(indexer, objects)
    }
}

/// Applies watcher events to a [`Store`]; there is one writer per store.
///
/// Objects are kept behind `Arc`, so readers share them without copying.
pub struct Writer<K: 'static + Lookup + Clone>
where
    K::DynamicType: Eq + Hash + Clone,
{
    store: Cache<K>,
    /// The number of the latest listing (`Init`) begun: what marks the
    /// objects it stores.
    listing: u64,
    /// The store's index functions; empty for a store without indexes.
    indexers: Vec<Indexer<K>>,
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
            listing: 0,
            indexers: Vec::new(),
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

    /// Adds (or replaces) the index `name`: `keys` names the keys each object
    /// is found under, e.g. the ConfigMaps a Deployment mounts, and
    /// [`Store::by_index`] finds the objects under one key.
    ///
    /// `keys` may return any number of keys, in any order (an `Option` for at
    /// most one); repeats count once. It must depend on the object alone:
    /// the writer calls it again on the stored copy to remove an object's
    /// entries when the object changes or goes away.
    ///
    /// Objects stored already are indexed at once; readers made before see
    /// the new index too.
    ///
    /// ```
    /// use k8s_openapi::api::apps::v1::Deployment;
    /// use kube_runtime::reflector::store::Writer;
    ///
    /// /// The ConfigMaps a Deployment's pods mount, as `namespace/name`.
    /// fn mounted_config_maps(deployment: &Deployment) -> Vec<String> {
    ///     let namespace = deployment.metadata.namespace.as_deref().unwrap_or_default();
    ///     let pod = deployment.spec.template.spec.as_ref();
    ///     let volumes = pod.and_then(|pod| pod.volumes.as_ref());
    ///     volumes
    ///         .into_iter()
    ///         .flatten()
    ///         .filter_map(|volume| volume.config_map.as_ref())
    ///         .map(|source| format!("{namespace}/{}", source.name))
    ///         .collect()
    /// }
    ///
    /// let writer = Writer::<Deployment>::default().with_index("configmap", mounted_config_maps);
    /// let store = writer.as_reader();
    /// assert!(store.by_index("configmap", "default/settings")?.is_empty());
    /// # Ok::<(), kube_runtime::reflector::store::UnknownIndex>(())
    /// ```
    #[must_use]
    pub fn with_index<F, I>(mut self, name: &str, keys: F) -> Self
    where
        F: Fn(&K) -> I + Send + Sync + 'static,
        I: IntoIterator<Item = String>,
    {
        let indexer = Indexer::new(name, keys);
        let position = self
            .indexers
            .iter()
            .position(|existing| existing.name() == name)
            .unwrap_or(self.indexers.len());
        // Worked out under the read lock, which holds back no reader; only
        // putting the finished index in place takes the write lock.
        let live = self.read().index_with(&indexer);
        self.write().indexes.put(position, live);
        match self.indexers.get_mut(position) {
            Some(slot) => *slot = indexer,
            None => self.indexers.push(indexer),
        }
        self
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
    /// `Apply`, `InitApply` and `Delete` change the store at once: a relist
    /// (`Init`, `InitApply`s, `InitDone`) updates the stored objects in place
    /// as they arrive, and `InitDone` removes those the relist did not list
    /// (deleted while the watch was down). So a relist never holds two copies
    /// of the collection, and readers always see each object's latest state;
    /// while it runs, some objects are already in their relisted state and
    /// objects deleted in the gap are still there. None survives `InitDone`.
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
        mut changed: impl FnMut(&ObjectRef<K>),
    ) {
        match event {
            watcher::Event::Apply(obj) => {
                let key = self.key_of(obj);
                changed(&key);
                self.store_object(key, Arc::new(obj.clone()));
            }
            watcher::Event::Delete(obj) => self.remove_object(obj),
            watcher::Event::Init => self.listing += 1,
            watcher::Event::InitApply(obj) => {
                let key = self.key_of(obj);
                self.store_object(key, Arc::new(obj.clone()));
            }
            watcher::Event::InitDone => self.finish_relist(changed),
        }
    }

    /// Applies an owned event (see
    /// [`apply_watcher_event_owned`](Self::apply_watcher_event_owned)).
    /// `changed` is told the key of each object the event changed: the
    /// applied object, or at `InitDone` every object of the completed relist
    /// (each is stored as it arrives, but told of once the relist is whole,
    /// so that a reconcile it triggers finds every object of the relist).
    pub(crate) fn apply_owned(
        &mut self,
        event: watcher::Event<K>,
        mut changed: impl FnMut(&ObjectRef<K>),
    ) {
        match event {
            watcher::Event::Apply(obj) => {
                let key = self.key_of(&obj);
                changed(&key);
                self.store_object(key, Arc::new(obj));
            }
            watcher::Event::Delete(obj) => self.remove_object(&obj),
            watcher::Event::Init => self.listing += 1,
            watcher::Event::InitApply(obj) => {
                let key = self.key_of(&obj);
                self.store_object(key, Arc::new(obj));
            }
            watcher::Event::InitDone => self.finish_relist(changed),
        }
    }

    /// Applies an owned event and hands it back carrying the store's `Arc` of
    /// its object: moved into the store, never copied, and shared with the
    /// caller. A deleted object, no longer stored, is handed back in an `Arc`
    /// of its own.
    pub(crate) fn apply_arc(&mut self, event: watcher::Event<K>) -> watcher::Event<Arc<K>> {
        match event {
            watcher::Event::Apply(obj) => watcher::Event::Apply(self.store_shared_object(obj)),
            watcher::Event::InitApply(obj) => {
                watcher::Event::InitApply(self.store_shared_object(obj))
            }
            watcher::Event::Delete(obj) => {
                self.remove_object(&obj);
                watcher::Event::Delete(Arc::new(obj))
            }
            watcher::Event::Init => {
                self.listing += 1;
                watcher::Event::Init
            }
            watcher::Event::InitDone => {
                self.finish_relist(|_| {});
                watcher::Event::InitDone
            }
        }
    }

    /// Moves `obj` into the store and returns a second handle on it.
    fn store_shared_object(&mut self, obj: K) -> Arc<K> {
        let obj = Arc::new(obj);
        let key = self.key_of(&obj);
        self.store_object(key, Arc::clone(&obj));
        obj
    }

    /// Stores `obj`, marked as seen by the current listing.
    fn store_object(&mut self, key: ObjectRef<K>, obj: Arc<K>) {
        let changes = self.live_key_changes(&key, Some(&obj));
        let slot = Slot {
            object: obj,
            listing: self.listing,
        };
        let replaced = self.write().insert(key, slot, changes);
        // The old version is freed after the lock is released.
        drop(replaced);
    }

    /// Removes the object. During a relist too: a streaming list may report
    /// a deletion before it ends.
    fn remove_object(&mut self, obj: &K) {
        let key = self.key_of(obj);
        let changes = self.live_key_changes(&key, None);
        let removed = self.write().remove(&key, changes);
        drop(removed);
    }

    /// How the index keys of the stored object under `key` change when it
    /// becomes `new`: worked out under the read lock, from the stored copy
    /// (the writer is the only one changing the store, so it is still the
    /// stored copy when the write lock is taken). No lock without indexes.
    fn live_key_changes(&self, key: &ObjectRef<K>, new: Option<&K>) -> Vec<KeyChange> {
        if self.indexers.is_empty() {
            return Vec::new();
        }
        self.read().key_changes(&self.indexers, key, new)
    }

    /// Removes what the listing now complete did not store (deleted while
    /// the watch was down), and tells `changed` of every object it stored.
    fn finish_relist(&mut self, mut changed: impl FnMut(&ObjectRef<K>)) {
        let listing = self.listing;
        // Worked out under the read lock; usually there are none, or few.
        let gone: Vec<_> = {
            let content = self.read();
            content
                .objects
                .iter()
                .filter(|(_, slot)| slot.listing != listing)
                .map(|(key, _)| (key.clone(), content.key_changes(&self.indexers, key, None)))
                .collect()
        };
        let removed: Vec<_> = {
            let mut content = self.write();
            gone.into_iter()
                .filter_map(|(key, changes)| content.remove(&key, changes))
                .collect()
        };
        drop(removed);
        let content = self.read();
        content
            .objects
            .iter()
            .filter(|(_, slot)| slot.listing == listing)
            .for_each(|(key, _)| changed(key));
        drop(content);
        self.ready.send_replace(true);
    }

    fn read(&self) -> RwLockReadGuard<'_, Content<K>> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Content<K>> {
        // A poisoned lock is safe to keep using: the only code run under the
        // write lock is map updates whose inputs were worked out before (the
        // index functions run under the read lock), and those do not panic
        // half-way.
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
            .field("listing", &self.listing)
            .field("ready", &*self.ready.borrow())
            .finish_non_exhaustive()
    }
}

/// A read-only, always-current view of a collection, filled by a [`Writer`]
/// through a [`reflector`](super::reflector).
///
/// Cheap to clone and safe to share between tasks. Until the first list has
/// completed the store holds only the part listed so far: use
/// [`wait_until_ready`](Self::wait_until_ready) before trusting that an object
/// is absent.
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
        let store = self.read();
        f.debug_struct("Store")
            .field("len", &store.objects.len())
            .field("indexes", &store.indexes)
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
    fn read(&self) -> RwLockReadGuard<'_, Content<K>> {
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
        store.object(key).cloned().or_else(|| {
            key.namespace.as_ref()?;
            let mut cluster_key = key.clone();
            cluster_key.namespace = None;
            store.object(&cluster_key).cloned()
        })
    }

    /// A snapshot of every stored object.
    #[must_use]
    pub fn state(&self) -> Vec<Arc<K>> {
        self.read().all_objects().cloned().collect()
    }

    /// Some object matching `predicate`, if any.
    #[must_use]
    pub fn find<P>(&self, predicate: P) -> Option<Arc<K>>
    where
        P: Fn(&K) -> bool,
    {
        self.read()
            .all_objects()
            .find(|obj| predicate(obj))
            .cloned()
    }

    /// Every object matching `predicate`.
    #[must_use]
    pub fn state_filter<P>(&self, predicate: P) -> Vec<Arc<K>>
    where
        P: Fn(&K) -> bool,
    {
        self.read()
            .all_objects()
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

    /// Every object found under `key` in the index `index` (see
    /// [`Writer::with_index`]), in no particular order; one hash lookup, no
    /// scan of the store.
    ///
    /// Fails only when the store has no index of that name.
    pub fn by_index(&self, index: &str, key: &str) -> Result<Vec<Arc<K>>, UnknownIndex> {
        let store = self.read();
        let index = store.indexes.named(index)?;
        Ok(index
            .objects_under(key)
            .map(|(_, obj)| Arc::clone(obj))
            .collect())
    }

    /// The references of the objects found under `key` in the index `index`.
    ///
    /// Fails only when the store has no index of that name.
    pub fn index_keys(&self, index: &str, key: &str) -> Result<Vec<ObjectRef<K>>, UnknownIndex>
    where
        K::DynamicType: Clone,
    {
        let store = self.read();
        Ok(store
            .indexes
            .named(index)?
            .objects_under(key)
            .map(|(at, _)| at.clone())
            .collect())
    }

    /// Every key at least one object is found under in the index `index`, in
    /// no particular order.
    ///
    /// Fails only when the store has no index of that name.
    pub fn index_values(&self, index: &str) -> Result<Vec<String>, UnknownIndex> {
        let store = self.read();
        Ok(store.indexes.named(index)?.keys().cloned().collect())
    }

    /// How many objects are stored.
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().objects.len()
    }

    /// Whether the store is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.read().objects.is_empty()
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
pub(crate) mod tests {
    use std::time::Duration;

    use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
    use kube_client::core::ObjectMeta;

    use super::*;
    use crate::watcher::Event;

    /// A ConfigMap `name` in namespace `ns`, holding `value` under `v`.
    pub(crate) fn cm(name: &str, value: &str) -> ConfigMap {
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

    /// The value under `v` of the stored ConfigMap `name` in namespace `ns`.
    pub(crate) fn value(store: &Store<ConfigMap>, name: &str) -> Option<String> {
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
    fn a_relist_updates_objects_as_they_come_and_drops_the_unlisted_at_init_done() {
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

        // A relist in progress updates what it lists at once...
        writer.apply_watcher_event(&Event::Init);
        writer.apply_watcher_event(&Event::InitApply(cm("a", "2")));
        assert_eq!(value(&store, "a").as_deref(), Some("2"));
        writer.apply_watcher_event(&Event::InitApply(cm("new", "1")));
        assert_eq!(value(&store, "new").as_deref(), Some("1"));
        // ...while what it has not listed stays until it completes...
        assert_eq!(value(&store, "ghost").as_deref(), Some("1"));
        // ...and then vanishes: it was deleted while the watch was down.
        writer.apply_watcher_event(&Event::InitDone);
        assert_eq!(value(&store, "a").as_deref(), Some("2"));
        assert_eq!(value(&store, "ghost"), None);
        assert_eq!(value(&store, "new").as_deref(), Some("1"));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn an_interrupted_relist_drops_at_the_next_init_done_what_that_one_did_not_list() {
        let (store, mut writer) = store::<ConfigMap>();
        for event in [
            Event::Init,
            Event::InitApply(cm("a", "1")),
            Event::InitApply(cm("b", "1")),
            Event::InitDone,
            // A relist that breaks off (its list failed) and starts over.
            Event::Init,
            Event::InitApply(cm("a", "2")),
            Event::Init,
            Event::InitApply(cm("b", "2")),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        assert_eq!(value(&store, "a"), None, "listed only by the broken relist");
        assert_eq!(value(&store, "b").as_deref(), Some("2"));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn objects_applied_during_a_relist_survive_its_end() {
        let (store, mut writer) = store::<ConfigMap>();
        for event in [
            Event::Init,
            Event::InitApply(cm("a", "1")),
            Event::InitDone,
            Event::Init,
            Event::Apply(cm("applied", "1")),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        assert_eq!(value(&store, "applied").as_deref(), Some("1"));
        assert_eq!(value(&store, "a"), None);
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
    fn readers_never_see_an_object_go_back_to_an_older_state_during_a_relist() {
        let (store, mut writer) = store::<ConfigMap>();
        for event in [
            Event::Init,
            Event::InitApply(cm("kept", "1")),
            Event::InitApply(cm("deleted", "1")),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        let mut seen = vec![content(&store)];
        for event in [
            Event::Init,
            Event::InitApply(cm("created", "1")),
            Event::InitApply(cm("kept", "2")),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
            seen.push(content(&store));
        }
        assert_eq!(
            seen,
            [
                vec!["deleted=1", "kept=1"],
                vec!["deleted=1", "kept=1"],
                vec!["created=1", "deleted=1", "kept=1"],
                vec!["created=1", "deleted=1", "kept=2"],
                vec!["created=1", "kept=2"],
            ],
            "each object moves forward one state at a time; no ghost after InitDone"
        );
    }

    #[test]
    fn a_relist_holds_one_copy_of_each_object() {
        let (store, mut writer) = store::<ConfigMap>();
        for event in [
            Event::Init,
            Event::InitApply(cm("a", "1")),
            Event::InitApply(cm("b", "1")),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        let old_b = store
            .get(&ObjectRef::new("b").within("ns"))
            .expect("stored");
        writer.apply_watcher_event(&Event::Init);
        writer.apply_watcher_event_owned(Event::InitApply(cm("b", "2")));
        assert_eq!(store.len(), 2, "relisted in place, not beside");
        assert_eq!(
            Arc::strong_count(&old_b),
            1,
            "the replaced version is let go at once"
        );
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

    /// A writer whose store indexes ConfigMaps by their data values.
    fn by_value() -> (Store<ConfigMap>, Writer<ConfigMap>) {
        let writer = Writer::default().with_index("value", values);
        (writer.as_reader(), writer)
    }

    fn values(cm: &ConfigMap) -> Vec<String> {
        cm.data.iter().flatten().map(|(_, v)| v.clone()).collect()
    }

    /// The names found under `key` in the index `value`, sorted.
    fn under(store: &Store<ConfigMap>, key: &str) -> Vec<String> {
        let mut names: Vec<String> = store
            .by_index("value", key)
            .expect("the index exists")
            .iter()
            .filter_map(|cm| cm.metadata.name.clone())
            .collect();
        names.sort();
        names
    }

    fn index_values(store: &Store<ConfigMap>) -> Vec<String> {
        let mut values = store.index_values("value").expect("the index exists");
        values.sort();
        values
    }

    #[test]
    fn a_delete_during_a_relist_leaves_no_index_entry_behind() {
        let (store, mut writer) = by_value();
        writer.apply_watcher_event(&Event::Apply(cm("a", "x")));
        writer.apply_watcher_event(&Event::Init);
        writer.apply_watcher_event(&Event::InitApply(cm("a", "x")));
        writer.apply_watcher_event(&Event::InitApply(cm("b", "x")));
        // A streaming list reports b's deletion before its end.
        writer.apply_watcher_event(&Event::Delete(cm("b", "x")));
        writer.apply_watcher_event(&Event::InitDone);
        assert_eq!(under(&store, "x"), ["a"]);
        assert_eq!(index_values(&store), ["x"]);
        assert!(store.get(&ObjectRef::new("b").within("ns")).is_none());
    }

    #[test]
    fn indexes_follow_applies_and_deletes() {
        let (store, mut writer) = by_value();
        writer.apply_watcher_event(&Event::Apply(cm("a", "x")));
        writer.apply_watcher_event(&Event::Apply(cm("b", "x")));
        writer.apply_watcher_event_owned(Event::Apply(cm("c", "y")));
        assert_eq!(under(&store, "x"), ["a", "b"]);
        assert_eq!(under(&store, "y"), ["c"]);

        // A changed object moves to its new key and leaves the old one.
        writer.apply_watcher_event(&Event::Apply(cm("b", "y")));
        assert_eq!(under(&store, "x"), ["a"]);
        assert_eq!(under(&store, "y"), ["b", "c"]);

        // A deleted object leaves the index, even when the delete event
        // carries another state than the stored one.
        writer.apply_watcher_event(&Event::Delete(cm("a", "stale")));
        assert!(under(&store, "x").is_empty());
        assert_eq!(index_values(&store), ["y"], "emptied keys are dropped");
        writer.apply_watcher_event_owned(Event::Delete(cm("c", "y")));
        assert_eq!(under(&store, "y"), ["b"]);

        let refs = store.index_keys("value", "y").expect("the index exists");
        assert_eq!(refs, [ObjectRef::new("b").within("ns")]);
    }

    #[test]
    fn an_object_that_keeps_its_keys_is_found_in_its_latest_version() {
        let (store, mut writer) = by_value();
        let labelled = |version: &str| {
            let mut obj = cm("a", "x");
            obj.metadata.labels = Some([("version".to_string(), version.to_string())].into());
            obj
        };
        let version_under = |store: &Store<ConfigMap>| {
            let found = store.by_index("value", "x").expect("the index exists");
            let labels = found[0].metadata.labels.clone().unwrap_or_default();
            labels.get("version").cloned()
        };
        writer.apply_watcher_event(&Event::Apply(labelled("1")));
        writer.apply_watcher_event_owned(Event::Apply(labelled("2")));
        assert_eq!(version_under(&store).as_deref(), Some("2"));
        let stored = store
            .get(&ObjectRef::new("a").within("ns"))
            .expect("stored");
        let indexed = &store.by_index("value", "x").expect("the index exists")[0];
        assert!(
            Arc::ptr_eq(&stored, indexed),
            "the index shares the stored object"
        );

        for event in [
            Event::Init,
            Event::InitApply(labelled("3")),
            Event::InitApply(labelled("4")),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        assert_eq!(version_under(&store).as_deref(), Some("4"));
    }

    #[test]
    fn an_object_can_have_several_keys_or_none() {
        let (store, mut writer) = by_value();
        let mut two = cm("two", "x");
        two.data = Some(
            [("k1", "x"), ("k2", "y"), ("k3", "x")]
                .map(|(k, v)| (k.into(), v.into()))
                .into(),
        );
        let mut none = cm("none", "x");
        none.data = None;
        writer.apply_watcher_event(&Event::Apply(two));
        writer.apply_watcher_event(&Event::Apply(none));
        assert_eq!(
            under(&store, "x"),
            ["two"],
            "listed once for a repeated key"
        );
        assert_eq!(under(&store, "y"), ["two"]);
        assert_eq!(index_values(&store), ["x", "y"]);
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn a_relist_moves_objects_and_index_entries_together() {
        let (store, mut writer) = by_value();
        for event in [
            Event::Init,
            Event::InitApply(cm("kept", "old")),
            Event::InitApply(cm("deleted", "old")),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        assert_eq!(under(&store, "old"), ["deleted", "kept"]);

        writer.apply_watcher_event(&Event::Init);
        writer.apply_watcher_event(&Event::InitApply(cm("kept", "new")));
        writer.apply_watcher_event_owned(Event::InitApply(cm("created", "new")));
        // Each relisted object is found under its new keys at once...
        assert_eq!(under(&store, "old"), ["deleted"]);
        assert_eq!(under(&store, "new"), ["created", "kept"]);
        // ...and what the relist did not list leaves the index with it.
        writer.apply_watcher_event(&Event::InitDone);
        assert!(under(&store, "old").is_empty());
        assert_eq!(under(&store, "new"), ["created", "kept"]);
        assert_eq!(index_values(&store), ["new"]);
    }

    #[test]
    fn a_relisted_object_listed_twice_keeps_only_its_last_keys() {
        let (store, mut writer) = by_value();
        for event in [
            Event::Init,
            Event::InitApply(cm("a", "first")),
            Event::InitApply(cm("a", "second")),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        assert_eq!(index_values(&store), ["second"]);
    }

    #[test]
    fn an_index_added_during_a_relist_covers_everything_stored() {
        let (store, mut writer) = store::<ConfigMap>();
        writer.apply_watcher_event(&Event::Apply(cm("stored", "x")));
        writer.apply_watcher_event(&Event::Init);
        writer.apply_watcher_event(&Event::InitApply(cm("relisted", "x")));
        assert!(store.by_index("value", "x").is_err());

        let mut writer = writer.with_index("value", values);
        assert_eq!(
            under(&store, "x"),
            ["relisted", "stored"],
            "a reader made before sees it"
        );
        writer.apply_watcher_event(&Event::InitDone);
        assert_eq!(under(&store, "x"), ["relisted"]);
    }

    #[test]
    fn indexes_added_between_relists_survive_the_next_one() {
        let (store, writer) = by_value();
        let mut writer = writer.with_index("name", |cm: &ConfigMap| cm.metadata.name.clone());
        for event in [Event::Init, Event::InitApply(cm("a", "x")), Event::InitDone] {
            writer.apply_watcher_event(&event);
        }
        let mut writer = writer.with_index("third", |_: &ConfigMap| Some("all".to_string()));
        for event in [Event::Init, Event::InitApply(cm("b", "y")), Event::InitDone] {
            writer.apply_watcher_event(&event);
        }
        assert_eq!(under(&store, "y"), ["b"]);
        assert_eq!(store.by_index("name", "b").expect("indexed").len(), 1);
        assert_eq!(store.by_index("name", "a").expect("indexed").len(), 0);
        assert_eq!(store.by_index("third", "all").expect("indexed").len(), 1);
    }

    #[test]
    fn an_index_of_the_same_name_replaces_the_old_one() {
        let (store, writer) = by_value();
        let mut writer = writer.with_index("value", |cm: &ConfigMap| cm.metadata.name.clone());
        writer.apply_watcher_event(&Event::Apply(cm("a", "x")));
        assert_eq!(under(&store, "a"), ["a"]);
        assert!(under(&store, "x").is_empty());
    }

    #[test]
    fn several_indexes_are_kept_side_by_side() {
        let (store, writer) = by_value();
        let mut writer = writer.with_index("name", |cm: &ConfigMap| cm.metadata.name.clone());
        writer.apply_watcher_event(&Event::Apply(cm("a", "x")));
        writer.apply_watcher_event(&Event::Apply(cm("a", "y")));
        assert_eq!(under(&store, "y"), ["a"]);
        assert_eq!(store.by_index("name", "a").expect("indexed").len(), 1);
    }

    #[test]
    fn an_unknown_index_is_an_error_naming_it() {
        let (store, _writer) = by_value();
        let error = store.by_index("nope", "x").expect_err("no such index");
        assert_eq!(error, UnknownIndex("nope".into()));
        assert!(error.to_string().contains("\"nope\""), "{error}");
        assert!(store.index_values("nope").is_err());
        assert!(store.index_keys("nope", "x").is_err());
        let (plain, _writer) = super::store::<ConfigMap>();
        assert!(plain.by_index("value", "x").is_err());
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
