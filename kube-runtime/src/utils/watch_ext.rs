//! [`WatchStreamExt`]: the adapters for watcher streams, as methods.

use std::hash::Hash;

use futures::{Stream, TryStream};
use kube_client::core::Resource;

use super::{
    Backoff, EventDecode, EventModify, Predicate, PredicateConfig, PredicateFilter, Reflect,
    StreamBackoff,
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
}

impl<St: ?Sized> WatchStreamExt for St where St: Stream {}
