//! Shared helpers: the control plane, fresh namespaces, objects, deadlines.

use std::{collections::BTreeMap, future::Future, time::Duration};

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api, Client,
    api::{ObjectMeta, Patch, PatchParams, PostParams},
};

/// How long any single expectation may take before the test fails (generous:
/// the machine running the tests may be busy).
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A client for the shared test control plane, and a new, empty namespace.
pub async fn client_in_fresh_namespace() -> (Client, String) {
    let env = kube_test::TestEnv::start()
        .await
        .expect("the kube-test control plane must start");
    let namespace = env.fresh_namespace().await.expect("a fresh namespace");
    (env.client().await.expect("a client"), namespace)
}

/// A fault proxy in front of the shared control plane, a client that bypasses
/// it, and a new, empty namespace.
pub async fn proxy_and_fresh_namespace() -> (kube_test::faults::FaultProxy, Client, String) {
    let (direct, namespace) = client_in_fresh_namespace().await;
    let env = kube_test::TestEnv::start()
        .await
        .expect("the kube-test control plane must start");
    let proxy = kube_test::faults::FaultProxy::start(env)
        .await
        .expect("the fault proxy starts");
    (proxy, direct, namespace)
}

/// Fails the test if `future` takes longer than [`DEADLINE`].
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// The next item of `stream`, failing the test after [`DEADLINE`].
pub async fn next<S: Stream + Unpin>(what: &str, stream: &mut S) -> S::Item {
    within(what, stream.next())
        .await
        .unwrap_or_else(|| panic!("the stream ended while waiting for {what}"))
}

/// The label selector matching the objects tests create: every namespace also
/// gets a `kube-root-ca.crt` ConfigMap from the control plane, at a moment of
/// its choosing.
pub const OURS: &str = "e2e=yes";

/// A ConfigMap named `name` holding `value` under the key `v`, labelled as
/// [`OURS`].
pub fn config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(BTreeMap::from([("e2e".to_string(), "yes".to_string())])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("v".to_string(), value.to_string())])),
        ..ConfigMap::default()
    }
}

/// The value under `v`.
pub fn value_of(cm: &ConfigMap) -> Option<&str> {
    cm.data.as_ref()?.get("v").map(String::as_str)
}

/// Creates the ConfigMap `name` holding `value`.
pub async fn create(api: &Api<ConfigMap>, name: &str, value: &str) -> ConfigMap {
    api.create(&PostParams::default(), &config_map(name, value))
        .await
        .unwrap_or_else(|err| panic!("creating {name}: {err}"))
}

/// Sets the value of the ConfigMap `name`.
pub async fn set_value(api: &Api<ConfigMap>, name: &str, value: &str) -> ConfigMap {
    let patch = serde_json::json!({ "data": { "v": value } });
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap_or_else(|err| panic!("patching {name}: {err}"))
}

/// Polls `check` until it finds something, failing the test after
/// [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    within(what, async {
        loop {
            if let Some(found) = check().await {
                break found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

/// A task aborted when this guard is dropped, so a failing test does not
/// leave a controller running against the shared control plane.
pub struct Background(tokio::task::JoinHandle<()>);

impl Background {
    /// Drives `stream` to its end on a task of its own.
    pub fn drive<S>(stream: S) -> Self
    where
        S: Stream + Send + 'static,
    {
        Self(tokio::spawn(
            stream.for_each(|_| futures::future::ready(())),
        ))
    }
}

impl Background {
    /// Aborts the task and waits until it is gone, with all it held.
    pub async fn stop(mut self) {
        self.0.abort();
        let _ = within("the task to stop", &mut self.0).await;
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}
