//! Reading objects straight from a [`Client`], by scope or by reference,
//! without making an `Api<K>` first (feature `unstable-client`).
//!
//! - [`Client::get`] and [`Client::list`] take a scope: [`Cluster`] (every
//!   namespace, or cluster-scoped kinds) or a [`Namespace`]. Which scopes a
//!   kind accepts is checked at compile time, as with `Api::namespaced`.
//! - [`Client::fetch`] follows a reference found in another object: an
//!   `ObjectReference`, an `OwnerReference` (cluster-scoped owners, or
//!   namespaced ones placed [`within`](NamespacedRef::within) a namespace), or
//!   a `LocalObjectReference` placed in a namespace.
//!
//! ```no_run
//! use k8s_openapi::api::core::v1::{Namespace as Ns, Pod};
//! use kube_client::{Client, api::ListParams, client::scope::{Cluster, Namespace}};
//!
//! # async fn run(client: Client) -> kube_client::Result<()> {
//! for ns in client.list::<Ns>(&ListParams::default(), &Cluster).await? {
//!     let scope = Namespace::try_from(&ns).expect("listed namespaces have names");
//!     let pods = client.list::<Pod>(&ListParams::default(), &scope).await?;
//!     println!("{} pods", pods.items.len());
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt::Debug;

use k8s_openapi::{
    api::core::v1::{LocalObjectReference, Namespace as NamespaceObject, ObjectReference},
    apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube_core::{
    ApiResource, ClusterResourceScope, DynamicObject, DynamicResourceScope, GroupVersionKind,
    NamespaceScope, Resource,
    object::ObjectList,
    params::{GetParams, ListParams},
    request::Request,
};
use serde::{Serialize, de::DeserializeOwned};

use crate::{Client, Error, Result};

/// Scopes in which cluster-wide names are meaningful: cluster-scoped kinds,
/// and dynamic ones (whose scope is only known at runtime).
trait ClusterScope {}

impl ClusterScope for ClusterResourceScope {}
impl ClusterScope for DynamicResourceScope {}

/// Where a collection of `K` lives: its URL.
pub trait CollectionUrl<K> {
    /// The collection's path, e.g. `/api/v1/namespaces/shop/pods`.
    fn url_path(&self) -> String;
}

/// Where the objects of `K` are named: the URL their names are appended to.
pub trait ObjectUrl<K> {
    /// The path of the collection holding the object.
    fn url_path(&self) -> String;
}

/// A reference to one object of `K`.
pub trait ObjectRef<K>: ObjectUrl<K> {
    /// The object's name, if the reference has one.
    fn name(&self) -> Option<&str>;
}

/// A reference that needs a namespace to point at a namespaced object.
pub trait NamespacedRef<K> {
    /// The reference, placed in `namespace`.
    fn within(&self, namespace: impl Into<Option<String>>) -> impl ObjectRef<K>;
}

/// Everything in the cluster: all namespaces, or cluster-scoped kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cluster;

/// One namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace(String);

/// A `Namespace` object without a name cannot be a scope.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    /// The object has no `metadata.name`.
    #[error("the Namespace object has no name")]
    MissingName,
}

/// The scopes and references of [`Client::get`], [`Client::list`] and
/// [`Client::fetch`].
pub mod scope {
    pub use super::{Cluster, Namespace, NamespacedRef};
}

impl From<&str> for Namespace {
    fn from(namespace: &str) -> Self {
        Self(namespace.to_string())
    }
}

impl From<String> for Namespace {
    fn from(namespace: String) -> Self {
        Self(namespace)
    }
}

impl TryFrom<&NamespaceObject> for Namespace {
    type Error = NamespaceError;

    fn try_from(namespace: &NamespaceObject) -> Result<Self, Self::Error> {
        namespace
            .metadata
            .name
            .clone()
            .map(Self)
            .ok_or(NamespaceError::MissingName)
    }
}

impl<K> CollectionUrl<K> for Cluster
where
    K: Resource,
    K::DynamicType: Default,
{
    fn url_path(&self) -> String {
        K::url_path(&K::DynamicType::default(), None)
    }
}

impl<K> ObjectUrl<K> for Cluster
where
    K: Resource,
    K::DynamicType: Default,
    K::Scope: ClusterScope,
{
    fn url_path(&self) -> String {
        K::url_path(&K::DynamicType::default(), None)
    }
}

impl<K> CollectionUrl<K> for Namespace
where
    K: Resource,
    K::DynamicType: Default,
    K::Scope: NamespaceScope,
{
    fn url_path(&self) -> String {
        K::url_path(&K::DynamicType::default(), Some(&self.0))
    }
}

impl<K> ObjectUrl<K> for Namespace
where
    K: Resource,
    K::DynamicType: Default,
    K::Scope: NamespaceScope,
{
    fn url_path(&self) -> String {
        K::url_path(&K::DynamicType::default(), Some(&self.0))
    }
}

/// The collection URL of the kind a reference names, in `namespace`.
fn referenced_url(gvk: &GroupVersionKind, namespace: Option<&str>) -> String {
    DynamicObject::url_path(&ApiResource::from_gvk(gvk), namespace)
}

impl<K: Resource> ObjectUrl<K> for ObjectReference {
    fn url_path(&self) -> String {
        referenced_url(
            &GroupVersionKind::from(self.clone()),
            self.namespace.as_deref(),
        )
    }
}

impl<K: Resource> ObjectRef<K> for ObjectReference {
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl<K> NamespacedRef<K> for ObjectReference
where
    K: Resource,
    K::Scope: NamespaceScope,
{
    fn within(&self, namespace: impl Into<Option<String>>) -> impl ObjectRef<K> {
        ObjectReference {
            namespace: namespace.into(),
            ..self.clone()
        }
    }
}

impl<K> ObjectUrl<K> for OwnerReference
where
    K: Resource,
    K::Scope: ClusterScope,
{
    fn url_path(&self) -> String {
        referenced_url(&GroupVersionKind::from(self.clone()), None)
    }
}

impl<K> ObjectRef<K> for OwnerReference
where
    K: Resource,
    K::Scope: ClusterScope,
{
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
}

impl<K> NamespacedRef<K> for OwnerReference
where
    K: Resource,
    K::Scope: NamespaceScope,
{
    fn within(&self, namespace: impl Into<Option<String>>) -> impl ObjectRef<K> {
        ObjectReference {
            api_version: Some(self.api_version.clone()),
            kind: Some(self.kind.clone()),
            name: Some(self.name.clone()),
            uid: Some(self.uid.clone()),
            namespace: namespace.into(),
            ..ObjectReference::default()
        }
    }
}

impl<K> NamespacedRef<K> for LocalObjectReference
where
    K: Resource,
    K::DynamicType: Default,
    K::Scope: NamespaceScope,
{
    fn within(&self, namespace: impl Into<Option<String>>) -> impl ObjectRef<K> {
        let dt = K::DynamicType::default();
        ObjectReference {
            api_version: Some(K::api_version(&dt).into_owned()),
            kind: Some(K::kind(&dt).into_owned()),
            name: Some(self.name.clone()),
            namespace: namespace.into(),
            ..ObjectReference::default()
        }
    }
}

impl Client {
    /// Reads the object of kind `K` called `name` in `scope`: a
    /// [`Namespace`] for namespaced kinds, [`Cluster`] for cluster-scoped
    /// ones.
    pub async fn get<K>(&self, name: &str, scope: &impl ObjectUrl<K>) -> Result<K>
    where
        K: Resource + Serialize + DeserializeOwned + Clone + Debug,
        K::DynamicType: Default,
    {
        let request = Request::new(scope.url_path())
            .get(name, &GetParams::default())
            .map_err(Error::BuildRequest)?;
        self.request(request).await
    }

    /// Reads the object a reference points at.
    pub async fn fetch<K>(&self, reference: &impl ObjectRef<K>) -> Result<K>
    where
        K: Resource + Serialize + DeserializeOwned + Clone + Debug,
    {
        let name = reference
            .name()
            .ok_or_else(|| Error::RefResolve("the reference has no name".to_string()))?;
        let request = Request::new(reference.url_path())
            .get(name, &GetParams::default())
            .map_err(Error::BuildRequest)?;
        self.request(request).await
    }

    /// Lists the objects of kind `K` in `scope`: a [`Namespace`], or
    /// [`Cluster`] for every namespace (or a cluster-scoped kind).
    pub async fn list<K>(
        &self,
        lp: &ListParams,
        scope: &impl CollectionUrl<K>,
    ) -> Result<ObjectList<K>>
    where
        K: Resource + Serialize + DeserializeOwned + Clone + Debug,
        K::DynamicType: Default,
    {
        let request = Request::new(scope.url_path())
            .list(lp)
            .map_err(Error::BuildRequest)?;
        self.request(request).await
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::{
        apps::v1::Deployment,
        core::v1::{Node, Pod},
        rbac::v1::ClusterRole,
    };

    use super::*;

    fn collection<K>(scope: &impl CollectionUrl<K>) -> String {
        scope.url_path()
    }

    fn object<K>(scope: &impl ObjectUrl<K>) -> String {
        scope.url_path()
    }

    #[test]
    fn scopes_give_the_collection_urls() {
        assert_eq!(collection::<Pod>(&Cluster), "/api/v1/pods");
        assert_eq!(
            collection::<Pod>(&Namespace::from("shop")),
            "/api/v1/namespaces/shop/pods"
        );
        assert_eq!(object::<Node>(&Cluster), "/api/v1/nodes");
        assert_eq!(
            object::<ClusterRole>(&Cluster),
            "/apis/rbac.authorization.k8s.io/v1/clusterroles"
        );
        let ns = NamespaceObject {
            metadata: kube_core::ObjectMeta {
                name: Some("team".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            object::<Deployment>(&Namespace::try_from(&ns).expect("named")),
            "/apis/apps/v1/namespaces/team/deployments"
        );
        assert!(Namespace::try_from(&NamespaceObject::default()).is_err());
    }

    #[test]
    fn references_point_at_their_objects() {
        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "web".into(),
            uid: "u-1".into(),
            ..OwnerReference::default()
        };
        let placed = NamespacedRef::<Deployment>::within(&owner, "shop".to_string());
        assert_eq!(placed.name(), Some("web"));
        assert_eq!(
            placed.url_path(),
            "/apis/apps/v1/namespaces/shop/deployments"
        );

        let node_owner = OwnerReference {
            api_version: "v1".into(),
            kind: "Node".into(),
            name: "n1".into(),
            ..OwnerReference::default()
        };
        assert_eq!(ObjectUrl::<Node>::url_path(&node_owner), "/api/v1/nodes");
        assert_eq!(ObjectRef::<Node>::name(&node_owner), Some("n1"));

        let local = LocalObjectReference { name: "cfg".into() };
        let placed = NamespacedRef::<k8s_openapi::api::core::v1::ConfigMap>::within(
            &local,
            Some("shop".to_string()),
        );
        assert_eq!(placed.url_path(), "/api/v1/namespaces/shop/configmaps");
        assert_eq!(placed.name(), Some("cfg"));
    }
}
