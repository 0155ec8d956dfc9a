//! Entry points for the fuzz targets in `fuzz/`: the watch decoder, which is
//! otherwise only reachable through a live watch, and the decoders of
//! responses with and without `managedFields`. Not a stable API; only built
//! with the `fuzzing` feature.

use bytes::Bytes;
use futures::{StreamExt, stream};
use kube_core::{ObjectList, WatchEvent};
use serde::de::DeserializeOwned;

use super::{
    Body,
    managed_fields::WithoutManagedFields,
    watch::{EventStream, LineSplitter},
};
use crate::Result;
use http_body::Frame;

/// The lines [`LineSplitter`] finds in a body that arrives as `chunks`: every
/// complete non-blank line, then the unterminated rest if it is not blank.
pub fn split_lines(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut splitter = LineSplitter::default();
    let mut lines = Vec::new();
    for chunk in chunks {
        splitter.push(Bytes::copy_from_slice(chunk));
        while let Some(line) = splitter.next_line() {
            lines.push(line.to_vec());
        }
    }
    if let Some(rest) = splitter.finish() {
        lines.push(rest.to_vec());
    }
    lines
}

/// Every item the client's watch stream yields for a body that arrives as
/// `chunks`, decoding events as `K`.
pub fn decode_watch_body<K: DeserializeOwned>(chunks: &[&[u8]]) -> Vec<Result<WatchEvent<K>>> {
    let frames = stream::iter(
        chunks
            .iter()
            .map(|chunk| {
                Ok::<_, crate::error::BoxError>(Frame::data(Bytes::copy_from_slice(chunk)))
            })
            .collect::<Vec<_>>(),
    );
    let body = Body::wrap(http_body_util::StreamBody::new(frames));
    let events = EventStream::<K>::new(body).collect::<Vec<_>>();
    // Every chunk is ready: nothing ever waits.
    let mut events = std::pin::pin!(events);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(items) = events.as_mut().poll(&mut cx) {
            return items;
        }
    }
}

/// Decodes a response body as `T`, as [`Client::request`](crate::Client::request) does.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    super::requests::decode(body)
}

/// Decodes a watch event line, as [`Client::request_events`](crate::Client::request_events) does.
pub fn decode_event<K: DeserializeOwned>(line: &[u8]) -> Result<WatchEvent<K>> {
    super::watch::decode_event(line)
}

/// Decodes an object without its `managedFields`, falling back to the plain
/// decode on failure as the reads without them do.
pub fn decode_object_without_managed_fields<K: DeserializeOwned>(body: &[u8]) -> Result<K> {
    match super::json::from_bytes::<WithoutManagedFields<K>>(body) {
        Ok(object) => Ok(object.0),
        Err(_) => super::requests::decode(body),
    }
}

/// Decodes a list as [`Api::list_without_managed_fields`](crate::Api::list_without_managed_fields) does.
pub fn decode_list_without_managed_fields<K: DeserializeOwned>(
    body: &[u8],
) -> Result<ObjectList<K>> {
    super::managed_fields::decode_list(body)
}

/// Decodes a watch event line as [`Api::watch_without_managed_fields`](crate::Api::watch_without_managed_fields) does.
pub fn decode_event_without_managed_fields<K: DeserializeOwned>(
    line: &[u8],
) -> Result<WatchEvent<K>> {
    super::managed_fields::decode_event(line)
}
