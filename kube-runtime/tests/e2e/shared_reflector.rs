//! One watch shared by two controllers (feature `unstable-runtime-subscribe`):
//! both reconcile every object the shared reflector stores, against a real
//! apiserver.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::Api;
use kube_runtime::{
    Controller, WatchStreamExt,
    controller::Action,
    reflector::{self, ObjectRef},
    watcher,
};

use crate::common::{Background, OURS, client_in_fresh_namespace, create, eventually, set_value};

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

type Seen = Arc<Mutex<BTreeSet<String>>>;

/// A controller on `handle` recording `name=value` for each reconcile.
fn recording(handle: reflector::ReflectHandle<ConfigMap>, seen: Seen) -> Background {
    let reader = handle.reader();
    let controller = Controller::for_shared_stream(handle, reader).run(
        |cm: Arc<ConfigMap>, seen: Arc<Seen>| async move {
            let name = cm.metadata.name.clone().unwrap_or_default();
            let value = crate::common::value_of(&cm).unwrap_or_default().to_string();
            seen.lock().expect("lock").insert(format!("{name}={value}"));
            Ok::<_, Never>(Action::await_change())
        },
        |_, _: &Never, _| Action::requeue(Duration::from_secs(1)),
        Arc::new(seen),
    );
    Background::drive(controller)
}

#[tokio::test]
async fn two_controllers_share_one_watch() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let (_store, writer) = reflector::store_shared::<ConfigMap>(64);
    let first = writer.subscribe().expect("a shared writer");
    let second = writer.subscribe().expect("a shared writer");
    let watch = watcher(maps.clone(), watcher::Config::default().labels(OURS))
        .default_backoff()
        .reflect_shared(writer);
    let _watch = Background::drive(watch);
    let seen_first = Seen::default();
    let seen_second = Seen::default();
    let _first = recording(first, seen_first.clone());
    let _second = recording(second, seen_second.clone());

    create(&maps, "alpha", "1").await;
    create(&maps, "beta", "1").await;
    set_value(&maps, "alpha", "2").await;

    for (who, seen) in [("first", &seen_first), ("second", &seen_second)] {
        eventually(&format!("the {who} controller to see every change"), || {
            let seen = seen.lock().expect("lock").clone();
            async move { (seen.contains("alpha=2") && seen.contains("beta=1")).then_some(()) }
        })
        .await;
    }
}

#[tokio::test]
async fn shared_streams_trigger_through_owners_and_mappers() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let (store, writer) = reflector::store_shared::<ConfigMap>(64);
    let children = writer.subscribe().expect("a shared writer");
    let related = writer.subscribe().expect("a shared writer");
    let watch = watcher(maps.clone(), watcher::Config::default().labels(OURS))
        .default_backoff()
        .reflect_shared(writer);
    let _watch = Background::drive(watch);

    // Reconciles come only from children naming their owner, and from
    // "-ref" ConfigMaps naming the ConfigMap they refer to.
    let seen = Seen::default();
    let controller = Controller::for_shared_stream(futures::stream::pending(), store)
        .owns_shared_stream(children)
        .watches_shared_stream(related, |cm: Arc<ConfigMap>| {
            let name = cm.metadata.name.clone().unwrap_or_default();
            let namespace = cm.metadata.namespace.clone().unwrap_or_default();
            name.strip_suffix("-ref")
                .map(|target| ObjectRef::new(target).within(&namespace))
        })
        .run(
            |cm: Arc<ConfigMap>, seen: Arc<Seen>| async move {
                let name = cm.metadata.name.clone().unwrap_or_default();
                seen.lock().expect("lock").insert(name);
                Ok::<_, Never>(Action::await_change())
            },
            |_, _: &Never, _| Action::requeue(Duration::from_secs(1)),
            Arc::new(seen.clone()),
        );
    let _controller = Background::drive(controller);

    let parent = create(&maps, "parent", "1").await;
    create(&maps, "target", "1").await;
    let mut child = crate::common::config_map("child", "1");
    child.metadata.owner_references = Some(vec![
        kube_client::Resource::controller_owner_ref(&parent, &()).expect("a stored object"),
    ]);
    maps.create(&Default::default(), &child)
        .await
        .expect("create the child");
    create(&maps, "target-ref", "1").await;

    eventually("the owner and the referred object to be reconciled", || {
        let seen = seen.lock().expect("lock").clone();
        async move { (seen.contains("parent") && seen.contains("target")).then_some(seen) }
    })
    .await;
    let seen = seen.lock().expect("lock").clone();
    assert!(
        !seen.contains("child") && !seen.contains("target-ref"),
        "only mapped objects are reconciled: {seen:?}"
    );
}
