//! Turning watcher events into the objects they carry.

use std::{
    pin::Pin,
    task::{Context, Poll, ready},
};

use futures::{Stream, TryStream};
use pin_project::pin_project;

use crate::watcher::{Error, Event};

/// The objects of a watcher's events: applied ones, and deleted ones too when
/// asked. Made by
/// [`applied_objects`](crate::WatchStreamExt::applied_objects) and
/// [`touched_objects`](crate::WatchStreamExt::touched_objects).
#[pin_project]
#[must_use = "streams do nothing unless polled"]
pub struct EventDecode<St> {
    #[pin]
    stream: St,
    emit_deleted: bool,
}

impl<St> EventDecode<St> {
    pub(crate) fn new(stream: St, emit_deleted: bool) -> Self {
        Self {
            stream,
            emit_deleted,
        }
    }
}

impl<St, K> Stream for EventDecode<St>
where
    St: TryStream<Ok = Event<K>, Error = Error>,
{
    type Item = Result<K, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            let object = match ready!(this.stream.as_mut().try_poll_next(cx)) {
                None => return Poll::Ready(None),
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                Some(Ok(Event::Apply(obj) | Event::InitApply(obj))) => obj,
                Some(Ok(Event::Delete(obj))) if *this.emit_deleted => obj,
                Some(Ok(Event::Delete(_) | Event::Init | Event::InitDone)) => continue,
            };
            return Poll::Ready(Some(Ok(object)));
        }
    }
}
