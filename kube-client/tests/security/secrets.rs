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
