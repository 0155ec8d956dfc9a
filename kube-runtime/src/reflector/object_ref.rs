//! [`ObjectRef`]: a reference to an object by kind, name and namespace.

use std::{
    borrow::Cow,
    fmt,
    hash::{Hash, Hasher},
};

use k8s_openapi::{
    api::core::v1::ObjectReference, apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube_client::core::{
    DynamicObject, Resource, api_version_from_group_version, discovery::ApiResource,
};

/// What an [`ObjectRef`] needs to know about a type: its coordinates and an
/// object's identity. Implemented for every [`Resource`].
pub trait Lookup {
    /// What must be known at runtime to name the type; `()` for static types.
    type DynamicType;

    /// The kind.
    fn kind(dyntype: &Self::DynamicType) -> Cow<'_, str>;
    /// The API group.
    fn group(dyntype: &Self::DynamicType) -> Cow<'_, str>;
    /// The version.
    fn version(dyntype: &Self::DynamicType) -> Cow<'_, str>;
    /// The `apiVersion`.
    fn api_version(dyntype: &Self::DynamicType) -> Cow<'_, str> {
        api_version_from_group_version(Self::group(dyntype), Self::version(dyntype))
    }
    /// The plural.
    fn plural(dyntype: &Self::DynamicType) -> Cow<'_, str>;
    /// The object's name.
    fn name(&self) -> Option<Cow<'_, str>>;
    /// The object's namespace.
    fn namespace(&self) -> Option<Cow<'_, str>>;
    /// The object's resource version.
    fn resource_version(&self) -> Option<Cow<'_, str>>;
    /// The object's uid.
    fn uid(&self) -> Option<Cow<'_, str>>;

    /// A reference to this object (an object without a name gets an empty one).
    fn to_object_ref(&self, dyntype: Self::DynamicType) -> ObjectRef<Self> {
        ObjectRef {
            dyntype,
            name: self.name().map(Cow::into_owned).unwrap_or_default(),
            namespace: self.namespace().map(Cow::into_owned),
            extra: Extra {
                resource_version: self.resource_version().map(Cow::into_owned),
                uid: self.uid().map(Cow::into_owned),
            },
        }
    }
}

impl<K: Resource> Lookup for K {
    type DynamicType = K::DynamicType;

    fn kind(dyntype: &Self::DynamicType) -> Cow<'_, str> {
        K::kind(dyntype)
    }

    fn group(dyntype: &Self::DynamicType) -> Cow<'_, str> {
        K::group(dyntype)
    }

    fn version(dyntype: &Self::DynamicType) -> Cow<'_, str> {
        K::version(dyntype)
    }

    fn api_version(dyntype: &Self::DynamicType) -> Cow<'_, str> {
        K::api_version(dyntype)
    }

    fn plural(dyntype: &Self::DynamicType) -> Cow<'_, str> {
        K::plural(dyntype)
    }

    fn name(&self) -> Option<Cow<'_, str>> {
        self.meta().name.as_deref().map(Cow::Borrowed)
    }

    fn namespace(&self) -> Option<Cow<'_, str>> {
        self.meta().namespace.as_deref().map(Cow::Borrowed)
    }

    fn resource_version(&self) -> Option<Cow<'_, str>> {
        self.meta().resource_version.as_deref().map(Cow::Borrowed)
    }

    fn uid(&self) -> Option<Cow<'_, str>> {
        self.meta().uid.as_deref().map(Cow::Borrowed)
    }
}

/// A reference to an object: its type, name and namespace.
///
/// Equality and hashing use only the type, name and namespace, so a reference
/// finds the object in a [`Store`](super::Store) whatever version it was taken
/// at; [`Extra`] carries the version and uid for those who need them.
#[non_exhaustive]
pub struct ObjectRef<K: Lookup + ?Sized> {
    /// The type, for types known only at runtime (`()` otherwise).
    pub dyntype: K::DynamicType,
    /// The object's name.
    pub name: String,
    /// The object's namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// Identity details ignored by equality.
    pub extra: Extra,
}

/// The parts of an [`ObjectRef`] that equality ignores.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Extra {
    /// The resource version the reference was taken at.
    pub resource_version: Option<String>,
    /// The object's uid.
    pub uid: Option<String>,
}

impl<K: Lookup> ObjectRef<K>
where
    K::DynamicType: Default,
{
    /// A reference to the cluster-scoped object `name` (add a namespace with
    /// [`within`](Self::within)).
    #[must_use]
    pub fn new(name: &str) -> Self {
        Self::new_with(name, Default::default())
    }

    /// A reference to `obj`.
    #[must_use]
    pub fn from_obj(obj: &K) -> Self {
        obj.to_object_ref(Default::default())
    }
}

impl<K: Lookup> From<&K> for ObjectRef<K>
where
    K::DynamicType: Default,
{
    fn from(obj: &K) -> Self {
        Self::from_obj(obj)
    }
}

impl<K: Lookup> ObjectRef<K> {
    /// A reference to `name` of the runtime type `dyntype`.
    #[must_use]
    pub fn new_with(name: &str, dyntype: K::DynamicType) -> Self {
        Self {
            dyntype,
            name: name.to_string(),
            namespace: None,
            extra: Extra::default(),
        }
    }

    /// Places the reference in a namespace.
    #[must_use]
    pub fn within(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_string());
        self
    }

    /// A reference to `obj` of the runtime type `dyntype`.
    #[must_use]
    pub fn from_obj_with(obj: &K, dyntype: K::DynamicType) -> Self {
        obj.to_object_ref(dyntype)
    }

    /// The owner named by an owner reference, if it is of type `K`.
    ///
    /// Owners live in their dependent's namespace (or are cluster-scoped), so
    /// `namespace` is the dependent's.
    #[must_use]
    pub fn from_owner_ref(
        namespace: Option<&str>,
        owner: &OwnerReference,
        dyntype: K::DynamicType,
    ) -> Option<Self> {
        let same_type =
            owner.api_version == K::api_version(&dyntype) && owner.kind == K::kind(&dyntype);
        same_type.then(|| Self {
            name: owner.name.clone(),
            namespace: namespace.map(String::from),
            extra: Extra {
                resource_version: None,
                uid: Some(owner.uid.clone()),
            },
            dyntype,
        })
    }

    /// The identity of `obj` alone (no version or uid): what stores and
    /// schedulers key by.
    pub(crate) fn key_of(obj: &K, dyntype: K::DynamicType) -> Self {
        Self {
            dyntype,
            name: obj.name().map(Cow::into_owned).unwrap_or_default(),
            namespace: obj.namespace().map(Cow::into_owned),
            extra: Extra::default(),
        }
    }

    /// Reinterprets the reference as one to another type, without checking that
    /// the types match.
    #[must_use]
    pub fn into_kind_unchecked<K2: Lookup>(self, dt2: K2::DynamicType) -> ObjectRef<K2> {
        ObjectRef {
            dyntype: dt2,
            name: self.name,
            namespace: self.namespace,
            extra: self.extra,
        }
    }

    /// Erases the type into a reference to a [`DynamicObject`].
    #[must_use]
    pub fn erase(self) -> ObjectRef<DynamicObject> {
        let resource = ApiResource {
            group: K::group(&self.dyntype).into_owned(),
            version: K::version(&self.dyntype).into_owned(),
            api_version: K::api_version(&self.dyntype).into_owned(),
            kind: K::kind(&self.dyntype).into_owned(),
            plural: K::plural(&self.dyntype).into_owned(),
        };
        self.into_kind_unchecked(resource)
    }
}

impl<K: Lookup> From<ObjectRef<K>> for ObjectReference {
    fn from(val: ObjectRef<K>) -> Self {
        ObjectReference {
            api_version: Some(K::api_version(&val.dyntype).into_owned()),
            kind: Some(K::kind(&val.dyntype).into_owned()),
            field_path: None,
            name: Some(val.name),
            namespace: val.namespace,
            resource_version: val.extra.resource_version,
            uid: val.extra.uid,
        }
    }
}

impl<K: Lookup + ?Sized> Clone for ObjectRef<K>
where
    K::DynamicType: Clone,
{
    fn clone(&self) -> Self {
        Self {
            dyntype: self.dyntype.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            extra: self.extra.clone(),
        }
    }
}

impl<K: Lookup + ?Sized> PartialEq for ObjectRef<K>
where
    K::DynamicType: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.namespace == other.namespace
            && self.dyntype == other.dyntype
    }
}

impl<K: Lookup + ?Sized> Eq for ObjectRef<K> where K::DynamicType: Eq {}

impl<K: Lookup + ?Sized> Hash for ObjectRef<K>
where
    K::DynamicType: Hash,
{
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.dyntype.hash(state);
        self.name.hash(state);
        self.namespace.hash(state);
    }
}

impl<K: Lookup + ?Sized> fmt::Debug for ObjectRef<K>
where
    K::DynamicType: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectRef")
            .field("dyntype", &self.dyntype)
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field("extra", &self.extra)
            .finish()
    }
}

/// `Kind.version.group/name.namespace`, e.g. `ConfigMap.v1./settings.default`.
impl<K: Lookup> fmt::Display for ObjectRef<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}/{}",
            K::kind(&self.dyntype),
            K::version(&self.dyntype),
            K::group(&self.dyntype),
            self.name
        )?;
        if let Some(namespace) = &self.namespace {
            write!(f, ".{namespace}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use k8s_openapi::api::{
        apps::v1::Deployment,
        core::v1::{ConfigMap, Node},
    };
    use kube_client::core::ObjectMeta;

    use super::*;

    #[test]
    fn display_names_type_and_place() {
        assert_eq!(
            ObjectRef::<ConfigMap>::new("settings")
                .within("default")
                .to_string(),
            "ConfigMap.v1./settings.default"
        );
        assert_eq!(ObjectRef::<Node>::new("n1").to_string(), "Node.v1./n1");
        assert_eq!(
            ObjectRef::<Deployment>::new("web").within("ns").to_string(),
            "Deployment.v1.apps/web.ns"
        );
    }

    #[test]
    fn equality_ignores_version_and_uid() {
        let mut a = ObjectRef::<ConfigMap>::new("x").within("ns");
        let mut b = a.clone();
        a.extra.resource_version = Some("1".into());
        b.extra.uid = Some("u".into());
        assert_eq!(a, b);
        let set: HashSet<_> = [a, b].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert_ne!(
            ObjectRef::<ConfigMap>::new("x"),
            ObjectRef::<ConfigMap>::new("x").within("ns")
        );
    }

    #[test]
    fn owner_refs_map_only_matching_types() {
        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "web".into(),
            uid: "u1".into(),
            ..OwnerReference::default()
        };
        let r =
            ObjectRef::<Deployment>::from_owner_ref(Some("ns"), &owner, ()).expect("matching type");
        assert_eq!(r, ObjectRef::new("web").within("ns"));
        assert_eq!(r.extra.uid.as_deref(), Some("u1"));
        assert!(ObjectRef::<ConfigMap>::from_owner_ref(Some("ns"), &owner, ()).is_none());
    }

    #[test]
    fn from_obj_and_erase_keep_identity() {
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some("a".into()),
                namespace: Some("ns".into()),
                resource_version: Some("5".into()),
                uid: Some("u".into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        };
        let r = ObjectRef::from_obj(&cm);
        assert_eq!(r.extra.resource_version.as_deref(), Some("5"));
        let erased = r.clone().erase();
        assert_eq!(erased.name, "a");
        assert_eq!(erased.dyntype.plural, "configmaps");
        assert_eq!(erased.to_string(), "ConfigMap.v1./a.ns");
        let reference: ObjectReference = r.into();
        assert_eq!(reference.kind.as_deref(), Some("ConfigMap"));
        assert_eq!(reference.uid.as_deref(), Some("u"));
    }
}
