//! Sharing one reflector among several consumers (feature
//! `unstable-runtime-subscribe`).
//!
//! A shared [`Writer`](super::Writer) announces every object it stores to
//! its subscribers: after an `Apply`, that object; after a relist
//! (`InitDone`), every object of the fresh store. Each [`ReflectHandle`] is a
//! stream of those objects, read from the store, so one watch can feed a
//! cache and several controllers.
//!
//! The announcements go through a bounded queue per subscriber. When a
//! subscriber falls behind by the whole queue, the reflector waits for it:
//! no subscriber misses an object, and memory stays bounded.

use std::{
    hash::Hash,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use async_broadcast::{InactiveReceiver, Receiver, Sender};
use futures::Stream;

use super::{Lookup, ObjectRef, Store};

/// The sending side of the announcements.
pub(crate) struct Dispatcher<K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    sender: Sender<ObjectRef<K>>,
    /// Keeps the queue open while nobody subscribes.
    _idle: InactiveReceiver<ObjectRef<K>>,
}

impl<K> Dispatcher<K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    /// A dispatcher whose subscribers may each lag `capacity` objects behind.
    pub(crate) fn new(capacity: usize) -> Self {
        let (mut sender, receiver) = async_broadcast::broadcast(capacity.max(1));
        // With no subscriber, announcements are dropped rather than waited on.
        sender.set_await_active(false);
        Self {
            sender,
            _idle: receiver.deactivate(),
        }
    }

    /// Announces `key` to every subscriber, waiting while one's queue is full.
    pub(crate) async fn announce(&self, key: ObjectRef<K>) {
        // Fails only when nobody subscribes, which is allowed.
        let _ = self.sender.broadcast_direct(key).await;
    }

    /// A new subscriber, announced every object stored from now on.
    pub(crate) fn subscribe(&self, reader: Store<K>) -> ReflectHandle<K> {
        ReflectHandle {
            receiver: self.sender.new_receiver(),
            reader,
        }
    }
}

/// A stream of the objects a shared reflector stores, as they are stored:
/// what a [`Controller`](crate::Controller) built with
/// `for_shared_stream` (or `owns_shared_stream`, `watches_shared_stream`)
/// consumes.
///
/// Made by [`Writer::subscribe`](super::Writer::subscribe); cloning gives an
/// independent subscriber at the same position. It ends when the writer is
/// dropped.
pub struct ReflectHandle<K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    receiver: Receiver<ObjectRef<K>>,
    reader: Store<K>,
}

impl<K> Clone for ReflectHandle<K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    fn clone(&self) -> Self {
        Self {
            receiver: self.receiver.clone(),
            reader: self.reader.clone(),
        }
    }
}

impl<K> ReflectHandle<K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    /// The store the objects are read from.
    #[must_use]
    pub fn reader(&self) -> Store<K> {
        self.reader.clone()
    }
}

impl<K> Stream for ReflectHandle<K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    type Item = Arc<K>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match Pin::new(&mut self.receiver).poll_next(cx) {
                Poll::Ready(Some(key)) => {
                    // An object deleted since it was announced is skipped.
                    if let Some(object) = self.reader.get(&key) {
                        return Poll::Ready(Some(object));
                    }
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeSet, pin::pin, task::Poll};

    use futures::{StreamExt, poll, stream};
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube_client::core::ObjectMeta;

    use crate::{
        WatchStreamExt,
        reflector::store_shared,
        watcher::{Error, Event},
    };

    fn cm(name: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    fn name(cm: &ConfigMap) -> String {
        cm.metadata.name.clone().unwrap_or_default()
    }

    #[tokio::test]
    async fn subscribers_see_applied_objects_then_every_relisted_one() {
        let (reader, writer) = store_shared::<ConfigMap>(16);
        let handle = writer.subscribe().expect("a shared writer");
        let other = handle.clone();
        let events = stream::iter([
            Ok(Event::Apply(cm("a"))),
            Err(Error::NoResourceVersion),
            Ok(Event::Init),
            Ok(Event::InitApply(cm("b"))),
            Ok(Event::InitApply(cm("c"))),
            Ok(Event::InitDone),
        ]);
        // Events pass through unchanged, errors included.
        let passed: Vec<bool> = events
            .reflect_shared(writer)
            .map(|e| e.is_ok())
            .collect()
            .await;
        assert_eq!(passed, [true, false, true, true, true, true]);
        assert_eq!(reader.len(), 2, "the relist replaced a");

        // The writer is gone with its stream: the handles end after the
        // announcements. a was announced but is no longer stored.
        let seen: Vec<String> = handle.map(|o| name(&o)).collect().await;
        assert_eq!(
            seen.iter().cloned().collect::<BTreeSet<_>>(),
            BTreeSet::from(["b".to_string(), "c".to_string()])
        );
        assert_eq!(seen.len(), 2);
        let also: Vec<String> = other.map(|o| name(&o)).collect().await;
        assert_eq!(also.len(), 2, "a clone is a subscriber of its own");
    }

    #[tokio::test]
    async fn a_full_queue_makes_the_reflector_wait_for_its_subscriber() {
        let (_reader, writer) = store_shared::<ConfigMap>(1);
        let mut handle = writer.subscribe().expect("a shared writer");
        let events = stream::iter([Ok(Event::Apply(cm("a"))), Ok(Event::Apply(cm("b")))]);
        let mut reflect = pin!(events.reflect_shared(writer));
        assert!(matches!(poll!(reflect.next()), Poll::Ready(Some(Ok(_)))));
        // b's announcement does not fit until a is taken.
        assert!(poll!(reflect.next()).is_pending());
        assert_eq!(handle.next().await.map(|o| name(&o)).as_deref(), Some("a"));
        assert!(matches!(poll!(reflect.next()), Poll::Ready(Some(Ok(_)))));
        assert_eq!(handle.next().await.map(|o| name(&o)).as_deref(), Some("b"));
    }

    #[tokio::test]
    async fn without_subscribers_nothing_waits() {
        let (reader, writer) = store_shared::<ConfigMap>(1);
        let events = stream::iter((0..10).map(|i| Ok(Event::Apply(cm(&format!("cm{i}"))))));
        let passed = events.reflect_shared(writer).count().await;
        assert_eq!(passed, 10);
        assert_eq!(reader.len(), 10);
    }

    #[tokio::test]
    async fn plain_writers_have_no_subscribers() {
        let (_reader, writer) = crate::reflector::store::<ConfigMap>();
        assert!(writer.subscribe().is_none());
    }
}
