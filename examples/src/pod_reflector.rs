//! A reflector: a watcher feeding an in-memory store, so reads come from
//! memory instead of the apiserver. Fields nobody reads are dropped before
//! storing, to keep the cache small.

use futures::{Stream, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api, Client, ResourceExt,
    runtime::{
        WatchStreamExt,
        reflector::{self, Store},
        watcher,
    },
};

/// A store of the pods in `namespace`, and the stream that fills it: poll
/// the stream (it yields each pod as it is added or changes) and read the store.
pub fn run(
    client: Client,
    namespace: &str,
) -> (
    Store<Pod>,
    impl Stream<Item = Result<Pod, watcher::Error>> + use<>,
) {
    let pods: Api<Pod> = Api::namespaced(client, namespace);
    let (reader, writer) = reflector::store();
    let stream = watcher(pods, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(|pod| {
            // Nobody here reads who manages which field, or the last applied
            // configuration: do not keep them.
            pod.managed_fields_mut().clear();
            pod.annotations_mut()
                .remove("kubectl.kubernetes.io/last-applied-configuration");
        })
        .reflect(writer)
        .applied_objects();
    (reader, stream)
}

/// The stored pods as `name (phase)`, sorted.
pub fn summary(store: &Store<Pod>) -> Vec<String> {
    let mut pods: Vec<String> = store
        .state()
        .iter()
        .map(|pod| {
            let phase = pod
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".into());
            format!("{} ({phase})", pod.name_any())
        })
        .collect();
    pods.sort();
    pods
}

/// Logs the store's contents each time a pod changes, until the watch fails
/// for good.
pub async fn follow(client: Client, namespace: &str) -> Result<(), watcher::Error> {
    let (store, stream) = run(client, namespace);
    stream
        .try_for_each(|pod| {
            tracing::info!(changed = %pod.name_any(), pods = ?summary(&store), "store updated");
            futures::future::ready(Ok(()))
        })
        .await
}
