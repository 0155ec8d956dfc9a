//! No credential shows in `Debug`, `Display`, errors or logs.

use std::path::Path;

use base64::Engine;
use kube_client::{Client, Config, Error, config::Kubeconfig};
use serde_json::json;

use crate::{
    admin_config, capture, env, exec::write_script, exercise, service_account_token,
    without_credentials,
};

/// Debug and Display of everything a user might print.
fn printed(config: &Config, client: &Client, errors: &[&Error]) -> Vec<(String, String)> {
    let mut texts = vec![
        ("Debug of the Config".to_string(), format!("{config:?}")),
        (
            "Debug of the AuthInfo".to_string(),
            format!("{:?}", config.auth_info),
        ),
        ("Debug of the Client".to_string(), format!("{client:?}")),
    ];
    for (i, error) in errors.iter().enumerate() {
        texts.push((format!("Display of error {i}"), error.to_string()));
        texts.push((format!("Debug of error {i}"), format!("{error:?}")));
    }
    texts
}

fn check(secrets: &[&str], texts: Vec<(String, String)>) {
    let log = capture::text();
    let mut all: Vec<(&str, &str)> = texts
        .iter()
        .map(|(w, t)| (w.as_str(), t.as_str()))
        .collect();
    all.push(("the tracing output", log.as_str()));
    capture::assert_hidden(secrets, &all);
}

/// A token shaped like a real one, which the apiserver refuses.
const REFUSED_TOKEN: &str =
    "eyJhbGciOiJSUzI1NiJ9.refused-token-3f9c2a71d8e64b0c9a5e1f7d2b8c4e60.sig";

#[tokio::test]
async fn bearer_tokens_stay_hidden_on_success_and_on_401() {
    capture::start();
    let token = service_account_token("hidden-token").await;
    let config = without_credentials(admin_config().await);
    let mut good = config.clone();
    good.auth_info.token = Some(token.clone().into());
    let client = Client::try_from(good.clone()).expect("client");
    client.apiserver_version().await.expect("the token works");
    exercise(&client).await;

    let mut refused = config;
    refused.auth_info.token = Some(REFUSED_TOKEN.to_string().into());
    let refused_client = Client::try_from(refused.clone()).expect("client");
    let unauthorized = refused_client.apiserver_version().await.expect_err("401");
    assert_eq!(
        unauthorized.status().map(|s| s.code),
        Some(401),
        "{unauthorized:?}"
    );
    exercise(&refused_client).await;

    let mut texts = printed(&good, &client, &[]);
    texts.extend(printed(&refused, &refused_client, &[&unauthorized]));
    check(&[&token, REFUSED_TOKEN], texts);
    let log = capture::text();
    assert!(
        log.contains("/version"),
        "the capture works: requests are logged"
    );
    assert!(
        log.contains("h2::") && log.contains("send frame=Headers"),
        "the capture reaches the HTTP/2 frames carrying the Authorization header"
    );
}

#[tokio::test]
async fn token_files_stay_hidden() {
    capture::start();
    let token = service_account_token("hidden-token-file").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    std::fs::write(&path, format!("{token}\n")).expect("write token");
    let mut config = without_credentials(admin_config().await);
    config.auth_info.token_file = Some(path.display().to_string());
    let client = Client::try_from(config.clone()).expect("client");
    client
        .apiserver_version()
        .await
        .expect("the token file works");
    exercise(&client).await;

    std::fs::write(&path, REFUSED_TOKEN).expect("write refused token");
    let refused_client = Client::try_from(config.clone()).expect("client");
    let unauthorized = refused_client.apiserver_version().await.expect_err("401");
    check(
        &[&token, REFUSED_TOKEN],
        printed(&config, &refused_client, &[&unauthorized]),
    );
}

#[tokio::test]
async fn basic_auth_passwords_stay_hidden() {
    capture::start();
    // The apiserver no longer accepts basic auth: the request is anonymous,
    // and refused; the refusal must not echo what was sent.
    let password = "pw-7c1e9b44d0a24f6f8e3b2a91c5d7e0f3";
    let mut config = without_credentials(admin_config().await);
    config.auth_info.username = Some("basic-user".into());
    config.auth_info.password = Some(password.to_string().into());
    let client = Client::try_from(config.clone()).expect("client");
    let namespaces: kube_client::Api<k8s_openapi::api::core::v1::Namespace> =
        kube_client::Api::all(client.clone());
    let unauthorized = namespaces
        .list(&Default::default())
        .await
        .expect_err("anonymous users may not list namespaces");
    assert_eq!(
        unauthorized.status().map(|s| s.code),
        Some(403),
        "{unauthorized:?}"
    );
    exercise(&client).await;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("basic-user:{password}"));
    check(
        &[password, &encoded],
        printed(&config, &client, &[&unauthorized]),
    );
}

fn credential(token: &str) -> String {
    json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": token},
    })
    .to_string()
}

fn plugin_config(base: Config, script: &Path, env_secret: &str) -> Config {
    let mut config = without_credentials(base);
    config.auth_info.exec = Some(kube_client::config::ExecConfig {
        api_version: Some("client.authentication.k8s.io/v1".into()),
        command: Some(script.display().to_string()),
        env: Some(vec![
            [
                ("name".to_string(), "PLUGIN_SECRET".to_string()),
                ("value".to_string(), env_secret.to_string()),
            ]
            .into(),
        ]),
        interactive_mode: Some(kube_client::config::ExecInteractiveMode::Never),
        ..Default::default()
    });
    config
}

#[tokio::test]
async fn exec_plugin_credentials_stay_hidden_even_when_the_plugin_fails() {
    capture::start();
    let token = service_account_token("hidden-exec").await;
    let env_secret = "env-secret-0b5d8e2f6a9c4417b3e0d6a8f1c2e9b7";
    let dir = tempfile::tempdir().expect("tempdir");
    let base = admin_config().await;
    let mut texts = Vec::new();
    let mut errors = Vec::new();

    // A plugin that works.
    let good = dir.path().join("good.sh");
    write_script(&good, &format!("cat <<'EOF'\n{}\nEOF", credential(&token)));
    let config = plugin_config(base.clone(), &good, env_secret);
    let client = Client::try_from(config.clone()).expect("client");
    client
        .apiserver_version()
        .await
        .expect("the plugin's token works");
    exercise(&client).await;
    texts.extend(printed(&config, &client, &[]));

    // One whose token is refused (it runs again after the 401, and is refused again).
    let refused = dir.path().join("refused.sh");
    write_script(
        &refused,
        &format!("cat <<'EOF'\n{}\nEOF", credential(REFUSED_TOKEN)),
    );
    let config = plugin_config(base.clone(), &refused, env_secret);
    let client = Client::try_from(config.clone()).expect("client");
    errors.push(client.apiserver_version().await.expect_err("401"));

    // One that prints its credential and then fails.
    let failing = dir.path().join("failing.sh");
    write_script(
        &failing,
        &format!(
            "cat <<'EOF'\n{}\nEOF\necho 'login failed' >&2\nexit 3",
            credential(&token)
        ),
    );
    let config = plugin_config(base.clone(), &failing, env_secret);
    let client = Client::try_from(config.clone()).expect("client");
    let failed = client
        .apiserver_version()
        .await
        .expect_err("the plugin failed");
    assert!(failed.to_string().contains("login failed"), "{failed}");
    errors.push(failed);

    // One whose output breaks off in the middle of the token.
    let truncated = dir.path().join("truncated.sh");
    write_script(
        &truncated,
        &format!(
            "printf '%s' '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}'"
        ),
    );
    let config = plugin_config(base.clone(), &truncated, env_secret);
    let client = Client::try_from(config.clone()).expect("client");
    let unparsable = client.apiserver_version().await.expect_err("not JSON");
    assert!(
        unparsable
            .to_string()
            .contains("did not print a valid ExecCredential"),
        "{unparsable}"
    );
    errors.push(unparsable);

    // One with a bad expiration time next to its token.
    let bad_expiry = dir.path().join("bad-expiry.sh");
    let credential_with_bad_expiry = json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": token, "expirationTimestamp": "tomorrow"},
    });
    write_script(
        &bad_expiry,
        &format!("cat <<'EOF'\n{credential_with_bad_expiry}\nEOF"),
    );
    let config = plugin_config(base, &bad_expiry, env_secret);
    let client = Client::try_from(config.clone()).expect("client");
    errors.push(client.apiserver_version().await.expect_err("bad expiry"));

    let error_refs: Vec<&Error> = errors.iter().collect();
    texts.extend(printed(&config, &client, &error_refs));
    check(&[&token, REFUSED_TOKEN, env_secret], texts);
}

#[tokio::test]
async fn client_keys_stay_hidden() {
    capture::start();
    let env = env().await;
    let kubeconfig_text = std::fs::read_to_string(env.kubeconfig_path()).expect("kubeconfig");
    let key_data = kubeconfig_text
        .lines()
        .find_map(|line| line.trim().strip_prefix("client-key-data:"))
        .expect("the kubeconfig has client-key-data")
        .trim()
        .to_string();
    let key_pem = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&key_data)
            .expect("base64"),
    )
    .expect("PEM");
    // The base64 body of the PEM: the key itself.
    let key_body: String = key_pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();

    let kubeconfig = Kubeconfig::read_from(env.kubeconfig_path()).expect("read");
    let config = admin_config().await;
    let client = Client::try_from(config.clone()).expect("client");
    exercise(&client).await;
    let mut texts = printed(&config, &client, &[]);
    texts.push(("Debug of the Kubeconfig".into(), format!("{kubeconfig:?}")));
    check(&[&key_data, &key_body], texts);
    assert!(!format!("{config:?}").contains("PRIVATE KEY"));
}

#[tokio::test]
async fn skipping_tls_verification_is_warned_about_once() {
    capture::start();
    let mut config = admin_config().await;
    config.root_cert = None;
    config.root_cert_file = None;
    config.accept_invalid_certs = true;
    for _ in 0..3 {
        let client = Client::try_from(config.clone()).expect("client");
        client
            .apiserver_version()
            .await
            .expect("not verified, but works");
    }
    let warnings = capture::text()
        .lines()
        .filter(|line| line.contains("WARN") && line.contains("insecure-skip-tls-verify"))
        .count();
    assert_eq!(warnings, 1, "one warning per process");
}

/// Fields that do not deserialize from a Secret's `data`: decoding one as
/// this fails on the first value, which the error must not quote.
#[derive(Clone, Debug, serde::Deserialize)]
#[allow(dead_code)]
struct NumbersOnly {
    data: std::collections::BTreeMap<String, u64>,
}

#[tokio::test]
async fn url_credentials_exec_arguments_and_decoded_data_stay_hidden() {
    use futures::StreamExt;
    use k8s_openapi::api::core::v1::Secret;
    use kube_client::{
        Api,
        api::{ListParams, PostParams, WatchParams},
        config::{KubeConfigOptions, Kubeconfig},
        core::Request,
    };

    capture::start();
    let env = env().await;
    let url_password = "url-pw-5e0c1d9a7b3f4e2a8c6d0b1f9e7a3c5d";
    let proxy_password = "proxy-pw-0d4f7a2c9e1b6d8f3a5c7e9b1d2f4a6c";
    let argument_secret = "arg-secret-8b2e4d6f0a1c3e5b7d9f2a4c6e8b0d1f";
    let env_secret = "env-secret-3c5e7a9b1d2f4a6c8e0b2d4f6a8c0e1b";
    let secret_value = "secret-data-6f8a0c2e4b6d8f1a3c5e7b9d0f2a4c6e";
    let mut texts = Vec::new();
    let mut errors = Vec::new();

    // A kubeconfig whose server and proxy URLs carry user info, with an exec
    // plugin given a secret in its arguments and environment, which it is
    // also told about (provideClusterInfo).
    let dir = tempfile::tempdir().expect("tempdir");
    let plugin = dir.path().join("plugin.sh");
    write_script(
        &plugin,
        &format!("cat <<'EOF'\n{}\nEOF", credential(REFUSED_TOKEN)),
    );
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let server =
        env.server_url()
            .replacen("https://", &format!("https://admin:{url_password}@"), 1);
    let yaml = format!(
        r#"
current-context: c
contexts:
- name: c
  context: {{cluster: k, user: u}}
clusters:
- name: k
  cluster:
    server: {server}
    insecure-skip-tls-verify: true
    proxy-url: http://proxy-user:{proxy_password}@127.0.0.1:{closed_port}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: {plugin}
      args: ["--client-secret={argument_secret}"]
      env: [{{name: PLUGIN_SECRET, value: {env_secret}}}]
      interactiveMode: Never
      provideClusterInfo: true
"#,
        plugin = plugin.display()
    );
    let kubeconfig = Kubeconfig::from_yaml(&yaml).expect("parses");
    texts.push((
        "Debug of the Kubeconfig".to_string(),
        format!("{kubeconfig:?}"),
    ));
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    let client = Client::try_from(config.clone()).expect("client");
    errors.push(
        client
            .apiserver_version()
            .await
            .expect_err("nothing listens at the proxy"),
    );
    exercise(&client).await;
    texts.extend(printed(&config, &client, &[]));
    texts.push((
        "Debug of the exec config".to_string(),
        format!("{:?}", config.auth_info.exec),
    ));

    // The same server URL, user info and all, reached directly: reqwest
    // turns the user info into basic auth, which the apiserver ignores
    // beside the admin's client certificate.
    let mut direct = admin_config().await;
    direct.cluster_url = server.parse().expect("a URL");
    let direct_client = Client::try_from(direct.clone()).expect("client");
    exercise(&direct_client).await;
    texts.extend(printed(&direct, &direct_client, &[]));

    // A Secret's data decoded as the wrong type, read whole and watched.
    let admin = env.client().await.expect("admin client");
    let ns = env.fresh_namespace().await.expect("namespace");
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), &ns);
    let mut secret = Secret::default();
    secret.metadata.name = Some("hidden".into());
    secret.string_data = Some([("password".to_string(), secret_value.to_string())].into());
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .expect("secret");
    let request = Request::new(format!("/api/v1/namespaces/{ns}/secrets"));
    let get = request.get("hidden", &Default::default()).expect("request");
    errors.push(
        admin
            .request::<NumbersOnly>(get)
            .await
            .expect_err("data are not numbers"),
    );
    let watch = request
        .watch(&WatchParams::default().timeout(10), "0")
        .expect("request");
    let mut events = admin
        .request_events::<NumbersOnly>(watch)
        .await
        .expect("the watch starts");
    let decode_error = loop {
        match events.next().await {
            Some(Err(error)) => break error,
            Some(Ok(_)) => {}
            None => panic!("the watch ended without reaching the Secret"),
        }
    };
    assert!(
        matches!(decode_error, Error::SerdeError(_)),
        "{decode_error:?}"
    );
    errors.push(decode_error);
    let _ = secrets.list(&ListParams::default()).await;

    let error_refs: Vec<&Error> = errors.iter().collect();
    texts.extend(printed(&config, &client, &error_refs));
    let encoded = base64::engine::general_purpose::STANDARD.encode(secret_value);
    check(
        &[
            url_password,
            proxy_password,
            argument_secret,
            env_secret,
            secret_value,
            &encoded,
        ],
        texts,
    );
}
