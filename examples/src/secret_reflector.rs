//! A reflector over Secrets, reading their decoded contents from memory.
//!
//! Secret values are secrets: this example shows keys and sizes, never the
//! values themselves, and hands decoded values only to code that asks for one.

use std::collections::BTreeMap;

use futures::{Stream, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client, ResourceExt,
    runtime::{
        WatchStreamExt,
        reflector::{self, ObjectRef, Store},
        watcher,
    },
};

/// The decoded form of a Secret's entries.
#[derive(Clone, PartialEq, Eq)]
pub enum Decoded {
    /// Text, as most Secrets hold.
    Text(String),
    /// Bytes that are not UTF-8 (certificates in DER, keys, ...).
    Binary(Vec<u8>),
}

impl std::fmt::Debug for Decoded {
    /// Sizes only: a Secret's values never reach logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decoded::Text(text) => write!(f, "Text({} bytes)", text.len()),
            Decoded::Binary(bytes) => write!(f, "Binary({} bytes)", bytes.len()),
        }
    }
}

/// The entries of `secret`, decoded (the apiserver returns them as base64,
/// which the `ByteString` type has already undone).
pub fn decode(secret: &Secret) -> BTreeMap<String, Decoded> {
    secret
        .data
        .iter()
        .flatten()
        .map(|(key, value)| {
            let decoded = match String::from_utf8(value.0.clone()) {
                Ok(text) => Decoded::Text(text),
                Err(error) => Decoded::Binary(error.into_bytes()),
            };
            (key.clone(), decoded)
        })
        .collect()
}

/// A store of the Secrets in `namespace`, and the stream that fills it (it
/// yields each Secret's name as it is added or changes).
pub fn run(
    client: Client,
    namespace: &str,
) -> (
    Store<Secret>,
    impl Stream<Item = Result<String, watcher::Error>> + use<>,
) {
    let secrets: Api<Secret> = Api::namespaced(client, namespace);
    let (reader, writer) = reflector::store();
    let stream = watcher(secrets, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .map_ok(|secret: Secret| secret.name_any());
    (reader, stream)
}

/// The decoded entry `key` of the Secret `name` in `namespace`, from the store.
pub fn lookup(store: &Store<Secret>, namespace: &str, name: &str, key: &str) -> Option<Decoded> {
    let secret = store.get(&ObjectRef::new(name).within(namespace))?;
    decode(&secret).remove(key)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::ByteString;

    use super::*;

    #[test]
    fn text_and_binary_entries_decode_and_never_print_their_values() {
        let secret = Secret {
            data: Some(BTreeMap::from([
                ("password".to_string(), ByteString(b"hunter2".to_vec())),
                ("key".to_string(), ByteString(vec![0xff, 0x00])),
            ])),
            ..Secret::default()
        };
        let decoded = decode(&secret);
        assert_eq!(
            decoded.get("password"),
            Some(&Decoded::Text("hunter2".into()))
        );
        assert_eq!(decoded.get("key"), Some(&Decoded::Binary(vec![0xff, 0x00])));
        let printed = format!("{decoded:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("Text(7 bytes)"), "{printed}");
    }
}
