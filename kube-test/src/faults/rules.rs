//! What the fault proxy does to which request: verbs, matchers, faults and the
//! ordered rule table. Pure logic, no I/O.

use std::time::Duration;

use http::Method;

/// The Kubernetes verb of a request, worked out from its method, path and
/// query the way the apiserver does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verb {
    /// `GET` (or `HEAD`) of one object, a subresource, or a non-resource path
    /// such as `/version` or `/apis`.
    Get,
    /// `GET` of a collection.
    List,
    /// `GET` of a collection (or one object) with `watch=true`, or under the
    /// legacy `/watch/` path prefix.
    Watch,
    /// `POST`.
    Create,
    /// `PUT`.
    Update,
    /// `PATCH`.
    Patch,
    /// `DELETE` of one object.
    Delete,
    /// `DELETE` of a collection.
    DeleteCollection,
    /// Any other method (e.g. `OPTIONS`).
    Other,
}

impl Verb {
    /// The verb of a request with this method, path (without query) and query.
    pub fn of(method: &Method, path: &str, query: Option<&str>) -> Verb {
        let shape = ResourcePath::parse(path);
        let asks_watch = query.is_some_and(|q| {
            form_urlencoded::parse(q.as_bytes())
                .any(|(key, value)| key == "watch" && (value == "true" || value == "1"))
        });
        match *method {
            Method::GET | Method::HEAD => match shape {
                ResourcePath::Collection { legacy_watch: true }
                | ResourcePath::Object { legacy_watch: true } => Verb::Watch,
                ResourcePath::Collection { .. } | ResourcePath::Object { .. } if asks_watch => {
                    Verb::Watch
                }
                ResourcePath::Collection { .. } => Verb::List,
                _ => Verb::Get,
            },
            Method::POST => Verb::Create,
            Method::PUT => Verb::Update,
            Method::PATCH => Verb::Patch,
            Method::DELETE => match shape {
                ResourcePath::Collection { .. } => Verb::DeleteCollection,
                _ => Verb::Delete,
            },
            _ => Verb::Other,
        }
    }
}

/// What an API path names, as far as verbs are concerned.
#[derive(Debug, PartialEq, Eq)]
enum ResourcePath {
    /// A non-resource path (`/version`, `/apis`, `/api/v1`, `/healthz`, ...).
    NonResource,
    /// A collection, e.g. `/api/v1/namespaces/ns/configmaps`.
    Collection { legacy_watch: bool },
    /// One object, e.g. `/api/v1/namespaces/ns/configmaps/name`.
    Object { legacy_watch: bool },
    /// A subresource of an object, e.g. `.../pods/name/status`.
    Subresource,
}

/// Subresources of a namespace: `/api/v1/namespaces/NAME/status` is the
/// namespace's status, not a collection called `status` in it.
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

impl ResourcePath {
    fn parse(path: &str) -> ResourcePath {
        let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // Drop the API prefix and group version.
        let rest = match segments.first() {
            Some(&"api") if segments.len() >= 2 => segments.split_off(2),
            Some(&"apis") if segments.len() >= 3 => segments.split_off(3),
            _ => return ResourcePath::NonResource,
        };
        let (legacy_watch, mut rest) = match rest.split_first() {
            Some((&"watch", tail)) => (true, tail.to_vec()),
            _ => (false, rest),
        };
        if rest.first() == Some(&"namespaces")
            && rest.len() > 2
            && rest
                .get(2)
                .is_some_and(|s| !NAMESPACE_SUBRESOURCES.contains(s))
        {
            rest.drain(..2);
        }
        match rest.len() {
            0 => ResourcePath::NonResource,
            1 => ResourcePath::Collection { legacy_watch },
            2 => ResourcePath::Object { legacy_watch },
            _ => ResourcePath::Subresource,
        }
    }
}

/// Which requests a [`FaultRule`] applies to: all of the conditions given
/// must hold.
///
/// ```
/// use kube_test::faults::{Match, Verb};
///
/// let config_map_watches = Match::watches().path_contains("configmaps");
/// let creates = Match::verb(Verb::Create);
/// # let _ = (config_map_watches, creates);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    verbs: Vec<Verb>,
    path_contains: Vec<String>,
    query_contains: Vec<String>,
}

impl Match {
    /// Every request.
    pub fn any() -> Match {
        Match::default()
    }

    /// Requests with this verb.
    pub fn verb(verb: Verb) -> Match {
        Match::any().or_verb(verb)
    }

    /// Watches.
    pub fn watches() -> Match {
        Match::verb(Verb::Watch)
    }

    /// Lists (collection reads that are not watches).
    pub fn lists() -> Match {
        Match::verb(Verb::List)
    }

    /// Gets of one object, subresource or non-resource path.
    pub fn gets() -> Match {
        Match::verb(Verb::Get)
    }

    /// Creates (`POST`).
    pub fn creates() -> Match {
        Match::verb(Verb::Create)
    }

    /// Also matches requests with this verb (verbs are alternatives).
    pub fn or_verb(mut self, verb: Verb) -> Match {
        self.verbs.push(verb);
        self
    }

    /// Only requests whose path (without the query) contains `text`.
    pub fn path_contains(mut self, text: impl Into<String>) -> Match {
        self.path_contains.push(text.into());
        self
    }

    /// Only requests whose query string (still percent-encoded) contains `text`.
    pub fn query_contains(mut self, text: impl Into<String>) -> Match {
        self.query_contains.push(text.into());
        self
    }

    /// Whether a request matches.
    pub fn matches(&self, verb: Verb, path: &str, query: Option<&str>) -> bool {
        let query = query.unwrap_or("");
        (self.verbs.is_empty() || self.verbs.contains(&verb))
            && self.path_contains.iter().all(|text| path.contains(text))
            && self.query_contains.iter().all(|text| query.contains(text))
    }
}

/// What the proxy does to a matching request.
///
/// "Events" are lines of the response body: for a watch, one line is one event.
/// Faults that cut a body send the response headers first, so the client sees
/// a successful response that breaks off.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Forward unchanged (a rule with this fault only counts requests, or lets
    /// some through ahead of a later rule).
    PassThrough,
    /// Wait this long, then forward.
    Delay(Duration),
    /// Answer with this HTTP status and a Kubernetes `Status` body without
    /// forwarding: the apiserver never sees the request.
    Status {
        /// The HTTP status code, e.g. 429, 500 or 503.
        code: u16,
        /// The `Retry-After` header to send, in seconds.
        retry_after: Option<u64>,
    },
    /// Close the connection without forwarding or answering.
    CloseBeforeForwarding,
    /// Forward the request and wait for the apiserver's whole answer (so the
    /// request took effect), then close the connection without answering.
    CloseAfterForwarding,
    /// Forward; send the headers and this many bytes of the body, then close
    /// the connection.
    DropAfterBytes(usize),
    /// Forward; send the headers and this many lines (watch events) of the
    /// body, then close the connection.
    DropAfterEvents(usize),
    /// Forward; send the headers and this many lines (watch events) of the
    /// body, then end the body properly, as the apiserver ends a watch whose
    /// timeout expired. With `0`, every watch closes as soon as it opens.
    EndAfterEvents(usize),
    /// Never answer: hold the connection open, sending nothing, until
    /// [`FaultProxy::clear`](super::FaultProxy::clear) or the proxy is dropped.
    StallResponse,
    /// Forward; send the headers and this many bytes of the body, then send
    /// nothing more until [`FaultProxy::clear`](super::FaultProxy::clear) or
    /// the proxy is dropped.
    StallAfterBytes(usize),
    /// Forward; send the headers and this many lines (watch events), then send
    /// nothing more until [`FaultProxy::clear`](super::FaultProxy::clear) or
    /// the proxy is dropped.
    StallAfterEvents(usize),
    /// Forward; pass this many watch events, then send an `ERROR` event with a
    /// `410 Gone` (`Expired`) `Status`, as the apiserver does when the watched
    /// resource version has been compacted, and end the stream.
    WatchGone {
        /// Events passed before the `ERROR` event.
        after_events: usize,
    },
}

impl Fault {
    /// `429 Too Many Requests` with `Retry-After: seconds`.
    pub fn too_many_requests(retry_after_seconds: u64) -> Fault {
        Fault::Status {
            code: 429,
            retry_after: Some(retry_after_seconds),
        }
    }

    /// `500 Internal Server Error`.
    pub fn internal_error() -> Fault {
        Fault::Status {
            code: 500,
            retry_after: None,
        }
    }

    /// `503 Service Unavailable`, without `Retry-After`.
    pub fn service_unavailable() -> Fault {
        Fault::Status {
            code: 503,
            retry_after: None,
        }
    }
}

/// A fault for the requests a [`Match`] selects, applied to a number of them.
///
/// ```
/// use kube_test::faults::{Fault, FaultRule, Match};
///
/// // The first watch of ConfigMaps gets a 410 Gone after two events.
/// let rule = FaultRule::new(
///     Match::watches().path_contains("configmaps"),
///     Fault::WatchGone { after_events: 2 },
/// )
/// .times(1);
/// # let _ = rule;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    matcher: Match,
    fault: Fault,
    /// Matching requests let through untouched before the fault applies.
    skip: u64,
    /// How many more requests the fault applies to; `None` for all.
    remaining: Option<u64>,
}

impl FaultRule {
    /// Applies `fault` to every request `matcher` selects.
    pub fn new(matcher: Match, fault: Fault) -> FaultRule {
        FaultRule {
            matcher,
            fault,
            skip: 0,
            remaining: None,
        }
    }

    /// Applies the fault to `n` requests only; then the rule is spent.
    pub fn times(mut self, n: u64) -> FaultRule {
        self.remaining = Some(n);
        self
    }

    /// Lets the first `n` matching requests through untouched.
    pub fn skip(mut self, n: u64) -> FaultRule {
        self.skip = n;
        self
    }

    /// Whether the rule will apply to no more requests.
    fn is_spent(&self) -> bool {
        self.remaining == Some(0)
    }

    /// Takes one use of the rule for a matching request: `Some(fault)` when the
    /// fault applies to it, `None` when it is skipped.
    fn take(&mut self) -> Option<Fault> {
        if self.skip > 0 {
            self.skip -= 1;
            return None;
        }
        if let Some(remaining) = self.remaining.as_mut() {
            *remaining -= 1;
        }
        Some(self.fault.clone())
    }
}

/// The rules in force, in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    rules: Vec<FaultRule>,
}

impl Rules {
    pub(crate) fn push(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// The fault for a request: the first live rule that matches decides. A
    /// rule that skips the request still decides (the request passes through).
    pub(crate) fn decide(&mut self, verb: Verb, path: &str, query: Option<&str>) -> Option<Fault> {
        let index = self
            .rules
            .iter()
            .position(|rule| !rule.is_spent() && rule.matcher.matches(verb, path, query))?;
        let rule = self.rules.get_mut(index)?;
        let fault = rule.take();
        if rule.is_spent() {
            self.rules.remove(index);
        }
        fault
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verb(method: Method, uri: &str) -> Verb {
        let (path, query) = match uri.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (uri, None),
        };
        Verb::of(&method, path, query)
    }

    #[test]
    fn verbs_follow_the_apiserver() {
        let cases = [
            (Method::GET, "/version", Verb::Get),
            (Method::GET, "/apis", Verb::Get),
            (Method::GET, "/api/v1", Verb::Get),
            (Method::GET, "/apis/apps/v1", Verb::Get),
            (Method::GET, "/api/v1/namespaces", Verb::List),
            (Method::GET, "/api/v1/namespaces/ns1", Verb::Get),
            (Method::GET, "/api/v1/namespaces/ns1/status", Verb::Get),
            (Method::PUT, "/api/v1/namespaces/ns1/finalize", Verb::Update),
            (Method::GET, "/api/v1/namespaces/ns1/configmaps", Verb::List),
            (
                Method::GET,
                "/api/v1/namespaces/ns1/configmaps/a",
                Verb::Get,
            ),
            (Method::GET, "/api/v1/namespaces/ns1/pods/a/log", Verb::Get),
            (Method::GET, "/api/v1/configmaps", Verb::List),
            (Method::GET, "/api/v1/configmaps?watch=true", Verb::Watch),
            (Method::GET, "/api/v1/configmaps?watch=1&rv=5", Verb::Watch),
            (Method::GET, "/api/v1/configmaps?watch=false", Verb::List),
            (
                Method::GET,
                "/api/v1/namespaces/ns1/configmaps?fieldSelector=metadata.name%3Da&watch=true",
                Verb::Watch,
            ),
            (
                Method::GET,
                "/api/v1/watch/namespaces/ns1/pods",
                Verb::Watch,
            ),
            (Method::GET, "/apis/apps/v1/deployments", Verb::List),
            (
                Method::GET,
                "/apis/apps/v1/namespaces/ns1/deployments/web",
                Verb::Get,
            ),
            (
                Method::GET,
                "/apis/apps/v1/namespaces/ns1/deployments/web/scale",
                Verb::Get,
            ),
            (
                Method::POST,
                "/api/v1/namespaces/ns1/configmaps",
                Verb::Create,
            ),
            (
                Method::PUT,
                "/api/v1/namespaces/ns1/configmaps/a",
                Verb::Update,
            ),
            (
                Method::PATCH,
                "/api/v1/namespaces/ns1/configmaps/a",
                Verb::Patch,
            ),
            (
                Method::DELETE,
                "/api/v1/namespaces/ns1/configmaps/a",
                Verb::Delete,
            ),
            (
                Method::DELETE,
                "/api/v1/namespaces/ns1/configmaps",
                Verb::DeleteCollection,
            ),
            (Method::OPTIONS, "/api/v1/configmaps", Verb::Other),
        ];
        for (method, uri, expected) in cases {
            assert_eq!(verb(method.clone(), uri), expected, "{method} {uri}");
        }
    }

    #[test]
    fn matchers_require_every_condition() {
        let m = Match::watches().path_contains("configmaps");
        assert!(m.matches(Verb::Watch, "/api/v1/configmaps", None));
        assert!(!m.matches(Verb::List, "/api/v1/configmaps", None));
        assert!(!m.matches(Verb::Watch, "/api/v1/secrets", None));

        let m = Match::lists()
            .or_verb(Verb::Watch)
            .query_contains("labelSelector");
        assert!(m.matches(Verb::List, "/x", Some("labelSelector=a")));
        assert!(m.matches(Verb::Watch, "/x", Some("watch=1&labelSelector=a")));
        assert!(!m.matches(Verb::Watch, "/x", Some("watch=1")));
        assert!(!m.matches(Verb::List, "/x", None));

        assert!(Match::any().matches(Verb::Other, "/", None));
    }

    #[test]
    fn a_counted_rule_is_spent_after_its_uses() {
        let mut rules = Rules::default();
        rules.push(FaultRule::new(Match::creates(), Fault::internal_error()).times(2));
        let create = |rules: &mut Rules| rules.decide(Verb::Create, "/api/v1/x", None);
        assert_eq!(create(&mut rules), Some(Fault::internal_error()));
        assert_eq!(rules.decide(Verb::Get, "/api/v1/x/a", None), None);
        assert_eq!(create(&mut rules), Some(Fault::internal_error()));
        assert_eq!(create(&mut rules), None);
        assert!(rules.rules.is_empty(), "spent rules are removed");
    }

    #[test]
    fn skipped_requests_pass_before_the_fault_applies() {
        let mut rules = Rules::default();
        rules.push(
            FaultRule::new(Match::lists(), Fault::service_unavailable())
                .skip(2)
                .times(1),
        );
        let list = |rules: &mut Rules| rules.decide(Verb::List, "/api/v1/x", None);
        assert_eq!(list(&mut rules), None);
        assert_eq!(list(&mut rules), None);
        assert_eq!(list(&mut rules), Some(Fault::service_unavailable()));
        assert_eq!(list(&mut rules), None);
    }

    #[test]
    fn the_first_live_matching_rule_decides() {
        let mut rules = Rules::default();
        rules.push(FaultRule::new(Match::watches(), Fault::WatchGone { after_events: 1 }).times(1));
        rules.push(FaultRule::new(Match::any(), Fault::too_many_requests(1)));
        let watch = |rules: &mut Rules| rules.decide(Verb::Watch, "/api/v1/x", Some("watch=1"));
        assert_eq!(
            watch(&mut rules),
            Some(Fault::WatchGone { after_events: 1 })
        );
        assert_eq!(watch(&mut rules), Some(Fault::too_many_requests(1)));
        assert_eq!(
            rules.decide(Verb::Get, "/version", None),
            Some(Fault::too_many_requests(1)),
            "an unlimited rule stays"
        );
        rules.clear();
        assert_eq!(watch(&mut rules), None);
    }

    #[test]
    fn a_rule_for_zero_requests_never_applies() {
        let mut rules = Rules::default();
        rules.push(FaultRule::new(Match::any(), Fault::internal_error()).times(0));
        assert_eq!(rules.decide(Verb::Get, "/version", None), None);
    }
}
