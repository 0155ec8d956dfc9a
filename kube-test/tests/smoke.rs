//! The control plane over plain HTTPS: what `kube-test` promises, checked
//! without kube-client, with the kubeconfig's CA and client certificate.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use base64::Engine;
use kube_test::TestEnv;
use reqwest::{Method, StatusCode};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use serde_json::{Value, json};

/// How long the controllers get to act (garbage collection, namespace
/// deletion); they normally take well under a second.
const CONTROLLER_TIMEOUT: Duration = Duration::from_secs(60);

/// An HTTPS client authenticated as the kubeconfig's admin user.
struct Raw {
    http: reqwest::Client,
    server: String,
}

/// The base64 value of `key:` in a kubeconfig, decoded.
fn kubeconfig_data(kubeconfig: &str, key: &str) -> Vec<u8> {
    let prefix = format!("{key}:");
    let value = kubeconfig
        .lines()
        .find_map(|line| line.trim().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("kubeconfig has no {key}"));
    base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .unwrap_or_else(|e| panic!("{key} is not base64: {e}"))
}

impl Raw {
    fn new(env: &TestEnv) -> Raw {
        let kubeconfig = std::fs::read_to_string(env.kubeconfig_path()).expect("read kubeconfig");
        let server = kubeconfig
            .lines()
            .find_map(|line| line.trim().strip_prefix("server:"))
            .expect("kubeconfig has a server")
            .trim()
            .to_string();
        assert_eq!(server, env.server_url());

        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&kubeconfig_data(
            &kubeconfig,
            "certificate-authority-data",
        )) {
            roots.add(cert.expect("CA certificate")).expect("add CA");
        }
        let chain = CertificateDer::pem_slice_iter(&kubeconfig_data(
            &kubeconfig,
            "client-certificate-data",
        ))
        .collect::<Result<Vec<_>, _>>()
        .expect("client certificate");
        let key = PrivateKeyDer::from_pem_slice(&kubeconfig_data(&kubeconfig, "client-key-data"))
            .expect("client key");
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .expect("client auth");
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Raw { http, server }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.server));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let text = response.text().await.expect("response body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn create(&self, path: &str, body: Value) -> Value {
        let (status, created) = self.call(Method::POST, path, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {created}");
        created
    }

    async fn delete(&self, path: &str) {
        let (status, body) = self.call(Method::DELETE, path, None).await;
        assert!(status.is_success(), "DELETE {path}: {status} {body}");
    }

    /// Waits until GET `path` answers 404.
    async fn wait_gone(&self, path: &str) {
        let deadline = Instant::now() + CONTROLLER_TIMEOUT;
        loop {
            let (status, body) = self.get(path).await;
            if status == StatusCode::NOT_FOUND {
                return;
            }
            assert!(status.is_success(), "GET {path}: {status} {body}");
            assert!(
                Instant::now() < deadline,
                "{path} still exists after {CONTROLLER_TIMEOUT:?}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn new_namespace(&self) -> String {
        let created = self
            .create(
                "/api/v1/namespaces",
                json!({"metadata": {"generateName": "smoke-"}}),
            )
            .await;
        created["metadata"]["name"]
            .as_str()
            .expect("namespace name")
            .to_string()
    }
}

fn config_map(name: &str) -> Value {
    json!({"metadata": {"name": name}, "data": {"key": "value"}})
}

#[tokio::test]
async fn version_is_kubernetes_1_37() {
    let env = TestEnv::start().await.expect("control plane");
    let (status, version) = Raw::new(env).get("/version").await;
    assert_eq!(status, StatusCode::OK);
    let git_version = version["gitVersion"].as_str().expect("gitVersion");
    assert!(
        git_version.starts_with("v1.37."),
        "gitVersion {git_version}"
    );
}

#[tokio::test]
async fn system_namespaces_exist() {
    let env = TestEnv::start().await.expect("control plane");
    let (status, list) = Raw::new(env).get("/api/v1/namespaces").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|ns| ns["metadata"]["name"].as_str())
        .collect();
    for expected in ["default", "kube-system"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[tokio::test]
async fn dependent_of_a_deleted_owner_is_garbage_collected() {
    let env = TestEnv::start().await.expect("control plane");
    let raw = Raw::new(env);
    let ns = raw.new_namespace().await;
    let config_maps = format!("/api/v1/namespaces/{ns}/configmaps");

    let owner = raw.create(&config_maps, config_map("owner")).await;
    let mut dependent = config_map("dependent");
    dependent["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
    }]);
    raw.create(&config_maps, dependent).await;

    raw.delete(&format!("{config_maps}/owner")).await;
    raw.wait_gone(&format!("{config_maps}/dependent")).await;
}

#[tokio::test]
async fn a_watch_from_resource_version_1_has_expired() {
    let env = TestEnv::start().await.expect("control plane");
    let raw = Raw::new(env);
    let ns = raw.new_namespace().await;
    let (status, event) = raw
        .get(&format!(
            "/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion=1&timeoutSeconds=10"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["type"], "ERROR", "{event}");
    assert_eq!(event["object"]["code"], 410, "{event}");
    assert_eq!(event["object"]["reason"], "Expired", "{event}");
}

#[tokio::test]
async fn namespace_deletion_completes() {
    let env = TestEnv::start().await.expect("control plane");
    let raw = Raw::new(env);
    let ns = raw.new_namespace().await;
    raw.create(
        &format!("/api/v1/namespaces/{ns}/configmaps"),
        config_map("content"),
    )
    .await;

    raw.delete(&format!("/api/v1/namespaces/{ns}")).await;
    raw.wait_gone(&format!("/api/v1/namespaces/{ns}")).await;
}

#[tokio::test]
async fn default_service_account_is_created_in_new_namespaces() {
    let env = TestEnv::start().await.expect("control plane");
    let raw = Raw::new(env);
    let ns = raw.new_namespace().await;
    let path = format!("/api/v1/namespaces/{ns}/serviceaccounts/default");
    let deadline = Instant::now() + CONTROLLER_TIMEOUT;
    loop {
        let (status, body) = raw.get(&path).await;
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(
            Instant::now() < deadline,
            "no default ServiceAccount in {ns}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn restart_keeps_data_certificates_and_port() {
    let env = TestEnv::start_owned().await.expect("control plane");
    let url_before = env.server_url().to_string();
    let raw = Raw::new(&env);
    let ns = raw.new_namespace().await;
    let config_maps = format!("/api/v1/namespaces/{ns}/configmaps");
    raw.create(&config_maps, config_map("survivor")).await;

    env.restart().await.expect("restart");

    assert_eq!(env.server_url(), url_before);
    // The same client: the server kept its certificate and trusts ours.
    let (status, survivor) = raw.get(&format!("{config_maps}/survivor")).await;
    assert_eq!(status, StatusCode::OK, "{survivor}");
    assert_eq!(survivor["data"]["key"], "value");
}

#[tokio::test]
async fn stopped_control_plane_refuses_connections_until_resumed() {
    let env = TestEnv::start_owned().await.expect("control plane");
    let raw = Raw::new(&env);

    env.stop().await.expect("stop");
    let unreachable = raw.http.get(format!("{}/version", raw.server)).send().await;
    assert!(unreachable.is_err(), "apiserver answered while stopped");

    env.resume().await.expect("resume");
    let (status, _) = raw.get("/version").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn shared_control_plane_cannot_be_restarted() {
    let env = TestEnv::start().await.expect("control plane");
    let error = env
        .restart()
        .await
        .expect_err("restart of the shared control plane");
    assert!(
        matches!(error, kube_test::Error::SharedEnv { .. }),
        "{error}"
    );
}
