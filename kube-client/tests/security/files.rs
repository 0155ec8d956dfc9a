//! Credential and CA files that are missing fail with errors naming the file.

use kube_client::{
    Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};

use crate::{admin_config, capture, without_credentials};

/// The error of building a client from `config` or, failing later, of its
/// first request.
async fn first_error(config: Config) -> String {
    match Client::try_from(config) {
        Err(err) => err.to_string(),
        Ok(client) => client
            .apiserver_version()
            .await
            .expect_err("the file is missing")
            .to_string(),
    }
}

#[tokio::test]
async fn a_missing_token_file_is_named() {
    capture::start();
    let mut config = without_credentials(admin_config().await);
    config.auth_info.token_file = Some("/nonexistent/dir/token".into());
    let text = first_error(config).await;
    assert!(text.contains("/nonexistent/dir/token"), "{text}");
    assert!(text.contains("token file"), "{text}");
}

#[tokio::test]
async fn a_missing_client_certificate_file_is_named() {
    capture::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("client.key");
    std::fs::write(&key, "not used").expect("key");
    let mut config = without_credentials(admin_config().await);
    config.auth_info.client_certificate = Some("/nonexistent/dir/client.crt".into());
    config.auth_info.client_key = Some(key.display().to_string());
    let text = first_error(config).await;
    assert!(text.contains("/nonexistent/dir/client.crt"), "{text}");
}

#[tokio::test]
async fn a_missing_client_key_file_is_named() {
    capture::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let env = crate::env().await;
    let (ca_cert, _) = env.client_ca();
    let cert = dir.path().join("client.crt");
    std::fs::copy(ca_cert, &cert).expect("a certificate");
    let mut config = without_credentials(admin_config().await);
    config.auth_info.client_certificate = Some(cert.display().to_string());
    config.auth_info.client_key = Some("/nonexistent/dir/client.key".into());
    let text = first_error(config).await;
    assert!(text.contains("/nonexistent/dir/client.key"), "{text}");
}

#[tokio::test]
async fn a_kubeconfig_naming_a_missing_certificate_authority_file_is_refused_naming_it() {
    capture::start();
    let yaml = r#"
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: /nonexistent/dir/kubeconfig-ca.crt
users:
- name: u
  user:
    tokenFile: /nonexistent/dir/kubeconfig-token
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
"#;
    let kubeconfig = Kubeconfig::from_yaml(yaml).expect("valid YAML");
    let text = match Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await
    {
        Err(err) => err.to_string(),
        Ok(config) => first_error(config).await,
    };
    assert!(
        text.contains("/nonexistent/dir/kubeconfig-ca.crt"),
        "{text}"
    );
}
