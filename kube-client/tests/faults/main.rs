//! The client against a misbehaving apiserver: faults injected by
//! `kube_test::faults::FaultProxy` in front of the real apiserver, and a real
//! apiserver stopped and restarted under the client.
//!
//! What is retried and what is not is counted from the requests the proxy saw.

mod rate_limit;
mod restarts;
mod retries;
mod timeouts;

use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api, Client,
    api::{ObjectMeta, PostParams},
};
use kube_test::{
    TestEnv,
    faults::{FaultProxy, SeenRequest, Verb},
};

/// The shared control plane.
async fn env() -> &'static TestEnv {
    TestEnv::start().await.expect("the control plane starts")
}

/// A fault proxy in front of the shared control plane, and a fresh namespace.
async fn proxy_and_namespace() -> (FaultProxy, String) {
    let env = env().await;
    let proxy = FaultProxy::start(env)
        .await
        .expect("the fault proxy starts");
    let ns = env.fresh_namespace().await.expect("a namespace");
    (proxy, ns)
}

/// A client that bypasses the proxy, to check what really happened.
async fn direct(ns: &str) -> Api<ConfigMap> {
    Api::namespaced(env().await.client().await.expect("direct client"), ns)
}

fn through(proxy: &FaultProxy, ns: &str) -> Api<ConfigMap> {
    Api::namespaced(proxy.client().expect("proxy client"), ns)
}

fn through_client(client: Client, ns: &str) -> Api<ConfigMap> {
    Api::namespaced(client, ns)
}

fn config_map(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        data: Some([("k".to_string(), "v".to_string())].into()),
        ..ConfigMap::default()
    }
}

async fn create_directly(ns: &str, name: &str) {
    direct(ns)
        .await
        .create(&PostParams::default(), &config_map(name))
        .await
        .expect("create directly");
}

/// The requests of one verb the proxy saw.
fn seen(proxy: &FaultProxy, verb: Verb) -> Vec<SeenRequest> {
    proxy
        .requests()
        .into_iter()
        .filter(|r| r.verb == verb)
        .collect()
}

/// The statuses of the requests of one verb, in order.
fn statuses(proxy: &FaultProxy, verb: Verb) -> Vec<Option<u16>> {
    seen(proxy, verb).iter().map(|r| r.status).collect()
}
