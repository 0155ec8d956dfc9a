//! Authentication and TLS against the real apiserver: client certificates (from
//! the kubeconfig, signed for a new user, or handed out by an exec plugin),
//! bearer tokens from token requests (inline, from a file, from an exec plugin),
//! re-authentication after a `401`, RBAC refusals, impersonation, certificate
//! authorities, `tls-server-name`, `insecure-skip-tls-verify` and `proxy-url`.

use std::{
    io::Write,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
    sync::{Arc, Mutex},
};

use k8s_openapi::api::{
    authentication::v1::{SelfSubjectReview, UserInfo},
    core::v1::ConfigMap,
    rbac::v1::{Role, RoleBinding},
};
use kube_client::{
    Api, Client, Config,
    api::{ListParams, PostParams},
    config::{KubeConfigOptions, Kubeconfig},
};
use serde_json::json;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

use crate::common::{
    api_status, client_in_fresh_namespace, config_map, env, service_account_token,
};

/// The DER of a self-signed CA that signed nothing the test apiserver uses.
const UNRELATED_CA_DER_BASE64: &str = "MIIBpTCCAUugAwIBAgIUB+6GASneA/kcwgoO09jNYgT5L7swCgYIKoZIzj0EAwIwJzElMCMGA1UEAwwca3ViZS1jbGllbnQgZTJlIHVucmVsYXRlZCBDQTAgFw0yNjExMjUwNTAwMTBaGA8yMTI2MTEwMTA1MDAxMFowJzElMCMGA1UEAwwca3ViZS1jbGllbnQgZTJlIHVucmVsYXRlZCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABKfFCEZbjRbdDpom3D2uh9shIukfY42svkP7xum0uoqq/+AU8fjll2D6TIxMLBhGTkwb2PAmNRTye7hzX1ZfHACjUzBRMB0GA1UdDgQWBBSZKhxE3b5mANi7qzzdw8DZRhNmsDAfBgNVHSMEGDAWgBSZKhxE3b5mANi7qzzdw8DZRhNmsDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIEqLPqtolS4iL5Fbo0WNVJeD4Bd8RL1QCAOtk/ArKPX3AiEAiLLLSctCt8FmmOgp2Nn93GWPcGQKEXeZcuZZx1rotJ8=";

/// Who the apiserver thinks the client is.
async fn whoami(client: &Client) -> kube_client::Result<UserInfo> {
    let reviews: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = reviews
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await?;
    Ok(review.status.and_then(|s| s.user_info).unwrap_or_default())
}

/// The user name the apiserver sees.
pub async fn username(client: &Client) -> kube_client::Result<String> {
    Ok(whoami(client).await?.username.unwrap_or_default())
}

/// The configuration of the test control plane's kubeconfig.
async fn base_config() -> Config {
    crate::common::config().await
}

/// Lets service account `name` read ConfigMaps in `ns`.
async fn allow_reading_config_maps(client: &Client, ns: &str, name: &str) {
    let roles: Api<Role> = Api::namespaced(client.clone(), ns);
    let role: Role = serde_json::from_value(json!({
        "metadata": {"name": "read-cms"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
    }))
    .expect("a valid role");
    roles
        .create(&PostParams::default(), &role)
        .await
        .expect("create role");
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), ns);
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "read-cms"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-cms"},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]
    }))
    .expect("a valid binding");
    bindings
        .create(&PostParams::default(), &binding)
        .await
        .expect("create binding");
}

/// Writes an executable shell script.
fn write_script(path: &Path, body: &str) {
    let mut file = std::fs::File::create(path).expect("script");
    writeln!(file, "#!/bin/sh\n{body}").expect("write script");
    drop(file);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Runs openssl, failing the test with its stderr when it fails.
fn openssl(args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl must be installed to sign test client certificates");
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Which kind of private key a signed client certificate gets.
#[derive(Clone, Copy)]
enum KeyKind {
    /// RSA in PKCS#1 form (`BEGIN RSA PRIVATE KEY`).
    Rsa,
    /// P-256 in SEC1 form (`BEGIN EC PRIVATE KEY`).
    Ec,
}

/// A client certificate for `user`, signed by the control plane's client CA,
/// written to `dir`; returns the certificate and key paths.
fn signed_client_certificate(
    dir: &Path,
    (ca_cert, ca_key): (&Path, &Path),
    user: &str,
    kind: KeyKind,
) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{user}.key"));
    let csr = dir.join(format!("{user}.csr"));
    let cert = dir.join(format!("{user}.crt"));
    let ext = dir.join(format!("{user}.ext"));
    let key_s = key.to_str().expect("utf-8 path");
    match kind {
        KeyKind::Rsa => openssl(&["genrsa", "-traditional", "-out", key_s, "2048"]),
        KeyKind::Ec => openssl(&[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            key_s,
        ]),
    }
    let subject = format!("/CN={user}");
    openssl(&[
        "req",
        "-new",
        "-key",
        key_s,
        "-subj",
        &subject,
        "-out",
        csr.to_str().expect("utf-8 path"),
    ]);
    std::fs::write(&ext, "extendedKeyUsage=clientAuth\n").expect("extensions");
    let serial = format!(
        "0x{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos()
    );
    openssl(&[
        "x509",
        "-req",
        "-in",
        csr.to_str().expect("utf-8 path"),
        "-CA",
        ca_cert.to_str().expect("utf-8 path"),
        "-CAkey",
        ca_key.to_str().expect("utf-8 path"),
        "-set_serial",
        &serial,
        "-days",
        "2",
        "-extfile",
        ext.to_str().expect("utf-8 path"),
        "-out",
        cert.to_str().expect("utf-8 path"),
    ]);
    (cert, key)
}

/// `config` authenticating with the client certificate files only.
fn with_client_certificate(mut config: Config, cert: &Path, key: &Path) -> Config {
    config.auth_info = kube_client::config::AuthInfo {
        client_certificate: Some(cert.display().to_string()),
        client_key: Some(key.display().to_string()),
        ..Default::default()
    };
    config
}

#[tokio::test]
async fn the_kubeconfig_client_certificate_authenticates() {
    let client = Client::try_from(base_config().await).expect("client");
    let user = whoami(&client).await.expect("self subject review");
    let name = user.username.clone().unwrap_or_default();
    assert!(!name.is_empty());
    assert!(!name.starts_with("system:serviceaccount:"), "{name}");
    assert!(!name.starts_with("system:anonymous"), "{name}");
    let groups = user.groups.unwrap_or_default();
    assert!(groups.iter().any(|g| g == "system:masters"), "{groups:?}");
}

#[tokio::test]
async fn the_kubeconfig_file_is_read_and_its_current_context_used() {
    let env = env().await;
    let kubeconfig = Kubeconfig::read_from(env.kubeconfig_path()).expect("the kubeconfig reads");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("its current context loads");
    assert_eq!(
        config.cluster_url.to_string().trim_end_matches('/'),
        env.server_url().to_string().trim_end_matches('/')
    );
    let client = Client::try_from(config).expect("client");
    let groups = whoami(&client)
        .await
        .expect("review")
        .groups
        .unwrap_or_default();
    assert!(groups.iter().any(|g| g == "system:masters"), "{groups:?}");
}

#[tokio::test]
async fn a_signed_certificate_for_a_user_without_rbac_is_forbidden() {
    let env = env().await;
    let (admin, ns) = client_in_fresh_namespace().await;
    Api::<ConfigMap>::namespaced(admin, &ns)
        .create(&PostParams::default(), &config_map("hidden", &[], &[]))
        .await
        .expect("create");
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca_cert, ca_key) = env.client_ca();
    let (cert, key) = signed_client_certificate(
        dir.path(),
        (&ca_cert, &ca_key),
        "rsa-cert-user",
        KeyKind::Rsa,
    );
    let client = Client::try_from(with_client_certificate(base_config().await, &cert, &key))
        .expect("client");
    assert_eq!(username(&client).await.expect("review"), "rsa-cert-user");
    let forbidden = api_status(
        Api::<ConfigMap>::namespaced(client, &ns)
            .get("hidden")
            .await,
    );
    assert_eq!(forbidden.code, 403, "{forbidden:?}");
    assert!(forbidden.is_forbidden(), "{forbidden:?}");
    assert!(
        forbidden.message.contains("rsa-cert-user"),
        "{}",
        forbidden.message
    );
}

#[tokio::test]
async fn a_token_request_token_authenticates_and_rbac_applies() {
    let (admin, ns) = client_in_fresh_namespace().await;
    let allowed_token = service_account_token(&admin, &ns, "reader").await;
    let denied_token = service_account_token(&admin, &ns, "nobody").await;
    allow_reading_config_maps(&admin, &ns, "reader").await;
    Api::<ConfigMap>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &config_map("visible", &[], &[]))
        .await
        .expect("create");

    let reader = Client::try_from(crate::common::with_token(
        base_config().await,
        &allowed_token,
    ))
    .expect("token client");
    assert_eq!(
        username(&reader).await.expect("review"),
        format!("system:serviceaccount:{ns}:reader")
    );
    let maps: Api<ConfigMap> = Api::namespaced(reader, &ns);
    assert!(maps.get("visible").await.is_ok());

    let nobody = Client::try_from(crate::common::with_token(
        base_config().await,
        &denied_token,
    ))
    .expect("token client");
    let forbidden = api_status(
        Api::<ConfigMap>::namespaced(nobody, &ns)
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(forbidden.code, 403);
    assert!(forbidden.is_forbidden(), "{forbidden:?}");
    assert!(
        forbidden.message.contains("nobody"),
        "{}",
        forbidden.message
    );

    let rejected = Client::try_from(crate::common::with_token(
        base_config().await,
        "not-a-token",
    ))
    .expect("token client");
    let unauthorized = api_status(whoami(&rejected).await);
    assert_eq!(unauthorized.code, 401, "{unauthorized:?}");
}

#[tokio::test]
async fn a_token_file_is_read_again_when_the_server_refuses_its_token() {
    let (admin, ns) = client_in_fresh_namespace().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "an-expired-token").expect("write token");
    let mut config = base_config().await;
    config.auth_info = kube_client::config::AuthInfo {
        token_file: Some(token_file.display().to_string()),
        ..Default::default()
    };
    // The client reads the file now; the file is rotated before the first
    // request, which is refused, so the client reads the file again and retries.
    let client = Client::try_from(config).expect("client");
    let token = service_account_token(&admin, &ns, "rotated").await;
    std::fs::write(&token_file, &token).expect("rotate token");
    assert_eq!(
        username(&client).await.expect("review after the 401"),
        format!("system:serviceaccount:{ns}:rotated")
    );
}

#[tokio::test]
async fn an_exec_plugin_supplies_the_token() {
    let (admin, ns) = client_in_fresh_namespace().await;
    let token = service_account_token(&admin, &ns, "exec-user").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("credential-plugin.sh");
    let credential = json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": token}
    });
    write_script(&script, &format!("cat <<'EOF'\n{credential}\nEOF"));

    let config = crate::common::with_exec_plugin(base_config().await, &script);
    let client = Client::try_from(config).expect("exec client");
    assert_eq!(
        username(&client).await.expect("review"),
        format!("system:serviceaccount:{ns}:exec-user")
    );
}

#[tokio::test]
async fn an_exec_plugin_runs_again_when_the_server_refuses_its_token() {
    let (admin, ns) = client_in_fresh_namespace().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let credential = |token: &str| {
        json!({
            "apiVersion": "client.authentication.k8s.io/v1",
            "kind": "ExecCredential",
            "status": {"token": token}
        })
        .to_string()
    };
    // The first run hands out a token the server refuses, the second a good one.
    std::fs::write(
        dir.path().join("credential-1"),
        credential("a-revoked-token"),
    )
    .expect("write credential");
    let token = service_account_token(&admin, &ns, "exec-rerun").await;
    std::fs::write(dir.path().join("credential-2"), credential(&token)).expect("write credential");
    let runs = dir.path().join("runs");
    let script = dir.path().join("plugin.sh");
    write_script(
        &script,
        &format!(
            "echo run >> '{runs}'\nn=$(wc -l < '{runs}' | tr -d ' ')\ncat '{dir}/credential-'$n",
            runs = runs.display(),
            dir = dir.path().display()
        ),
    );
    let client = Client::try_from(crate::common::with_exec_plugin(
        base_config().await,
        &script,
    ))
    .expect("exec client");
    let run_count = || {
        std::fs::read_to_string(&runs)
            .expect("the plugin ran")
            .lines()
            .count()
    };

    assert_eq!(
        username(&client).await.expect("review after the 401"),
        format!("system:serviceaccount:{ns}:exec-rerun")
    );
    assert_eq!(run_count(), 2, "the plugin ran again after the 401");
    assert_eq!(
        username(&client)
            .await
            .expect("review with the cached credential"),
        format!("system:serviceaccount:{ns}:exec-rerun")
    );
    assert_eq!(run_count(), 2, "the credential is cached between requests");
}

#[tokio::test]
async fn an_exec_plugin_supplies_a_client_certificate() {
    let env = env().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca_cert, ca_key) = env.client_ca();
    let (cert, key) = signed_client_certificate(
        dir.path(),
        (&ca_cert, &ca_key),
        "exec-cert-user",
        KeyKind::Ec,
    );
    let credential = json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {
            "clientCertificateData": std::fs::read_to_string(&cert).expect("cert"),
            "clientKeyData": std::fs::read_to_string(&key).expect("key"),
        }
    });
    let credential_file = dir.path().join("credential.json");
    std::fs::write(&credential_file, credential.to_string()).expect("credential");
    let script = dir.path().join("plugin.sh");
    write_script(&script, &format!("cat '{}'", credential_file.display()));

    let client = Client::try_from(crate::common::with_exec_plugin(
        base_config().await,
        &script,
    ))
    .expect("exec client");
    assert_eq!(username(&client).await.expect("review"), "exec-cert-user");
}

#[tokio::test]
async fn impersonation_headers_act_as_another_user() {
    let mut config = base_config().await;
    config.auth_info.impersonate = Some("jane".into());
    config.auth_info.impersonate_groups = Some(vec!["developers".into()]);
    config.auth_info.impersonate_user_extra = Some(
        [("team".to_string(), vec!["blue".to_string()])]
            .into_iter()
            .collect(),
    );
    let client = Client::try_from(config).expect("client");
    let user = whoami(&client).await.expect("review");
    assert_eq!(user.username.as_deref(), Some("jane"));
    let groups = user.groups.unwrap_or_default();
    assert!(groups.iter().any(|g| g == "developers"), "{groups:?}");
    let extra = user.extra.unwrap_or_default();
    assert_eq!(extra.get("team"), Some(&vec!["blue".to_string()]));
}

#[tokio::test]
async fn a_wrong_certificate_authority_fails_naming_the_server() {
    use base64::Engine;
    let mut config = base_config().await;
    let server = config.cluster_url.to_string();
    let der = base64::engine::general_purpose::STANDARD
        .decode(UNRELATED_CA_DER_BASE64)
        .expect("valid base64");
    config.root_cert = Some(vec![der]);
    let client = Client::try_from(config).expect("a client is built; the handshake fails later");
    let err = client
        .apiserver_version()
        .await
        .expect_err("untrusted server");
    assert!(
        matches!(
            err.transport(),
            Some(kube_client::error::TransportError::Tls { .. })
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(server.trim_end_matches('/')), "{text}");
    assert!(text.contains("certificate"), "{text}");
}

#[tokio::test]
async fn insecure_skip_tls_verify_accepts_an_untrusted_server() {
    use base64::Engine;
    let mut config = base_config().await;
    // No certificate authority: the operating system's store does not know
    // the test apiserver's, so only skipping verification lets it through.
    config.root_cert = None;
    config.root_cert_file = None;
    config.accept_invalid_certs = true;
    let client = Client::try_from(config.clone()).expect("client");
    let version = client.apiserver_version().await.expect("not verified");
    assert!(!version.git_version.is_empty());

    // Together with a certificate authority, it is refused naming both.
    config.root_cert = Some(vec![
        base64::engine::general_purpose::STANDARD
            .decode(UNRELATED_CA_DER_BASE64)
            .expect("valid base64"),
    ]);
    let err = Client::try_from(config).expect_err("contradictory settings");
    let text = err.to_string();
    assert!(
        text.contains("insecure-skip-tls-verify") && text.contains("certificate-authority"),
        "{text}"
    );
}

#[tokio::test]
async fn tls_server_name_is_checked_instead_of_the_url_host() {
    let mut config = base_config().await;
    let server = config.cluster_url.to_string();
    // The URL's host is in the serving certificate; the name checked is not.
    config.tls_server_name = Some("not-the-apiserver.example.com".into());
    let wrong_name = Client::try_from(config.clone()).expect("client");
    let err = wrong_name
        .apiserver_version()
        .await
        .expect_err("the certificate does not name not-the-apiserver.example.com");
    assert!(
        matches!(
            err.transport(),
            Some(kube_client::error::TransportError::Tls { .. })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(server.trim_end_matches('/')),
        "{err}"
    );

    config.tls_server_name = Some("kubernetes.default.svc".into());
    let right_name = Client::try_from(config).expect("client");
    right_name
        .apiserver_version()
        .await
        .expect("the certificate names kubernetes.default.svc");
}

/// A minimal HTTP CONNECT proxy on loopback; returns its URL and the targets it
/// was asked to connect to.
async fn connect_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let targets = Arc::new(Mutex::new(Vec::new()));
    let seen = targets.clone();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut inbound = BufReader::new(inbound);
                let mut request_line = String::new();
                inbound.read_line(&mut request_line).await.ok()?;
                let mut header = String::new();
                while inbound.read_line(&mut header).await.ok()? > 2 {
                    header.clear();
                }
                let target = request_line
                    .strip_prefix("CONNECT ")?
                    .split(' ')
                    .next()?
                    .to_string();
                seen.lock().ok()?.push(target.clone());
                let mut upstream = TcpStream::connect(&target).await.ok()?;
                let mut inbound = inbound.into_inner();
                inbound
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .ok()?;
                tokio::io::copy_bidirectional(&mut inbound, &mut upstream)
                    .await
                    .ok()
            });
        }
    });
    (url, targets)
}

#[tokio::test]
async fn requests_go_through_the_proxy_url() {
    let (proxy, targets) = connect_proxy().await;
    let mut config = base_config().await;
    let authority = config
        .cluster_url
        .authority()
        .expect("the server URL has an authority")
        .to_string();
    config.proxy_url = Some(proxy.parse().expect("proxy URL"));
    let client = Client::try_from(config).expect("client");
    let version = client.apiserver_version().await.expect("through the proxy");
    assert!(!version.git_version.is_empty());
    let seen = targets.lock().expect("targets").clone();
    assert!(seen.contains(&authority), "{seen:?} vs {authority}");
}

#[tokio::test]
async fn debug_output_never_shows_credentials() {
    let (admin, ns) = client_in_fresh_namespace().await;
    let token = service_account_token(&admin, &ns, "secretive").await;
    let config = crate::common::with_token(base_config().await, &token);
    let config_debug = format!("{config:?}");
    let client = Client::try_from(config).expect("client");
    let client_debug = format!("{client:?}");
    let api_debug = format!("{:?}", Api::<ConfigMap>::namespaced(client.clone(), &ns));
    for text in [&config_debug, &client_debug, &api_debug] {
        assert!(!text.contains(&token), "a token leaked into {text}");
        assert!(
            !text.contains(&token[..20]),
            "part of a token leaked into {text}"
        );
    }
    let base = format!("{:?}", base_config().await);
    assert!(!base.contains("PRIVATE KEY"), "{base}");
    let err = Client::try_from(crate::common::with_token(
        base_config().await,
        "bogus-token-value",
    ))
    .expect("client")
    .apiserver_version()
    .await
    .expect_err("a bogus token is refused");
    assert!(!err.to_string().contains("bogus-token-value"), "{err}");
    assert!(!format!("{err:?}").contains("bogus-token-value"), "{err:?}");
}

/// A certificate authority kept in a file is re-read when the file changes, as
/// in-cluster `ca.crt` does on rotation: a client that first trusted the wrong
/// authority reaches the server once the right one is written, without being
/// rebuilt.
#[tokio::test]
async fn a_rotated_certificate_authority_file_is_picked_up() {
    use base64::Engine;
    let serving_ca = std::fs::read(env().await.state_dir().join("ca.crt")).expect("the serving CA");
    let unrelated = base64::engine::general_purpose::STANDARD
        .decode(UNRELATED_CA_DER_BASE64)
        .expect("valid base64");
    let unrelated_pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(&unrelated)
    );
    let dir = tempfile::tempdir().expect("a temp dir");
    let ca_file = dir.path().join("ca.crt");
    std::fs::write(&ca_file, unrelated_pem).expect("write the wrong CA");

    let mut config = base_config().await;
    config.root_cert = None;
    config.root_cert_file = Some(ca_file.clone());
    let client = Client::try_from(config).expect("client");
    let err = client
        .apiserver_version()
        .await
        .expect_err("the file names the wrong authority");
    assert!(
        matches!(
            err.transport(),
            Some(kube_client::error::TransportError::Tls { .. })
        ),
        "{err:?}"
    );

    // Replace the file the way the kubelet does: write beside, then rename.
    let staged = dir.path().join("ca.crt.new");
    std::fs::write(&staged, &serving_ca).expect("write the right CA");
    std::fs::rename(&staged, &ca_file).expect("rotate");
    // A failing handshake re-reads the file at most every few seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match client.apiserver_version().await {
            Ok(version) => {
                assert!(version.git_version.starts_with("v1."), "{version:?}");
                break;
            }
            Err(err) if std::time::Instant::now() < deadline => {
                assert!(
                    matches!(
                        err.transport(),
                        Some(kube_client::error::TransportError::Tls { .. })
                    ),
                    "{err:?}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(err) => panic!("the rotated authority was never trusted: {err}"),
        }
    }
}
