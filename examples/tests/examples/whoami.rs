//! whoami through a kubeconfig whose user is the `gcp` auth-provider with
//! Google's application default credentials: a user's credentials file whose
//! token endpoint (on loopback, run by the test) hands out a service-account
//! token, which the real apiserver accepts. The program runs as its own
//! process, with `GOOGLE_APPLICATION_CREDENTIALS` and `KUBECONFIG` set for it.

use std::sync::{Arc, Mutex};

use k8s_openapi::api::{
    authentication::v1::{TokenRequest, TokenRequestSpec},
    core::v1::ServiceAccount,
};
use kube::{
    Api,
    api::PostParams,
    config::{AuthInfo, AuthProviderConfig, Kubeconfig},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use crate::common::client_in_fresh_namespace;

/// Serves a token endpoint answering every request with `token`; returns its
/// URL and the bodies of the requests it got.
async fn token_endpoint(token: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/token", listener.local_addr().expect("address"));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0; 4096];
            // The request is small: read until its body has arrived.
            while let Ok(n) = tcp.read(&mut buffer).await {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        seen.lock().expect("lock").push(body.to_string());
                        break;
                    }
                }
            }
            let reply =
                format!(r#"{{"access_token":"{token}","expires_in":600,"token_type":"Bearer"}}"#);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                reply.len()
            );
            let _ = tcp.write_all(head.as_bytes()).await;
            let _ = tcp.write_all(reply.as_bytes()).await;
            let _ = tcp.shutdown().await;
        }
    });
    (url, bodies)
}

#[tokio::test]
async fn the_gcp_auth_provider_uses_application_default_credentials() {
    let (admin, ns) = client_in_fresh_namespace().await;
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), &ns);
    let mut account = ServiceAccount::default();
    account.metadata.name = Some("adc-user".into());
    accounts
        .create(&PostParams::default(), &account)
        .await
        .expect("a service account");
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(600),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    };
    let token = accounts
        .create_token_request("adc-user", &PostParams::default(), &request)
        .await
        .expect("a token")
        .status
        .and_then(|s| s.token)
        .expect("a token in the answer");
    let (token_uri, bodies) = token_endpoint(token).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let credentials = dir.path().join("application_default_credentials.json");
    std::fs::write(
        &credentials,
        serde_json::json!({
            "type": "authorized_user",
            "client_id": "client-1",
            "client_secret": "secret-1",
            "refresh_token": "refresh-1",
            "token_uri": token_uri,
        })
        .to_string(),
    )
    .expect("write the credentials");

    // The test control plane's kubeconfig, with its user replaced.
    let env = kube_test::TestEnv::start()
        .await
        .expect("the control plane");
    let mut kubeconfig = Kubeconfig::read_from(env.kubeconfig_path()).expect("a kubeconfig");
    for user in &mut kubeconfig.auth_infos {
        user.auth_info = Some(AuthInfo {
            auth_provider: Some(AuthProviderConfig {
                name: "gcp".into(),
                ..AuthProviderConfig::default()
            }),
            ..AuthInfo::default()
        });
    }
    let kubeconfig_path = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig_path,
        serde_json::to_string(&kubeconfig).expect("serialize"),
    )
    .expect("write the kubeconfig");

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_whoami"))
        .env("KUBECONFIG", &kubeconfig_path)
        .env("GOOGLE_APPLICATION_CREDENTIALS", &credentials)
        .env("HOME", dir.path())
        .output()
        .await
        .expect("whoami runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "whoami failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().next(),
        Some(format!("system:serviceaccount:{ns}:adc-user").as_str())
    );
    let bodies = bodies.lock().expect("lock");
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert!(
        bodies[0].contains("grant_type=refresh_token"),
        "{}",
        bodies[0]
    );
    assert!(
        bodies[0].contains("refresh_token=refresh-1"),
        "{}",
        bodies[0]
    );
}
