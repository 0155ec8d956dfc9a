//! The [`reflector`](crate::reflector::reflector) as a named stream type.

use std::{
    hash::Hash,
    pin::Pin,
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
