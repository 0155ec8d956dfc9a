//! A reflector's store against a real apiserver.

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{Api, api::DeleteParams};
use kube_runtime::{
    WatchStreamExt,
    reflector::{self, ObjectRef},
    watcher,
};

use crate::common::{OURS, client_in_fresh_namespace, create, next, set_value, value_of, within};

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

#[tokio::test]
async fn reflect_arc_fills_the_store_and_shares_its_objects_with_the_stream() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    for name in ["a", "b", "c"] {
        create(&api, name, "1").await;
    }

    let (store, writer) = reflector::store::<ConfigMap>();
    // Pages of one object: the initial list takes three pages.
    let config = watcher::Config::default().labels(OURS).page_size(1);
    let mut events = Box::pin(
        watcher(api.clone(), config)
            .default_backoff()
            .reflect_arc(writer),
    );
    let mut listed = Vec::new();
    loop {
        match next("the initial list", &mut events).await {
            Ok(watcher::Event::InitApply(cm)) => listed.push(cm),
            Ok(watcher::Event::InitDone) => break,
            Ok(_) => {}
            Err(err) => panic!("the watcher failed: {err}"),
        }
    }
    assert_eq!(store.len(), 3);
    for cm in &listed {
        let name = cm.metadata.name.as_deref().expect("a name");
        let stored = store
            .get(&ObjectRef::new(name).within(&ns))
            .expect("every listed object is stored");
        assert!(Arc::ptr_eq(cm, &stored), "{name} was passed on as a copy");
    }

    set_value(&api, "a", "2").await;
    api.delete("b", &DeleteParams::default())
        .await
        .expect("deleted");
    let (mut updated, mut deleted) = (None, None);
    while updated.is_none() || deleted.is_none() {
        match next("the update and the deletion", &mut events).await {
            Ok(watcher::Event::Apply(cm)) if value_of(&cm) == Some("2") => updated = Some(cm),
            Ok(watcher::Event::Delete(cm)) => deleted = cm.metadata.name.clone(),
            Ok(_) => {}
            Err(err) => panic!("the watcher failed: {err}"),
        }
    }
    let a = store
        .get(&ObjectRef::new("a").within(&ns))
        .expect("a is stored");
    assert!(updated.is_some_and(|cm| Arc::ptr_eq(&cm, &a)));
    assert_eq!(deleted.as_deref(), Some("b"));
    assert!(store.get(&ObjectRef::new("b").within(&ns)).is_none());
    assert_eq!(store.len(), 2);
}
