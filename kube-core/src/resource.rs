//! The [`Resource`] trait: where a type lives in the Kubernetes API.

use std::{borrow::Cow, collections::BTreeMap};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, OwnerReference, Time};
pub use k8s_openapi::{
    ClusterResourceScope, NamespaceResourceScope, ResourceScope, SubResourceScope,
};

use crate::metadata::ObjectMeta;
use k8s_openapi::api::core::v1::ObjectReference;

/// The scope of a resource whose scope is only known at runtime (a [`DynamicObject`]).
///
/// [`DynamicObject`]: crate::DynamicObject
pub struct DynamicResourceScope {}
impl ResourceScope for DynamicResourceScope {}

/// Scopes that may be addressed within a namespace.
///
/// Implemented for [`NamespaceResourceScope`] and for [`DynamicResourceScope`]
/// (a dynamic resource may turn out to be namespaced). Constructors such as
/// `Api::namespaced` require it, so asking for a cluster-scoped type within a
/// namespace is a compile error.
pub trait NamespaceScope: ResourceScope {}
impl NamespaceScope for NamespaceResourceScope {}
impl NamespaceScope for DynamicResourceScope {}

/// A type that is a Kubernetes resource: it knows its kind, group, version and
/// plural, and it carries [`ObjectMeta`].
///
/// `DynamicType` is the information needed at runtime to answer those questions.
/// For types known at compile time (every `k8s-openapi` type, every derived
/// custom resource) it is `()`. For [`DynamicObject`](crate::DynamicObject) it is an
/// [`ApiResource`](crate::ApiResource) found by discovery or written by hand.
pub trait Resource {
    /// What must be known at runtime to name this resource; `()` for static types.
    type DynamicType: Send + Sync + 'static;

    /// Whether the resource is namespaced, cluster-scoped or known only at runtime.
    ///
    /// One of [`NamespaceResourceScope`], [`ClusterResourceScope`],
    /// [`DynamicResourceScope`] (or [`SubResourceScope`] for subresource types).
    type Scope;

    /// The kind, e.g. `Pod`.
    fn kind(dt: &Self::DynamicType) -> Cow<'_, str>;

    /// The API group, e.g. `apps`; empty for the core group.
    fn group(dt: &Self::DynamicType) -> Cow<'_, str>;

    /// The API version within the group, e.g. `v1`.
    fn version(dt: &Self::DynamicType) -> Cow<'_, str>;

    /// The `apiVersion` field: `group/version`, or just `version` for the core group.
    fn api_version(dt: &Self::DynamicType) -> Cow<'_, str> {
        api_version_from_group_version(Self::group(dt), Self::version(dt))
    }

    /// The plural name used in URLs, e.g. `pods`.
    fn plural(dt: &Self::DynamicType) -> Cow<'_, str>;

    /// The URL path of the collection, without a trailing slash.
    ///
    /// `/api/v1/pods` for the core group, `/apis/apps/v1/deployments` for named
    /// groups, with `namespaces/{ns}/` inserted before the plural when a namespace
    /// is given.
    fn url_path(dt: &Self::DynamicType, namespace: Option<&str>) -> String {
        let group = Self::group(dt);
        let api_version = Self::api_version(dt);
        let plural = Self::plural(dt);
        let root = if group.is_empty() { "api" } else { "apis" };
        match namespace {
            Some(ns) => format!("/{root}/{api_version}/namespaces/{ns}/{plural}"),
            None => format!("/{root}/{api_version}/{plural}"),
        }
    }

    /// Whether this type holds only metadata (as `PartialObjectMeta` does), so
    /// that requests must ask the server for the metadata-only representation.
    fn metadata_api() -> bool {
        false
    }

    /// The object's metadata.
    fn meta(&self) -> &ObjectMeta;

    /// The object's metadata, mutably.
    fn meta_mut(&mut self) -> &mut ObjectMeta;

    /// An [`ObjectReference`] pointing at this object, e.g. for events.
    fn object_ref(&self, dt: &Self::DynamicType) -> ObjectReference {
        let meta = self.meta();
        ObjectReference {
            name: meta.name.clone(),
            namespace: meta.namespace.clone(),
            uid: meta.uid.clone(),
            resource_version: meta.resource_version.clone(),
            api_version: Some(Self::api_version(dt).into_owned()),
            kind: Some(Self::kind(dt).into_owned()),
            field_path: None,
        }
    }

    /// An owner reference that makes this object the *controller* of another.
    ///
    /// Children carrying it are garbage-collected with this object and are mapped
    /// back to it by `Controller::owns`. `None` when the object has no name or uid
    /// yet (it was not read back from the server).
    fn controller_owner_ref(&self, dt: &Self::DynamicType) -> Option<OwnerReference> {
        Some(OwnerReference {
            controller: Some(true),
            ..self.owner_ref(dt)?
        })
    }

    /// A plain (non-controller) owner reference to this object.
    ///
    /// `None` when the object has no name or uid yet.
    fn owner_ref(&self, dt: &Self::DynamicType) -> Option<OwnerReference> {
        let meta = self.meta();
        Some(OwnerReference {
            api_version: Self::api_version(dt).into_owned(),
            kind: Self::kind(dt).into_owned(),
            name: meta.name.clone()?,
            uid: meta.uid.clone()?,
            block_owner_deletion: None,
            controller: None,
        })
    }
}

/// Joins a group and a version into an `apiVersion` (`group/version`, or `version`
/// alone for the core group).
pub fn api_version_from_group_version<'a>(
    group: Cow<'a, str>,
    version: Cow<'a, str>,
) -> Cow<'a, str> {
    if group.is_empty() {
        version
    } else {
        Cow::Owned(format!("{group}/{version}"))
    }
}

/// Every `k8s-openapi` type is a [`Resource`], using `k8s-openapi`'s own URL path
/// segment as its plural: the generated code knows the true plural of each built-in
/// type, so nothing is guessed.
impl<K, S> Resource for K
where
    K: k8s_openapi::Metadata<Ty = ObjectMeta>,
    K: k8s_openapi::Resource<Scope = S>,
{
    type DynamicType = ();
    type Scope = S;

    fn kind(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(K::KIND)
    }

    fn group(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(K::GROUP)
    }

    fn version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(K::VERSION)
    }

    fn api_version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(K::API_VERSION)
    }

    fn plural(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(K::URL_PATH_SEGMENT)
    }

    fn meta(&self) -> &ObjectMeta {
        self.metadata()
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        self.metadata_mut()
    }
}

/// Convenient accessors for the metadata every [`Resource`] carries.
///
/// The getters for collections return empty values when the field is absent, and
/// the `_mut` variants create the field on first use, so callers never juggle
/// `Option<BTreeMap<..>>`.
pub trait ResourceExt: Resource {
    /// The name, or an empty string when the object has none yet.
    ///
    /// Prefer [`name_any`](Self::name_any) for objects that may only have a
    /// `generateName`, and this for objects read from the server, which always have
    /// a name.
    fn name_unchecked(&self) -> String;

    /// The name, or the `generateName` prefix when the server has not named the
    /// object yet.
    fn name_any(&self) -> String;

    /// The namespace, if any.
    fn namespace(&self) -> Option<String>;

    /// The resource version, if the object was read from the server.
    fn resource_version(&self) -> Option<String>;

    /// The unique id the server assigned, if any.
    fn uid(&self) -> Option<String>;

    /// When the server created the object, if it did.
    fn creation_timestamp(&self) -> Option<Time>;

    /// The labels (empty when there are none).
    fn labels(&self) -> &BTreeMap<String, String>;

    /// The labels, mutably (created on first use).
    fn labels_mut(&mut self) -> &mut BTreeMap<String, String>;

    /// The annotations (empty when there are none).
    fn annotations(&self) -> &BTreeMap<String, String>;

    /// The annotations, mutably (created on first use).
    fn annotations_mut(&mut self) -> &mut BTreeMap<String, String>;

    /// The owner references (empty when there are none).
    fn owner_references(&self) -> &[OwnerReference];

    /// The owner references, mutably (created on first use).
    fn owner_references_mut(&mut self) -> &mut Vec<OwnerReference>;

    /// The finalizers (empty when there are none).
    fn finalizers(&self) -> &[String];

    /// The finalizers, mutably (created on first use).
    fn finalizers_mut(&mut self) -> &mut Vec<String>;

    /// The server-side-apply field ownership records (empty when there are none).
    fn managed_fields(&self) -> &[ManagedFieldsEntry];

    /// The field ownership records, mutably (created on first use).
    fn managed_fields_mut(&mut self) -> &mut Vec<ManagedFieldsEntry>;
}

/// A shared empty map, so the getters can return references without allocating.
static EMPTY_MAP: BTreeMap<String, String> = BTreeMap::new();

impl<K: Resource> ResourceExt for K {
    fn name_unchecked(&self) -> String {
        self.meta().name.clone().unwrap_or_default()
    }

    fn name_any(&self) -> String {
        let meta = self.meta();
        meta.name
            .clone()
            .or_else(|| meta.generate_name.clone())
            .unwrap_or_default()
    }

    fn namespace(&self) -> Option<String> {
        self.meta().namespace.clone()
    }

    fn resource_version(&self) -> Option<String> {
        self.meta().resource_version.clone()
    }

    fn uid(&self) -> Option<String> {
        self.meta().uid.clone()
    }

    fn creation_timestamp(&self) -> Option<Time> {
        self.meta().creation_timestamp.clone()
    }

    fn labels(&self) -> &BTreeMap<String, String> {
        self.meta().labels.as_ref().unwrap_or(&EMPTY_MAP)
    }

    fn labels_mut(&mut self) -> &mut BTreeMap<String, String> {
        self.meta_mut().labels.get_or_insert_with(BTreeMap::new)
    }

    fn annotations(&self) -> &BTreeMap<String, String> {
        self.meta().annotations.as_ref().unwrap_or(&EMPTY_MAP)
    }

    fn annotations_mut(&mut self) -> &mut BTreeMap<String, String> {
        self.meta_mut()
            .annotations
            .get_or_insert_with(BTreeMap::new)
    }

    fn owner_references(&self) -> &[OwnerReference] {
        self.meta().owner_references.as_deref().unwrap_or_default()
    }

    fn owner_references_mut(&mut self) -> &mut Vec<OwnerReference> {
        self.meta_mut()
            .owner_references
            .get_or_insert_with(Vec::new)
    }

    fn finalizers(&self) -> &[String] {
        self.meta().finalizers.as_deref().unwrap_or_default()
    }

    fn finalizers_mut(&mut self) -> &mut Vec<String> {
        self.meta_mut().finalizers.get_or_insert_with(Vec::new)
    }

    fn managed_fields(&self) -> &[ManagedFieldsEntry] {
        self.meta().managed_fields.as_deref().unwrap_or_default()
    }

    fn managed_fields_mut(&mut self) -> &mut Vec<ManagedFieldsEntry> {
        self.meta_mut().managed_fields.get_or_insert_with(Vec::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::{
        apps::v1::Deployment,
        core::v1::{ConfigMap, Namespace, Pod},
        networking::v1::Ingress,
        rbac::v1::ClusterRole,
    };

    #[test]
    fn static_types_use_openapi_plurals() {
        assert_eq!(Pod::plural(&()), "pods");
        assert_eq!(Ingress::plural(&()), "ingresses");
        assert_eq!(
            k8s_openapi::api::networking::v1::IngressClass::plural(&()),
            "ingressclasses"
        );
        assert_eq!(
            k8s_openapi::api::core::v1::Endpoints::plural(&()),
            "endpoints"
        );
        assert_eq!(
            k8s_openapi::api::storage::v1::StorageClass::plural(&()),
            "storageclasses"
        );
    }

    #[test]
    fn url_paths_for_core_and_named_groups() {
        assert_eq!(Pod::url_path(&(), Some("ns")), "/api/v1/namespaces/ns/pods");
        assert_eq!(Pod::url_path(&(), None), "/api/v1/pods");
        assert_eq!(Namespace::url_path(&(), None), "/api/v1/namespaces");
        assert_eq!(
            Deployment::url_path(&(), Some("kube-system")),
            "/apis/apps/v1/namespaces/kube-system/deployments"
        );
        assert_eq!(
            ClusterRole::url_path(&(), None),
            "/apis/rbac.authorization.k8s.io/v1/clusterroles"
        );
    }

    #[test]
    fn api_version_joins_group_and_version() {
        assert_eq!(Pod::api_version(&()), "v1");
        assert_eq!(Deployment::api_version(&()), "apps/v1");
        assert_eq!(api_version_from_group_version("".into(), "v1".into()), "v1");
        assert_eq!(
            api_version_from_group_version("example.com".into(), "v2".into()),
            "example.com/v2"
        );
    }

    fn named_cm() -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some("cm".into()),
                namespace: Some("ns".into()),
                uid: Some("1234".into()),
                resource_version: Some("42".into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    #[test]
    fn owner_refs_need_name_and_uid() {
        let cm = named_cm();
        let owner = cm
            .controller_owner_ref(&())
            .expect("named object has an owner ref");
        assert_eq!(owner.api_version, "v1");
        assert_eq!(owner.kind, "ConfigMap");
        assert_eq!(owner.name, "cm");
        assert_eq!(owner.uid, "1234");
        assert_eq!(owner.controller, Some(true));
        assert_eq!(cm.owner_ref(&()).and_then(|o| o.controller), None);

        let unsaved = ConfigMap::default();
        assert!(unsaved.owner_ref(&()).is_none());
        assert!(unsaved.controller_owner_ref(&()).is_none());
    }

    #[test]
    fn object_ref_points_at_the_object() {
        let r = named_cm().object_ref(&());
        assert_eq!(r.kind.as_deref(), Some("ConfigMap"));
        assert_eq!(r.api_version.as_deref(), Some("v1"));
        assert_eq!(r.name.as_deref(), Some("cm"));
        assert_eq!(r.namespace.as_deref(), Some("ns"));
        assert_eq!(r.uid.as_deref(), Some("1234"));
        assert_eq!(r.resource_version.as_deref(), Some("42"));
    }

    #[test]
    fn ext_getters_default_and_mutators_create() {
        let mut cm = ConfigMap::default();
        assert!(cm.labels().is_empty());
        assert!(cm.finalizers().is_empty());
        assert_eq!(cm.name_any(), "");
        cm.meta_mut().generate_name = Some("gen-".into());
        assert_eq!(cm.name_any(), "gen-");
        assert_eq!(cm.name_unchecked(), "");

        cm.labels_mut().insert("app".into(), "web".into());
        cm.annotations_mut().insert("a".into(), "b".into());
        cm.finalizers_mut().push("example.com/cleanup".into());
        assert_eq!(cm.labels().get("app").map(String::as_str), Some("web"));
        assert_eq!(cm.annotations().len(), 1);
        assert_eq!(cm.finalizers(), ["example.com/cleanup".to_string()]);
        assert!(cm.meta().labels.is_some());

        cm.meta_mut().name = Some("named".into());
        assert_eq!(cm.name_any(), "named");
    }
}
