//! Decoding without `managedFields` must give what decoding everything and
//! then removing the field gives, for every type the watchers read, typed
//! and dynamic, alone, in lists and in watch events: the same values, and
//! the plain read's error, word for word, wherever it fails. Where only the
//! field itself was malformed, the skipping decode may succeed: it must then
//! agree with decoding the input with the field removed.
//!
//! Input: the body, as the apiserver would send it.

#![no_main]

use std::fmt::Debug;

use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use kube_client::{
    api::{DynamicObject, ObjectList, PartialObjectMeta, WatchEvent},
    client::fuzzing::{
        decode, decode_event, decode_event_without_managed_fields,
        decode_list_without_managed_fields, decode_object_without_managed_fields,
    },
};
use kube_core::Resource;
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Removes `metadata.managedFields` from an object as JSON.
fn strip_value(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
}

fn strip<K: Resource>(object: &mut K) {
    object.meta_mut().managed_fields = None;
}

/// One way of reading a body: plain, and without managedFields.
trait Shape: Sized + PartialEq + Debug + DeserializeOwned {
    fn plain(body: &[u8]) -> kube_client::Result<Self>;
    fn without_managed_fields(body: &[u8]) -> kube_client::Result<Self>;
    fn strip(&mut self);
    fn strip_value(value: &mut Value);
}

impl<K: Resource + PartialEq + Debug + DeserializeOwned> Shape for Object<K> {
    fn plain(body: &[u8]) -> kube_client::Result<Self> {
        decode(body).map(Object)
    }
    fn without_managed_fields(body: &[u8]) -> kube_client::Result<Self> {
        decode_object_without_managed_fields(body).map(Object)
    }
    fn strip(&mut self) {
        strip(&mut self.0);
    }
    fn strip_value(value: &mut Value) {
        strip_value(value);
    }
}

impl<K: Resource + PartialEq + Debug + DeserializeOwned> Shape for ObjectList<K> {
    fn plain(body: &[u8]) -> kube_client::Result<Self> {
        decode(body)
    }
    fn without_managed_fields(body: &[u8]) -> kube_client::Result<Self> {
        decode_list_without_managed_fields(body)
    }
    fn strip(&mut self) {
        self.items.iter_mut().for_each(strip);
    }
    fn strip_value(value: &mut Value) {
        if let Some(items) = value.get_mut("items").and_then(Value::as_array_mut) {
            items.iter_mut().for_each(strip_value);
        }
    }
}

impl<K: Resource + PartialEq + Debug + DeserializeOwned + Clone> Shape for WatchEvent<K> {
    fn plain(body: &[u8]) -> kube_client::Result<Self> {
        decode_event(body)
    }
    fn without_managed_fields(body: &[u8]) -> kube_client::Result<Self> {
        decode_event_without_managed_fields(body)
    }
    fn strip(&mut self) {
        match self {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => strip(o),
            WatchEvent::Bookmark(_) | WatchEvent::Error(_) => {}
        }
    }
    fn strip_value(value: &mut Value) {
        // Only the objects of these events are decoded as objects; the last
        // "type" counts, as it does for the decoder.
        let object_event = matches!(
            value.get("type").and_then(Value::as_str),
            Some("ADDED" | "MODIFIED" | "DELETED")
        );
        if let (true, Some(object)) = (object_event, value.get_mut("object")) {
            strip_value(object);
        }
    }
}

/// An object decoded on its own.
#[derive(PartialEq, Debug, serde::Deserialize)]
#[serde(transparent)]
struct Object<K>(K);

fn check<T: Shape>(body: &[u8]) {
    let plain = T::plain(body);
    let stripped = T::without_managed_fields(body);
    match (plain, stripped) {
        (Ok(mut plain), Ok(stripped)) => {
            plain.strip();
            assert_eq!(plain, stripped);
        }
        (Err(plain), Err(stripped)) => assert_eq!(plain.to_string(), stripped.to_string()),
        (Ok(plain), Err(stripped)) => panic!("only the skipping decode failed: {stripped} ({plain:?})"),
        (Err(plain), Ok(stripped)) => {
            // The plain decode failed inside managedFields, which is skipped.
            let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
                // Nesting too deep for serde_json's Value: a skipped value
                // may nest deeper than a decoded one.
                assert!(
                    body.windows(13).any(|w| w == b"managedFields"),
                    "{plain}"
                );
                return;
            };
            T::strip_value(&mut value);
            let reference: T = serde_json::from_value(value)
                .unwrap_or_else(|e| panic!("fails without managedFields too: {e} (plain: {plain})"));
            assert_eq!(reference, stripped, "plain: {plain}");
        }
    }
}

fn check_all<K>(body: &[u8])
where
    K: Resource + PartialEq + Debug + DeserializeOwned + Clone,
{
    check::<Object<K>>(body);
    check::<ObjectList<K>>(body);
    check::<WatchEvent<K>>(body);
}

fuzz_target!(|body: &[u8]| {
    check_all::<ConfigMap>(body);
    check_all::<Pod>(body);
    check_all::<Secret>(body);
    check_all::<DynamicObject>(body);
    check_all::<PartialObjectMeta<Pod>>(body);
});
