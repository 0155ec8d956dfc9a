//! Credentials stay secret and are used exactly as configured, checked against
//! the real apiserver:
//!
//! - tokens (inline, from a file, from an exec plugin), basic auth passwords,
//!   client keys, the user info of server and proxy URLs, exec plugin
//!   arguments and environment, and the data of objects that fail to decode
//!   never appear in `Debug` or `Display` of configurations, clients and
//!   errors, nor in any `tracing` output down to TRACE level (the HTTP/2
//!   stack's included), on success and on failure (`401`, failing plugins);
//! - the server's certificate is verified unless `insecure-skip-tls-verify` is
//!   set, which is warned about once;
//! - exec plugins run with exactly their command, arguments and environment,
//!   never through a shell;
//! - missing credential files fail with errors naming the file.

mod capture;
mod exec;
mod files;
mod secrets;
mod tls;

use k8s_openapi::api::{
    authentication::v1::{TokenRequest, TokenRequestSpec},
    core::v1::{Namespace, ServiceAccount},
};
use kube_client::{
    Api, Client, Config,
    api::{ObjectMeta, PostParams},
};

/// The shared control plane.
async fn env() -> &'static kube_test::TestEnv {
    kube_test::TestEnv::start()
        .await
        .expect("the control plane starts")
}

/// The admin configuration (a client certificate).
async fn admin_config() -> Config {
    env().await.config().await.expect("admin config")
}

/// A token of a new service account (without permissions: `GET /version`
/// needs none, and refusals are as useful here as answers).
async fn service_account_token(name: &str) -> String {
    let env = env().await;
    let ns = env.fresh_namespace().await.expect("namespace");
    let admin = env.client().await.expect("admin client");
    let accounts: Api<ServiceAccount> = Api::namespaced(admin, &ns);
    let account = ServiceAccount {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    };
    accounts
        .create(&PostParams::default(), &account)
        .await
        .expect("service account");
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(600),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    };
    accounts
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .expect("token request")
        .status
        .and_then(|s| s.token)
        .expect("a token")
}

/// `config` with its client certificate removed, so only the credentials set
/// afterwards authenticate.
fn without_credentials(mut config: Config) -> Config {
    config.auth_info = Default::default();
    config
}

/// Requests of every kind a controller makes, whose outcome does not matter.
async fn exercise(client: &Client) {
    let _ = client.apiserver_version().await;
    let _ = client.list_core_api_versions().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let _ = namespaces.list(&Default::default()).await;
    let _ = namespaces.get("default").await;
    let _ = namespaces.get("no-such-namespace").await;
}
