//! Reading objects straight from a `Client`, by scope and by reference
//! (feature `unstable-client`), against the real apiserver.

use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        core::v1::{ConfigMap, LocalObjectReference, Namespace as NamespaceObject},
    },
    apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube_client::{
    Api, Resource, ResourceExt,
    api::{ListParams, PostParams},
    client::scope::{Cluster, Namespace, NamespacedRef},
    core::DynamicObject,
};

use crate::common::{api_status, client_in_fresh_namespace, config_map};

#[tokio::test]
async fn objects_are_read_by_scope_and_by_reference() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let created = maps
        .create(
            &PostParams::default(),
            &config_map("cfg", &[("scope-test", "yes")], &[("a", "b")]),
        )
        .await
        .expect("create");
    let scope = Namespace::from(ns.as_str());

    // By scope.
    let got: ConfigMap = client.get("cfg", &scope).await.expect("get");
    assert_eq!(got.uid(), created.uid());
    let listed = client
        .list::<ConfigMap>(&ListParams::default().labels("scope-test=yes"), &scope)
        .await
        .expect("list in the namespace");
    assert_eq!(listed.items.len(), 1);
    let everywhere = client
        .list::<ConfigMap>(&ListParams::default().labels("scope-test=yes"), &Cluster)
        .await
        .expect("list everywhere");
    assert!(everywhere.iter().any(|cm| cm.uid() == created.uid()));
    let namespace: NamespaceObject = client.get(&ns, &Cluster).await.expect("get a namespace");
    assert_eq!(namespace.name_any(), ns);

    // By reference: an ObjectReference, typed or dynamic.
    let reference = created.object_ref(&());
    let fetched: ConfigMap = client.fetch(&reference).await.expect("fetch");
    assert_eq!(fetched.uid(), created.uid());
    let dynamic: DynamicObject = client.fetch(&reference).await.expect("fetch dynamically");
    assert_eq!(dynamic.data["data"]["a"], "b");

    // A local reference placed in the namespace.
    let local = LocalObjectReference { name: "cfg".into() };
    let fetched: ConfigMap = client
        .fetch(&NamespacedRef::<ConfigMap>::within(&local, ns.clone()))
        .await
        .expect("fetch a local reference");
    assert_eq!(fetched.uid(), created.uid());

    // An owner reference to something that does not exist: the server's 404.
    let owner = OwnerReference {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        name: "gone".into(),
        uid: "0".into(),
        ..OwnerReference::default()
    };
    let missing = client
        .fetch::<Deployment>(&NamespacedRef::<Deployment>::within(&owner, ns.clone()))
        .await;
    assert_eq!(api_status(missing).code, 404);

    // A reference without a name cannot be followed.
    let nameless = k8s_openapi::api::core::v1::ObjectReference {
        kind: Some("ConfigMap".into()),
        api_version: Some("v1".into()),
        namespace: Some(ns.clone()),
        ..Default::default()
    };
    let err = client
        .fetch::<ConfigMap>(&nameless)
        .await
        .expect_err("no name");
    assert!(matches!(err, kube_client::Error::RefResolve(_)), "{err:?}");
}
