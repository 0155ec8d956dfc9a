//! Changing the objects of watcher events in flight.

use std::{
    pin::Pin,
    task::{Context, Poll, ready},
};

use futures::{Stream, TryStream};
use pin_project::pin_project;

use crate::watcher::{Error, Event};

/// Applies a function to the object of every event. Made by
/// [`modify`](crate::WatchStreamExt::modify).
#[pin_project]
#[must_use = "streams do nothing unless polled"]
pub struct EventModify<St, F> {
    #[pin]
    stream: St,
    f: F,
}

impl<St, F> EventModify<St, F> {
    pub(crate) fn new(stream: St, f: F) -> Self {
        Self { stream, f }
    }
}

impl<St, F, K> Stream for EventModify<St, F>
where
    St: TryStream<Ok = Event<K>, Error = Error>,
    F: FnMut(&mut K),
{
    type Item = Result<Event<K>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let item = ready!(this.stream.try_poll_next(cx));
        Poll::Ready(item.map(|result| result.map(|event| event.modify(&mut *this.f))))
    }
}
