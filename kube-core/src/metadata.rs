//! Object and type metadata, and metadata-only objects.

use std::{borrow::Cow, fmt, marker::PhantomData};

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use serde::{Deserialize, Serialize};

use crate::{DynamicObject, Resource};

/// The `apiVersion` and `kind` every serialized object starts with.
///
/// Missing fields decode as empty strings: a bookmark or a list item without type
/// metadata is still usable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TypeMeta {
    /// `group/version`, or `version` for the core group.
    pub api_version: String,
    /// The kind, e.g. `Pod`.
    pub kind: String,
}

impl TypeMeta {
    /// The type metadata of a list of `K`: `kind` is `PodList` for `Pod`.
    pub fn list<K: Resource<DynamicType = ()>>() -> Self {
        Self {
            api_version: K::api_version(&()).into_owned(),
            kind: format!("{}List", K::kind(&())),
        }
    }

    /// The type metadata of `K` itself.
    pub fn resource<K: Resource<DynamicType = ()>>() -> Self {
        Self {
            api_version: K::api_version(&()).into_owned(),
            kind: K::kind(&()).into_owned(),
        }
    }
}

/// An object of type `K` of which only the metadata is known.
///
/// The server sends these when asked for the metadata-only representation
/// (`Api::get_metadata`, `Api::list_metadata`, `metadata_watcher`): a fraction of
/// the bytes of the full objects, which matters when watching large or numerous
/// objects only to react to their existence or labels.
#[derive(Clone, PartialEq, Default)]
pub struct PartialObjectMeta<K = DynamicObject> {
    /// The type metadata, as the server sent it (`meta.k8s.io/v1`
    /// `PartialObjectMetadata`).
    pub types: Option<TypeMeta>,
    /// The object's metadata.
    pub metadata: ObjectMeta,
    /// Ties the metadata to the resource type it describes.
    pub _phantom: PhantomData<K>,
}

impl<K> fmt::Debug for PartialObjectMeta<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartialObjectMeta")
            .field("types", &self.types)
            .field("metadata", &self.metadata)
            .finish()
    }
}

/// The wire form of [`PartialObjectMeta`]: type metadata inline, no flattening.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PartialObjectMetaWire<S, M> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_version: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<S>,
    #[serde(default)]
    metadata: M,
}

impl<K> Serialize for PartialObjectMeta<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PartialObjectMetaWire {
            api_version: self.types.as_ref().map(|t| t.api_version.as_str()),
            kind: self.types.as_ref().map(|t| t.kind.as_str()),
            metadata: &self.metadata,
        }
        .serialize(serializer)
    }
}

impl<'de, K> Deserialize<'de> for PartialObjectMeta<K> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = PartialObjectMetaWire::<String, ObjectMeta>::deserialize(deserializer)?;
        Ok(Self {
            types: type_meta_from_parts(wire.api_version, wire.kind),
            metadata: wire.metadata,
            _phantom: PhantomData,
        })
    }
}

/// Type metadata is present when either half was sent.
pub(crate) fn type_meta_from_parts(
    api_version: Option<String>,
    kind: Option<String>,
) -> Option<TypeMeta> {
    match (api_version, kind) {
        (None, None) => None,
        (api_version, kind) => Some(TypeMeta {
            api_version: api_version.unwrap_or_default(),
            kind: kind.unwrap_or_default(),
        }),
    }
}

mod private {
    pub trait Sealed {}
    impl Sealed for super::ObjectMeta {}
}

/// Turns an [`ObjectMeta`] into a [`PartialObjectMeta`].
pub trait PartialObjectMetaExt: private::Sealed {
    /// A metadata-only object to *send*, e.g. as the body of a metadata patch: its
    /// type metadata names `K`'s `apiVersion` and `kind`.
    fn into_request_partial<K: Resource<DynamicType = ()>>(self) -> PartialObjectMeta<K>;

    /// A metadata-only object as the server would *answer* it: its type metadata is
    /// `meta.k8s.io/v1` `PartialObjectMetadata`.
    fn into_response_partial<K>(self) -> PartialObjectMeta<K>;
}

impl PartialObjectMetaExt for ObjectMeta {
    fn into_request_partial<K: Resource<DynamicType = ()>>(self) -> PartialObjectMeta<K> {
        PartialObjectMeta {
            types: Some(TypeMeta::resource::<K>()),
            metadata: self,
            _phantom: PhantomData,
        }
    }

    fn into_response_partial<K>(self) -> PartialObjectMeta<K> {
        PartialObjectMeta {
            types: Some(TypeMeta {
                api_version: "meta.k8s.io/v1".into(),
                kind: "PartialObjectMetadata".into(),
            }),
            metadata: self,
            _phantom: PhantomData,
        }
    }
}

impl<K: Resource> Resource for PartialObjectMeta<K> {
    type DynamicType = K::DynamicType;
    type Scope = K::Scope;

    fn kind(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::kind(dt)
    }

    fn group(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::group(dt)
    }

    fn version(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::version(dt)
    }

    fn plural(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::plural(dt)
    }

    fn metadata_api() -> bool {
        true
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResourceExt;
    use k8s_openapi::api::core::v1::Pod;

    #[test]
    fn type_meta_of_resources_and_lists() {
        let tm = TypeMeta::resource::<Pod>();
        assert_eq!((tm.api_version.as_str(), tm.kind.as_str()), ("v1", "Pod"));
        let tm = TypeMeta::list::<k8s_openapi::api::apps::v1::Deployment>();
        assert_eq!(
            (tm.api_version.as_str(), tm.kind.as_str()),
            ("apps/v1", "DeploymentList")
        );
    }

    #[test]
    fn partial_metadata_decodes_server_answers() {
        let json = r#"{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1",
            "metadata":{"name":"web","namespace":"default","resourceVersion":"7","labels":{"app":"web"}}}"#;
        let meta: PartialObjectMeta<Pod> = serde_json::from_str(json).expect("valid json");
        assert_eq!(meta.name_any(), "web");
        assert_eq!(meta.labels().get("app").map(String::as_str), Some("web"));
        assert_eq!(
            meta.types.as_ref().map(|t| t.kind.as_str()),
            Some("PartialObjectMetadata")
        );
        assert!(PartialObjectMeta::<Pod>::metadata_api());
        assert_eq!(PartialObjectMeta::<Pod>::plural(&()), "pods");
    }

    #[test]
    fn request_partials_name_the_resource_type() {
        let meta = ObjectMeta {
            name: Some("web".into()),
            ..ObjectMeta::default()
        }
        .into_request_partial::<Pod>();
        let json = serde_json::to_value(&meta).expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}})
        );
        let response: PartialObjectMeta<Pod> = ObjectMeta::default().into_response_partial();
        assert_eq!(
            response.types.map(|t| t.api_version),
            Some("meta.k8s.io/v1".to_string())
        );
    }
}
