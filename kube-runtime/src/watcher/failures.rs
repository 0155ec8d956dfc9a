//! What the watcher makes of a failure: whether the resource version it used
//! can still be served, whether the apiserver refuses streaming lists, and the
//! errors for watches that break off without the apiserver saying why.
//!
//! Those errors matter for pacing: a server (or a proxy in front of it) that
//! closes every watch at once, or every streaming list before its end, would
//! otherwise be sent one request after another, as fast as it answers. As
//! errors, they go through the backoff around the watcher.

use std::time::Duration;

use kube_client::core::Status;
use tokio::time::Instant;

use super::Error;

/// A watch the server closes sooner than this after opening it, without
/// having sent a single event (bookmarks included), is taken for a failing
/// server rather than for a watch that ran its course. client-go's reflector
/// draws the same line at one second and calls it a "very short watch"; a
/// watch that times out normally lasts its `timeoutSeconds`, minutes.
pub(super) const MIN_WATCH_DURATION: Duration = Duration::from_secs(1);

/// Whether the apiserver said the resource version (or continue token) a
/// request used cannot be served, so only a fresh, consistent list restores a
/// known state: it has expired (`410 Gone`), or it is newer than this
/// apiserver has seen — after a failover to an apiserver that lags behind,
/// where waiting for it to catch up may never end.
pub(super) fn version_unusable(status: &Status) -> bool {
    status.is_gone() || is_too_large_resource_version(status)
}

/// The apiserver's "Too large resource version" answer: a
/// `ResourceVersionTooLarge` cause (Kubernetes 1.19 and later), or a
/// `504 Timeout` that only says so in its messages (1.17 and 1.18).
fn is_too_large_resource_version(status: &Status) -> bool {
    const MESSAGE: &str = "Too large resource version";
    let causes = status
        .details
        .as_ref()
        .map_or(&[][..], |details| &details.causes);
    causes
        .iter()
        .any(|cause| cause.reason == "ResourceVersionTooLarge")
        || (status.code == 504
            && (status.message.contains(MESSAGE)
                || causes.iter().any(|cause| cause.message.contains(MESSAGE))))
}

/// Whether the apiserver refused a streaming list as a request it does not
/// accept — `422 Invalid` from one without the WatchList feature, `400` from
/// one that knows nothing of it — rather than one it cannot serve right now.
/// Retrying would get the same answer: client-go falls back to a paginated
/// list then, and so does the watcher.
pub(super) fn refuses_streaming(err: &kube_client::Error) -> bool {
    err.status()
        .is_some_and(|status| status.is_invalid() || status.code == 400)
}

/// The error for a watch that the server closed without any event, if it did
/// so within [`MIN_WATCH_DURATION`] of `opened`.
pub(super) fn closed_too_soon(opened: Instant) -> Option<Error> {
    let lasted = opened.elapsed();
    (lasted < MIN_WATCH_DURATION).then(|| {
        broken_off(&format!(
            "the watch closed {lasted:?} after it opened, without any event"
        ))
    })
}

/// The error for a streaming list that ended before its initial-events-end
/// bookmark: the state it delivered is incomplete.
pub(super) fn streaming_list_cut_short() -> Error {
    broken_off("the streaming list ended before its initial-events-end bookmark")
}

/// The error for a bookmark without a resource version: a break of the watch
/// protocol, since a bookmark exists only to carry one.
pub(super) fn bookmark_without_version() -> Error {
    broken_off("the apiserver sent a bookmark without a resourceVersion")
}

/// An error the watcher describes itself, with a `Status` that has no HTTP
/// code: it is never taken for a `410 Gone`, so the backoff paces the retry.
fn broken_off(message: &str) -> Error {
    Error::WatchError(Box::new(Status::failure(message, "")))
}

#[cfg(test)]
mod tests {
    use kube_client::core::response::{StatusCause, StatusDetails, reason};

    use super::*;

    fn with_causes(status: Status, causes: Vec<StatusCause>) -> Status {
        status.with_details(StatusDetails {
            causes,
            ..StatusDetails::default()
        })
    }

    fn cause(reason: &str, message: &str) -> StatusCause {
        StatusCause {
            reason: reason.into(),
            message: message.into(),
            field: String::new(),
        }
    }

    #[test]
    fn expired_and_too_large_versions_are_unusable() {
        let gone = Status::failure("too old resource version", reason::EXPIRED).with_code(410);
        assert!(version_unusable(&gone));
        let timeout = || Status::failure("", reason::TIMEOUT).with_code(504);
        let too_large = [
            with_causes(
                timeout(),
                vec![cause(
                    "ResourceVersionTooLarge",
                    "Too large resource version",
                )],
            ),
            with_causes(timeout(), vec![cause("", "Too large resource version")]),
            Status::failure(
                "Too large resource version: 10, current: 7",
                reason::TIMEOUT,
            )
            .with_code(504),
        ];
        for status in too_large {
            assert!(version_unusable(&status), "{status:?}");
        }
    }

    #[test]
    fn other_failures_leave_the_version_usable() {
        let usable = [
            Status::failure(
                "the server was unable to return a response",
                reason::TIMEOUT,
            )
            .with_code(504),
            Status::failure("Too large resource version", reason::INTERNAL_ERROR).with_code(500),
            Status::failure("busy", reason::TOO_MANY_REQUESTS).with_code(429),
            Status::failure("the watch closed at once", ""),
        ];
        for status in usable {
            assert!(!version_unusable(&status), "{status:?}");
        }
    }

    #[test]
    fn only_a_refusal_of_the_request_itself_means_the_server_cannot_stream() {
        let api =
            |code, why| kube_client::Error::Api(Status::failure("", why).with_code(code).boxed());
        assert!(refuses_streaming(&api(422, reason::INVALID)));
        assert!(refuses_streaming(&api(400, reason::BAD_REQUEST)));
        assert!(!refuses_streaming(&api(429, reason::TOO_MANY_REQUESTS)));
        assert!(!refuses_streaming(&api(503, reason::SERVICE_UNAVAILABLE)));
        assert!(!refuses_streaming(&api(403, reason::FORBIDDEN)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_watch_is_closed_too_soon_only_within_the_minimum_duration() {
        let opened = Instant::now();
        tokio::time::advance(MIN_WATCH_DURATION - Duration::from_millis(1)).await;
        let error = closed_too_soon(opened).expect("too soon");
        assert!(!error.means_relist(), "paced by the backoff");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(closed_too_soon(opened).is_none());
    }

    #[test]
    fn errors_the_watcher_makes_are_never_a_410() {
        for error in [streaming_list_cut_short(), bookmark_without_version()] {
            assert!(!error.means_relist(), "{error}");
        }
    }
}
