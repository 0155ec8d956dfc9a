//! [`Api<K>`]: the verbs of one resource type, in one namespace or across all.
//!
//! An `Api` pairs a [`Client`] with the URL of a collection: pods in `default`,
//! deployments everywhere, a custom resource found by discovery. Its methods are
//! the verbs of the Kubernetes API (`get`, `list`, `create`, `replace`, `patch`,
//! `delete`, `watch`) plus the subresources (`status`, `scale`, `log`, ...), typed
//! by `K`.
//!
//! ```no_run
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube_client::{Api, Client, api::{Patch, PatchParams, PostParams}};
//!
//! # async fn run(client: Client) -> kube_client::Result<()> {
//! let maps: Api<ConfigMap> = Api::namespaced(client, "default");
//! let mut cm = ConfigMap::default();
//! cm.metadata.name = Some("settings".into());
//! maps.create(&PostParams::default(), &cm).await?;
//!
//! let patch = serde_json::json!({"data": {"mode": "fast"}});
//! let cm = maps.patch("settings", &PatchParams::default(), &Patch::Merge(&patch)).await?;
//! assert_eq!(cm.data.unwrap_or_default()["mode"], "fast");
//! # Ok(())
//! # }
//! ```
//!
//! The scope of `K` decides which constructors exist: [`Api::namespaced`] only
//! compiles for namespaced types, and a type known only at runtime (a
//! [`DynamicObject`]) uses the `_with` constructors with its [`ApiResource`].

mod core_methods;
pub mod entry;
#[cfg(feature = "ws")]
mod portforward;
#[cfg(feature = "ws")]
mod remote_command;
#[cfg(feature = "ws")]
mod streaming;
mod subresource;
mod util;
mod without_managed_fields;

use std::{fmt, marker::PhantomData};

/// The types of admission webhooks: `AdmissionReview` and friends.
#[cfg(feature = "admission")]
pub use kube_core::admission;
pub use kube_core::params::{
    DeleteParams, GetParams, ListParams, Patch, PatchParams, PostParams, Preconditions,
    PropagationPolicy, ValidationDirective, VersionMatch, WatchParams,
};
pub use kube_core::util::Restart;
pub use kube_core::{
    Resource, ResourceExt,
    discovery::ApiResource,
    dynamic::DynamicObject,
    gvk::{GroupVersionKind, GroupVersionResource},
    metadata::{ListMeta, ObjectMeta, PartialObjectMeta, PartialObjectMetaExt, TypeMeta},
    object::{NotUsed, Object, ObjectList},
    request::Request,
    response::Status,
    watch::WatchEvent,
};
pub use subresource::{
    Ephemeral, Evict, EvictParams, Log, LogParams, Resize, Scale, ScaleSpec, ScaleStatus,
};
#[cfg(feature = "ws")]
pub use {
    kube_core::subresource::AttachParams,
    portforward::Portforwarder,
    remote_command::{AttachedProcess, TerminalSize},
    streaming::{Attach, Execute, Portforward},
};

use kube_core::{DynamicResourceScope, NamespaceResourceScope, NamespaceScope, discovery::Scope};

use crate::{Client, Error, Result};

/// Stands in for the namespace in the URL template of a namespaced `Api`.
const NAMESPACE_SLOT: &str = "\u{0}namespace\u{0}";

/// The verbs of resource type `K` in one namespace, or across all namespaces
/// (or for a cluster-scoped `K`, across the cluster).
///
/// Cheap to clone. See the [module documentation](self) for an example.
pub struct Api<K> {
    request: Request,
    client: Client,
    namespace: Option<String>,
    /// The collection URL with [`NAMESPACE_SLOT`] for the namespace, so the `Api`
    /// can be moved to another namespace without the resource's dynamic type.
    namespaced_template: String,
    /// The collection URL across all namespaces.
    all_url: String,
    /// `K` holds only metadata: ask the server for the metadata-only form.
    metadata_api: bool,
    /// Why the namespace cannot be used in a URL, reported by every request.
    invalid_namespace: Option<String>,
    /// Known to be cluster-scoped at runtime ([`Api::dynamic`] with
    /// [`Scope::Cluster`]): a namespace does not apply.
    cluster_scoped: bool,
    _kind: PhantomData<fn() -> K>,
}

impl<K: Resource> Api<K> {
    fn build(client: Client, namespace: Option<&str>, dyntype: &K::DynamicType) -> Self {
        let all_url = K::url_path(dyntype, None);
        let namespaced_template = K::url_path(dyntype, Some(NAMESPACE_SLOT));
        let mut api = Api {
            request: Request::new(all_url.clone()),
            client,
            namespace: None,
            namespaced_template,
            all_url,
            metadata_api: K::metadata_api(),
            invalid_namespace: None,
            cluster_scoped: false,
            _kind: PhantomData,
        };
        api.set_namespace(namespace);
        api
    }

    /// An `Api` across all namespaces (or of a cluster-scoped resource), for a
    /// resource type described by `dyntype` (an [`ApiResource`] for a
    /// [`DynamicObject`]).
    pub fn all_with(client: Client, dyntype: &K::DynamicType) -> Self {
        Self::build(client, None, dyntype)
    }

    /// An `Api` within namespace `ns`, for a dynamic resource type described by
    /// `dyntype`.
    ///
    /// The resource must be namespaced; the server answers `404` otherwise. A
    /// dynamic type does not say whether its resource is namespaced: for one
    /// whose scope is known only at runtime, [`dynamic`](Self::dynamic) with
    /// that scope and then [`constrain`](Self::constrain) applies `ns` only
    /// where it belongs.
    pub fn namespaced_with(client: Client, ns: &str, dyntype: &K::DynamicType) -> Self
    where
        K: Resource<Scope = DynamicResourceScope>,
    {
        Self::build(client, Some(ns), dyntype)
    }

    /// An `Api` within the client's default namespace, for a dynamic resource
    /// type described by `dyntype`.
    pub fn default_namespaced_with(client: Client, dyntype: &K::DynamicType) -> Self
    where
        K: Resource<Scope = DynamicResourceScope>,
    {
        let ns = client.default_namespace().to_string();
        Self::namespaced_with(client, &ns, dyntype)
    }

    /// An `Api` for a resource whose scope is known only at runtime, e.g. from
    /// discovery ([`ApiCapabilities::scope`](crate::discovery::ApiCapabilities)).
    ///
    /// It starts across all namespaces, as [`all_with`](Self::all_with) does,
    /// and remembers `scope`, so that [`constrain`](Self::constrain) applies a
    /// namespace the way `kubectl -n` does: to a namespaced resource, and not
    /// to a cluster-scoped one, which stays at its cluster-wide URL.
    ///
    /// ```no_run
    /// # use kube_client::{Api, Client, api::{ApiResource, DynamicObject}, discovery::Scope};
    /// # fn run(client: Client, classes: ApiResource) {
    /// let api: Api<DynamicObject> = Api::dynamic(client, &classes, &Scope::Cluster).constrain("shop");
    /// assert_eq!(api.resource_url(), "/apis/scheduling.k8s.io/v1/priorityclasses");
    /// # }
    /// ```
    pub fn dynamic(client: Client, dyntype: &K::DynamicType, scope: &Scope) -> Self
    where
        K: Resource<DynamicType = ApiResource, Scope = DynamicResourceScope>,
    {
        let mut api = Self::all_with(client, dyntype);
        api.cluster_scoped = *scope == Scope::Cluster;
        api
    }

    /// The same `Api`, within namespace `ns`; across all namespaces when `ns`
    /// is empty. Does nothing to an `Api` from [`dynamic`](Self::dynamic) for a
    /// cluster-scoped resource.
    #[must_use]
    pub fn constrain(mut self, ns: &str) -> Self
    where
        K::Scope: NamespaceScope,
    {
        self.set_namespace((!ns.is_empty()).then_some(ns));
        self
    }

    /// The same `Api`, across all namespaces.
    #[must_use]
    pub fn unconstrain(mut self) -> Self
    where
        K::Scope: NamespaceScope,
    {
        self.set_namespace(None);
        self
    }

    /// The same `Api`, within the client's default namespace.
    #[must_use]
    pub fn constrain_default(self) -> Self
    where
        K::Scope: NamespaceScope,
    {
        let ns = self.client.default_namespace().to_string();
        self.constrain(&ns)
    }
}

impl<K> Api<K> {
    fn set_namespace(&mut self, namespace: Option<&str>) {
        self.invalid_namespace = None;
        let namespace = namespace.filter(|_| !self.cluster_scoped);
        match namespace {
            Some(ns) => {
                if let Err(why) = check_namespace(ns) {
                    self.invalid_namespace = Some(why);
                }
                self.request =
                    Request::new(self.namespaced_template.replacen(NAMESPACE_SLOT, ns, 1));
                self.namespace = Some(ns.to_string());
            }
            None => {
                self.request = Request::new(self.all_url.clone());
                self.namespace = None;
            }
        }
    }

    /// The namespace this `Api` works in; `None` across all namespaces or for a
    /// cluster-scoped resource.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Gives back the client.
    pub fn into_client(self) -> Client {
        self.client
    }

    /// The URL path of the collection, e.g. `/api/v1/namespaces/default/pods`.
    pub fn resource_url(&self) -> &str {
        &self.request.url_path
    }

    /// The request builder, or the reason the namespace is unusable.
    pub(crate) fn requests(&self) -> Result<&Request> {
        match &self.invalid_namespace {
            Some(why) => Err(Error::BuildRequest(kube_core::request::Error::Validation(
                why.clone(),
            ))),
            None => Ok(&self.request),
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }
}

impl<K: Resource> Api<K>
where
    K::DynamicType: Default,
{
    /// An `Api` across all namespaces, or of a cluster-scoped resource.
    ///
    /// ```no_run
    /// # use kube_client::{Api, Client};
    /// # use k8s_openapi::api::core::v1::{Node, Pod};
    /// # fn run(client: Client) {
    /// let nodes: Api<Node> = Api::all(client.clone());
    /// let every_pod: Api<Pod> = Api::all(client);
    /// # }
    /// ```
    pub fn all(client: Client) -> Self {
        Self::all_with(client, &K::DynamicType::default())
    }

    /// An `Api` within namespace `ns`. Only for namespaced resources: asking for
    /// a cluster-scoped one does not compile.
    pub fn namespaced(client: Client, ns: &str) -> Self
    where
        K: Resource<Scope = NamespaceResourceScope>,
    {
        Self::build(client, Some(ns), &K::DynamicType::default())
    }

    /// An `Api` within the client's default namespace (the kubeconfig context's,
    /// or the pod's own when running in a cluster).
    pub fn default_namespaced(client: Client) -> Self
    where
        K: Resource<Scope = NamespaceResourceScope>,
    {
        let ns = client.default_namespace().to_string();
        Self::namespaced(client, &ns)
    }
}

impl<K> Clone for Api<K> {
    fn clone(&self) -> Self {
        Self {
            request: self.request.clone(),
            client: self.client.clone(),
            namespace: self.namespace.clone(),
            namespaced_template: self.namespaced_template.clone(),
            all_url: self.all_url.clone(),
            metadata_api: self.metadata_api,
            invalid_namespace: self.invalid_namespace.clone(),
            cluster_scoped: self.cluster_scoped,
            _kind: PhantomData,
        }
    }
}

impl<K> From<Api<K>> for Client {
    fn from(api: Api<K>) -> Self {
        api.client
    }
}

impl<K> fmt::Debug for Api<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("resource_url", &self.request.url_path)
            .field("namespace", &self.namespace)
            .field("client", &self.client)
            .finish()
    }
}

/// Refuses namespaces that would change the meaning of the URL.
fn check_namespace(ns: &str) -> std::result::Result<(), String> {
    let bad = ns.is_empty()
        || ns == "."
        || ns == ".."
        || ns
            .chars()
            .any(|c| matches!(c, '/' | '%' | '?' | '#') || c.is_whitespace() || c.is_control());
    if bad {
        Err(format!(
            "the namespace {ns:?} is not a valid namespace name (lowercase letters, digits and '-')"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::test_config;
    use k8s_openapi::api::{
        apps::v1::Deployment,
        core::v1::{ConfigMap, Node, Pod},
    };
    use kube_core::GroupVersionKind;

    fn client() -> Client {
        Client::try_from(test_config("http://127.0.0.1:9")).expect("client")
    }

    #[test]
    fn urls_follow_scope_and_namespace() {
        let pods: Api<Pod> = Api::namespaced(client(), "ns");
        assert_eq!(pods.resource_url(), "/api/v1/namespaces/ns/pods");
        assert_eq!(pods.namespace(), Some("ns"));
        let pods = pods.unconstrain();
        assert_eq!(pods.resource_url(), "/api/v1/pods");
        assert_eq!(pods.namespace(), None);
        let pods = pods.constrain("other");
        assert_eq!(pods.resource_url(), "/api/v1/namespaces/other/pods");
        assert_eq!(
            pods.constrain_default().resource_url(),
            "/api/v1/namespaces/home/pods"
        );

        let nodes: Api<Node> = Api::all(client());
        assert_eq!(nodes.resource_url(), "/api/v1/nodes");
        let deployments: Api<Deployment> = Api::default_namespaced(client());
        assert_eq!(
            deployments.resource_url(),
            "/apis/apps/v1/namespaces/home/deployments"
        );
    }

    #[test]
    fn dynamic_apis_use_the_api_resource() {
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("example.com", "v1", "Widget"),
            "widgets",
        );
        let widgets: Api<DynamicObject> = Api::namespaced_with(client(), "ns", &ar);
        assert_eq!(
            widgets.resource_url(),
            "/apis/example.com/v1/namespaces/ns/widgets"
        );
        let all: Api<DynamicObject> = Api::all_with(client(), &ar);
        assert_eq!(all.resource_url(), "/apis/example.com/v1/widgets");
    }

    #[test]
    fn dynamic_apis_start_cluster_wide_and_namespace_only_namespaced_kinds() {
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("example.com", "v1", "Widget"),
            "widgets",
        );
        let scoped: Api<DynamicObject> = Api::dynamic(client(), &ar, &Scope::Namespaced);
        assert_eq!(scoped.resource_url(), "/apis/example.com/v1/widgets");
        let scoped = scoped.constrain("ns");
        assert_eq!(
            scoped.resource_url(),
            "/apis/example.com/v1/namespaces/ns/widgets"
        );
        assert_eq!(
            scoped.constrain("").resource_url(),
            "/apis/example.com/v1/widgets"
        );

        let cluster: Api<DynamicObject> = Api::dynamic(client(), &ar, &Scope::Cluster);
        let cluster = cluster.constrain("ns");
        assert_eq!(cluster.resource_url(), "/apis/example.com/v1/widgets");
        assert_eq!(cluster.namespace(), None);
        let cluster = cluster.constrain_default();
        assert_eq!(cluster.resource_url(), "/apis/example.com/v1/widgets");
    }

    #[tokio::test]
    async fn an_unusable_namespace_fails_every_request_before_sending() {
        let maps: Api<ConfigMap> = Api::namespaced(client(), "a/../b");
        let err = maps.get("x").await.expect_err("invalid namespace");
        assert!(matches!(err, Error::BuildRequest(_)), "{err:?}");
        assert!(err.to_string().contains("\"a/../b\""), "{err}");
        let err = maps
            .list(&Default::default())
            .await
            .expect_err("invalid namespace");
        assert!(matches!(err, Error::BuildRequest(_)), "{err:?}");
        let fixed = maps.constrain("good");
        assert!(fixed.requests().is_ok());
    }

    #[tokio::test]
    async fn bad_object_names_fail_before_sending() {
        let maps: Api<ConfigMap> = Api::namespaced(client(), "ns");
        let err = maps.get("../secrets").await.expect_err("invalid name");
        assert!(matches!(err, Error::BuildRequest(_)), "{err:?}");
    }

    /// Fails to compile if a verb's future cannot move between threads.
    #[test]
    fn verb_futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let maps: Api<ConfigMap> = Api::namespaced(client(), "ns");
        let lp = ListParams::default();
        let wp = WatchParams::default();
        assert_send(&maps.list(&lp));
        assert_send(&maps.get("x"));
        assert_send(&maps.watch(&wp, "0"));
        assert_send(&maps.delete("x", &DeleteParams::default()));
        assert_send(&maps.entry("x"));
        let pods: Api<Pod> = Api::namespaced(client(), "ns");
        assert_send(&pods.log_stream("p", &LogParams::default()));
        assert_send(&crate::Discovery::new(client()).run());
    }

    #[test]
    fn debug_names_the_collection() {
        let pods: Api<Pod> = Api::namespaced(client(), "ns");
        let text = format!("{pods:?}");
        assert!(text.contains("/api/v1/namespaces/ns/pods"), "{text}");
        let client: Client = pods.clone().into();
        assert_eq!(client.default_namespace(), "home");
    }
}
