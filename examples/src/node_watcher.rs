//! Watching nodes for the changes that matter to their operators — labels
//! and cordoning — while predicates drop the rest (heartbeats, annotations,
//! status updates).

use std::hash::{DefaultHasher, Hash, Hasher};

use futures::{Stream, TryStreamExt};
use k8s_openapi::api::core::v1::Node;
use kube::{
    Api, Client, ResourceExt,
    runtime::{Predicate, WatchStreamExt, predicates, watcher},
};

/// A node as the watcher reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState {
    /// The node's name.
    pub name: String,
    /// Its labels, `key=value`, sorted.
    pub labels: Vec<String>,
    /// Whether it is cordoned (no new pods may be scheduled there).
    pub cordoned: bool,
}

impl NodeState {
    /// What the watcher reports about `node`.
    pub fn of(node: &Node) -> Self {
        Self {
            name: node.name_any(),
            labels: node
                .labels()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            cordoned: is_cordoned(node),
        }
    }
}

fn is_cordoned(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|spec| spec.unschedulable)
        .unwrap_or(false)
}

/// A predicate on whether a node is cordoned.
fn cordoning(node: &Node) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    is_cordoned(node).hash(&mut hasher);
    Some(hasher.finish())
}

/// The nodes matching `label_selector` (every node when empty), each time
/// one appears or its labels or cordoning change.
pub fn run(
    client: Client,
    label_selector: &str,
) -> impl Stream<Item = Result<NodeState, watcher::Error>> + use<> {
    let nodes: Api<Node> = Api::all(client);
    let config = watcher::Config::default().labels(label_selector);
    watcher(nodes, config)
        .default_backoff()
        .applied_objects()
        .predicate_filter(predicates::labels.combine(cordoning), Default::default())
        .map_ok(|node| NodeState::of(&node))
}
