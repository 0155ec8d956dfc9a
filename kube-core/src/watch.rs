//! Watch events: what a `?watch=true` request streams, one JSON object per line.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize};

use crate::{metadata::TypeMeta, response::Status};

/// One event of a watch stream.
///
/// `ADDED`, `MODIFIED` and `DELETED` carry the object. `BOOKMARK` carries only a
/// resource version (and, for streaming lists, the annotation marking the end of
/// the initial events): the point from which a watch can resume. `ERROR` carries
/// the server's [`Status`]; `410 Gone` there means the watch must start over from
/// a fresh list.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "object", rename_all = "UPPERCASE")]
pub enum WatchEvent<K> {
    /// An object was created (or existed when the watch started).
    Added(K),
    /// An object changed.
    Modified(K),
    /// An object was deleted; this is its last state.
    Deleted(K),
    /// The collection reached a resource version; nothing changed.
    Bookmark(Bookmark),
    /// The server reports a problem with the watch.
    Error(Status),
}

impl<K> fmt::Debug for WatchEvent<K> {
    /// Names the event without printing the (possibly large, possibly secret) object.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WatchEvent::Added(_) => f.write_str("Added event"),
            WatchEvent::Modified(_) => f.write_str("Modified event"),
            WatchEvent::Deleted(_) => f.write_str("Deleted event"),
            WatchEvent::Bookmark(b) => {
                write!(f, "Bookmark event at {}", b.metadata.resource_version)
            }
            WatchEvent::Error(status) => write!(f, "Error event: {status}"),
        }
    }
}

/// The object of a `BOOKMARK` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bookmark {
    /// The type metadata of the watched kind.
    #[serde(flatten)]
    pub types: TypeMeta,
    /// The resource version and annotations.
    pub metadata: BookmarkMeta,
}

/// The metadata of a bookmark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookmarkMeta {
    /// The resource version the collection reached.
    pub resource_version: String,
    /// `k8s.io/initial-events-end: "true"` marks the end of a streaming list.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Bookmark {
    /// The annotation that marks the end of a streaming list's initial events.
    pub const INITIAL_EVENTS_END: &'static str = "k8s.io/initial-events-end";

    /// Whether this bookmark ends the initial events of a streaming list.
    pub fn is_initial_events_end(&self) -> bool {
        self.metadata
            .annotations
            .get(Self::INITIAL_EVENTS_END)
            .is_some_and(|v| v == "true")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResourceExt;
    use k8s_openapi::api::core::v1::ConfigMap;

    #[test]
    fn decodes_object_events() {
        let line = br#"{"type":"MODIFIED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"12"},"data":{"k":"v"}}}"#;
        match serde_json::from_slice::<WatchEvent<ConfigMap>>(line) {
            Ok(WatchEvent::Modified(cm)) => {
                assert_eq!(cm.name_any(), "a");
                assert_eq!(cm.resource_version().as_deref(), Some("12"));
            }
            other => panic!("expected a MODIFIED event, got {other:?}"),
        }
    }

    #[test]
    fn decodes_a_bookmark_with_only_metadata() {
        let line = br#"{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"3456","annotations":{"k8s.io/initial-events-end":"true"}}}}"#;
        match serde_json::from_slice::<WatchEvent<ConfigMap>>(line) {
            Ok(WatchEvent::Bookmark(b)) => {
                assert_eq!(b.metadata.resource_version, "3456");
                assert_eq!(b.types.kind, "ConfigMap");
                assert!(b.is_initial_events_end());
            }
            other => panic!("expected a BOOKMARK event, got {other:?}"),
        }
        let plain = br#"{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"1"}}}"#;
        match serde_json::from_slice::<WatchEvent<ConfigMap>>(plain) {
            Ok(WatchEvent::Bookmark(b)) => assert!(!b.is_initial_events_end()),
            other => panic!("expected a BOOKMARK event, got {other:?}"),
        }
    }

    #[test]
    fn decodes_an_error_with_a_410_status() {
        let line = br#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (2)","reason":"Expired","code":410}}"#;
        match serde_json::from_slice::<WatchEvent<ConfigMap>>(line) {
            Ok(WatchEvent::Error(status)) => {
                assert!(status.is_gone());
                assert_eq!(status.code, 410);
                assert_eq!(status.message, "too old resource version: 1 (2)");
            }
            other => panic!("expected an ERROR event, got {other:?}"),
        }
    }

    #[test]
    fn events_round_trip() {
        let cm: ConfigMap = serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}}))
            .expect("valid configmap");
        for event in [
            WatchEvent::Added(cm.clone()),
            WatchEvent::Deleted(cm),
            WatchEvent::Bookmark(Bookmark {
                types: TypeMeta {
                    api_version: "v1".into(),
                    kind: "ConfigMap".into(),
                },
                metadata: BookmarkMeta {
                    resource_version: "9".into(),
                    annotations: BTreeMap::new(),
                },
            }),
            WatchEvent::Error(
                Status::failure("gone", crate::response::reason::GONE).with_code(410),
            ),
        ] {
            let bytes = serde_json::to_vec(&event).expect("serializable");
            let back: WatchEvent<ConfigMap> = serde_json::from_slice(&bytes).expect("decodable");
            assert_eq!(back, event);
        }
    }

    #[test]
    fn unknown_event_types_and_garbage_are_errors() {
        assert!(
            serde_json::from_slice::<WatchEvent<ConfigMap>>(br#"{"type":"NOPE","object":{}}"#)
                .is_err()
        );
        assert!(serde_json::from_slice::<WatchEvent<ConfigMap>>(b"not json").is_err());
        assert!(serde_json::from_slice::<WatchEvent<ConfigMap>>(br#"{"type":"ADDED"}"#).is_err());
    }

    #[test]
    fn debug_does_not_print_objects() {
        let cm = ConfigMap {
            data: Some([("password".to_string(), "hunter2".to_string())].into()),
            ..ConfigMap::default()
        };
        let text = format!("{:?}", WatchEvent::Added(cm));
        assert!(!text.contains("hunter2"), "{text}");
    }
}
