//! Objects of kinds known only at runtime.

use std::borrow::Cow;

use serde::{Deserialize, Serialize, de::DeserializeOwned, ser::SerializeMap};
use serde_json::{Map, Value};
use thiserror::Error;

pub use crate::discovery::ApiResource;
use crate::{
    metadata::{ObjectMeta, TypeMeta},
    resource::{DynamicResourceScope, Resource},
};

/// A [`DynamicObject`] that could not be read as the requested type.
#[derive(Debug, Error)]
#[error("failed to parse {kind} object {name:?} as the requested type: {source}")]
pub struct ParseDynamicObjectError {
    kind: String,
    name: String,
    #[source]
    source: serde_json::Error,
}

/// An object of any kind, its content kept as JSON.
///
/// The kind is described at runtime by an [`ApiResource`] (from discovery, or
/// written by hand), which `Api<DynamicObject>` uses to build URLs. Everything but
/// `apiVersion`, `kind` and `metadata` lives in [`data`](Self::data).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DynamicObject {
    /// The type metadata.
    pub types: Option<TypeMeta>,
    /// The object's metadata.
    pub metadata: ObjectMeta,
    /// Every other top-level field (`spec`, `status`, `data`, ...), as a JSON object.
    pub data: Value,
}

impl DynamicObject {
    /// A new object named `name` of the resource `resource`, with no data.
    pub fn new(name: &str, resource: &ApiResource) -> Self {
        Self {
            types: Some(TypeMeta {
                api_version: resource.api_version.clone(),
                kind: resource.kind.clone(),
            }),
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..ObjectMeta::default()
            },
            data: Value::Object(Map::new()),
        }
    }

    /// Sets the data: a JSON object of the fields besides type and metadata.
    #[must_use]
    pub fn data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }

    /// Places the object in a namespace.
    #[must_use]
    pub fn within(mut self, ns: &str) -> Self {
        self.metadata.namespace = Some(ns.to_string());
        self
    }

    /// Reads the object as a static type, e.g. a `Pod`.
    pub fn try_parse<K: Resource + DeserializeOwned>(self) -> Result<K, ParseDynamicObjectError> {
        let kind = self
            .types
            .as_ref()
            .map(|t| t.kind.clone())
            .unwrap_or_default();
        let name = self.metadata.name.clone().unwrap_or_default();
        serde_json::to_value(&self)
            .and_then(serde_json::from_value)
            .map_err(|source| ParseDynamicObjectError { kind, name, source })
    }
}

impl Serialize for DynamicObject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = match &self.data {
            Value::Object(fields) => Some(fields),
            _ => None,
        };
        let mut map = serializer.serialize_map(None)?;
        if let Some(types) = &self.types {
            map.serialize_entry("apiVersion", &types.api_version)?;
            map.serialize_entry("kind", &types.kind)?;
        }
        map.serialize_entry("metadata", &self.metadata)?;
        for (key, value) in fields.into_iter().flatten() {
            // The typed fields above win over stray copies inside `data`.
            if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for DynamicObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let text = |fields: &mut Map<String, Value>, key: &str| match fields.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(D::Error::custom(format!(
                "{key} must be a string, found {other}"
            ))),
        };
        let api_version = text(&mut fields, "apiVersion")?;
        let kind = text(&mut fields, "kind")?;
        let metadata = match fields.remove("metadata") {
            None | Some(Value::Null) => ObjectMeta::default(),
            Some(meta) => serde_json::from_value(meta).map_err(D::Error::custom)?,
        };
        Ok(Self {
            types: crate::metadata::type_meta_from_parts(api_version, kind),
            metadata,
            data: Value::Object(fields),
        })
    }
}

impl Resource for DynamicObject {
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

    fn api_version(dt: &ApiResource) -> Cow<'_, str> {
        Cow::Borrowed(&dt.api_version)
    }

    fn plural(dt: &ApiResource) -> Cow<'_, str> {
        Cow::Borrowed(&dt.plural)
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
    use crate::{GroupVersionKind, ResourceExt};
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    fn foo_resource() -> ApiResource {
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("clux.dev", "v1", "Foo"), "foos")
    }

    #[test]
    fn builds_and_serializes_a_custom_object() {
        let obj = DynamicObject::new("f", &foo_resource())
            .within("ns")
            .data(json!({"spec": {"size": 3}}));
        assert_eq!(
            serde_json::to_value(&obj).expect("serializable"),
            json!({
                "apiVersion": "clux.dev/v1",
                "kind": "Foo",
                "metadata": {"name": "f", "namespace": "ns"},
                "spec": {"size": 3}
            })
        );
        assert_eq!(
            DynamicObject::url_path(&foo_resource(), obj.namespace().as_deref()),
            "/apis/clux.dev/v1/namespaces/ns/foos"
        );
    }

    #[test]
    fn core_group_objects_use_the_legacy_root() {
        let ar = ApiResource::erase::<Pod>(&());
        assert_eq!(
            DynamicObject::url_path(&ar, Some("a")),
            "/api/v1/namespaces/a/pods"
        );
    }

    #[test]
    fn round_trips_and_parses_into_static_types() {
        let raw = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}
        });
        let obj: DynamicObject = serde_json::from_value(raw.clone()).expect("decodable");
        assert_eq!(obj.types.as_ref().map(|t| t.kind.as_str()), Some("Pod"));
        assert_eq!(obj.data["spec"]["containers"][0]["image"], "nginx");
        assert_eq!(serde_json::to_value(&obj).expect("serializable"), raw);
        let pod: Pod = obj.try_parse().expect("a valid pod");
        assert_eq!(pod.name_any(), "web");
    }

    #[test]
    fn parse_errors_name_the_object() {
        let obj: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad"},
            "spec": {"containers": "not-a-list"}
        }))
        .expect("any object decodes dynamically");
        let err = obj
            .try_parse::<Pod>()
            .expect_err("containers must be a list");
        let message = err.to_string();
        assert!(
            message.contains("Pod") && message.contains("\"bad\""),
            "{message}"
        );
    }

    #[test]
    fn non_string_kind_is_an_error() {
        let err = serde_json::from_value::<DynamicObject>(json!({"kind": 3}))
            .expect_err("kind must be a string");
        assert!(err.to_string().contains("kind must be a string"), "{err}");
    }
}
