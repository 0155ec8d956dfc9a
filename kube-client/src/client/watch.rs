//! Decoding a watch response: a chunked body of newline-terminated JSON events.
//!
//! The apiserver writes one [`WatchEvent`] per line. Network chunks do not respect
//! lines: one chunk may hold many events, and one event (a large object) may span
//! many chunks. [`LineSplitter`] finds the lines without copying when an event
//! lies within one chunk, and copies only the pieces of events that straddle chunk
//! boundaries. [`EventStream`] decodes each line as it is asked for the next event,
//! so no more than one decoded event exists at a time.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures::{Stream, ready};
use serde::de::DeserializeOwned;

use super::Body;
use crate::{
    Error, Result,
    error::{BoxError, TransportError},
};
use kube_core::WatchEvent;

/// Splits a sequence of byte chunks into lines.
///
/// Feed a chunk with [`push`](Self::push) once [`next_line`](Self::next_line) has
/// returned `None` for the previous one; at the end of the body,
/// [`finish`](Self::finish) returns what is left of an unterminated last line.
/// Blank lines are skipped.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    /// The current chunk; `chunk[pos..]` is not yet consumed.
    chunk: Bytes,
    pos: usize,
    /// The beginning of a line that started in an earlier chunk.
    partial: Vec<u8>,
    /// `partial` held the line returned last; clear it before going on.
    partial_returned: bool,
}

impl LineSplitter {
    /// Adds the next chunk of the body. The previous chunk must be consumed.
    pub(crate) fn push(&mut self, chunk: Bytes) {
        debug_assert!(self.pos == self.chunk.len(), "previous chunk not consumed");
        self.chunk = chunk;
        self.pos = 0;
    }

    /// The next complete, non-blank line (without its `\n`), or `None` when the
    /// current chunk is used up and more data is needed.
    pub(crate) fn next_line(&mut self) -> Option<&[u8]> {
        if self.partial_returned {
            self.reset_partial();
        }
        loop {
            let rest = &self.chunk[self.pos..];
            if rest.is_empty() {
                return None;
            }
            let Some(offset) = memchr::memchr(b'\n', rest) else {
                self.partial.extend_from_slice(rest);
                self.pos = self.chunk.len();
                return None;
            };
            let start = self.pos;
            let end = start + offset;
            self.pos = end + 1;
            if !self.partial.is_empty() {
                self.partial.extend_from_slice(&self.chunk[start..end]);
                if is_blank(&self.partial) {
                    self.partial.clear();
                    continue;
                }
                self.partial_returned = true;
                return Some(&self.partial);
            }
            let line = &self.chunk[start..end];
            if !is_blank(line) {
                return Some(&self.chunk[start..end]);
            }
        }
    }

    /// How many bytes of an unfinished line are held.
    pub(crate) fn partial_len(&self) -> usize {
        if self.partial_returned {
            0
        } else {
            self.partial.len()
        }
    }

    /// At the end of the body: the unterminated last line, if it is not blank.
    pub(crate) fn finish(&mut self) -> Option<&[u8]> {
        if self.partial_returned {
            self.reset_partial();
        }
        if is_blank(&self.partial) {
            return None;
        }
        self.partial_returned = true;
        Some(&self.partial)
    }
}

impl LineSplitter {
    /// Most lines fit in one chunk; a buffer grown for a rare huge event is not
    /// kept for the rest of a long watch.
    const KEPT_CAPACITY: usize = 4 << 20;

    fn reset_partial(&mut self) {
        self.partial.clear();
        self.partial_returned = false;
        if self.partial.capacity() > Self::KEPT_CAPACITY {
            self.partial.shrink_to(64 << 10);
        }
    }
}

/// Whether a line holds only whitespace. Stops at the first other byte, so a JSON
/// line costs one comparison.
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// The longest watch event line the client reads: 64 MiB. The apiserver
/// refuses objects larger than about 1.5 MiB (etcd's limit), so a longer line
/// is not a watch event; [`Error::LinesCodecMaxLineLengthExceeded`] ends the
/// watch instead of letting memory grow without bound.
pub const MAX_WATCH_LINE: usize = 64 << 20;

/// Decodes one line as a watch event.
///
/// A line that is not an event but a bare `Status` (as some proxies and old
/// servers send when a watch fails) becomes [`Error::Api`].
pub(crate) fn decode_event<K: DeserializeOwned>(line: &[u8]) -> Result<WatchEvent<K>> {
    super::json::from_bytes(line).map_err(|source| {
        if let Ok(status) = serde_json::from_slice::<kube_core::Status>(line)
            && status.code != 0
        {
            return Error::Api(Box::new(status));
        }
        crate::error::decode_error(
            format_args!(
                "a watch event as WatchEvent<{}>",
                crate::error::short_type_name::<K>()
            ),
            &source,
        )
    })
}

/// The events of a watch response body.
///
/// Yields `Err` and then ends when the body fails, when a line is not a valid
/// event (as client-go does: the caller restarts the watch from the last
/// resource version it saw), when a line grows too long, or when the body ends
/// in the middle of an event.
pub(crate) struct EventStream<K> {
    body: Option<Body>,
    lines: LineSplitter,
    decode: fn(&[u8]) -> Result<WatchEvent<K>>,
}

impl<K: DeserializeOwned> EventStream<K> {
    /// Decodes the events of `body`.
    pub(crate) fn new(body: Body) -> Self {
        Self::decoding_with(body, decode_event)
    }
}

impl<K> EventStream<K> {
    /// Decodes the events of `body` with `decode`.
    pub(crate) fn decoding_with(body: Body, decode: fn(&[u8]) -> Result<WatchEvent<K>>) -> Self {
        Self {
            body: Some(body),
            lines: LineSplitter::default(),
            decode,
        }
    }
}

impl<K> Stream for EventStream<K> {
    type Item = Result<WatchEvent<K>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let Some(body) = this.body.as_mut() else {
                return Poll::Ready(None);
            };
            if let Some(line) = this.lines.next_line() {
                let event = (this.decode)(line);
                if event.is_err() {
                    this.body = None;
                }
                return Poll::Ready(Some(event));
            }
            if this.lines.partial_len() >= MAX_WATCH_LINE {
                this.body = None;
                return Poll::Ready(Some(Err(Error::LinesCodecMaxLineLengthExceeded)));
            }
            match ready!(body.poll_raw_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(chunk) = frame.into_data() {
                        this.lines.push(chunk);
                    }
                }
                Some(Err(error)) => {
                    this.body = None;
                    return Poll::Ready(Some(Err(read_error(error))));
                }
                None => {
                    this.body = None;
                    let Some(rest) = this.lines.finish() else {
                        return Poll::Ready(None);
                    };
                    // A complete event that only lacks its newline is still an event.
                    let len = rest.len();
                    let event = (this.decode)(rest).map_err(|_| {
                        Error::ReadEvents(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!(
                                "the watch stream ended in the middle of an event ({len} bytes without a final newline); start a new watch from the last resource version seen"
                            ),
                        ))
                    });
                    return Poll::Ready(Some(event));
                }
            }
        }
    }
}

/// The error of a watch whose body failed: [`Error::ReadEvents`] around what
/// the stack reported, or this crate's own error where a layer returned one.
fn read_error(error: BoxError) -> Error {
    let error = match error.downcast::<Error>() {
        Ok(error) => return *error,
        Err(error) => error,
    };
    let kind = match error.downcast_ref::<TransportError>() {
        Some(TransportError::Timeout { .. }) => io::ErrorKind::TimedOut,
        _ => io::ErrorKind::Other,
    };
    Error::ReadEvents(io::Error::new(kind, error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{StreamExt, stream};
    use http_body::Frame;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube_core::ResourceExt;

    fn event(kind: &str, name: &str, rv: u32) -> String {
        format!(
            r#"{{"type":"{kind}","object":{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}","resourceVersion":"{rv}"}},"data":{{"k":"line one\nline two"}}}}}}"#
        )
    }

    fn payload() -> String {
        let mut body = String::new();
        body.push_str(&event("ADDED", "a", 1));
        body.push('\n');
        body.push('\n'); // a blank line is skipped
        body.push_str(&event("MODIFIED", "a", 2));
        body.push_str("\r\n");
        body.push_str(
            r#"{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"3"}}}"#,
        );
        body.push('\n');
        body.push_str(&event("DELETED", "a", 4));
        body.push('\n');
        body.push_str(
            r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}"#,
        );
        body.push('\n');
        body
    }

    fn summarize(events: Vec<Result<WatchEvent<ConfigMap>>>) -> Vec<String> {
        events
            .into_iter()
            .map(|e| match e {
                Ok(WatchEvent::Added(o)) => {
                    format!("ADDED {}", o.resource_version().unwrap_or_default())
                }
                Ok(WatchEvent::Modified(o)) => {
                    format!("MODIFIED {}", o.resource_version().unwrap_or_default())
                }
                Ok(WatchEvent::Deleted(o)) => {
                    format!("DELETED {}", o.resource_version().unwrap_or_default())
                }
                Ok(WatchEvent::Bookmark(b)) => format!("BOOKMARK {}", b.metadata.resource_version),
                Ok(WatchEvent::Error(s)) => format!("ERROR {}", s.code),
                Err(e) => format!("Err {e}"),
            })
            .collect()
    }

    fn decode(chunks: Vec<Vec<u8>>) -> Vec<Result<WatchEvent<ConfigMap>>> {
        let frames = stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, BoxError>(Frame::data(Bytes::from(c)))),
        );
        block_on(EventStream::<ConfigMap>::new(body_of(frames)).collect::<Vec<_>>())
    }

    fn body_of<S>(frames: S) -> Body
    where
        S: futures::Stream<Item = std::result::Result<Frame<Bytes>, BoxError>> + Send + 'static,
    {
        Body::wrap(http_body_util::StreamBody::new(frames))
    }

    /// Drives a future that never waits on I/O (the test streams are ready).
    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
        }
    }

    const EXPECTED: [&str; 5] = [
        "ADDED 1",
        "MODIFIED 2",
        "BOOKMARK 3",
        "DELETED 4",
        "ERROR 410",
    ];

    #[test]
    fn every_split_point_yields_the_same_events() {
        let body = payload().into_bytes();
        for cut in 0..=body.len() {
            let chunks = vec![body[..cut].to_vec(), body[cut..].to_vec()];
            assert_eq!(summarize(decode(chunks)), EXPECTED, "split at byte {cut}");
        }
    }

    #[test]
    fn every_pair_of_split_points_yields_the_same_events() {
        let body = payload().into_bytes();
        // Three chunks, cutting at every pair of offsets (a stride keeps it quick
        // while still landing on every byte position for the first cut).
        for first in 0..=body.len() {
            for second in (first..=body.len()).step_by(7) {
                let chunks = vec![
                    body[..first].to_vec(),
                    body[first..second].to_vec(),
                    body[second..].to_vec(),
                ];
                assert_eq!(
                    summarize(decode(chunks)),
                    EXPECTED,
                    "split at {first} and {second}"
                );
            }
        }
    }

    #[test]
    fn one_byte_chunks_yield_the_same_events() {
        let chunks = payload()
            .into_bytes()
            .into_iter()
            .map(|b| vec![b])
            .collect();
        assert_eq!(summarize(decode(chunks)), EXPECTED);
    }

    #[test]
    fn a_large_event_across_many_chunks_decodes() {
        let value = "v".repeat(24 * 1024 * 1024);
        let line = format!(
            r#"{{"type":"ADDED","object":{{"metadata":{{"name":"big","resourceVersion":"7"}},"data":{{"k":"{value}"}}}}}}"#
        );
        let mut body = line.into_bytes();
        body.push(b'\n');
        body.extend_from_slice(event("DELETED", "big", 8).as_bytes());
        body.push(b'\n');
        let chunks = body.chunks(16 * 1024).map(<[u8]>::to_vec).collect();
        let events = decode(chunks);
        match &events[0] {
            Ok(WatchEvent::Added(cm)) => {
                let data = cm.data.as_ref().and_then(|d| d.get("k"));
                assert_eq!(data.map(String::len), Some(24 * 1024 * 1024));
            }
            other => panic!("expected the large ADDED event, got {other:?}"),
        }
        assert_eq!(summarize(events)[1..], ["DELETED 8"]);
    }

    #[test]
    fn garbage_ends_the_stream_with_where_it_went_wrong() {
        let mut body = event("ADDED", "a", 1);
        body.push('\n');
        body.push_str(&format!("<html>{}</html>\n", "z".repeat(1000)));
        body.push_str(&event("DELETED", "a", 2));
        body.push('\n');
        let events = decode(vec![body.into_bytes()]);
        assert_eq!(events.len(), 2, "the stream ends at the bad line");
        let err = events[1].as_ref().expect_err("garbage");
        let text = err.to_string();
        assert!(text.contains("as WatchEvent<ConfigMap>"), "{text}");
        assert!(text.contains("line 1 column 1"), "{text}");
        assert!(!text.contains("zzz"), "the line is not quoted: {text}");
    }

    #[test]
    fn a_body_ending_mid_event_is_reported() {
        let body = payload();
        let cut = body.len() - 20;
        let events = decode(vec![body.as_bytes()[..cut].to_vec()]);
        let summary = summarize(events);
        assert_eq!(summary[..4], EXPECTED[..4]);
        assert!(
            summary[4].starts_with(
                "Err reading the watch stream failed: the watch stream ended in the middle of an event"
            ),
            "{}",
            summary[4]
        );
    }

    #[test]
    fn a_final_event_without_newline_is_still_delivered() {
        let body = event("ADDED", "a", 1);
        assert_eq!(summarize(decode(vec![body.into_bytes()])), ["ADDED 1"]);
    }

    #[test]
    fn empty_and_blank_bodies_yield_nothing() {
        assert!(decode(vec![]).is_empty());
        assert!(decode(vec![b"\n\n  \r\n".to_vec(), b"  ".to_vec()]).is_empty());
    }

    #[test]
    fn transport_errors_end_the_stream() {
        let mut first = event("ADDED", "a", 1).into_bytes();
        first.push(b'\n');
        let frames = stream::iter(vec![
            Ok(Frame::data(Bytes::from(first))),
            Err(Box::new(TransportError::Broken {
                server: "https://k".into(),
                method: http::Method::GET,
                path: "/api/v1/configmaps".into(),
                source: "connection reset".into(),
            }) as BoxError),
            Ok(Frame::data(Bytes::from_static(b"never read\n"))),
        ]);
        let events = block_on(EventStream::<ConfigMap>::new(body_of(frames)).collect::<Vec<_>>());
        assert_eq!(events.len(), 2);
        let err = events[1].as_ref().expect_err("broken");
        assert!(matches!(err, Error::ReadEvents(_)), "{err:?}");
        assert!(
            matches!(err.transport(), Some(TransportError::Broken { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn a_line_without_end_is_refused_at_the_limit() {
        let chunk = Bytes::from(vec![b'x'; 1 << 20]);
        let frames =
            stream::iter(std::iter::repeat_n(chunk, 80).map(|c| Ok::<_, BoxError>(Frame::data(c))));
        let events = block_on(EventStream::<ConfigMap>::new(body_of(frames)).collect::<Vec<_>>());
        assert_eq!(events.len(), 1);
        assert!(
            matches!(events[0], Err(Error::LinesCodecMaxLineLengthExceeded)),
            "{:?}",
            events[0]
        );
        assert!(
            events[0]
                .as_ref()
                .expect_err("too long")
                .to_string()
                .contains("64 MiB")
        );
    }

    #[test]
    fn a_bare_status_line_is_an_api_error() {
        let line = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old","reason":"Expired","code":410}"#;
        let err = decode_event::<ConfigMap>(line).expect_err("not an event");
        assert!(err.status().is_some_and(|s| s.code == 410), "{err:?}");
    }

    #[test]
    fn decode_errors_do_not_quote_the_event() {
        let line = br#"{"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"password":42}}}"#;
        let err = decode_event::<ConfigMap>(line).expect_err("not a string");
        let text = err.to_string();
        assert!(text.contains("WatchEvent<ConfigMap>"), "{text}");
        assert!(!text.contains("42"), "{text}");
        assert!(matches!(err, Error::SerdeError(_)));
    }

    #[test]
    fn splitter_returns_borrowed_lines_from_one_chunk() {
        let mut lines = LineSplitter::default();
        lines.push(Bytes::from_static(b"one\ntwo\nthr"));
        assert_eq!(lines.next_line(), Some(&b"one"[..]));
        assert_eq!(lines.next_line(), Some(&b"two"[..]));
        assert_eq!(lines.next_line(), None);
        lines.push(Bytes::from_static(b"ee\n\nfour"));
        assert_eq!(lines.next_line(), Some(&b"three"[..]));
        assert_eq!(lines.next_line(), None);
        assert_eq!(lines.finish(), Some(&b"four"[..]));
        assert_eq!(lines.finish(), None);
    }
}
