//! exec, attach and port-forward against the real apiserver.
//!
//! The test control plane runs no kubelet, so no process ever starts; what the
//! apiserver itself does is real: it receives the WebSocket upgrade over the
//! client's TLS connection, authenticates and authorizes it with the client's
//! credentials, and refuses pods that are not on a node with a `Status`
//! naming the pod — which must come back as `Error::Api`, not a hang.

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube_client::{
    Api, Client, Config,
    api::{AttachParams, PostParams},
    config::AuthInfo,
};
use serde_json::json;

use crate::common::{api_status, client_in_fresh_namespace, config, service_account_token};

/// A pod that no scheduler will place: the control plane has no nodes.
async fn unscheduled_pod(client: &Client, ns: &str, name: &str) -> Api<Pod> {
    // Pods need their namespace's `default` service account, which no
    // controller creates here.
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    let mut account = ServiceAccount::default();
    account.metadata.name = Some("default".into());
    match accounts.create(&PostParams::default(), &account).await {
        Ok(_) => {}
        Err(kube_client::Error::Api(status)) if status.is_already_exists() => {}
        Err(other) => panic!("creating the default service account: {other}"),
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "automountServiceAccountToken": false,
            "containers": [{"name": "main", "image": "registry.invalid/none:1"}]
        }
    }))
    .expect("a valid pod");
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("create the pod");
    pods
}

/// Asserts that the apiserver refused because the pod has no node, naming it.
fn assert_no_host<T: std::fmt::Debug>(result: kube_client::Result<T>, pod: &str) {
    let status = api_status(result);
    assert_eq!(status.code, 400, "{status:?}");
    assert!(
        status.message.contains(&format!("pod {pod} ")) && status.message.contains("host"),
        "the message names the pod and the missing host: {status:?}"
    );
    let err = kube_client::Error::Api(Box::new(status));
    assert!(err.to_string().contains(pod), "{err}");
}

#[tokio::test]
async fn exec_in_a_pod_without_a_node_is_refused_naming_the_pod() {
    let (client, ns) = client_in_fresh_namespace().await;
    let pods = unscheduled_pod(&client, &ns, "nowhere").await;
    let ap = AttachParams::default().stdin(true).container("main");
    assert_no_host(pods.exec("nowhere", ["ls", "/"], &ap).await, "nowhere");
}

#[tokio::test]
async fn attach_and_portforward_to_a_pod_without_a_node_are_refused_naming_the_pod() {
    let (client, ns) = client_in_fresh_namespace().await;
    let pods = unscheduled_pod(&client, &ns, "floating").await;
    assert_no_host(
        pods.attach("floating", &AttachParams::interactive_tty())
            .await,
        "floating",
    );
    assert_no_host(pods.portforward("floating", &[80, 443]).await, "floating");
}

#[tokio::test]
async fn exec_in_a_missing_pod_is_not_found() {
    let (client, ns) = client_in_fresh_namespace().await;
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let status = api_status(pods.exec("ghost", ["true"], &AttachParams::default()).await);
    assert_eq!(status.code, 404, "{status:?}");
    assert!(status.message.contains("ghost"), "{status:?}");
}

/// `config` with a bearer token instead of the admin's client certificate.
fn with_token(mut config: Config, token: &str) -> Config {
    config.auth_info = AuthInfo {
        token: Some(token.to_string().into()),
        ..AuthInfo::default()
    };
    config
}

#[tokio::test]
async fn the_upgrade_is_authenticated_and_authorized_with_the_clients_credentials() {
    let (admin, ns) = client_in_fresh_namespace().await;
    unscheduled_pod(&admin, &ns, "guarded").await;

    // A token the apiserver does not know: 401, also after the retry with
    // refreshed credentials.
    let stranger =
        Client::try_from(with_token(config().await, "not-a-real-token")).expect("a client");
    let pods: Api<Pod> = Api::namespaced(stranger, &ns);
    let status = api_status(
        pods.exec("guarded", ["true"], &AttachParams::default())
            .await,
    );
    assert_eq!(status.code, 401, "{status:?}");

    // A real service account without permissions: authenticated, then
    // refused by RBAC for the exec subresource.
    let token = service_account_token(&admin, &ns, "onlooker").await;
    let onlooker = Client::try_from(with_token(config().await, &token)).expect("a client");
    let pods: Api<Pod> = Api::namespaced(onlooker, &ns);
    let status = api_status(
        pods.exec("guarded", ["true"], &AttachParams::default())
            .await,
    );
    assert_eq!(status.code, 403, "{status:?}");
    assert!(
        status.message.contains("pods/exec")
            && status
                .message
                .contains(&format!("system:serviceaccount:{ns}:onlooker")),
        "RBAC names the user and the subresource: {status:?}"
    );
}
