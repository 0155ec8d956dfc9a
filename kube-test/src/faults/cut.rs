//! Cutting a response body short: after so many bytes or lines, the proxy
//! drops the connection, stalls, ends the body, or ends a watch with
//! `410 Gone`.

use std::{pin::Pin, time::Duration};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http_body::Frame;
use tokio::sync::watch;

use super::server::BoxError;

/// Where a body is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// After this many bytes.
    Bytes(usize),
    /// After this many lines (watch events), their newlines included.
    Lines(usize),
}

/// What happens once the limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The connection is closed without ending the body.
    Drop,
    /// Nothing more is sent until stalls are released.
    Stall,
    /// A watch `ERROR` event with a `410 Gone` status, then the body ends.
    Gone,
    /// The body ends properly, as a watch whose timeout expired does.
    End,
}

/// Counts what has passed and says where the limit falls in each chunk.
#[derive(Debug)]
pub(crate) struct Cutter {
    limit: Limit,
    passed: usize,
}

impl Cutter {
    pub(crate) fn new(limit: Limit) -> Self {
        Self { limit, passed: 0 }
    }

    /// Whether nothing more may pass.
    pub(crate) fn is_reached(&self) -> bool {
        match self.limit {
            Limit::Bytes(n) | Limit::Lines(n) => self.passed >= n,
        }
    }

    /// The part of `chunk` that may pass, and whether the limit is reached
    /// with it.
    pub(crate) fn admit(&mut self, chunk: Bytes) -> (Bytes, bool) {
        match self.limit {
            Limit::Bytes(n) => {
                let room = n.saturating_sub(self.passed);
                if chunk.len() >= room {
                    self.passed = n;
                    (chunk.slice(..room), true)
                } else {
                    self.passed += chunk.len();
                    (chunk, false)
                }
            }
            Limit::Lines(n) => {
                let room = n.saturating_sub(self.passed);
                if room == 0 {
                    return (Bytes::new(), true);
                }
                match memchr::memchr_iter(b'\n', &chunk).nth(room - 1) {
                    Some(end) => {
                        self.passed = n;
                        (chunk.slice(..=end), true)
                    }
                    None => {
                        self.passed += memchr::memchr_iter(b'\n', &chunk).count();
                        (chunk, false)
                    }
                }
            }
        }
    }
}

/// The `ERROR` event the apiserver sends when a watch asks for a resource
/// version that is no longer in its history.
pub(crate) fn gone_event(resource_version: &str) -> Bytes {
    let message = format!("too old resource version: {resource_version}");
    let event = serde_json::json!({
        "type": "ERROR",
        "object": {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": "Expired",
            "code": 410,
        },
    });
    let mut line = event.to_string().into_bytes();
    line.push(b'\n');
    Bytes::from(line)
}

/// The frames of a response body.
pub(crate) type FrameStream = Pin<Box<dyn Stream<Item = Result<Frame<Bytes>, BoxError>> + Send>>;
/// The chunks of an upstream body.
pub(crate) type ChunkStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// How long a dropped body waits for the data before the cut to reach the
/// socket.
const FLUSH_GRACE: Duration = Duration::from_millis(50);

enum Stage {
    Forwarding,
    Reached,
    Finished,
}

struct Cutting {
    upstream: Option<ChunkStream>,
    cutter: Cutter,
    ending: Ending,
    stage: Stage,
    gone: Bytes,
    release: watch::Receiver<u64>,
}

/// `upstream` cut at `limit`, then ended as `ending` says.
pub(crate) fn cut(
    upstream: ChunkStream,
    limit: Limit,
    ending: Ending,
    gone: Bytes,
    release: watch::Receiver<u64>,
) -> FrameStream {
    let state = Cutting {
        upstream: Some(upstream),
        cutter: Cutter::new(limit),
        ending,
        stage: Stage::Forwarding,
        gone,
        release,
    };
    Box::pin(futures::stream::unfold(state, |mut state| async move {
        loop {
            match state.stage {
                Stage::Finished => return None,
                Stage::Reached => {
                    state.stage = Stage::Finished;
                    // The apiserver side of the request is closed now.
                    state.upstream = None;
                    let item = match state.ending {
                        Ending::End => return None,
                        Ending::Gone => Ok(Frame::data(state.gone.clone())),
                        Ending::Drop => {
                            // hyper abandons unwritten data when a body fails:
                            // give it a moment to flush what passed first.
                            tokio::time::sleep(FLUSH_GRACE).await;
                            Err("the fault proxy dropped the connection".into())
                        }
                        Ending::Stall => {
                            wait_for_release(&mut state.release).await;
                            Err("the fault proxy released a stalled connection".into())
                        }
                    };
                    return Some((item, state));
                }
                Stage::Forwarding => {
                    if state.cutter.is_reached() {
                        state.stage = Stage::Reached;
                        continue;
                    }
                    let next = match state.upstream.as_mut() {
                        Some(upstream) => upstream.next().await,
                        None => None,
                    };
                    match next {
                        Some(Ok(chunk)) => {
                            let (pass, reached) = state.cutter.admit(chunk);
                            if reached {
                                state.stage = Stage::Reached;
                            }
                            if !pass.is_empty() {
                                return Some((Ok(Frame::data(pass)), state));
                            }
                        }
                        Some(Err(error)) => {
                            state.stage = Stage::Finished;
                            return Some((Err(error), state));
                        }
                        None => return None,
                    }
                }
            }
        }
    }))
}

/// `frames`, ended with an error (the connection closes) as soon as the proxy
/// is told to disconnect everyone.
pub(crate) fn interruptible(frames: FrameStream, disconnect: watch::Receiver<u64>) -> FrameStream {
    let state = (Some(frames), disconnect);
    Box::pin(futures::stream::unfold(
        state,
        |(frames, mut disconnect)| async move {
            let mut frames = frames?;
            tokio::select! {
                biased;
                _ = disconnect.changed() => {
                    let error: BoxError = "the fault proxy disconnected every client".into();
                    Some((Err(error), (None, disconnect)))
                }
                item = frames.next() => item.map(|item| (item, (Some(frames), disconnect))),
            }
        },
    ))
}

/// Waits until stalls are released (the sender bumps the generation) or the
/// proxy is gone.
pub(crate) async fn wait_for_release(release: &mut watch::Receiver<u64>) {
    // An error means the proxy was dropped: end the stall too.
    let _ = release.changed().await;
}

/// How long a `Delay` fault waits, never more than a day (a mistyped duration
/// should not hold a test forever).
pub(crate) fn bounded_delay(delay: Duration) -> Duration {
    delay.min(Duration::from_secs(24 * 60 * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admit_all(limit: Limit, chunks: &[&'static [u8]]) -> (Vec<u8>, bool) {
        let mut cutter = Cutter::new(limit);
        let mut out = Vec::new();
        let mut reached = cutter.is_reached();
        for chunk in chunks {
            if reached {
                break;
            }
            let (pass, now) = cutter.admit(Bytes::from_static(chunk));
            out.extend_from_slice(&pass);
            reached = now;
        }
        (out, reached)
    }

    #[test]
    fn bytes_are_cut_inside_a_chunk() {
        assert_eq!(
            admit_all(Limit::Bytes(5), &[b"abc", b"defg", b"h"]),
            (b"abcde".to_vec(), true)
        );
        assert_eq!(
            admit_all(Limit::Bytes(3), &[b"abc", b"d"]),
            (b"abc".to_vec(), true)
        );
        assert_eq!(
            admit_all(Limit::Bytes(10), &[b"abc"]),
            (b"abc".to_vec(), false)
        );
        assert_eq!(admit_all(Limit::Bytes(0), &[b"abc"]), (Vec::new(), true));
    }

    #[test]
    fn lines_are_cut_after_their_newline() {
        assert_eq!(
            admit_all(Limit::Lines(2), &[b"{a}\n{b", b"}\n{c}\n"]),
            (b"{a}\n{b}\n".to_vec(), true)
        );
        assert_eq!(
            admit_all(Limit::Lines(1), &[b"{a", b"}", b"\n{b}\n"]),
            (b"{a}\n".to_vec(), true)
        );
        assert_eq!(
            admit_all(Limit::Lines(3), &[b"{a}\n{b}\n"]),
            (b"{a}\n{b}\n".to_vec(), false)
        );
        assert_eq!(admit_all(Limit::Lines(0), &[b"{a}\n"]), (Vec::new(), true));
    }

    #[test]
    fn the_gone_event_is_a_410_status_line() {
        let line = gone_event("42");
        assert!(line.ends_with(b"\n"));
        let event: serde_json::Value = serde_json::from_slice(&line).expect("JSON");
        assert_eq!(event["type"], "ERROR");
        assert_eq!(event["object"]["code"], 410);
        assert_eq!(event["object"]["reason"], "Expired");
        assert_eq!(event["object"]["message"], "too old resource version: 42");
    }

    fn chunks(parts: &[&'static [u8]]) -> ChunkStream {
        let items: Vec<Result<Bytes, BoxError>> =
            parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        Box::pin(futures::stream::iter(items).chain(futures::stream::pending()))
    }

    async fn data(stream: &mut FrameStream) -> Option<Result<Bytes, String>> {
        let frame = stream.next().await?;
        Some(
            frame
                .map(|f| f.into_data().unwrap_or_default())
                .map_err(|e| e.to_string()),
        )
    }

    #[tokio::test]
    async fn a_watch_ends_with_gone_after_its_events() {
        let (_tx, rx) = watch::channel(0);
        let mut body = cut(
            chunks(&[b"{a}\n{b}\n{c}\n"]),
            Limit::Lines(2),
            Ending::Gone,
            gone_event("7"),
            rx,
        );
        assert_eq!(
            data(&mut body).await,
            Some(Ok(Bytes::from_static(b"{a}\n{b}\n")))
        );
        assert_eq!(data(&mut body).await, Some(Ok(gone_event("7"))));
        assert_eq!(data(&mut body).await, None, "the body ends after the error");
    }

    #[tokio::test]
    async fn an_ended_body_finishes_cleanly_after_its_lines() {
        let (_tx, rx) = watch::channel(0);
        let mut body = cut(
            chunks(&[b"{a}\n{b}\n"]),
            Limit::Lines(1),
            Ending::End,
            Bytes::new(),
            rx,
        );
        assert_eq!(
            data(&mut body).await,
            Some(Ok(Bytes::from_static(b"{a}\n")))
        );
        assert_eq!(data(&mut body).await, None, "no error: the body ends");
        let mut empty = cut(
            chunks(&[b"{a}\n"]),
            Limit::Lines(0),
            Ending::End,
            Bytes::new(),
            watch::channel(0).1,
        );
        assert_eq!(data(&mut empty).await, None);
    }

    #[tokio::test]
    async fn a_dropped_body_fails_after_its_bytes() {
        let (_tx, rx) = watch::channel(0);
        let mut body = cut(
            chunks(&[b"0123456789"]),
            Limit::Bytes(4),
            Ending::Drop,
            Bytes::new(),
            rx,
        );
        assert_eq!(data(&mut body).await, Some(Ok(Bytes::from_static(b"0123"))));
        assert!(matches!(data(&mut body).await, Some(Err(_))));
        assert_eq!(data(&mut body).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_waits_until_released() {
        let (tx, rx) = watch::channel(0);
        let mut body = cut(
            chunks(&[b"{a}\n{b}\n"]),
            Limit::Lines(1),
            Ending::Stall,
            Bytes::new(),
            rx,
        );
        assert_eq!(
            data(&mut body).await,
            Some(Ok(Bytes::from_static(b"{a}\n")))
        );
        let held = tokio::time::timeout(Duration::from_secs(3600), body.next()).await;
        assert!(held.is_err(), "nothing is sent while stalled");
        tx.send_modify(|generation| *generation += 1);
        assert!(matches!(data(&mut body).await, Some(Err(_))));
    }

    #[tokio::test]
    async fn a_body_shorter_than_the_limit_ends_normally() {
        let (_tx, rx) = watch::channel(0);
        let upstream: ChunkStream =
            Box::pin(futures::stream::iter([Ok(Bytes::from_static(b"{a}\n"))]));
        let mut body = cut(upstream, Limit::Lines(5), Ending::Gone, gone_event("1"), rx);
        assert_eq!(
            data(&mut body).await,
            Some(Ok(Bytes::from_static(b"{a}\n")))
        );
        assert_eq!(data(&mut body).await, None);
    }

    #[tokio::test]
    async fn a_disconnect_ends_a_body_in_flight() {
        let (tx, rx) = watch::channel(0);
        let frames: FrameStream = Box::pin(chunks(&[b"{a}\n"]).map(|item| item.map(Frame::data)));
        let mut body = interruptible(frames, rx);
        assert_eq!(
            data(&mut body).await,
            Some(Ok(Bytes::from_static(b"{a}\n")))
        );
        tx.send_modify(|generation| *generation += 1);
        assert!(matches!(data(&mut body).await, Some(Err(_))));
        assert_eq!(data(&mut body).await, None);
    }

    #[test]
    fn delays_are_bounded() {
        assert_eq!(
            bounded_delay(Duration::from_secs(2)),
            Duration::from_secs(2)
        );
        assert_eq!(bounded_delay(Duration::MAX), Duration::from_secs(86_400));
    }
}
