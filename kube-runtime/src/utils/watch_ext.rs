//! [`WatchStreamExt`]: the adapters for watcher streams, as methods.

use std::hash::Hash;

use futures::{Stream, TryStream};
use kube_client::core::Resource;

use super::{
    Backoff, EventDecode, EventModify, Predicate, PredicateConfig, PredicateFilter, Reflect,
    ReflectArc, StreamBackoff,
};
use crate::{
    reflector::{Lookup, Writer},
    watcher::{self, DefaultBackoff},
};

/// Adapters for watcher streams.
pub trait WatchStreamExt: Stream {
    /// Waits before retrying after errors, with the [`DefaultBackoff`] (0.8 s
    /// doubling to 30 s, with jitter). Recommended for every long-running watcher.
    fn default_backoff(self) -> StreamBackoff<Self, DefaultBackoff>
    where
        Self: TryStream + Sized,
    {
        StreamBackoff::new(self, DefaultBackoff::default())
    }

    /// Waits before retrying after errors, with a chosen [`Backoff`].
    fn backoff<B>(self, b: B) -> StreamBackoff<Self, B>
    where
        B: Backoff,
        Self: TryStream + Sized,
    {
        StreamBackoff::new(self, b)
    }

    /// The objects created or changed (including those of each initial list);
    /// deletions are dropped.
    fn applied_objects<K>(self) -> EventDecode<Self>
    where
        Self: Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Sized,
    {
        EventDecode::new(self, false)
    }

    /// The objects created, changed or deleted.
    fn touched_objects<K>(self) -> EventDecode<Self>
    where
        Self: Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Sized,
    {
        EventDecode::new(self, true)
    }

    /// Changes each event's object in flight, e.g. to drop `managedFields`
    /// before a reflector stores it.
    fn modify<F, K>(self, f: F) -> EventModify<Self, F>
    where
        Self: Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Sized,
        F: FnMut(&mut K),
    {
        EventModify::new(self, f)
    }

    /// Drops objects whose predicate property is unchanged since they were last
    /// seen, e.g. `predicate_filter(predicates::generation, Default::default())`.
    fn predicate_filter<K, P>(
        self,
        predicate: P,
        config: PredicateConfig,
    ) -> PredicateFilter<Self, K, P>
    where
        Self: Stream<Item = Result<K, watcher::Error>> + Sized,
        K: Resource + 'static,
        P: Predicate<K> + 'static,
    {
        PredicateFilter::new(self, predicate, config)
    }

    /// Applies every event to a store's writer, passing the events on.
    fn reflect<K>(self, writer: Writer<K>) -> Reflect<Self, K>
    where
        Self: Stream<Item = watcher::Result<watcher::Event<K>>> + Sized,
        K: Lookup + Clone + 'static,
        K::DynamicType: Eq + Hash + Clone,
    {
        Reflect::new(self, writer)
    }

    /// Applies every event to a store's writer like [`reflect`](Self::reflect),
    /// but moves each object into the store instead of copying it, and passes
    /// the event on carrying the store's `Arc` of the object.
    ///
    /// [`reflect`](Self::reflect) hands on every object as it came, so the
    /// store keeps a deep copy of each; for a program that reads objects
    /// through the store, or only needs to share them, that copy (and freeing
    /// the original) is wasted work: about 40 % of the CPU time of an initial
    /// sync of Pods. The objects passed on are the stored ones, read-only (a
    /// deleted object, no longer stored, comes in an `Arc` of its own);
    /// `applied_objects` and `touched_objects` work on the result as on any
    /// watcher stream, yielding `Arc<K>`.
    ///
    /// The price is heap: the store keeps each object as it was decoded,
    /// with the spare capacity its lists grew into while decoding, where a
    /// copy is allocated to exact size. For Pods that is nearly a fifth more.
    ///
    /// ```no_run
    /// use futures::TryStreamExt;
    /// use k8s_openapi::api::core::v1::Pod;
    /// use kube_client::{Api, Client};
    /// use kube_runtime::{WatchStreamExt, reflector, watcher};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let api: Api<Pod> = Api::default_namespaced(Client::try_default().await?);
    /// let (store, writer) = reflector::store();
    /// let pods = watcher(api, watcher::Config::default())
    ///     .default_backoff()
    ///     .reflect_arc(writer)
    ///     .applied_objects();
    /// let mut pods = std::pin::pin!(pods);
    /// while let Some(pod) = pods.try_next().await? {
    ///     // `pod` is an `Arc<Pod>`: the very object the store holds.
    ///     println!("{:?} ({} in the store)", pod.metadata.name, store.len());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    fn reflect_arc<K>(self, writer: Writer<K>) -> ReflectArc<Self, K>
    where
        Self: Stream<Item = watcher::Result<watcher::Event<K>>> + Sized,
        K: Lookup + Clone + 'static,
        K::DynamicType: Eq + Hash + Clone,
    {
        ReflectArc::new(self, writer)
    }

    /// Applies every event to a shared writer
    /// ([`store_shared`](crate::reflector::store_shared)) and announces the
    /// stored objects to its subscribers, passing the events on. The stream
    /// waits while a subscriber's queue is full, so it must be polled along
    /// with the subscribers.
    #[cfg(feature = "unstable-runtime-subscribe")]
    fn reflect_shared<K>(self, writer: Writer<K>) -> impl Stream<Item = Self::Item>
    where
        Self: Stream<Item = watcher::Result<watcher::Event<K>>> + Sized,
        K: Lookup + Clone + 'static,
        K::DynamicType: Eq + Hash + Clone,
    {
        crate::reflector::reflector_shared(writer, self)
    }
}

impl<St: ?Sized> WatchStreamExt for St where St: Stream {}

#[cfg(test)]
mod tests {
    use futures::{StreamExt, stream};
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube_client::core::ObjectMeta;

    use super::*;
    use crate::{
        predicates,
        reflector::{ObjectRef, store},
        watcher::Event,
    };

    fn cm(name: &str, generation: i64) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                generation: Some(generation),
                managed_fields: Some(vec![Default::default()]),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    fn events() -> Vec<watcher::Result<Event<ConfigMap>>> {
        vec![
            Ok(Event::Init),
            Ok(Event::InitApply(cm("a", 1))),
            Ok(Event::InitDone),
            Err(watcher::Error::NoResourceVersion),
            Ok(Event::Apply(cm("b", 1))),
            Ok(Event::Apply(cm("b", 1))),
            Ok(Event::Apply(cm("b", 2))),
            Ok(Event::Delete(cm("a", 1))),
        ]
    }

    fn describe(item: &watcher::Result<ConfigMap>) -> String {
        match item {
            Ok(cm) => format!(
                "{}@{}",
                cm.metadata.name.as_deref().unwrap_or_default(),
                cm.metadata.generation.unwrap_or_default()
            ),
            Err(_) => "error".into(),
        }
    }

    #[tokio::test]
    async fn applied_objects_drops_deletions_and_markers() {
        let seen: Vec<_> = stream::iter(events())
            .applied_objects()
            .map(|i| describe(&i))
            .collect()
            .await;
        assert_eq!(seen, ["a@1", "error", "b@1", "b@1", "b@2"]);
    }

    #[tokio::test]
    async fn touched_objects_keeps_deletions() {
        let seen: Vec<_> = stream::iter(events())
            .touched_objects()
            .map(|i| describe(&i))
            .collect()
            .await;
        assert_eq!(seen, ["a@1", "error", "b@1", "b@1", "b@2", "a@1"]);
    }

    #[tokio::test]
    async fn predicate_filter_drops_unchanged_generations() {
        let seen: Vec<_> = stream::iter(events())
            .applied_objects()
            .predicate_filter(predicates::generation, Default::default())
            .map(|i| describe(&i))
            .collect()
            .await;
        assert_eq!(seen, ["a@1", "error", "b@1", "b@2"]);
    }

    #[tokio::test]
    async fn modify_then_reflect_stores_the_modified_objects() {
        let (reader, writer) = store::<ConfigMap>();
        let passed: Vec<_> = stream::iter(events())
            .modify(|cm| cm.metadata.managed_fields = None)
            .reflect(writer)
            .collect()
            .await;
        assert_eq!(passed.len(), 8);
        let stored = reader.get(&ObjectRef::new("b")).expect("stored");
        assert_eq!(
            stored.metadata.managed_fields, None,
            "stored before the modification"
        );
        assert_eq!(stored.metadata.generation, Some(2));
        assert!(reader.get(&ObjectRef::new("a")).is_none(), "deleted");
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_passes_items_through() {
        let seen: Vec<_> = stream::iter(events())
            .default_backoff()
            .applied_objects()
            .map(|i| describe(&i))
            .collect()
            .await;
        assert_eq!(seen, ["a@1", "error", "b@1", "b@1", "b@2"]);
    }
}
