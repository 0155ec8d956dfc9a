//! Decoding objects without `metadata.managedFields`.
//!
//! Server-side apply records which manager owns which field in each object's
//! `metadata.managedFields`: often the largest part of a small object's
//! metadata, and read by almost no controller. [`WithoutManagedFields`]
//! decodes an object as its own `Deserialize` impl would, except that the
//! decoder skips that one entry: its value is stepped over in the input and
//! nothing is allocated for it.
//!
//! The skipping sits between the object's `Deserialize` impl and the decoder,
//! and only at two places: the object's own map, where it watches for the
//! `metadata` key, and the map under that key, where it drops
//! `managedFields`. Every other value is handed to the decoder untouched, so
//! nested maps that happen to hold a `managedFields` key (a field of a custom
//! resource, say) are kept.
//!
//! Where the skipping decode fails, the plain one runs on the same input, so
//! that a failure is reported exactly as the plain read reports it (serde_json
//! places some errors one column apart when it skips a value rather than
//! decoding it). Failures end a watch, so they are rare enough to pay twice.

use std::fmt;

use crate::Result;
use kube_core::{ObjectList, WatchEvent};
use serde::{
    Deserialize, Deserializer,
    de::{
        DeserializeOwned, DeserializeSeed, EnumAccess, IgnoredAny, MapAccess, SeqAccess, Visitor,
        value::{BorrowedStrDeserializer, StringDeserializer},
    },
};

/// Decodes a LIST answer without the `managedFields` of its items.
pub(crate) fn decode_list<K: DeserializeOwned>(body: &[u8]) -> Result<ObjectList<K>> {
    match super::json::from_bytes(body) {
        Ok(list) => Ok(unwrap_list(list)),
        Err(_) => super::requests::decode(body),
    }
}

/// Decodes a watch event line without the `managedFields` of its object.
pub(crate) fn decode_event<K: DeserializeOwned>(line: &[u8]) -> Result<WatchEvent<K>> {
    match super::json::from_bytes(line) {
        Ok(event) => Ok(unwrap_event(event)),
        Err(_) => super::watch::decode_event(line),
    }
}

/// The list of the decoded objects themselves (the wrapper has the same
/// layout, so the items stay where they are).
fn unwrap_list<K>(list: ObjectList<WithoutManagedFields<K>>) -> ObjectList<K> {
    ObjectList {
        types: list.types,
        metadata: list.metadata,
        items: list.items.into_iter().map(|object| object.0).collect(),
    }
}

/// The event with the decoded object itself.
fn unwrap_event<K>(event: WatchEvent<WithoutManagedFields<K>>) -> WatchEvent<K> {
    match event {
        WatchEvent::Added(object) => WatchEvent::Added(object.0),
        WatchEvent::Modified(object) => WatchEvent::Modified(object.0),
        WatchEvent::Deleted(object) => WatchEvent::Deleted(object.0),
        WatchEvent::Bookmark(bookmark) => WatchEvent::Bookmark(bookmark),
        WatchEvent::Error(status) => WatchEvent::Error(status),
    }
}

/// An object `K` decoded without its `metadata.managedFields` (left `None`).
///
/// Transparent, so that a `Vec` of these becomes a `Vec<K>` in place.
#[derive(Clone, Debug)]
#[repr(transparent)]
pub(crate) struct WithoutManagedFields<K>(pub(crate) K);

impl<'de, K: Deserialize<'de>> Deserialize<'de> for WithoutManagedFields<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        K::deserialize(Scoped {
            inner: deserializer,
            scope: Scope::Object,
        })
        .map(WithoutManagedFields)
    }
}

/// Which map a wrapped deserializer reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The object itself: its `metadata` value is read in [`Scope::Metadata`].
    Object,
    /// The object's metadata: its `managedFields` entry is skipped.
    Metadata,
}

/// A deserializer that reads what `inner` reads, handing any map it finds
/// to the visitor through [`Keys`].
struct Scoped<D> {
    inner: D,
    scope: Scope,
}

/// A visitor that sees what `inner` would, with maps read through [`Keys`].
struct ScopedVisitor<V> {
    inner: V,
    scope: Scope,
}

/// A seed that deserializes through a [`Scoped`] deserializer.
struct ScopedSeed<S> {
    inner: S,
    scope: Scope,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for ScopedSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Scoped {
            inner: deserializer,
            scope: self.scope,
        })
    }
}

/// The entries of a map in `scope`, with the keys read first so that the
/// one to skip is recognised before its value is decoded.
struct Keys<A> {
    map: A,
    scope: Scope,
    /// The key just returned was the object's `metadata`.
    metadata_next: bool,
}

/// A map key as the decoder gave it: borrowed from the input when it held no
/// escapes (no allocation), owned otherwise.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(key) => key,
            Key::Owned(key) => key,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map key")
            }

            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(key))
            }

            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(key.to_owned()))
            }

            fn visit_string<E>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(key))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Keys<A> {
    type Error = A::Error;

    fn next_key_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        loop {
            let Some(key) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            match self.scope {
                Scope::Metadata if key.as_str() == "managedFields" => {
                    self.map.next_value::<IgnoredAny>()?;
                    continue;
                }
                Scope::Metadata => {}
                Scope::Object => self.metadata_next = key.as_str() == "metadata",
            }
            // The object's own impl reads the key as if it came from the input.
            return match key {
                Key::Borrowed(key) => seed.deserialize(BorrowedStrDeserializer::new(key)),
                Key::Owned(key) => seed.deserialize(StringDeserializer::new(key)),
            }
            .map(Some);
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        if std::mem::take(&mut self.metadata_next) {
            self.map.next_value_seed(ScopedSeed {
                inner: seed,
                scope: Scope::Metadata,
            })
        } else {
            self.map.next_value_seed(seed)
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// Forwards `deserialize_*` methods that take only a visitor.
macro_rules! forward_deserialize {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method(ScopedVisitor { inner: visitor, scope: self.scope })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Scoped<D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any deserialize_bool
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_option deserialize_unit
        deserialize_seq deserialize_map deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = ScopedVisitor {
            inner: visitor,
            scope: self.scope,
        };
        self.inner.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = ScopedVisitor {
            inner: visitor,
            scope: self.scope,
        };
        self.inner.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = ScopedVisitor {
            inner: visitor,
            scope: self.scope,
        };
        self.inner.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = ScopedVisitor {
            inner: visitor,
            scope: self.scope,
        };
        self.inner.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = ScopedVisitor {
            inner: visitor,
            scope: self.scope,
        };
        self.inner.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = ScopedVisitor {
            inner: visitor,
            scope: self.scope,
        };
        self.inner.deserialize_enum(name, variants, visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Forwards `visit_*` methods that take one plain value.
macro_rules! forward_visit {
    ($($method:ident($ty:ty))*) => {$(
        fn $method<E: serde::de::Error>(self, value: $ty) -> Result<V::Value, E> {
            self.inner.$method(value)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ScopedVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool(bool)
        visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64) visit_i128(i128)
        visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64) visit_u128(u128)
        visit_f32(f32) visit_f64(f64) visit_char(char)
        visit_str(&str) visit_borrowed_str(&'de str) visit_string(String)
        visit_bytes(&[u8]) visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        // An optional object (or metadata) is still the object.
        self.inner.visit_some(Scoped {
            inner: deserializer,
            scope: self.scope,
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Scoped {
            inner: deserializer,
            scope: self.scope,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Keys {
            map,
            scope: self.scope,
            metadata_next: false,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube_core::{DynamicObject, ObjectList, PartialObjectMeta, WatchEvent};
    use serde_json::{Value, json};

    fn config_map() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "settings",
                "namespace": "default",
                "managedFields": [{
                    "manager": "kubectl",
                    "operation": "Apply",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:data": {"f:mode": {}}}
                }],
                "labels": {"app": "web"}
            },
            "data": {"mode": "fast", "managedFields": "kept: not metadata"}
        })
    }

    /// What decoding everything and then dropping the field gives.
    fn stripped(mut value: Value) -> Value {
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
        value
    }

    #[test]
    fn typed_objects_lose_only_their_managed_fields() {
        let text = config_map().to_string();
        let WithoutManagedFields(cm) =
            serde_json::from_str::<WithoutManagedFields<ConfigMap>>(&text).expect("decodes");
        let expected: ConfigMap = serde_json::from_value(stripped(config_map())).expect("decodes");
        assert_eq!(cm, expected);
        assert_eq!(cm.metadata.managed_fields, None);
        assert_eq!(
            cm.data
                .as_ref()
                .and_then(|d| d.get("managedFields"))
                .map(String::as_str),
            Some("kept: not metadata")
        );
    }

    #[test]
    fn dynamic_objects_lose_only_their_managed_fields() {
        let text = config_map().to_string();
        let WithoutManagedFields(obj) =
            serde_json::from_str::<WithoutManagedFields<DynamicObject>>(&text).expect("decodes");
        let expected: DynamicObject =
            serde_json::from_value(stripped(config_map())).expect("decodes");
        assert_eq!(obj, expected);
        assert_eq!(obj.data["data"]["managedFields"], "kept: not metadata");
    }

    #[test]
    fn metadata_only_objects_lose_their_managed_fields() {
        let text = config_map().to_string();
        let WithoutManagedFields(meta) =
            serde_json::from_str::<WithoutManagedFields<PartialObjectMeta<ConfigMap>>>(&text)
                .expect("decodes");
        assert_eq!(meta.metadata.managed_fields, None);
        assert_eq!(meta.metadata.name.as_deref(), Some("settings"));
    }

    #[test]
    fn list_items_and_watch_objects_lose_their_managed_fields() {
        let list = json!({
            "apiVersion": "v1", "kind": "ConfigMapList",
            "metadata": {"resourceVersion": "7"},
            "items": [config_map(), config_map()]
        });
        let list: ObjectList<WithoutManagedFields<ConfigMap>> =
            serde_json::from_str(&list.to_string()).expect("decodes");
        assert_eq!(list.metadata.resource_version.as_deref(), Some("7"));
        assert_eq!(list.items.len(), 2);
        assert!(
            list.items
                .iter()
                .all(|cm| cm.0.metadata.managed_fields.is_none())
        );

        // The event's object is found whether it comes before or after the type.
        for line in [
            format!(r#"{{"type":"ADDED","object":{}}}"#, config_map()),
            format!(r#"{{"object":{},"type":"ADDED"}}"#, config_map()),
        ] {
            let event: WatchEvent<WithoutManagedFields<ConfigMap>> =
                serde_json::from_str(&line).expect("decodes");
            let WatchEvent::Added(WithoutManagedFields(cm)) = event else {
                panic!("expected an ADDED event");
            };
            assert_eq!(cm.metadata.managed_fields, None);
            assert_eq!(cm.metadata.labels.map(|l| l.len()), Some(1));
        }
    }

    #[test]
    fn escaped_keys_are_recognised() {
        let text = r#"{"metad\u0061ta":{"name":"a","managed\u0046ields":[{"manager":"m"}]}}"#;
        let WithoutManagedFields(cm) =
            serde_json::from_str::<WithoutManagedFields<ConfigMap>>(text).expect("decodes");
        assert_eq!(cm.metadata.name.as_deref(), Some("a"));
        assert_eq!(cm.metadata.managed_fields, None);
    }

    #[test]
    fn anything_but_managed_fields_decodes_as_without_the_wrapper() {
        for text in [
            r#"{"metadata":{"name":5}}"#,
            r#"{"metadata":{"name":"a"},"data":{"k":1}}"#,
            r#"{"metadata":[]}"#,
            r#"{"metadata":null}"#,
            r#"{"metadata":{"name":"a","name":"b"}}"#,
            r#"{"metadata":{"name":"a"},"metadata":{"name":"b"}}"#,
            r#"{"apiVersion":"v2","metadata":{}}"#,
            r#"{"metadata":{"labels":{"a":"b"}} x"#,
            "[1,2]",
            "",
        ] {
            let plain = serde_json::from_str::<ConfigMap>(text);
            let ours = serde_json::from_str::<WithoutManagedFields<ConfigMap>>(text).map(|w| w.0);
            match (plain, ours) {
                (Ok(plain), Ok(ours)) => assert_eq!(plain, ours, "{text}"),
                (Err(plain), Err(ours)) => {
                    assert_eq!(ours.to_string(), plain.to_string(), "{text}");
                }
                (plain, ours) => panic!("{text}: {plain:?} vs {ours:?}"),
            }
        }
    }

    #[test]
    fn malformed_json_inside_managed_fields_is_still_an_error() {
        let text = r#"{"metadata":{"managedFields":[}}"#;
        let plain = serde_json::from_str::<ConfigMap>(text).expect_err("malformed");
        let ours =
            serde_json::from_str::<WithoutManagedFields<ConfigMap>>(text).expect_err("malformed");
        assert_eq!(ours.to_string(), plain.to_string());
    }

    #[test]
    fn a_failure_is_reported_as_the_plain_read_reports_it() {
        // serde_json places this error (a control character in a string) one
        // column further when it skips the string than when it decodes it.
        let object = format!(
            r#"{{"metadata":{{"managedFields":[{{"manager":"a{}b"}}]}}}}"#,
            '\u{1}'
        );
        let line = format!(r#"{{"type":"ADDED","object":{object}}}"#);
        let plain = crate::client::watch::decode_event::<ConfigMap>(line.as_bytes())
            .expect_err("a control character");
        let ours = decode_event::<ConfigMap>(line.as_bytes()).expect_err("a control character");
        assert_eq!(ours.to_string(), plain.to_string());

        let list = format!(r#"{{"metadata":{{}},"items":[{object}]}}"#);
        let plain = crate::client::requests::decode::<ObjectList<ConfigMap>>(list.as_bytes())
            .expect_err("a control character");
        let ours = decode_list::<ConfigMap>(list.as_bytes()).expect_err("a control character");
        assert_eq!(ours.to_string(), plain.to_string());
    }

    #[test]
    fn a_managed_fields_value_of_any_type_is_skipped() {
        // Decoding the field would fail; skipping it does not look inside.
        let text = r#"{"metadata":{"name":"a","managedFields":{"not":"a list"}}}"#;
        assert!(serde_json::from_str::<ConfigMap>(text).is_err());
        let WithoutManagedFields(cm) =
            serde_json::from_str::<WithoutManagedFields<ConfigMap>>(text).expect("decodes");
        assert_eq!(cm.metadata.name.as_deref(), Some("a"));
    }
}
