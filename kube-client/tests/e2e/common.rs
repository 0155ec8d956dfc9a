//! Shared helpers: the control plane, clients, configurations, fresh namespaces.

use std::{collections::BTreeMap, path::Path};

use k8s_openapi::api::{
    authentication::v1::{TokenRequest, TokenRequestSpec},
    core::v1::{ConfigMap, ServiceAccount},
};
use kube_client::{
    Api, Client, Config,
    api::{ObjectMeta, PostParams},
    config::{AuthInfo, ExecConfig, ExecInteractiveMode},
};

/// The test control plane (started once per test binary).
pub async fn env() -> &'static kube_test::TestEnv {
    kube_test::TestEnv::start()
        .await
        .expect("the kube-test control plane must start")
}

/// A client for the test control plane, authenticated as its admin.
pub async fn client() -> Client {
    env()
        .await
        .client()
        .await
        .expect("a client for the test control plane")
}

/// The admin configuration of the test control plane (a client certificate in
/// `system:masters`).
pub async fn config() -> Config {
    env()
        .await
        .config()
        .await
        .expect("the test control plane's configuration")
}

/// A client and a new, empty namespace for one test.
pub async fn client_in_fresh_namespace() -> (Client, String) {
    let env = env().await;
    let ns = env.fresh_namespace().await.expect("a fresh namespace");
    (env.client().await.expect("a client"), ns)
}

/// `config` with its credentials replaced by a bearer token (and no client
/// certificate, which the apiserver would prefer).
pub fn with_token(mut config: Config, token: &str) -> Config {
    config.auth_info = AuthInfo {
        token: Some(token.into()),
        ..AuthInfo::default()
    };
    config
}

/// `config` with its credentials replaced by an exec plugin running `command`
/// (speaking `client.authentication.k8s.io/v1`).
pub fn with_exec_plugin(mut config: Config, command: &Path) -> Config {
    config.auth_info = AuthInfo {
        exec: Some(ExecConfig {
            api_version: Some("client.authentication.k8s.io/v1".into()),
            command: Some(command.display().to_string()),
            interactive_mode: Some(ExecInteractiveMode::Never),
            ..ExecConfig::default()
        }),
        ..AuthInfo::default()
    };
    config
}

/// A ConfigMap with a name, labels and data.
pub fn config_map(name: &str, labels: &[(&str, &str)], data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: (!labels.is_empty()).then(|| to_map(labels)),
            ..ObjectMeta::default()
        },
        data: (!data.is_empty()).then(|| to_map(data)),
        ..ConfigMap::default()
    }
}

fn to_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The status of an `Error::Api`, or a panic naming what came instead.
pub fn api_status<T: std::fmt::Debug>(result: kube_client::Result<T>) -> kube_client::api::Status {
    match result {
        Err(kube_client::Error::Api(status)) => *status,
        other => panic!("expected an error from the apiserver, got {other:?}"),
    }
}

/// A token (valid ten minutes) for a new service account `name` in `ns`.
pub async fn service_account_token(client: &Client, ns: &str, name: &str) -> String {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    let mut sa = ServiceAccount::default();
    sa.metadata.name = Some(name.into());
    accounts
        .create(&PostParams::default(), &sa)
        .await
        .expect("create service account");
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(600),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    };
    let answer = accounts
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .expect("create_token_request");
    let status = answer.status.expect("the answer has a status");
    assert!(status.expiration_timestamp.is_some());
    status.token.expect("the answer has a token")
}
