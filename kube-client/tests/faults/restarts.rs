//! A real apiserver stopped and restarted under a client: the client reports
//! the outage clearly, and works again once the apiserver is back, without
//! being rebuilt.

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api,
    api::{ListParams, PostParams, WatchParams},
    error::TransportError,
};
use kube_test::TestEnv;

use crate::config_map;

#[tokio::test]
async fn a_client_survives_an_apiserver_restart() {
    let env = TestEnv::start_owned().await.expect("own control plane");
    let client = env.client().await.expect("client");
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &config_map("before"))
        .await
        .expect("create before the restart");

    // A watch open across the restart ends (with or without an error).
    let mut watch = api
        .watch(&WatchParams::default().timeout(60), "0")
        .await
        .expect("watch")
        .boxed();
    env.restart().await.expect("restart");
    let ended = async {
        while let Some(item) = watch.next().await {
            if item.is_err() {
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), ended)
        .await
        .expect("the watch on the dead connection ends");

    // The same client reconnects.
    let names: Vec<_> = api
        .list(&ListParams::default())
        .await
        .expect("list after the restart")
        .items
        .into_iter()
        .filter_map(|cm| cm.metadata.name)
        .collect();
    assert!(names.contains(&"before".to_string()), "{names:?}");
    api.create(&PostParams::default(), &config_map("after"))
        .await
        .expect("create after the restart");
}

#[tokio::test]
async fn a_stopped_apiserver_is_a_connect_error_naming_it_and_the_client_reconnects_once_back() {
    let env = TestEnv::start_owned().await.expect("own control plane");
    let client = env.client().await.expect("client");
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.list(&ListParams::default()).await.expect("up");
    env.stop().await.expect("stop");

    let err = api
        .create(&PostParams::default(), &config_map("refused"))
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(err.transport(), Some(TransportError::Connect { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains(env.server_url()), "{err}");

    env.resume().await.expect("resume");
    api.create(&PostParams::default(), &config_map("accepted"))
        .await
        .expect("created once the apiserver is back");
    assert!(
        api.get_opt("refused").await.expect("get").is_none(),
        "a create that could not connect was never sent"
    );
}
