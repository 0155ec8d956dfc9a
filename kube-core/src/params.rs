//! The options of every verb: what goes into the query string (and, for deletes,
//! the body) of a request.
//!
//! Each type has builder methods for the common cases and public fields for the
//! rest. [`Request`](crate::Request) validates them before building a request, so
//! combinations the apiserver would refuse are caught with a clear message.

use serde::Serialize;

use crate::{labels::Selector, request::Error};

/// How a list's `resourceVersion` is interpreted.
///
/// See "Semantics for get and list" in the Kubernetes API concepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionMatch {
    /// Any version at least as new as the given one (served from the cache when
    /// possible).
    NotOlderThan,
    /// Exactly the given version (served from etcd; fails with 410 when it has
    /// been compacted).
    Exact,
}

impl VersionMatch {
    /// The query value the apiserver expects.
    pub fn as_str(&self) -> &'static str {
        match self {
            VersionMatch::NotOlderThan => "NotOlderThan",
            VersionMatch::Exact => "Exact",
        }
    }
}

/// Options of a LIST.
///
/// By default a list is a consistent read of the latest state, in one page. Use
/// [`limit`](Self::limit) and [`continue_token`](Self::continue_token) to page
/// through large collections, and [`match_any`](Self::match_any) to let the
/// server answer from its cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    /// Restricts the list to objects whose labels match, e.g. `app=web,tier!=db`.
    pub label_selector: Option<String>,
    /// Restricts the list to objects whose fields match, e.g. `metadata.name=x`.
    pub field_selector: Option<String>,
    /// A server-side timeout for the request, in seconds.
    pub timeout: Option<u32>,
    /// The page size; the answer's `continue` token fetches the next page.
    pub limit: Option<u32>,
    /// The `continue` token of the previous page.
    pub continue_token: Option<String>,
    /// How [`resource_version`](Self::resource_version) is interpreted.
    pub version_match: Option<VersionMatch>,
    /// The resource version to read at; see [`VersionMatch`]. Unset means the
    /// latest state (a consistent read).
    pub resource_version: Option<String>,
}

impl ListParams {
    /// Sets a server-side timeout, in seconds.
    #[must_use]
    pub fn timeout(mut self, timeout_secs: u32) -> Self {
        self.timeout = Some(timeout_secs);
        self
    }

    /// Sets a field selector, e.g. `metadata.name=x` or `status.phase=Running`.
    #[must_use]
    pub fn fields(mut self, field_selector: &str) -> Self {
        self.field_selector = Some(field_selector.to_string());
        self
    }

    /// Sets a label selector in kubectl syntax, e.g. `app=web,tier in (a,b)`.
    #[must_use]
    pub fn labels(mut self, label_selector: &str) -> Self {
        self.label_selector = Some(label_selector.to_string());
        self
    }

    /// Sets the label selector from a parsed [`Selector`].
    #[must_use]
    pub fn labels_from(mut self, selector: &Selector) -> Self {
        self.label_selector = Some(selector.to_string());
        self
    }

    /// Sets the page size.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continues from the previous page's `continue` token.
    #[must_use]
    pub fn continue_token(mut self, token: &str) -> Self {
        self.continue_token = Some(token.to_string());
        self
    }

    /// Reads at a resource version (interpreted per [`matching`](Self::matching)).
    #[must_use]
    pub fn at(mut self, resource_version: &str) -> Self {
        self.resource_version = Some(resource_version.to_string());
        self
    }

    /// Sets how the resource version is interpreted.
    #[must_use]
    pub fn matching(mut self, version_match: VersionMatch) -> Self {
        self.version_match = Some(version_match);
        self
    }

    /// Accepts any recent state: `resourceVersion=0`, answered from the
    /// apiserver's watch cache without a round trip to etcd. Cheap, but possibly
    /// slightly stale; the server ignores `limit` for such reads.
    #[must_use]
    pub fn match_any(self) -> Self {
        self.at("0").matching(VersionMatch::NotOlderThan)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let rv = self.resource_version.as_deref();
        if let Some(version_match) = self.version_match {
            if rv.is_none_or(str::is_empty) {
                return Err(Error::Validation(format!(
                    "resourceVersionMatch={} needs a resourceVersion",
                    version_match.as_str()
                )));
            }
            if version_match == VersionMatch::Exact && rv == Some("0") {
                return Err(Error::Validation(
                    "resourceVersionMatch=Exact cannot be used with resourceVersion=0".into(),
                ));
            }
        }
        if self.continue_token.is_some()
            && (self.version_match.is_some() || rv.is_some_and(|v| !v.is_empty()))
        {
            return Err(Error::Validation(
                "a continue token already fixes the resource version: do not set resourceVersion or resourceVersionMatch with it".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn append_to(&self, query: &mut Query) {
        query.opt("fieldSelector", self.field_selector.as_deref());
        query.opt("labelSelector", self.label_selector.as_deref());
        query.opt_num("timeoutSeconds", self.timeout);
        query.opt_num("limit", self.limit);
        query.opt("continue", self.continue_token.as_deref());
        query.opt("resourceVersion", self.resource_version.as_deref());
        query.opt(
            "resourceVersionMatch",
            self.version_match.map(|m| m.as_str()),
        );
    }
}

/// Options of a GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetParams {
    /// The resource version to read at; unset means the latest state, `0` any
    /// cached state.
    pub resource_version: Option<String>,
}

impl GetParams {
    /// Reads at least as new as `resource_version`.
    pub fn at(resource_version: &str) -> Self {
        Self {
            resource_version: Some(resource_version.to_string()),
        }
    }

    /// Accepts any cached state (`resourceVersion=0`).
    pub fn any() -> Self {
        Self::at("0")
    }

    pub(crate) fn append_to(&self, query: &mut Query) {
        query.opt("resourceVersion", self.resource_version.as_deref());
    }
}

/// How the server treats unknown or duplicate fields in a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidationDirective {
    /// Fail the request.
    Strict,
    /// Succeed, and return a warning for each problem.
    Warn,
    /// Silently drop unknown fields.
    Ignore,
}

impl ValidationDirective {
    /// The query value the apiserver expects.
    pub fn as_str(&self) -> &str {
        match self {
            ValidationDirective::Strict => "Strict",
            ValidationDirective::Warn => "Warn",
            ValidationDirective::Ignore => "Ignore",
        }
    }
}

/// Options of a WATCH.
///
/// Bookmarks are on by default: they let a watch resume from a recent version
/// after a disconnect instead of listing everything again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchParams {
    /// Restricts the watch to objects whose labels match.
    pub label_selector: Option<String>,
    /// Restricts the watch to objects whose fields match.
    pub field_selector: Option<String>,
    /// How long the server keeps the watch open, in seconds, before ending it
    /// cleanly. Unset lets the server choose (minutes).
    pub timeout: Option<u32>,
    /// Asks for `BOOKMARK` events (`allowWatchBookmarks=true`).
    pub bookmarks: bool,
    /// Streams the current state as `ADDED` events first, ended by a bookmark
    /// annotated `k8s.io/initial-events-end` (a *streaming list*). Requires
    /// bookmarks.
    pub send_initial_events: bool,
}

impl Default for WatchParams {
    fn default() -> Self {
        Self {
            label_selector: None,
            field_selector: None,
            timeout: None,
            bookmarks: true,
            send_initial_events: false,
        }
    }
}

impl WatchParams {
    /// Sets how long the server keeps the watch open, in seconds.
    #[must_use]
    pub fn timeout(mut self, timeout_secs: u32) -> Self {
        self.timeout = Some(timeout_secs);
        self
    }

    /// Sets a field selector.
    #[must_use]
    pub fn fields(mut self, field_selector: &str) -> Self {
        self.field_selector = Some(field_selector.to_string());
        self
    }

    /// Sets a label selector in kubectl syntax.
    #[must_use]
    pub fn labels(mut self, label_selector: &str) -> Self {
        self.label_selector = Some(label_selector.to_string());
        self
    }

    /// Sets the label selector from a parsed [`Selector`].
    #[must_use]
    pub fn labels_from(mut self, selector: &Selector) -> Self {
        self.label_selector = Some(selector.to_string());
        self
    }

    /// Turns bookmarks off.
    #[must_use]
    pub fn disable_bookmarks(mut self) -> Self {
        self.bookmarks = false;
        self
    }

    /// Asks for the initial state as events first (a streaming list).
    #[must_use]
    pub fn initial_events(mut self) -> Self {
        self.send_initial_events = true;
        self
    }

    /// Parameters for a streaming list: initial events, with bookmarks.
    pub fn streaming_lists() -> Self {
        Self::default().initial_events()
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.send_initial_events && !self.bookmarks {
            return Err(Error::Validation(
                "sendInitialEvents needs bookmarks: the end of the initial events is signalled by one".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn append_to(&self, query: &mut Query, resource_version: &str) {
        query.pair("watch", "true");
        if !resource_version.is_empty() {
            query.pair("resourceVersion", resource_version);
        }
        query.opt_num("timeoutSeconds", self.timeout);
        query.opt("fieldSelector", self.field_selector.as_deref());
        query.opt("labelSelector", self.label_selector.as_deref());
        query.flag("allowWatchBookmarks", self.bookmarks);
        if self.send_initial_events {
            query.pair("sendInitialEvents", "true");
            query.pair("resourceVersionMatch", VersionMatch::NotOlderThan.as_str());
        }
    }
}

/// Options of a create or replace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostParams {
    /// Validates and admits the write without persisting it (`dryRun=All`).
    pub dry_run: bool,
    /// The field manager recorded in `managedFields` (at most 128 characters).
    pub field_manager: Option<String>,
}

impl PostParams {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate_field_manager(self.field_manager.as_deref())
    }

    pub(crate) fn append_to(&self, query: &mut Query) {
        if self.dry_run {
            query.pair("dryRun", "All");
        }
        query.opt("fieldManager", self.field_manager.as_deref());
    }
}

fn validate_field_manager(manager: Option<&str>) -> Result<(), Error> {
    match manager {
        Some(m) if m.chars().count() > 128 => Err(Error::Validation(format!(
            "field manager {m:?} is longer than 128 characters"
        ))),
        Some(m) if m.chars().any(char::is_control) => Err(Error::Validation(format!(
            "field manager {m:?} contains control characters"
        ))),
        _ => Ok(()),
    }
}

/// A patch, and how the server should apply it.
///
/// | variant | content type | semantics |
/// |---|---|---|
/// | `Apply` | `application/apply-patch+yaml` | server-side apply: the fields you send are owned by your field manager |
/// | `Json` | `application/json-patch+json` | RFC 6902 operations (feature `jsonpatch`) |
/// | `Merge` | `application/merge-patch+json` | RFC 7386: objects merge, lists are replaced |
/// | `Strategic` | `application/strategic-merge-patch+json` | like merge, but lists merge by key (built-in types only) |
#[derive(Debug, Clone, PartialEq)]
pub enum Patch<T: Serialize> {
    /// Server-side apply of a (partial) object; needs a field manager.
    Apply(T),
    /// An RFC 6902 JSON patch.
    #[cfg(feature = "jsonpatch")]
    Json(json_patch::Patch),
    /// An RFC 7386 JSON merge patch.
    Merge(T),
    /// A strategic merge patch (built-in types only).
    Strategic(T),
}

impl<T: Serialize> Patch<T> {
    /// Whether this is a server-side apply.
    pub(crate) fn is_apply(&self) -> bool {
        matches!(self, Patch::Apply(_))
    }

    /// The `Content-Type` the server expects for this kind of patch.
    pub(crate) fn content_type(&self) -> &'static str {
        match self {
            Patch::Apply(_) => "application/apply-patch+yaml",
            #[cfg(feature = "jsonpatch")]
            Patch::Json(_) => "application/json-patch+json",
            Patch::Merge(_) => "application/merge-patch+json",
            Patch::Strategic(_) => "application/strategic-merge-patch+json",
        }
    }

    /// The body: JSON (which is also valid YAML for apply patches).
    pub(crate) fn serialize(&self) -> Result<Vec<u8>, serde_json::Error> {
        match self {
            Patch::Apply(p) | Patch::Merge(p) | Patch::Strategic(p) => serde_json::to_vec(p),
            #[cfg(feature = "jsonpatch")]
            Patch::Json(p) => serde_json::to_vec(p),
        }
    }
}

/// Options of a patch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchParams {
    /// Validates and admits the patch without persisting it (`dryRun=All`).
    pub dry_run: bool,
    /// For server-side apply: take ownership of fields other managers own
    /// instead of failing with a conflict.
    pub force: bool,
    /// The field manager; required for server-side apply.
    pub field_manager: Option<String>,
    /// How unknown or duplicate fields are treated.
    pub field_validation: Option<ValidationDirective>,
}

impl PatchParams {
    /// Parameters for a server-side apply by the field manager `manager`.
    pub fn apply(manager: &str) -> Self {
        Self {
            field_manager: Some(manager.to_string()),
            ..Self::default()
        }
    }

    /// Forces a server-side apply through conflicts with other field managers.
    #[must_use]
    pub fn force(mut self) -> Self {
        self.force = true;
        self
    }

    /// Validates without persisting.
    #[must_use]
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// Sets how unknown or duplicate fields are treated.
    #[must_use]
    pub fn validation(mut self, vd: ValidationDirective) -> Self {
        self.field_validation = Some(vd);
        self
    }

    /// Silently drops unknown fields.
    #[must_use]
    pub fn validation_ignore(self) -> Self {
        self.validation(ValidationDirective::Ignore)
    }

    /// Warns about unknown or duplicate fields.
    #[must_use]
    pub fn validation_warn(self) -> Self {
        self.validation(ValidationDirective::Warn)
    }

    /// Fails on unknown or duplicate fields.
    #[must_use]
    pub fn validation_strict(self) -> Self {
        self.validation(ValidationDirective::Strict)
    }

    pub(crate) fn validate<P: Serialize>(&self, patch: &Patch<P>) -> Result<(), Error> {
        validate_field_manager(self.field_manager.as_deref())?;
        if patch.is_apply() && self.field_manager.is_none() {
            return Err(Error::Validation(
                "a server-side apply needs a field manager: use PatchParams::apply(\"my-manager\")"
                    .into(),
            ));
        }
        if self.force && !patch.is_apply() {
            return Err(Error::Validation(
                "force only applies to server-side apply patches (Patch::Apply)".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn append_to(&self, query: &mut Query) {
        if self.dry_run {
            query.pair("dryRun", "All");
        }
        query.flag("force", self.force);
        query.opt("fieldManager", self.field_manager.as_deref());
        query.opt(
            "fieldValidation",
            self.field_validation.as_ref().map(|v| v.as_str()),
        );
    }
}

/// Options of a delete, sent as the request's `DeleteOptions` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteParams {
    /// Validates and admits the delete without persisting it.
    #[serde(
        serialize_with = "dry_run_all",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub dry_run: bool,
    /// Seconds before the object is removed (Pods use it to stop gracefully);
    /// `0` deletes at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<u32>,
    /// What happens to the objects this one owns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<PropagationPolicy>,
    /// Deletes only if the object still has this uid or resource version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<Preconditions>,
}

fn dry_run_all<S: serde::Serializer>(dry_run: &bool, serializer: S) -> Result<S::Ok, S::Error> {
    let values: &[&str] = if *dry_run { &["All"] } else { &[] };
    values.serialize(serializer)
}

impl DeleteParams {
    /// Deletes the object at once and its dependents in the background.
    pub fn background() -> Self {
        Self {
            propagation_policy: Some(PropagationPolicy::Background),
            ..Self::default()
        }
    }

    /// Deletes the dependents first; the object disappears after them.
    pub fn foreground() -> Self {
        Self {
            propagation_policy: Some(PropagationPolicy::Foreground),
            ..Self::default()
        }
    }

    /// Deletes the object and leaves its dependents without an owner.
    pub fn orphan() -> Self {
        Self {
            propagation_policy: Some(PropagationPolicy::Orphan),
            ..Self::default()
        }
    }

    /// Validates without persisting.
    #[must_use]
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// Sets the grace period, in seconds.
    #[must_use]
    pub fn grace_period(mut self, secs: u32) -> Self {
        self.grace_period_seconds = Some(secs);
        self
    }

    /// Deletes only if the preconditions hold.
    #[must_use]
    pub fn preconditions(mut self, preconditions: Preconditions) -> Self {
        self.preconditions = Some(preconditions);
        self
    }

    /// The `DeleteOptions` body.
    pub(crate) fn body(&self) -> Result<Vec<u8>, serde_json::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct DeleteOptions<'a> {
            api_version: &'static str,
            kind: &'static str,
            #[serde(flatten)]
            params: &'a DeleteParams,
        }
        serde_json::to_vec(&DeleteOptions {
            api_version: "v1",
            kind: "DeleteOptions",
            params: self,
        })
    }
}

/// Conditions a delete checks before it proceeds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// The object must still be at this resource version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// The object must still have this uid (it was not deleted and recreated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// What a delete does to the objects the deleted one owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PropagationPolicy {
    /// Leave them, removing the owner reference.
    Orphan,
    /// Delete them after the owner is gone.
    Background,
    /// Delete them first; the owner is removed last.
    Foreground,
}

/// A query string under construction: `form_urlencoded` escaping, pairs in a
/// fixed order so requests are reproducible.
pub(crate) struct Query {
    serializer: form_urlencoded::Serializer<'static, String>,
    empty: bool,
}

impl Query {
    pub(crate) fn new() -> Self {
        Self {
            serializer: form_urlencoded::Serializer::new(String::new()),
            empty: true,
        }
    }

    pub(crate) fn pair(&mut self, key: &str, value: &str) {
        self.serializer.append_pair(key, value);
        self.empty = false;
    }

    pub(crate) fn opt(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.pair(key, value);
        }
    }

    pub(crate) fn opt_num<N: ToString>(&mut self, key: &str, value: Option<N>) {
        if let Some(value) = value {
            self.pair(key, &value.to_string());
        }
    }

    pub(crate) fn flag(&mut self, key: &str, on: bool) {
        if on {
            self.pair(key, "true");
        }
    }

    /// `path?query`, or just `path` when no pair was added.
    pub(crate) fn url(mut self, path: &str) -> String {
        if self.empty {
            path.to_string()
        } else {
            format!("{path}?{}", self.serializer.finish())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(f: impl FnOnce(&mut Query)) -> String {
        let mut q = Query::new();
        f(&mut q);
        q.url("/p")
    }

    #[test]
    fn list_params_encode_every_field() {
        let lp = ListParams::default()
            .labels("app=web,tier in (a,b)")
            .fields("metadata.name=x")
            .timeout(30)
            .limit(50)
            .at("100")
            .matching(VersionMatch::Exact);
        assert_eq!(
            query(|q| lp.append_to(q)),
            "/p?fieldSelector=metadata.name%3Dx&labelSelector=app%3Dweb%2Ctier+in+%28a%2Cb%29\
             &timeoutSeconds=30&limit=50&resourceVersion=100&resourceVersionMatch=Exact"
        );
        assert_eq!(query(|q| ListParams::default().append_to(q)), "/p");
    }

    #[test]
    fn list_params_reject_inconsistent_versions() {
        let cases = [
            (
                ListParams::default().matching(VersionMatch::NotOlderThan),
                "needs a resourceVersion",
            ),
            (
                ListParams::default().at("0").matching(VersionMatch::Exact),
                "Exact cannot be used",
            ),
            (
                ListParams::default().continue_token("t").at("5"),
                "continue token",
            ),
            (
                ListParams::default().continue_token("t").match_any(),
                "continue token",
            ),
        ];
        for (lp, expected) in cases {
            let err = lp.validate().expect_err(expected);
            assert!(err.to_string().contains(expected), "{err}");
        }
        assert!(
            ListParams::default()
                .match_any()
                .limit(5)
                .validate()
                .is_ok()
        );
        assert!(
            ListParams::default()
                .continue_token("t")
                .limit(5)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn watch_params_encode_streaming_lists() {
        let wp = WatchParams::streaming_lists().timeout(290).labels("a=b");
        assert_eq!(
            query(|q| wp.append_to(q, "")),
            "/p?watch=true&timeoutSeconds=290&labelSelector=a%3Db&allowWatchBookmarks=true\
             &sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        );
        let plain = WatchParams::default().disable_bookmarks();
        assert_eq!(
            query(|q| plain.append_to(q, "42")),
            "/p?watch=true&resourceVersion=42"
        );
        let err = WatchParams::default()
            .disable_bookmarks()
            .initial_events()
            .validate()
            .expect_err("initial events need bookmarks");
        assert!(err.to_string().contains("needs bookmarks"), "{err}");
    }

    #[test]
    fn post_and_patch_params_encode_writes() {
        let pp = PostParams {
            dry_run: true,
            field_manager: Some("me".into()),
        };
        assert_eq!(query(|q| pp.append_to(q)), "/p?dryRun=All&fieldManager=me");
        let patch = PatchParams::apply("mgr")
            .force()
            .dry_run()
            .validation_strict();
        assert_eq!(
            query(|q| patch.append_to(q)),
            "/p?dryRun=All&force=true&fieldManager=mgr&fieldValidation=Strict"
        );
    }

    #[test]
    fn patch_params_reject_apply_without_manager_and_force_without_apply() {
        let apply = Patch::Apply(serde_json::json!({}));
        let merge = Patch::Merge(serde_json::json!({}));
        let err = PatchParams::default()
            .validate(&apply)
            .expect_err("needs manager");
        assert!(err.to_string().contains("field manager"), "{err}");
        let err = PatchParams::apply("m")
            .force()
            .validate(&merge)
            .expect_err("force on merge");
        assert!(err.to_string().contains("force"), "{err}");
        assert!(PatchParams::apply("m").force().validate(&apply).is_ok());
        let long = PatchParams::apply(&"m".repeat(129));
        assert!(long.validate(&apply).is_err());
    }

    #[test]
    fn patches_carry_their_content_types() {
        let v = serde_json::json!({"a": 1});
        assert_eq!(
            Patch::Apply(&v).content_type(),
            "application/apply-patch+yaml"
        );
        assert_eq!(
            Patch::Merge(&v).content_type(),
            "application/merge-patch+json"
        );
        assert_eq!(
            Patch::Strategic(&v).content_type(),
            "application/strategic-merge-patch+json"
        );
        assert_eq!(
            Patch::Merge(&v).serialize().ok(),
            Some(br#"{"a":1}"#.to_vec())
        );
    }

    #[cfg(feature = "jsonpatch")]
    #[test]
    fn json_patches_serialize_as_operation_lists() {
        let ops: json_patch::Patch = serde_json::from_value(serde_json::json!([
            {"op": "replace", "path": "/spec/replicas", "value": 2}
        ]))
        .expect("valid json patch");
        let patch: Patch<()> = Patch::Json(ops);
        assert_eq!(patch.content_type(), "application/json-patch+json");
        assert_eq!(
            patch.serialize().ok(),
            Some(br#"[{"op":"replace","path":"/spec/replicas","value":2}]"#.to_vec())
        );
    }

    #[test]
    fn delete_params_serialize_as_delete_options() {
        let dp = DeleteParams::foreground()
            .dry_run()
            .grace_period(5)
            .preconditions(Preconditions {
                resource_version: Some("7".into()),
                uid: Some("u".into()),
            });
        let body: serde_json::Value =
            serde_json::from_slice(&dp.body().expect("serializable")).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "apiVersion": "v1",
                "kind": "DeleteOptions",
                "dryRun": ["All"],
                "gracePeriodSeconds": 5,
                "propagationPolicy": "Foreground",
                "preconditions": {"resourceVersion": "7", "uid": "u"}
            })
        );
        let plain: serde_json::Value =
            serde_json::from_slice(&DeleteParams::default().body().expect("serializable"))
                .expect("json");
        assert_eq!(
            plain,
            serde_json::json!({"apiVersion": "v1", "kind": "DeleteOptions"})
        );
    }

    #[test]
    fn get_params_encode_versions() {
        assert_eq!(
            query(|q| GetParams::any().append_to(q)),
            "/p?resourceVersion=0"
        );
        assert_eq!(query(|q| GetParams::default().append_to(q)), "/p");
    }
}
