//! Building HTTP requests for the Kubernetes API, without sending them.
//!
//! A [`Request`] holds the URL path of a collection (from
//! [`Resource::url_path`](crate::Resource::url_path)) and turns each verb and its
//! params into an [`http::Request`] with the right method, URL, query, headers and
//! body. `kube-client` sends them; keeping the building pure lets every URL and
//! query be tested here without a server.
//!
//! ```
//! use kube_core::{Request, Resource, params::ListParams};
//! use k8s_openapi::api::core::v1::Pod;
//!
//! let request = Request::new(Pod::url_path(&(), Some("default")));
//! let list = request.list(&ListParams::default().labels("app=web").limit(100))?;
//! assert_eq!(list.method(), "GET");
//! assert_eq!(
//!     list.uri(),
//!     "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=100"
//! );
//! # Ok::<(), kube_core::request::Error>(())
//! ```

use http::{Method, header};
use serde::Serialize;
use thiserror::Error;

use crate::params::{
    DeleteParams, GetParams, ListParams, Patch, PatchParams, PostParams, Query, WatchParams,
};

/// The `Content-Type` of JSON bodies.
pub(crate) const JSON_MIME: &str = "application/json";
/// Asks for a single object's metadata only.
pub(crate) const METADATA_MIME: &str =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
/// Asks for a list of metadata only.
pub(crate) const METADATA_LIST_MIME: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

/// Why a request could not be built.
#[derive(Debug, Error)]
pub enum Error {
    /// The method, URL or headers were rejected by `http`.
    #[error("failed to build request: {0}")]
    BuildRequest(#[source] http::Error),
    /// The body could not be serialized.
    #[error("failed to serialize request body: {0}")]
    SerializeBody(#[source] serde_json::Error),
    /// The params (or a name) are not valid for this request.
    #[error("invalid request: {0}")]
    Validation(String),
}

/// A request builder for one collection of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The URL path of the collection, e.g. `/api/v1/namespaces/default/pods`.
    pub url_path: String,
}

impl Request {
    /// A builder for the collection at `url_path`.
    pub fn new<S: Into<String>>(url_path: S) -> Self {
        Self {
            url_path: url_path.into(),
        }
    }

    /// `GET` a collection.
    pub fn list(&self, lp: &ListParams) -> Result<http::Request<Vec<u8>>, Error> {
        lp.validate()?;
        let mut query = Query::new();
        lp.append_to(&mut query);
        build(Method::GET, query.url(&self.url_path), None, Vec::new())
    }

    /// `GET` a collection as a watch stream, from `version` (empty: from now, or
    /// with initial events for a streaming list).
    pub fn watch(&self, wp: &WatchParams, version: &str) -> Result<http::Request<Vec<u8>>, Error> {
        wp.validate()?;
        let mut query = Query::new();
        wp.append_to(&mut query, version);
        build(Method::GET, query.url(&self.url_path), None, Vec::new())
    }

    /// `GET` one object.
    pub fn get(&self, name: &str, gp: &GetParams) -> Result<http::Request<Vec<u8>>, Error> {
        let mut query = Query::new();
        gp.append_to(&mut query);
        build(
            Method::GET,
            query.url(&self.object_path(name)?),
            None,
            Vec::new(),
        )
    }

    /// `POST` a new object (its serialized JSON) to the collection.
    pub fn create(&self, pp: &PostParams, data: Vec<u8>) -> Result<http::Request<Vec<u8>>, Error> {
        pp.validate()?;
        let mut query = Query::new();
        pp.append_to(&mut query);
        build(
            Method::POST,
            query.url(&self.url_path),
            Some(JSON_MIME),
            data,
        )
    }

    /// `DELETE` one object.
    pub fn delete(&self, name: &str, dp: &DeleteParams) -> Result<http::Request<Vec<u8>>, Error> {
        let body = dp.body().map_err(Error::SerializeBody)?;
        build(
            Method::DELETE,
            self.object_path(name)?,
            Some(JSON_MIME),
            body,
        )
    }

    /// `DELETE` every object of the collection matching `lp`'s selectors.
    pub fn delete_collection(
        &self,
        dp: &DeleteParams,
        lp: &ListParams,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        lp.validate()?;
        let mut query = Query::new();
        lp.append_to(&mut query);
        let body = dp.body().map_err(Error::SerializeBody)?;
        build(
            Method::DELETE,
            query.url(&self.url_path),
            Some(JSON_MIME),
            body,
        )
    }

    /// `PATCH` one object.
    pub fn patch<P: Serialize>(
        &self,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        self.patch_at(self.object_path(name)?, pp, patch)
    }

    /// `PUT` a whole object (its serialized JSON, with the resource version it was
    /// read at, so a concurrent change makes the replace fail with a conflict).
    pub fn replace(
        &self,
        name: &str,
        pp: &PostParams,
        data: Vec<u8>,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        self.put_at(self.object_path(name)?, pp, data)
    }

    /// `GET` a subresource of one object, e.g. `status` or `scale`.
    pub fn get_subresource(
        &self,
        subresource_name: &str,
        name: &str,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let path = self.subresource_path(subresource_name, name)?;
        build(Method::GET, path, None, Vec::new())
    }

    /// `POST` to a subresource of one object, e.g. `eviction` or `token`.
    pub fn create_subresource(
        &self,
        subresource_name: &str,
        name: &str,
        pp: &PostParams,
        data: Vec<u8>,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        pp.validate()?;
        let mut query = Query::new();
        pp.append_to(&mut query);
        let path = self.subresource_path(subresource_name, name)?;
        build(Method::POST, query.url(&path), Some(JSON_MIME), data)
    }

    /// `PATCH` a subresource of one object.
    pub fn patch_subresource<P: Serialize>(
        &self,
        subresource_name: &str,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        self.patch_at(self.subresource_path(subresource_name, name)?, pp, patch)
    }

    /// `PUT` a subresource of one object.
    pub fn replace_subresource(
        &self,
        subresource_name: &str,
        name: &str,
        pp: &PostParams,
        data: Vec<u8>,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        self.put_at(self.subresource_path(subresource_name, name)?, pp, data)
    }

    /// `GET` one object's metadata only.
    pub fn get_metadata(
        &self,
        name: &str,
        gp: &GetParams,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        accept(self.get(name, gp)?, METADATA_MIME)
    }

    /// `GET` a collection's metadata only.
    pub fn list_metadata(&self, lp: &ListParams) -> Result<http::Request<Vec<u8>>, Error> {
        accept(self.list(lp)?, METADATA_LIST_MIME)
    }

    /// Watch a collection's metadata only.
    pub fn watch_metadata(
        &self,
        wp: &WatchParams,
        version: &str,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        accept(self.watch(wp, version)?, METADATA_MIME)
    }

    /// `PATCH` one object, answered with its metadata only.
    pub fn patch_metadata<P: Serialize>(
        &self,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        accept(self.patch(name, pp, patch)?, METADATA_MIME)
    }

    fn patch_at<P: Serialize>(
        &self,
        path: String,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        pp.validate(patch)?;
        let mut query = Query::new();
        pp.append_to(&mut query);
        let body = patch.serialize().map_err(Error::SerializeBody)?;
        build(
            Method::PATCH,
            query.url(&path),
            Some(patch.content_type()),
            body,
        )
    }

    fn put_at(
        &self,
        path: String,
        pp: &PostParams,
        data: Vec<u8>,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        pp.validate()?;
        let mut query = Query::new();
        pp.append_to(&mut query);
        build(Method::PUT, query.url(&path), Some(JSON_MIME), data)
    }

    pub(crate) fn object_path(&self, name: &str) -> Result<String, Error> {
        validate_path_segment("name", name)?;
        Ok(format!("{}/{name}", self.url_path))
    }

    pub(crate) fn subresource_path(&self, subresource: &str, name: &str) -> Result<String, Error> {
        validate_path_segment("subresource", subresource)?;
        Ok(format!("{}/{subresource}", self.object_path(name)?))
    }
}

/// Refuses names that would change the URL's meaning: empty, `.`/`..`, or holding
/// characters that end or escape a path segment.
pub(crate) fn validate_path_segment(what: &str, segment: &str) -> Result<(), Error> {
    if segment.is_empty() {
        return Err(Error::Validation(format!("the {what} is empty")));
    }
    if segment == "." || segment == ".." {
        return Err(Error::Validation(format!(
            "the {what} {segment:?} is not a valid path segment"
        )));
    }
    if let Some(bad) = segment
        .chars()
        .find(|c| matches!(c, '/' | '%' | '?' | '#') || c.is_whitespace() || c.is_control())
    {
        return Err(Error::Validation(format!(
            "the {what} {segment:?} contains {bad:?}, which is not allowed in a URL path segment"
        )));
    }
    Ok(())
}

pub(crate) fn build(
    method: Method,
    url: String,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Result<http::Request<Vec<u8>>, Error> {
    let mut builder = http::Request::builder().method(method).uri(url);
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(body).map_err(Error::BuildRequest)
}

fn accept(
    mut request: http::Request<Vec<u8>>,
    mime: &str,
) -> Result<http::Request<Vec<u8>>, Error> {
    // Fall back to full objects if the server cannot serve the metadata-only form.
    let value = format!("{mime},{JSON_MIME}");
    let value = header::HeaderValue::from_str(&value)
        .map_err(|e| Error::BuildRequest(http::Error::from(e)))?;
    request.headers_mut().insert(header::ACCEPT, value);
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ApiResource, DynamicObject, GroupVersionKind, Resource,
        params::{Preconditions, VersionMatch},
    };
    use k8s_openapi::api::{
        apps::v1::Deployment,
        core::v1::{Namespace, Node, Pod},
        rbac::v1::ClusterRole,
    };

    fn pods(ns: &str) -> Request {
        Request::new(Pod::url_path(&(), Some(ns)))
    }

    fn header(req: &http::Request<Vec<u8>>, name: header::HeaderName) -> Option<&str> {
        req.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn urls_for_every_kind_of_resource() {
        let crd = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("clux.dev", "v1", "Foo"),
            "foos",
        );
        let table: Vec<(String, &str)> = vec![
            (Pod::url_path(&(), Some("ns")), "/api/v1/namespaces/ns/pods"),
            (Pod::url_path(&(), None), "/api/v1/pods"),
            (Node::url_path(&(), None), "/api/v1/nodes"),
            (Namespace::url_path(&(), None), "/api/v1/namespaces"),
            (
                Deployment::url_path(&(), Some("ns")),
                "/apis/apps/v1/namespaces/ns/deployments",
            ),
            (Deployment::url_path(&(), None), "/apis/apps/v1/deployments"),
            (
                ClusterRole::url_path(&(), None),
                "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            ),
            (
                DynamicObject::url_path(&crd, Some("ns")),
                "/apis/clux.dev/v1/namespaces/ns/foos",
            ),
            (
                DynamicObject::url_path(&crd, None),
                "/apis/clux.dev/v1/foos",
            ),
        ];
        for (actual, expected) in table {
            assert_eq!(actual, expected);
        }
    }

    #[test]
    fn object_verbs_use_the_right_method_and_path() {
        let r = pods("ns");
        let cases = [
            (
                r.get("p", &GetParams::default()),
                Method::GET,
                "/api/v1/namespaces/ns/pods/p",
            ),
            (
                r.create(&PostParams::default(), vec![]),
                Method::POST,
                "/api/v1/namespaces/ns/pods",
            ),
            (
                r.replace("p", &PostParams::default(), vec![]),
                Method::PUT,
                "/api/v1/namespaces/ns/pods/p",
            ),
            (
                r.delete("p", &DeleteParams::default()),
                Method::DELETE,
                "/api/v1/namespaces/ns/pods/p",
            ),
            (
                r.patch("p", &PatchParams::default(), &Patch::Merge(())),
                Method::PATCH,
                "/api/v1/namespaces/ns/pods/p",
            ),
            (
                r.list(&ListParams::default()),
                Method::GET,
                "/api/v1/namespaces/ns/pods",
            ),
            (
                r.delete_collection(&DeleteParams::default(), &ListParams::default()),
                Method::DELETE,
                "/api/v1/namespaces/ns/pods",
            ),
        ];
        for (req, method, uri) in cases {
            let req = req.expect("valid request");
            assert_eq!(req.method(), method);
            assert_eq!(req.uri(), uri);
        }
    }

    #[test]
    fn subresources_hang_off_the_object() {
        let r = Request::new(Deployment::url_path(&(), Some("ns")));
        let scale = r.get_subresource("scale", "web").expect("valid");
        assert_eq!(
            scale.uri(),
            "/apis/apps/v1/namespaces/ns/deployments/web/scale"
        );
        let status = r
            .patch_subresource("status", "web", &PatchParams::default(), &Patch::Merge(()))
            .expect("valid");
        assert_eq!(status.method(), Method::PATCH);
        assert_eq!(
            status.uri(),
            "/apis/apps/v1/namespaces/ns/deployments/web/status"
        );
        let replace = r
            .replace_subresource("scale", "web", &PostParams::default(), b"{}".to_vec())
            .expect("valid");
        assert_eq!(replace.method(), Method::PUT);
        assert_eq!(
            replace.uri(),
            "/apis/apps/v1/namespaces/ns/deployments/web/scale"
        );
        let evict = pods("ns")
            .create_subresource("eviction", "p", &PostParams::default(), vec![])
            .expect("valid");
        assert_eq!(evict.method(), Method::POST);
        assert_eq!(evict.uri(), "/api/v1/namespaces/ns/pods/p/eviction");
    }

    #[test]
    fn watch_queries_are_exact() {
        let r = pods("ns");
        let wp = WatchParams::default().timeout(290);
        assert_eq!(
            r.watch(&wp, "1234").expect("valid").uri(),
            "/api/v1/namespaces/ns/pods?watch=true&resourceVersion=1234&timeoutSeconds=290&allowWatchBookmarks=true"
        );
        let wp = WatchParams::default()
            .fields("spec.nodeName=n1")
            .labels("app=x")
            .disable_bookmarks();
        assert_eq!(
            r.watch(&wp, "0").expect("valid").uri(),
            "/api/v1/namespaces/ns/pods?watch=true&resourceVersion=0&fieldSelector=spec.nodeName%3Dn1&labelSelector=app%3Dx"
        );
        assert_eq!(
            r.watch(&WatchParams::streaming_lists(), "")
                .expect("valid")
                .uri(),
            "/api/v1/namespaces/ns/pods?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        );
    }

    #[test]
    fn list_queries_cover_paging_and_versions() {
        let r = pods("ns");
        let page = r
            .list(&ListParams::default().limit(500).continue_token("eyJ2Ijo="))
            .expect("valid");
        assert_eq!(
            page.uri(),
            "/api/v1/namespaces/ns/pods?limit=500&continue=eyJ2Ijo%3D"
        );
        let any = r.list(&ListParams::default().match_any()).expect("valid");
        assert_eq!(
            any.uri(),
            "/api/v1/namespaces/ns/pods?resourceVersion=0&resourceVersionMatch=NotOlderThan"
        );
        let exact = r
            .list(&ListParams::default().at("55").matching(VersionMatch::Exact))
            .expect("valid");
        assert_eq!(
            exact.uri(),
            "/api/v1/namespaces/ns/pods?resourceVersion=55&resourceVersionMatch=Exact"
        );
        let err = r
            .list(&ListParams::default().matching(VersionMatch::Exact))
            .expect_err("no version");
        assert!(matches!(err, Error::Validation(_)), "{err}");
    }

    #[test]
    fn writes_carry_dry_run_and_field_manager() {
        let r = pods("ns");
        let pp = PostParams {
            dry_run: true,
            field_manager: Some("kubectl".into()),
        };
        let create = r.create(&pp, b"{}".to_vec()).expect("valid");
        assert_eq!(
            create.uri(),
            "/api/v1/namespaces/ns/pods?dryRun=All&fieldManager=kubectl"
        );
        assert_eq!(
            header(&create, header::CONTENT_TYPE),
            Some("application/json")
        );
        assert_eq!(create.body(), b"{}");
        let replace = r.replace("p", &pp, vec![]).expect("valid");
        assert_eq!(
            replace.uri(),
            "/api/v1/namespaces/ns/pods/p?dryRun=All&fieldManager=kubectl"
        );
    }

    #[test]
    fn patches_set_content_type_and_apply_params() {
        let r = pods("ns");
        let body = serde_json::json!({"metadata": {"labels": {"a": "b"}}});
        let cases = [
            (Patch::Apply(&body), "application/apply-patch+yaml"),
            (Patch::Merge(&body), "application/merge-patch+json"),
            (
                Patch::Strategic(&body),
                "application/strategic-merge-patch+json",
            ),
        ];
        for (patch, mime) in cases {
            let req = r
                .patch("p", &PatchParams::apply("mgr"), &patch)
                .expect("valid");
            assert_eq!(header(&req, header::CONTENT_TYPE), Some(mime));
            assert_eq!(req.body(), &serde_json::to_vec(&body).expect("json"));
        }
        let forced = r
            .patch(
                "p",
                &PatchParams::apply("mgr").force(),
                &Patch::Apply(&body),
            )
            .expect("valid");
        assert_eq!(
            forced.uri(),
            "/api/v1/namespaces/ns/pods/p?force=true&fieldManager=mgr"
        );
        let err = r
            .patch("p", &PatchParams::default(), &Patch::Apply(&body))
            .expect_err("apply needs a manager");
        assert!(err.to_string().contains("field manager"), "{err}");
    }

    #[test]
    fn deletes_send_delete_options() {
        let r = pods("ns");
        let dp = DeleteParams::background().preconditions(Preconditions {
            uid: Some("abc".into()),
            resource_version: None,
        });
        let req = r.delete("p", &dp).expect("valid");
        assert_eq!(header(&req, header::CONTENT_TYPE), Some("application/json"));
        let body: serde_json::Value = serde_json::from_slice(req.body()).expect("json body");
        assert_eq!(body["propagationPolicy"], "Background");
        assert_eq!(body["preconditions"]["uid"], "abc");
        let coll = r
            .delete_collection(
                &DeleteParams::default().dry_run(),
                &ListParams::default().labels("app=x"),
            )
            .expect("valid");
        assert_eq!(
            coll.uri(),
            "/api/v1/namespaces/ns/pods?labelSelector=app%3Dx"
        );
        let body: serde_json::Value = serde_json::from_slice(coll.body()).expect("json body");
        assert_eq!(body["dryRun"], serde_json::json!(["All"]));
    }

    #[test]
    fn metadata_requests_ask_for_partial_objects() {
        let r = pods("ns");
        let get = r.get_metadata("p", &GetParams::default()).expect("valid");
        assert_eq!(
            header(&get, header::ACCEPT),
            Some("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json")
        );
        let list = r.list_metadata(&ListParams::default()).expect("valid");
        assert_eq!(
            header(&list, header::ACCEPT),
            Some(
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
            )
        );
        let watch = r
            .watch_metadata(&WatchParams::default(), "1")
            .expect("valid");
        assert_eq!(
            header(&watch, header::ACCEPT),
            Some("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json")
        );
        let patch = r
            .patch_metadata("p", &PatchParams::default(), &Patch::Merge(()))
            .expect("valid");
        assert_eq!(patch.method(), Method::PATCH);
        assert!(
            header(&patch, header::ACCEPT).is_some_and(|a| a.contains("PartialObjectMetadata"))
        );
    }

    #[test]
    fn bad_names_are_refused_with_the_name() {
        let r = pods("ns");
        for (name, expected) in [
            ("", "the name is empty"),
            ("a/b", "contains '/'"),
            ("..", "not a valid path segment"),
            ("a b", "contains ' '"),
            ("x?y", "contains '?'"),
        ] {
            let err = r.get(name, &GetParams::default()).expect_err(name);
            assert!(err.to_string().contains(expected), "{name:?}: {err}");
        }
        let err = r.get_subresource("", "p").expect_err("empty subresource");
        assert!(err.to_string().contains("subresource is empty"), "{err}");
    }
}
