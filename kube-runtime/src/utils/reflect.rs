//! The [`reflector`](crate::reflector::reflector) as a named stream type, and
//! [`ReflectArc`], the reflector that moves objects into the store instead of
//! copying them.

use std::{
    hash::Hash,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use futures::{Stream, TryStream};
use pin_project::pin_project;

use crate::{
    reflector::{Lookup, Writer},
    watcher::{Error, Event},
};

/// Applies every event to a store's [`Writer`] and passes it on. Made by
/// [`reflect`](crate::WatchStreamExt::reflect).
#[pin_project]
#[must_use = "streams do nothing unless polled"]
pub struct Reflect<St, K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    #[pin]
    stream: St,
    writer: Writer<K>,
}

impl<St, K> Reflect<St, K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    pub(crate) fn new(stream: St, writer: Writer<K>) -> Self {
        Self { stream, writer }
    }
}

impl<St, K> Stream for Reflect<St, K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
    St: TryStream<Ok = Event<K>, Error = Error>,
{
    type Item = Result<Event<K>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        // Mapping the poll in place hands the (large) event on without moving
        // it through a local first.
        this.stream.try_poll_next(cx).map(|item| {
            if let Some(Ok(event)) = &item {
                this.writer.apply_watcher_event(event);
            }
            item
        })
    }
}

/// Applies every event to a store's [`Writer`], moving each object into the
/// store, and passes the event on carrying the store's [`Arc`] of the object.
/// Made by [`reflect_arc`](crate::WatchStreamExt::reflect_arc).
///
/// [`Reflect`] passes each event on unchanged, so the store must keep a copy
/// of every object: the stream's consumer owns the original and may change
/// it. Here the consumer shares the stored object instead, and no object is
/// ever copied.
#[pin_project]
#[must_use = "streams do nothing unless polled"]
pub struct ReflectArc<St, K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    /// The same stream and writer, applied the other way.
    #[pin]
    inner: Reflect<St, K>,
}

impl<St, K> ReflectArc<St, K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    pub(crate) fn new(stream: St, writer: Writer<K>) -> Self {
        Self {
            inner: Reflect::new(stream, writer),
        }
    }
}

impl<St, K> Stream for ReflectArc<St, K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
    St: TryStream<Ok = Event<K>, Error = Error>,
{
    type Item = Result<Event<Arc<K>>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project().inner.project();
        this.stream
            .try_poll_next(cx)
            .map(|item| item.map(|item| item.map(|event| this.writer.apply_arc(event))))
    }
}

#[cfg(test)]
mod tests {
    use futures::{StreamExt, stream};
    use k8s_openapi::api::core::v1::ConfigMap;

    use crate::{
        WatchStreamExt,
        reflector::{
            ObjectRef, store,
            store::tests::{cm, value},
        },
        watcher::{self, Event},
    };

    /// An event's kind and object as `kind name=value`.
    fn describe(item: &watcher::Result<Event<std::sync::Arc<ConfigMap>>>) -> String {
        let object = |cm: &ConfigMap| {
            let name = cm.metadata.name.clone().unwrap_or_default();
            let value = cm.data.as_ref().and_then(|d| d.get("v").cloned());
            format!("{name}={}", value.unwrap_or_default())
        };
        match item {
            Ok(Event::Init) => "init".into(),
            Ok(Event::InitApply(cm)) => format!("init-apply {}", object(cm)),
            Ok(Event::InitDone) => "init-done".into(),
            Ok(Event::Apply(cm)) => format!("apply {}", object(cm)),
            Ok(Event::Delete(cm)) => format!("delete {}", object(cm)),
            Err(err) => format!("error {err}"),
        }
    }

    #[tokio::test]
    async fn reflect_arc_passes_on_every_event_and_error_in_order() {
        let (reader, writer) = store::<ConfigMap>();
        let events = vec![
            Ok(Event::Init),
            Ok(Event::InitApply(cm("a", "1"))),
            Err(watcher::Error::NoResourceVersion),
            Ok(Event::InitApply(cm("b", "1"))),
            Ok(Event::InitDone),
            Ok(Event::Apply(cm("a", "2"))),
            Ok(Event::Delete(cm("b", "3"))),
        ];
        let passed: Vec<_> = stream::iter(events)
            .reflect_arc(writer)
            .map(|item| describe(&item))
            .collect()
            .await;
        let no_version = watcher::Error::NoResourceVersion.to_string();
        assert_eq!(
            passed,
            [
                "init".to_string(),
                "init-apply a=1".into(),
                format!("error {no_version}"),
                "init-apply b=1".into(),
                "init-done".into(),
                "apply a=2".into(),
                "delete b=3".into(),
            ]
        );
        assert_eq!(reader.len(), 1);
        assert_eq!(value(&reader, "a").as_deref(), Some("2"));
    }

    #[tokio::test]
    async fn reflect_arc_passes_on_the_stored_object_itself() {
        let (reader, writer) = store::<ConfigMap>();
        let events = [Event::Init, Event::InitApply(cm("a", "1")), Event::InitDone]
            .into_iter()
            .chain([Event::Apply(cm("b", "1"))])
            .map(Ok);
        let objects: Vec<_> = stream::iter(events)
            .reflect_arc(writer)
            .applied_objects()
            .collect()
            .await;
        assert_eq!(objects.len(), 2);
        for object in objects {
            let object = object.expect("no errors");
            let name = object.metadata.name.as_deref().unwrap_or_default();
            let stored = reader
                .get(&ObjectRef::new(name).within("ns"))
                .expect("stored");
            assert!(
                std::sync::Arc::ptr_eq(&object, &stored),
                "{name} was passed on as a copy"
            );
        }
    }

    #[tokio::test]
    async fn reflect_arc_drops_what_a_relist_did_not_list_at_its_end() {
        let (reader, writer) = store::<ConfigMap>();
        let events = [
            Event::Init,
            Event::InitApply(cm("a", "1")),
            Event::InitApply(cm("gone", "1")),
            Event::InitDone,
            Event::Init,
            Event::InitApply(cm("a", "2")),
            Event::InitDone,
        ];
        let mut reflected = Box::pin(stream::iter(events.map(Ok)).reflect_arc(writer));
        for _ in 0..6 {
            reflected.next().await;
        }
        // Until the relist completes, what it has not listed is still there.
        assert_eq!(reader.len(), 2);
        assert!(matches!(reflected.next().await, Some(Ok(Event::InitDone))));
        assert_eq!(reader.len(), 1);
        assert!(reader.get(&ObjectRef::new("gone").within("ns")).is_none());
    }
}
