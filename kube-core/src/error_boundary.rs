//! [`DeserializeGuard`]: decode objects without letting one malformed object
//! stop a list or a watch.
//!
//! A watch of `Api<DeserializeGuard<K>>` yields every object: those that
//! decode as `K` as `Ok`, the others as `Err` with their metadata and the
//! decode error, so a controller can report the broken object (for example
//! with an event) instead of failing its whole stream.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

use crate::{PartialObjectMeta, Resource};

/// An object that decoded as `K`, or the metadata and error of one that did
/// not.
#[derive(Debug, Clone)]
pub struct DeserializeGuard<K>(pub Result<K, InvalidObject>);

/// An object that did not decode as the expected type.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}")]
pub struct InvalidObject {
    /// What the decoder reported.
    pub error: String,
    /// The object's metadata, which did decode.
    pub metadata: ObjectMeta,
}

impl<'de, K> Deserialize<'de> for DeserializeGuard<K>
where
    K: Deserialize<'de> + Resource,
{
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        // Held as a tree so it can be read twice: as K, and else for its
        // metadata. An object whose metadata does not decode is an error.
        let tree = serde_json::Value::deserialize(deserializer)?;
        match K::deserialize(tree.clone()) {
            Ok(object) => Ok(Self(Ok(object))),
            Err(error) => {
                let PartialObjectMeta { metadata, .. } =
                    PartialObjectMeta::<K>::deserialize(tree).map_err(serde::de::Error::custom)?;
                Ok(Self(Err(InvalidObject {
                    error: error.to_string(),
                    metadata,
                })))
            }
        }
    }
}

impl<K: Resource> Resource for DeserializeGuard<K> {
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

    fn meta(&self) -> &ObjectMeta {
        match &self.0 {
            Ok(object) => object.meta(),
            Err(invalid) => &invalid.metadata,
        }
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        match &mut self.0 {
            Ok(object) => object.meta_mut(),
            Err(invalid) => &mut invalid.metadata,
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{ConfigMap, Pod};
    use serde_json::json;

    use crate::{DeserializeGuard, ObjectList, Resource, WatchEvent};

    #[test]
    fn valid_objects_decode_as_themselves() {
        let guard: DeserializeGuard<ConfigMap> = serde_json::from_value(json!({
            "metadata": {"name": "settings", "namespace": "shop"},
            "data": {"mode": "fast"},
        }))
        .expect("decodes");
        assert_eq!(guard.meta().name.as_deref(), Some("settings"));
        let cm = guard.0.expect("a valid ConfigMap");
        assert_eq!(cm.data.unwrap_or_default()["mode"], "fast");
    }

    #[test]
    fn invalid_objects_keep_their_metadata_and_the_reason() {
        let mut guard: DeserializeGuard<Pod> = serde_json::from_value(json!({
            "metadata": {"name": "broken", "namespace": "shop", "uid": "u-1"},
            "spec": {"containers": "not a list"},
        }))
        .expect("decodes as a guard");
        assert_eq!(guard.meta().name.as_deref(), Some("broken"));
        guard.meta_mut().labels = Some([("seen".to_string(), "yes".to_string())].into());
        let invalid = guard.0.expect_err("not a valid pod");
        assert_eq!(invalid.metadata.uid.as_deref(), Some("u-1"));
        assert_eq!(
            invalid.metadata.labels.clone().unwrap_or_default()["seen"],
            "yes"
        );
        assert!(invalid.to_string().contains("invalid type"), "{invalid}");
    }

    #[test]
    fn one_bad_item_does_not_spoil_a_list_or_a_watch() {
        let list: ObjectList<DeserializeGuard<ConfigMap>> = serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "ConfigMapList",
            "metadata": {"resourceVersion": "7"},
            "items": [
                {"metadata": {"name": "good"}, "data": {"a": "b"}},
                {"metadata": {"name": "bad"}, "data": {"a": 1}},
            ],
        }))
        .expect("the list decodes");
        let verdicts: Vec<(Option<String>, bool)> = list
            .items
            .iter()
            .map(|g| (g.meta().name.clone(), g.0.is_ok()))
            .collect();
        assert_eq!(
            verdicts,
            [(Some("good".into()), true), (Some("bad".into()), false)]
        );
        let event: WatchEvent<DeserializeGuard<ConfigMap>> = serde_json::from_value(json!({
            "type": "MODIFIED",
            "object": {"metadata": {"name": "bad"}, "binaryData": "not a map"},
        }))
        .expect("the event decodes");
        match event {
            WatchEvent::Modified(guard) => assert!(guard.0.is_err()),
            other => panic!("expected MODIFIED, got {other:?}"),
        }
    }

    #[test]
    fn objects_without_readable_metadata_are_errors() {
        let result = serde_json::from_value::<DeserializeGuard<ConfigMap>>(json!({
            "metadata": {"name": 5},
        }));
        assert!(result.is_err());
        assert_eq!(
            DeserializeGuard::<ConfigMap>::plural(&()),
            ConfigMap::plural(&())
        );
    }
}
