//! A reflector's store against a real apiserver.

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{Api, api::DeleteParams};
use kube_runtime::{
    WatchStreamExt,
    reflector::{self, ObjectRef},
    watcher,
};

use crate::common::{OURS, client_in_fresh_namespace, create, set_value, value_of, within};

#[tokio::test]
async fn store_follows_the_collection() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    create(&api, "a", "1").await;
    create(&api, "b", "1").await;

    let (store, writer) = reflector::store::<ConfigMap>();
    let (touched_tx, mut touched) = futures::channel::mpsc::unbounded();
    let events = watcher(api.clone(), watcher::Config::default().labels(OURS))
        .default_backoff()
        .reflect(writer)
        .touched_objects();
    let driver = tokio::spawn(events.for_each(move |obj| {
        let _ = touched_tx.unbounded_send(obj.map(|cm| cm.metadata.name));
        futures::future::ready(())
    }));

    within("the store to be ready", store.wait_until_ready())
        .await
        .expect("the writer is alive");
    assert_eq!(store.len(), 2);
    let a = ObjectRef::new("a").within(&ns);
    assert_eq!(store.get(&a).as_deref().and_then(value_of), Some("1"));

    set_value(&api, "a", "2").await;
    api.delete("b", &DeleteParams::default())
        .await
        .expect("deleted");
    // Wait until the store has seen both changes.
    within("both changes to reach the store", async {
        while store.get(&a).as_deref().and_then(value_of) != Some("2") || store.len() != 1 {
            touched.next().await;
        }
    })
    .await;
    assert!(store.get(&ObjectRef::new("b").within(&ns)).is_none());
    driver.abort();
}
