//! The watcher's state machine: one step per emitted event.
//!
//! The machine is generic over [`ListWatch`], so its transitions can be tested
//! with scripted list and watch responses, without a server.
//!
//! While a page of a paginated list is emitted, the next page is already
//! requested: the apiserver reads and encodes it while the consumer handles the
//! current one, instead of the two taking turns. At most one page is fetched
//! ahead, so memory grows by one page at most.
//!
//! A server that breaks a watch off without saying why gets an error for it
//! (see [`failures`](super::failures)), so that the backoff around the watcher
//! paces the retries.

use std::{future::Future, sync::Arc, task::Poll};

use futures::{Stream, StreamExt, future::BoxFuture, stream::BoxStream};
use kube_client::core::{
    ObjectList, Resource, Status, WatchEvent,
    params::{ListParams, WatchParams},
};
use tokio::time::Instant;
use tracing::{debug, warn};

use super::{Config, Error, Event, InitialListStrategy, failures};

/// The two requests a watcher makes.
pub(crate) trait ListWatch: Send + Sync + 'static {
    /// What the collection holds: full objects or metadata only.
    type Value: Resource + Clone + Send + 'static;

    /// Lists one page.
    fn list(
        &self,
        lp: &ListParams,
    ) -> impl Future<Output = kube_client::Result<ObjectList<Self::Value>>> + Send;

    /// Starts a watch from `version`.
    fn watch(
        &self,
        wp: &WatchParams,
        version: &str,
    ) -> impl Future<
        Output = kube_client::Result<
            BoxStream<'static, kube_client::Result<WatchEvent<Self::Value>>>,
        >,
    > + Send;
}

type EventStream<V> = BoxStream<'static, kube_client::Result<WatchEvent<V>>>;

/// The next page of a paginated list, requested ahead of need.
enum NextPage<V> {
    /// Not answered yet; `sent` once the request had its chance to go out.
    Pending {
        request: BoxFuture<'static, kube_client::Result<ObjectList<V>>>,
        sent: bool,
    },
    /// Answered.
    Answered(kube_client::Result<ObjectList<V>>),
}

impl<V> NextPage<V> {
    /// Requests the page after `continue_token` (the request starts when first
    /// sent or awaited).
    fn request<A: ListWatch<Value = V>>(
        api: &Arc<A>,
        config: &Config,
        continue_token: &str,
    ) -> Self {
        let api = Arc::clone(api);
        let params = config.next_page_params(continue_token);
        NextPage::Pending {
            request: Box::pin(async move { api.list(&params).await }),
            sent: false,
        }
    }

    /// Sends the request without waiting for the answer. Only the first call
    /// does anything: polling the request again for every emitted object would
    /// cost more than it gains, and the answer is read when it is awaited.
    async fn send(&mut self) {
        let NextPage::Pending { request, sent } = self else {
            return;
        };
        if *sent {
            return;
        }
        *sent = true;
        if let Poll::Ready(answer) = futures::poll!(request.as_mut()) {
            *self = NextPage::Answered(answer);
            return;
        }
        // A consumer that keeps up takes a whole page without ever waiting, so
        // on a single-threaded runtime the connection's task would not get to
        // write the request until the page is done. Yielding once lets it go
        // out now, and the server works on it in the meantime.
        tokio::task::yield_now().await;
    }

    /// Waits for the answer.
    async fn answer(self) -> kube_client::Result<ObjectList<V>> {
        match self {
            NextPage::Pending { request, .. } => request.await,
            NextPage::Answered(answer) => answer,
        }
    }
}

/// Where the watcher is.
enum State<V> {
    /// Nothing is known: the next step (re)lists from scratch. After a
    /// `410 Gone`, the list must be a consistent read even with
    /// [`ListSemantic::Any`]: a cached list could be older than what was already
    /// seen, and would move consumers back in time.
    Empty { consistent: bool },
    /// A paginated list is under way; the next page continues from the token
    /// and may already be requested.
    NextPage {
        continue_token: String,
        requested: Option<NextPage<V>>,
    },
    /// A page is being emitted, one object per step, while the next one (if
    /// any) is requested.
    Emitting {
        items: std::vec::IntoIter<V>,
        next: Option<(String, NextPage<V>)>,
        resource_version: Option<String>,
    },
    /// The state is known as of `resource_version`: the next step watches from
    /// there.
    Listed { resource_version: String },
    /// A streaming list is delivering the initial state. `consistent` is the
    /// read it asked for: a retry after an interruption asks for the same, so
    /// a relist after `410 Gone` never falls back to the cache.
    InitialEvents {
        stream: EventStream<V>,
        consistent: bool,
    },
    /// Changes are streaming in; `resource_version` is the newest seen.
    /// `quiet_since` is when the watch opened, as long as it has delivered
    /// nothing.
    Watching {
        stream: EventStream<V>,
        resource_version: String,
        quiet_since: Option<Instant>,
    },
}

impl<V> State<V> {
    const START: Self = State::Empty { consistent: false };
    const RELIST: Self = State::Empty { consistent: true };
}

/// Runs the machine as an endless stream of events.
pub(crate) fn run<A: ListWatch>(
    api: A,
    config: Config,
) -> impl Stream<Item = super::Result<Event<A::Value>>> + Send {
    futures::stream::unfold(
        (Arc::new(api), config, State::START),
        |(api, config, state)| async move {
            let (event, next) = step(&api, &config, state).await;
            Some((event, (api, config, next)))
        },
    )
}

fn version_of<V: Resource>(obj: &V) -> Option<&str> {
    obj.meta().resource_version.as_deref()
}

/// Where to go after a failure the apiserver described with `status` (if it
/// did): a fresh consistent list when the version used cannot be served,
/// `otherwise` when it can.
fn after_failure<V>(status: Option<&Status>, otherwise: State<V>) -> State<V> {
    if status.is_some_and(failures::version_unusable) {
        State::RELIST
    } else {
        otherwise
    }
}

/// Advances until there is something to emit.
async fn step<A: ListWatch>(
    api: &Arc<A>,
    config: &Config,
    mut state: State<A::Value>,
) -> (super::Result<Event<A::Value>>, State<A::Value>) {
    loop {
        state = match state {
            State::Empty { consistent } => {
                if config.initial_list_strategy == InitialListStrategy::StreamingList {
                    let version = config.streaming_list_version(consistent);
                    match api.watch(&config.watch_params(true), version).await {
                        Ok(stream) => {
                            let next = State::InitialEvents { stream, consistent };
                            return (Ok(Event::Init), next);
                        }
                        // A paginated list below gets the state instead.
                        Err(err) if failures::refuses_streaming(&err) => {
                            warn!(error = %err, "the apiserver refused a streaming list; listing instead");
                        }
                        Err(err) => {
                            let next = after_failure(err.status(), State::Empty { consistent });
                            return (Err(Error::WatchStartFailed(err)), next);
                        }
                    }
                }
                match api.list(&config.first_page_params(consistent)).await {
                    Ok(page) => return (Ok(Event::Init), emitting(api, config, page)),
                    Err(err) => {
                        let next = after_failure(err.status(), State::Empty { consistent });
                        return (Err(Error::InitialListFailed(err)), next);
                    }
                }
            }

            State::NextPage {
                continue_token,
                requested,
            } => {
                let requested =
                    requested.unwrap_or_else(|| NextPage::request(api, config, &continue_token));
                match requested.answer().await {
                    Ok(page) => emitting(api, config, page),
                    Err(err) => {
                        // An expired continue token means the list must start over;
                        // anything else asks for the same page again.
                        let retry = State::NextPage {
                            continue_token,
                            requested: None,
                        };
                        let next = after_failure(err.status(), retry);
                        return (Err(Error::InitialListFailed(err)), next);
                    }
                }
            }

            State::Emitting {
                mut items,
                mut next,
                resource_version,
            } => {
                if let Some(obj) = items.next() {
                    if let Some((_, page)) = &mut next {
                        page.send().await;
                    }
                    let next = State::Emitting {
                        items,
                        next,
                        resource_version,
                    };
                    return (Ok(Event::InitApply(obj)), next);
                }
                match (next, resource_version) {
                    (Some((continue_token, page)), _) => State::NextPage {
                        continue_token,
                        requested: Some(page),
                    },
                    (None, Some(resource_version)) => {
                        return (Ok(Event::InitDone), State::Listed { resource_version });
                    }
                    (None, None) => return (Err(Error::NoResourceVersion), State::START),
                }
            }

            State::Listed { resource_version } => {
                match api
                    .watch(&config.watch_params(false), &resource_version)
                    .await
                {
                    Ok(stream) => State::Watching {
                        stream,
                        resource_version,
                        quiet_since: Some(Instant::now()),
                    },
                    Err(err) => {
                        let next = after_failure(err.status(), State::Listed { resource_version });
                        return (Err(Error::WatchStartFailed(err)), next);
                    }
                }
            }

            State::InitialEvents {
                mut stream,
                consistent,
            } => match stream.next().await {
                Some(Ok(WatchEvent::Added(obj) | WatchEvent::Modified(obj))) => {
                    let next = State::InitialEvents { stream, consistent };
                    return (Ok(Event::InitApply(obj)), next);
                }
                // The apiserver sends the initial state as ADDED events, but a
                // change that comes before the end bookmark is passed on as
                // client-go's reflector takes it: the consumers collecting the
                // initial state drop the object.
                Some(Ok(WatchEvent::Deleted(obj))) => {
                    let next = State::InitialEvents { stream, consistent };
                    return (Ok(Event::Delete(obj)), next);
                }
                Some(Ok(WatchEvent::Bookmark(bookmark))) if bookmark.is_initial_events_end() => {
                    if bookmark.metadata.resource_version.is_empty() {
                        // Nothing to watch from: the list must be taken again.
                        let error = failures::bookmark_without_version();
                        return (Err(error), State::Empty { consistent });
                    }
                    let next = State::Watching {
                        stream,
                        resource_version: bookmark.metadata.resource_version,
                        quiet_since: None,
                    };
                    return (Ok(Event::InitDone), next);
                }
                Some(Ok(WatchEvent::Bookmark(_))) => State::InitialEvents { stream, consistent },
                // The initial state is incomplete: only a new streaming list can
                // complete it.
                Some(Ok(WatchEvent::Error(status))) => {
                    let next = after_failure(Some(&status), State::Empty { consistent });
                    return (Err(Error::WatchError(Box::new(status))), next);
                }
                Some(Err(err)) => {
                    let next = after_failure(err.status(), State::Empty { consistent });
                    return (Err(Error::WatchFailed(err)), next);
                }
                None => {
                    let error = failures::streaming_list_cut_short();
                    return (Err(error), State::Empty { consistent });
                }
            },

            State::Watching {
                mut stream,
                mut resource_version,
                quiet_since,
            } => match stream.next().await {
                Some(Ok(WatchEvent::Added(obj) | WatchEvent::Modified(obj))) => {
                    remember_version(&mut resource_version, &obj);
                    let next = State::Watching {
                        stream,
                        resource_version,
                        quiet_since: None,
                    };
                    return (Ok(Event::Apply(obj)), next);
                }
                Some(Ok(WatchEvent::Deleted(obj))) => {
                    remember_version(&mut resource_version, &obj);
                    let next = State::Watching {
                        stream,
                        resource_version,
                        quiet_since: None,
                    };
                    return (Ok(Event::Delete(obj)), next);
                }
                Some(Ok(WatchEvent::Bookmark(bookmark))) => {
                    if bookmark.metadata.resource_version.is_empty() {
                        // A watch from "" would start at the newest version and
                        // skip whatever happened since `resource_version`;
                        // only a list restores a known state.
                        return (Err(failures::bookmark_without_version()), State::RELIST);
                    }
                    State::Watching {
                        stream,
                        resource_version: bookmark.metadata.resource_version,
                        quiet_since: None,
                    }
                }
                Some(Ok(WatchEvent::Error(status))) => {
                    if failures::version_unusable(&status) {
                        debug!(%status, "the resource version cannot be served; listing again");
                    }
                    let next = after_failure(Some(&status), State::Listed { resource_version });
                    return (Err(Error::WatchError(Box::new(status))), next);
                }
                Some(Err(err)) => {
                    let next = after_failure(err.status(), State::Listed { resource_version });
                    return (Err(Error::WatchFailed(err)), next);
                }
                None => {
                    let next = State::Listed { resource_version };
                    if let Some(error) = quiet_since.and_then(failures::closed_too_soon) {
                        return (Err(error), next);
                    }
                    debug!("watch ended; resuming");
                    next
                }
            },
        };
    }
}

/// Records the version of an object seen while watching, reusing the string's
/// allocation (this runs for every event). An object without a version leaves
/// the last one in place: an empty version would mean "from now" to the next
/// watch, and lose whatever happens in between.
fn remember_version<V: Resource>(resource_version: &mut String, obj: &V) {
    if let Some(version) = version_of(obj).filter(|version| !version.is_empty()) {
        resource_version.clear();
        resource_version.push_str(version);
    }
}

/// Starts emitting a listed page, and requests the next one if there is one.
fn emitting<A: ListWatch>(
    api: &Arc<A>,
    config: &Config,
    page: ObjectList<A::Value>,
) -> State<A::Value> {
    let next = page
        .metadata
        .continue_
        .filter(|token| !token.is_empty())
        .map(|token| {
            let request = NextPage::request(api, config, &token);
            (token, request)
        });
    State::Emitting {
        items: page.items.into_iter(),
        next,
        resource_version: page
            .metadata
            .resource_version
            .filter(|version| !version.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::{StreamExt, pin_mut};
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube_client::core::{Status, response::reason};

    use super::*;
    use crate::{
        WatchStreamExt,
        watcher::script::{Script, api_error, bookmark, cm, gone, page, requests_within, take},
    };

    #[tokio::test(start_paused = true)]
    async fn lists_pages_then_watches_from_the_list_version() {
        let script = Script::default()
            .list(Ok(page(vec![cm("a", "1")], "10", Some("p2"))))
            .list(Ok(page(vec![cm("b", "2")], "10", None)))
            .watch_open(vec![
                Ok(WatchEvent::Added(cm("c", "11"))),
                Ok(WatchEvent::Modified(cm("a", "12"))),
                Ok(WatchEvent::Deleted(cm("b", "13"))),
            ]);
        let seen = take(&script, Config::default(), 7).await;
        assert_eq!(
            seen,
            [
                "Init",
                "InitApply(a)",
                "InitApply(b)",
                "InitDone",
                "Apply(c)",
                "Apply(a)",
                "Delete(b)"
            ]
        );
        assert_eq!(
            script.requests(),
            [
                "list rv=- continue=-",
                "list rv=- continue=p2",
                "watch rv=10 initial=false bookmarks=true"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn rewatches_from_the_last_version_when_the_server_ends_the_watch() {
        let script = Script::default()
            .list(Ok(page(vec![], "10", None)))
            .watch(vec![Ok(WatchEvent::Added(cm("a", "11")))])
            .watch_open(vec![Ok(WatchEvent::Modified(cm("a", "12")))]);
        let seen = take(&script, Config::default(), 4).await;
        assert_eq!(seen, ["Init", "InitDone", "Apply(a)", "Apply(a)"]);
        assert_eq!(
            script.requests(),
            [
                "list rv=- continue=-",
                "watch rv=10 initial=false bookmarks=true",
                "watch rv=11 initial=false bookmarks=true"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn bookmarks_advance_the_resume_version() {
        let script = Script::default()
            .list(Ok(page(vec![], "10", None)))
            .watch(vec![Ok(bookmark("50", false))])
            .watch_open(vec![Ok(WatchEvent::Added(cm("a", "51")))]);
        let seen = take(&script, Config::default(), 3).await;
        // Closed at once, but after an event: a watch that did its job, no error.
        assert_eq!(seen, ["Init", "InitDone", "Apply(a)"]);
        assert_eq!(
            script.requests()[2],
            "watch rv=50 initial=false bookmarks=true"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn relists_after_410_gone() {
        let script = Script::default()
            .list(Ok(page(vec![cm("a", "1")], "10", None)))
            .watch(vec![Ok(WatchEvent::Error(gone()))])
            .list(Ok(page(vec![cm("b", "5")], "20", None)))
            .watch_open(vec![Ok(WatchEvent::Added(cm("c", "21")))]);
        let seen = take(&script, Config::default(), 8).await;
        assert_eq!(seen[..3], ["Init", "InitApply(a)", "InitDone"]);
        assert!(
            seen[3].starts_with("Err(the watch ended with an error: Expired (410)"),
            "{}",
            seen[3]
        );
        assert_eq!(seen[4..], ["Init", "InitApply(b)", "InitDone", "Apply(c)"]);
        assert_eq!(
            script.requests(),
            [
                "list rv=- continue=-",
                "watch rv=10 initial=false bookmarks=true",
                "list rv=- continue=-",
                "watch rv=20 initial=false bookmarks=true"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn relists_when_watch_start_is_gone() {
        let script = Script::default()
            .list(Ok(page(vec![], "10", None)))
            .watch_fails(api_error(410, reason::GONE))
            .list(Ok(page(vec![cm("x", "30")], "30", None)))
            .watch_open(vec![]);
        let seen = take(&script, Config::default(), 6).await;
        assert_eq!(seen[0..2], ["Init", "InitDone"]);
        assert!(
            seen[2].starts_with("Err(failed to start a watch"),
            "{}",
            seen[2]
        );
        assert_eq!(seen[3..6], ["Init", "InitApply(x)", "InitDone"]);
        assert_eq!(script.requests()[2], "list rv=- continue=-");
    }

    #[tokio::test(start_paused = true)]
    async fn restarts_the_list_when_the_continue_token_expires() {
        let script = Script::default()
            .list(Ok(page(vec![cm("a", "1")], "10", Some("p2"))))
            .list(Err(api_error(410, reason::EXPIRED)))
            .list(Ok(page(vec![cm("a", "1"), cm("b", "2")], "11", None)))
            .watch_open(vec![]);
        let seen = take(&script, Config::default(), 7).await;
        assert_eq!(seen[0..2], ["Init", "InitApply(a)"]);
        assert!(
            seen[2].starts_with("Err(failed to list the collection"),
            "{}",
            seen[2]
        );
        assert_eq!(
            seen[3..7],
            ["Init", "InitApply(a)", "InitApply(b)", "InitDone"]
        );
        assert_eq!(
            script.requests()[..3],
            [
                "list rv=- continue=-",
                "list rv=- continue=p2",
                "list rv=- continue=-"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn requests_the_next_page_while_emitting_the_current_one() {
        let script = Script::default()
            .list(Ok(page(vec![cm("a", "1"), cm("b", "2")], "10", Some("p2"))))
            .list(Ok(page(vec![cm("c", "3")], "10", None)))
            .watch_open(vec![]);
        let seen = take(&script, Config::default(), 2).await;
        assert_eq!(seen, ["Init", "InitApply(a)"]);
        assert_eq!(
            script.requests(),
            ["list rv=- continue=-", "list rv=- continue=p2"],
            "the second page is asked for before the first is fully emitted, the third not yet"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn pages_arrive_in_order_with_one_page_requested_ahead() {
        let script = Script::default()
            .list(Ok(page(vec![cm("a", "1")], "10", Some("p2"))))
            .list(Ok(page(vec![cm("b", "2")], "10", Some("p3"))))
            .list(Ok(page(vec![cm("c", "3")], "10", None)))
            .watch_open(vec![]);
        let seen = take(&script, Config::default(), 3).await;
        assert_eq!(seen, ["Init", "InitApply(a)", "InitApply(b)"]);
        assert_eq!(
            script.requests(),
            [
                "list rv=- continue=-",
                "list rv=- continue=p2",
                "list rv=- continue=p3"
            ],
        );
        let script = Script::default()
            .list(Ok(page(vec![cm("a", "1")], "10", Some("p2"))))
            .list(Ok(page(vec![cm("b", "2")], "10", Some("p3"))))
            .list(Ok(page(vec![cm("c", "3")], "10", None)))
            .watch_open(vec![]);
        let seen = take(&script, Config::default(), 5).await;
        assert_eq!(
            seen,
            [
                "Init",
                "InitApply(a)",
                "InitApply(b)",
                "InitApply(c)",
                "InitDone"
            ]
        );
        assert_eq!(script.requests().len(), 3, "no page is asked for twice");
    }

    #[tokio::test(start_paused = true)]
    async fn retries_the_same_page_after_a_transient_error() {
        let script = Script::default()
            .list(Ok(page(vec![cm("a", "1")], "10", Some("p2"))))
            .list(Err(api_error(500, reason::INTERNAL_ERROR)))
            .list(Ok(page(vec![cm("b", "2")], "10", None)))
            .watch_open(vec![]);
        let seen = take(&script, Config::default(), 5).await;
        assert_eq!(seen[0..2], ["Init", "InitApply(a)"]);
        assert!(seen[2].starts_with("Err("), "{}", seen[2]);
        assert_eq!(seen[3..5], ["InitApply(b)", "InitDone"]);
        assert_eq!(script.requests()[2], "list rv=- continue=p2");
    }

    #[tokio::test(start_paused = true)]
    async fn stream_errors_are_yielded_then_the_watch_resumes() {
        let script = Script::default()
            .list(Ok(page(vec![], "10", None)))
            .watch(vec![
                Ok(WatchEvent::Added(cm("a", "11"))),
                Err(api_error(500, "connection reset")),
            ])
            .watch_open(vec![Ok(WatchEvent::Added(cm("b", "12")))]);
        let seen = take(&script, Config::default(), 5).await;
        assert_eq!(seen[0..3], ["Init", "InitDone", "Apply(a)"]);
        assert!(
            seen[3].starts_with("Err(the watch stream failed"),
            "{}",
            seen[3]
        );
        assert_eq!(seen[4], "Apply(b)");
        assert_eq!(
            script.requests()[2],
            "watch rv=11 initial=false bookmarks=true"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn non_gone_error_events_rewatch_without_relisting() {
        let script = Script::default()
            .list(Ok(page(vec![], "10", None)))
            .watch(vec![Ok(WatchEvent::Error(
                Status::failure("boom", reason::INTERNAL_ERROR).with_code(500),
            ))])
            .watch_open(vec![Ok(WatchEvent::Added(cm("d", "11")))]);
        let seen = take(&script, Config::default(), 4).await;
        assert!(seen[2].starts_with("Err(the watch ended"), "{}", seen[2]);
        assert_eq!(seen[3], "Apply(d)");
        assert_eq!(
            script.requests(),
            [
                "list rv=- continue=-",
                "watch rv=10 initial=false bookmarks=true",
                "watch rv=10 initial=false bookmarks=true"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn list_without_resource_version_is_an_error() {
        let mut no_version = page(vec![], "", None);
        no_version.metadata.resource_version = None;
        let script = Script::default().list(Ok(no_version));
        let seen = take(&script, Config::default(), 2).await;
        assert_eq!(seen[0], "Init");
        assert!(
            seen[1].contains("no metadata.resourceVersion"),
            "{}",
            seen[1]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn streaming_list_ends_initial_state_at_the_marked_bookmark() {
        let script = Script::default().watch_open(vec![
            Ok(WatchEvent::Added(cm("a", "5"))),
            Ok(bookmark("6", false)),
            Ok(WatchEvent::Added(cm("b", "7"))),
            Ok(bookmark("8", true)),
            Ok(WatchEvent::Modified(cm("a", "9"))),
        ]);
        let seen = take(&script, Config::default().streaming_lists(), 5).await;
        assert_eq!(
            seen,
            [
                "Init",
                "InitApply(a)",
                "InitApply(b)",
                "InitDone",
                "Apply(a)"
            ]
        );
        assert_eq!(script.requests(), ["watch rv= initial=true bookmarks=true"]);
    }

    #[tokio::test(start_paused = true)]
    async fn streaming_list_resumes_from_the_end_bookmark() {
        let script = Script::default()
            .watch(vec![Ok(bookmark("8", true))])
            .watch_open(vec![Ok(WatchEvent::Added(cm("z", "9")))]);
        let seen = take(&script, Config::default().streaming_lists(), 3).await;
        assert_eq!(seen, ["Init", "InitDone", "Apply(z)"]);
        assert_eq!(
            script.requests()[1],
            "watch rv=8 initial=false bookmarks=true"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn errors_recover_with_growing_backoff() {
        let script = Script::default()
            .list(Err(api_error(503, reason::SERVICE_UNAVAILABLE)))
            .list(Err(api_error(503, reason::SERVICE_UNAVAILABLE)))
            .list(Err(api_error(503, reason::SERVICE_UNAVAILABLE)))
            .list(Ok(page(vec![cm("a", "1")], "10", None)))
            .watch_open(vec![]);
        let start = tokio::time::Instant::now();
        let stream = run(script.clone(), Config::default()).default_backoff();
        pin_mut!(stream);
        let mut error_times = Vec::new();
        let mut events = Vec::new();
        while events.len() < 3 {
            match stream.next().await.expect("endless") {
                Err(_) => error_times.push(start.elapsed()),
                Ok(event) => events.push(event.to_string()),
            }
        }
        assert_eq!(events, ["Init", "InitApply(a)", "InitDone"]);
        assert_eq!(error_times.len(), 3);
        // The first error comes at once; then 0.8 s doubling, each plus a jitter
        // of up to itself.
        let gaps: Vec<_> = error_times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps[0] >= Duration::from_millis(800) && gaps[0] < Duration::from_millis(1600),
            "{gaps:?}"
        );
        assert!(
            gaps[1] >= Duration::from_millis(1600) && gaps[1] < Duration::from_millis(3200),
            "{gaps:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn relist_after_410_gone_reads_consistently_even_with_any_semantic() {
        let script = Script::default()
            .list(Ok(page(vec![], "10", None)))
            .watch(vec![Ok(WatchEvent::Error(gone()))])
            .list(Ok(page(vec![], "20", None)))
            .watch_open(vec![]);
        let seen = take(&script, Config::default().any_semantic(), 5).await;
        assert_eq!(seen[4], "InitDone");
        assert_eq!(
            script.requests(),
            [
                "list rv=0 continue=-",
                "watch rv=10 initial=false bookmarks=true",
                "list rv=- continue=-"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn deletions_advance_the_resume_version() {
        let script = Script::default()
            .list(Ok(page(vec![cm("a", "1")], "10", None)))
            .watch(vec![Ok(WatchEvent::Deleted(cm("a", "15")))])
            .watch_open(vec![Ok(WatchEvent::Added(cm("b", "16")))]);
        let seen = take(&script, Config::default(), 5).await;
        assert_eq!(
            seen,
            ["Init", "InitApply(a)", "InitDone", "Delete(a)", "Apply(b)"]
        );
        assert_eq!(
            script.requests()[2],
            "watch rv=15 initial=false bookmarks=true"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn watch_start_errors_are_yielded_then_retried_from_the_same_version() {
        let script = Script::default()
            .list(Ok(page(vec![], "10", None)))
            .watch_fails(api_error(503, reason::SERVICE_UNAVAILABLE))
            .watch_open(vec![Ok(WatchEvent::Added(cm("a", "11")))]);
        let seen = take(&script, Config::default(), 4).await;
        assert_eq!(seen[0..2], ["Init", "InitDone"]);
        assert!(
            seen[2].starts_with("Err(failed to start a watch"),
            "{}",
            seen[2]
        );
        assert_eq!(seen[3], "Apply(a)");
        assert_eq!(
            script.requests(),
            [
                "list rv=- continue=-",
                "watch rv=10 initial=false bookmarks=true",
                "watch rv=10 initial=false bookmarks=true"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn streaming_list_with_any_semantic_starts_from_the_cache() {
        let script = Script::default()
            .watch(vec![Ok(bookmark("8", true)), Ok(WatchEvent::Error(gone()))])
            .watch_open(vec![Ok(bookmark("9", true))]);
        let seen = take(
            &script,
            Config::default().streaming_lists().any_semantic(),
            5,
        )
        .await;
        assert_eq!(seen[0..2], ["Init", "InitDone"]);
        assert!(seen[2].starts_with("Err(the watch ended"), "{}", seen[2]);
        assert_eq!(seen[3..5], ["Init", "InitDone"]);
        assert_eq!(
            script.requests(),
            [
                "watch rv=0 initial=true bookmarks=true",
                "watch rv= initial=true bookmarks=true"
            ],
            "the cache first, a consistent read after 410 Gone"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn streaming_list_skips_progress_bookmarks_and_ignores_their_version() {
        let script = Script::default().watch_open(vec![
            Ok(bookmark("3", false)),
            Ok(WatchEvent::Added(cm("a", "5"))),
            Ok(bookmark("4", false)),
            Ok(bookmark("8", true)),
        ]);
        let seen = take(&script, Config::default().streaming_lists(), 3).await;
        assert_eq!(seen, ["Init", "InitApply(a)", "InitDone"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_watch_closed_at_once_without_events_is_an_error() {
        let script = Script::default()
            .list(Ok(page(vec![], "10", None)))
            .watch(vec![])
            .watch(vec![])
            .watch_open(vec![Ok(WatchEvent::Added(cm("a", "11")))]);
        let seen = take(&script, Config::default(), 5).await;
        assert_eq!(seen[..2], ["Init", "InitDone"]);
        for err in &seen[2..4] {
            assert!(err.contains("without any event"), "{err}");
        }
        assert_eq!(seen[4], "Apply(a)");
        assert_eq!(
            script.requests()[1..],
            ["watch rv=10 initial=false bookmarks=true"; 3],
            "each retry resumes from the same version, without relisting"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_watch_that_lasted_its_timeout_resumes_without_error() {
        let script = Script::default()
            .list(Ok(page(vec![], "10", None)))
            .watch_closing_after(vec![], Duration::from_secs(290))
            .watch_open(vec![Ok(WatchEvent::Added(cm("a", "11")))]);
        let seen = take(&script, Config::default(), 3).await;
        assert_eq!(seen, ["Init", "InitDone", "Apply(a)"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_closing_every_watch_at_once_is_paced_by_the_backoff() {
        let mut script = Script::default().list(Ok(page(vec![], "10", None)));
        for _ in 0..100 {
            script = script.watch(vec![]);
        }
        let requests = requests_within(&script, Config::default(), Duration::from_secs(10)).await;
        // Waits of 0.8 s, 1.6 s, 3.2 s and 6.4 s at least (doubling, plus
        // jitter): no more than four watches fit into 10 s.
        let watches = requests.iter().filter(|r| r.starts_with("watch")).count();
        assert!((2..=4).contains(&watches), "{watches} watches in 10 s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_interrupting_every_streaming_list_is_paced_by_the_backoff() {
        let mut script = Script::default();
        for _ in 0..100 {
            script = script.watch(vec![Ok(WatchEvent::Added(cm("a", "5")))]);
        }
        let requests = requests_within(
            &script,
            Config::default().streaming_lists(),
            Duration::from_secs(10),
        )
        .await;
        assert!(
            (2..=4).contains(&requests.len()),
            "{} streaming lists in 10 s",
            requests.len()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_interrupted_streaming_relist_after_410_stays_a_consistent_read() {
        let script = Script::default()
            .watch(vec![Ok(bookmark("8", true)), Ok(WatchEvent::Error(gone()))])
            // The relist breaks off twice: cleanly, then with an error.
            .watch(vec![Ok(WatchEvent::Added(cm("a", "9")))])
            .watch(vec![Err(api_error(500, reason::INTERNAL_ERROR))])
            .watch_open(vec![Ok(bookmark("10", true))]);
        let config = Config::default().streaming_lists().any_semantic();
        let seen = take(&script, config, 10).await;
        assert_eq!(seen[9], "InitDone", "{seen:?}");
        assert_eq!(
            script.requests(),
            [
                "watch rv=0 initial=true bookmarks=true",
                "watch rv= initial=true bookmarks=true",
                "watch rv= initial=true bookmarks=true",
                "watch rv= initial=true bookmarks=true"
            ],
            "after a 410, every retry of the relist is a consistent read"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_bookmark_without_a_resource_version_relists_instead_of_watching_from_empty() {
        let script = Script::default()
            .list(Ok(page(vec![], "10", None)))
            .watch_open(vec![Ok(bookmark("", false))])
            .list(Ok(page(vec![cm("a", "20")], "20", None)))
            .watch_open(vec![]);
        let seen = take(&script, Config::default().any_semantic(), 6).await;
        assert_eq!(seen[..2], ["Init", "InitDone"]);
        assert!(
            seen[2].contains("bookmark without a resourceVersion"),
            "{}",
            seen[2]
        );
        assert_eq!(seen[3..], ["Init", "InitApply(a)", "InitDone"]);
        assert_eq!(
            script.requests(),
            [
                "list rv=0 continue=-",
                "watch rv=10 initial=false bookmarks=true",
                "list rv=- continue=-"
            ],
            "a consistent relist, not a watch from an empty version"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_object_without_a_resource_version_keeps_the_resume_version() {
        let script = Script::default()
            .list(Ok(page(vec![], "10", None)))
            .watch(vec![Ok(WatchEvent::Added(cm("a", "")))])
            .watch_open(vec![]);
        let requests = requests_within(&script, Config::default(), Duration::from_secs(1)).await;
        assert_eq!(
            requests[2], "watch rv=10 initial=false bookmarks=true",
            "{requests:?}"
        );
    }

    /// A streaming list that breaks off after `first` (its events), then one
    /// that completes: an error saying `why`, then the second list from
    /// scratch, both consistent reads.
    async fn assert_streaming_list_starts_over(
        first: Vec<kube_client::Result<WatchEvent<ConfigMap>>>,
        why: &str,
    ) {
        let script = Script::default().watch(first).watch_open(vec![
            Ok(WatchEvent::Added(cm("a", "5"))),
            Ok(bookmark("8", true)),
        ]);
        let seen = take(&script, Config::default().streaming_lists(), 6).await;
        assert_eq!(seen[..2], ["Init", "InitApply(a)"]);
        assert!(seen[2].contains(why), "{}", seen[2]);
        assert_eq!(seen[3..], ["Init", "InitApply(a)", "InitDone"]);
        assert_eq!(
            script.requests(),
            ["watch rv= initial=true bookmarks=true"; 2],
            "never a watch from where the broken list left off"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn streaming_list_interrupted_before_its_end_is_an_error_then_starts_over() {
        assert_streaming_list_starts_over(
            vec![Ok(WatchEvent::Added(cm("a", "5")))],
            "ended before its initial-events-end bookmark",
        )
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_streaming_list_ended_by_a_bookmark_without_a_resource_version_starts_over() {
        assert_streaming_list_starts_over(
            vec![Ok(WatchEvent::Added(cm("a", "5"))), Ok(bookmark("", true))],
            "bookmark without a resourceVersion",
        )
        .await;
    }
}
