//! Generic objects and lists: the shapes every Kubernetes response takes.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};

use crate::{
    discovery::ApiResource,
    metadata::{ListMeta, ObjectMeta, TypeMeta, type_meta_from_parts},
    resource::{DynamicResourceScope, Resource},
};

/// A page of objects, as a LIST answers: the items plus list metadata (the
/// collection's `resourceVersion` and the `continue` token of the next page).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectList<T> {
    /// The list's type metadata, e.g. `v1` `PodList` (`v1` `List` when absent).
    pub types: TypeMeta,
    /// The collection's resource version, and the continue token if more pages
    /// remain.
    pub metadata: ListMeta,
    /// The objects on this page.
    pub items: Vec<T>,
}

impl<T> ObjectList<T> {
    /// Iterates over the items.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// Iterates mutably over the items.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.items.iter_mut()
    }
}

impl<T> IntoIterator for ObjectList<T> {
    type IntoIter = std::vec::IntoIter<T>;
    type Item = T;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a ObjectList<T> {
    type IntoIter = std::slice::Iter<'a, T>;
    type Item = &'a T;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut ObjectList<T> {
    type IntoIter = std::slice::IterMut<'a, T>;
    type Item = &'a mut T;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter_mut()
    }
}

/// The wire form of [`ObjectList`]: plain fields, so decoding a large list streams
/// each item straight into `T` without buffering.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
struct ObjectListIn<T> {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default = "Vec::new", deserialize_with = "null_as_default")]
    items: Vec<T>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectListOut<'a, T> {
    api_version: &'a str,
    kind: &'a str,
    metadata: &'a ListMeta,
    items: &'a [T],
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = ObjectListIn::<T>::deserialize(deserializer)?;
        Ok(Self {
            types: TypeMeta {
                api_version: wire.api_version.unwrap_or_else(|| "v1".into()),
                kind: wire.kind.unwrap_or_else(|| "List".into()),
            },
            metadata: wire.metadata,
            items: wire.items,
        })
    }
}

impl<T: Serialize> Serialize for ObjectList<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ObjectListOut {
            api_version: &self.types.api_version,
            kind: &self.types.kind,
            metadata: &self.metadata,
            items: &self.items,
        }
        .serialize(serializer)
    }
}

/// A resource with a `spec`: the desired state.
pub trait HasSpec {
    /// The spec's type.
    type Spec;

    /// The spec.
    fn spec(&self) -> &Self::Spec;

    /// The spec, mutably.
    fn spec_mut(&mut self) -> &mut Self::Spec;
}

/// A resource with a `status`: the observed state, written by controllers.
pub trait HasStatus {
    /// The status' type.
    type Status;

    /// The status, if set.
    fn status(&self) -> Option<&Self::Status>;

    /// The status, mutably.
    fn status_mut(&mut self) -> &mut Option<Self::Status>;
}

/// A resource known at runtime whose spec and status have static types.
///
/// Use it for custom resources you do not want to derive, or whose group and
/// version are decided at runtime: the [`ApiResource`] tells where it lives, `P`
/// and `U` give the spec and status their shape (use [`NotUsed`] for a status that
/// is never read).
#[derive(Debug, Clone, PartialEq)]
pub struct Object<P, U> {
    /// The type metadata.
    pub types: Option<TypeMeta>,
    /// The object's metadata.
    pub metadata: ObjectMeta,
    /// The desired state.
    pub spec: P,
    /// The observed state, if any.
    pub status: Option<U>,
}

impl<P, U> Object<P, U> {
    /// A new object named `name` of the resource `ar`.
    pub fn new(name: &str, ar: &ApiResource, spec: P) -> Self {
        Self {
            types: Some(TypeMeta {
                api_version: ar.api_version.clone(),
                kind: ar.kind.clone(),
            }),
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..ObjectMeta::default()
            },
            spec,
            status: None,
        }
    }

    /// Places the object in a namespace.
    #[must_use]
    pub fn within(mut self, ns: &str) -> Self {
        self.metadata.namespace = Some(ns.to_string());
        self
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectIn<P, U> {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: ObjectMeta,
    spec: P,
    #[serde(default = "Option::default")]
    status: Option<U>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectOut<'a, P, U> {
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    metadata: &'a ObjectMeta,
    spec: &'a P,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a U>,
}

impl<P: Serialize, U: Serialize> Serialize for Object<P, U> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ObjectOut {
            api_version: self.types.as_ref().map(|t| t.api_version.as_str()),
            kind: self.types.as_ref().map(|t| t.kind.as_str()),
            metadata: &self.metadata,
            spec: &self.spec,
            status: self.status.as_ref(),
        }
        .serialize(serializer)
    }
}

impl<'de, P: Deserialize<'de>, U: Deserialize<'de>> Deserialize<'de> for Object<P, U> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = ObjectIn::<P, U>::deserialize(deserializer)?;
        Ok(Self {
            types: type_meta_from_parts(wire.api_version, wire.kind),
            metadata: wire.metadata,
            spec: wire.spec,
            status: wire.status,
        })
    }
}

impl<P, U> Resource for Object<P, U> {
    type DynamicType = ApiResource;
    type Scope = DynamicResourceScope;

    fn group(dt: &ApiResource) -> Cow<'_, str> {
        Cow::Borrowed(&dt.group)
    }

    fn version(dt: &ApiResource) -> Cow<'_, str> {
        Cow::Borrowed(&dt.version)
    }

    fn kind(dt: &ApiResource) -> Cow<'_, str> {
        Cow::Borrowed(&dt.kind)
    }

    fn plural(dt: &ApiResource) -> Cow<'_, str> {
        Cow::Borrowed(&dt.plural)
    }

    fn api_version(dt: &ApiResource) -> Cow<'_, str> {
        Cow::Borrowed(&dt.api_version)
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl<P, U> HasSpec for Object<P, U> {
    type Spec = P;

    fn spec(&self) -> &P {
        &self.spec
    }

    fn spec_mut(&mut self) -> &mut P {
        &mut self.spec
    }
}

impl<P, U> HasStatus for Object<P, U> {
    type Status = U;

    fn status(&self) -> Option<&U> {
        self.status.as_ref()
    }

    fn status_mut(&mut self) -> &mut Option<U> {
        &mut self.status
    }
}

/// A placeholder for the spec or status of an [`Object`] that has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NotUsed {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GroupVersionKind, ResourceExt};
    use k8s_openapi::api::core::v1::Pod;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Spec {
        replicas: u32,
    }

    #[test]
    fn object_round_trips_with_inline_type_meta() {
        let ar = ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"));
        let obj: Object<Spec, NotUsed> = Object::new("w", &ar, Spec { replicas: 2 }).within("ns");
        let json = serde_json::to_value(&obj).expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "w", "namespace": "ns"},
                "spec": {"replicas": 2}
            })
        );
        let back: Object<Spec, NotUsed> = serde_json::from_value(json).expect("decodable");
        assert_eq!(back, obj);
        assert_eq!(
            Object::<Spec, NotUsed>::url_path(&ar, Some("ns")),
            "/apis/example.com/v1/namespaces/ns/widgets"
        );
        assert_eq!(back.spec().replicas, 2);
        assert!(back.status().is_none());
    }

    #[test]
    fn list_decodes_items_and_continue_token() {
        let json = r#"{"kind":"PodList","apiVersion":"v1",
            "metadata":{"resourceVersion":"100","continue":"abc"},
            "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#;
        let list: ObjectList<Pod> = serde_json::from_str(json).expect("valid list");
        assert_eq!(list.types.kind, "PodList");
        assert_eq!(list.metadata.continue_.as_deref(), Some("abc"));
        assert_eq!(list.metadata.resource_version.as_deref(), Some("100"));
        let names: Vec<_> = list.iter().map(|p| p.name_any()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(list.into_iter().count(), 2);
    }

    #[test]
    fn list_tolerates_null_items_and_missing_types() {
        let list: ObjectList<Pod> =
            serde_json::from_str(r#"{"metadata":{},"items":null}"#).expect("valid list");
        assert!(list.items.is_empty());
        assert_eq!(list.types.api_version, "v1");
        assert_eq!(list.types.kind, "List");
    }
}
