//! Admission webhooks served by this test process and registered with the
//! real apiserver: the apiserver's `AdmissionReview` requests decode into
//! `kube_core::admission` types, and their answers — a denial with a
//! message, a JSON patch — take effect.
//!
//! The webhook server speaks HTTPS on loopback with a serving certificate
//! made here, whose certificate authority goes into the webhook
//! configurations' `caBundle`. The webhooks only see the test's own
//! namespace, so tests running beside it are untouched.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use k8s_openapi::{
    ByteString,
    api::{
        admissionregistration::v1::{MutatingWebhookConfiguration, ValidatingWebhookConfiguration},
        core::v1::ConfigMap,
    },
};
use kube_client::{
    Api, Client, ResourceExt,
    api::{
        DeleteParams, DynamicObject, Patch, PatchParams, PostParams,
        admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation},
    },
};
use serde_json::json;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};
use tokio_rustls::{TlsAcceptor, rustls};

use crate::common::{client_in_fresh_namespace, config_map};

/// The label every ConfigMap of these tests carries; the mutating webhook
/// adds `admitted-by`.
const LABEL: &str = "webhook-test";

/// What the webhooks were asked.
#[derive(Debug, Clone)]
struct Asked {
    path: String,
    operation: Operation,
    name: String,
    namespace: Option<String>,
    user: String,
    kind: String,
    dry_run: bool,
    had_old_object: bool,
}

type Log = Arc<Mutex<Vec<Asked>>>;

/// A certificate authority (PEM) and a serving certificate and key for
/// 127.0.0.1 signed by it.
fn certificates() -> (
    String,
    Vec<rustls::pki_types::CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
) {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "kube-client e2e webhook CA");
    let ca = ca_params.self_signed(&ca_key).expect("a CA certificate");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = rcgen::KeyPair::generate().expect("a server key");
    let server_params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("server params");
    let server = server_params
        .signed_by(&server_key, &issuer)
        .expect("a server certificate");
    let key = rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der())
        .expect("a private key");
    (ca.pem(), vec![server.der().clone()], key)
}

/// Answers one review: `/validate` refuses ConfigMaps holding the key
/// `forbidden`; `/mutate` labels every ConfigMap.
fn answer(path: &str, body: &[u8], log: &Log) -> AdmissionReview<DynamicObject> {
    let review: AdmissionReview<DynamicObject> = match serde_json::from_slice(body) {
        Ok(review) => review,
        Err(error) => return AdmissionResponse::invalid(error).into_review(),
    };
    let request: AdmissionRequest<DynamicObject> = match review.try_into() {
        Ok(request) => request,
        Err(error) => return AdmissionResponse::invalid(error).into_review(),
    };
    let name = request
        .object
        .as_ref()
        .map(ResourceExt::name_any)
        .unwrap_or_else(|| request.name.clone());
    if let Ok(mut log) = log.lock() {
        log.push(Asked {
            path: path.to_string(),
            operation: request.operation,
            name: name.clone(),
            namespace: request.namespace.clone(),
            user: request.user_info.username.clone().unwrap_or_default(),
            kind: request.kind.kind.clone(),
            dry_run: request.dry_run,
            had_old_object: request.old_object.is_some(),
        });
    }
    let response = AdmissionResponse::from(&request);
    let forbidden = request
        .object
        .as_ref()
        .is_some_and(|o| o.data["data"].get("forbidden").is_some());
    let response = match path {
        "/validate" if forbidden => {
            let mut denied = response.deny(format!("ConfigMap {name} holds the key `forbidden`"));
            denied.result.code = 403;
            denied
        }
        "/mutate" => {
            let patch: json_patch::Patch = serde_json::from_value(json!([
                {"op": "add", "path": "/metadata/labels/admitted-by", "value": "kube-test-webhook"}
            ]))
            .expect("a patch");
            response.with_patch(patch).expect("the patch encodes")
        }
        _ => response,
    };
    response.into_review()
}

/// Serves HTTPS on a loopback port: each request body is an AdmissionReview,
/// each answer the webhook's. Returns the port.
async fn serve_webhooks(log: Log) -> (u16, String) {
    let (ca_pem, chain, key) = certificates();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("a server configuration");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let log = log.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    serve_connection(tls, &log).await;
                }
            });
        }
    });
    (port, ca_pem)
}

/// HTTP/1.1 requests with a `Content-Length` body, one after another on one
/// connection, until the apiserver closes it.
async fn serve_connection<S>(stream: S, log: &Log)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        match stream.read_line(&mut request_line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut length = 0;
        loop {
            let mut line = String::new();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let reply = serde_json::to_vec(&answer(&path, &body, log)).expect("the review encodes");
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        let out = stream.get_mut();
        if out.write_all(head.as_bytes()).await.is_err()
            || out.write_all(&reply).await.is_err()
            || out.flush().await.is_err()
        {
            return;
        }
    }
}

/// One webhook for ConfigMap creates and updates in namespace `ns`.
fn webhook(ns: &str, port: u16, path: &str, ca_pem: &str) -> serde_json::Value {
    json!({
        "name": format!("configmaps{}.{ns}.kube-client.test", path.replace('/', "-")),
        "clientConfig": {
            "url": format!("https://127.0.0.1:{port}{path}"),
            "caBundle": ByteString(ca_pem.as_bytes().to_vec()),
        },
        "rules": [{
            "operations": ["CREATE", "UPDATE"],
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "resources": ["configmaps"],
            "scope": "Namespaced",
        }],
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
        "objectSelector": {"matchExpressions": [{"key": LABEL, "operator": "Exists"}]},
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "failurePolicy": "Fail",
        "timeoutSeconds": 10,
    })
}

/// The webhook configurations, registered; removed again by `remove`.
struct Registered {
    client: Client,
    name: String,
}

impl Registered {
    async fn new(client: &Client, ns: &str, port: u16, ca_pem: &str) -> Self {
        let name = format!("kube-client-e2e-{ns}");
        let validating: ValidatingWebhookConfiguration = serde_json::from_value(json!({
            "metadata": {"name": name},
            "webhooks": [webhook(ns, port, "/validate", ca_pem)],
        }))
        .expect("a validating webhook configuration");
        let mutating: MutatingWebhookConfiguration = serde_json::from_value(json!({
            "metadata": {"name": name},
            "webhooks": [webhook(ns, port, "/mutate", ca_pem)],
        }))
        .expect("a mutating webhook configuration");
        Api::<ValidatingWebhookConfiguration>::all(client.clone())
            .create(&PostParams::default(), &validating)
            .await
            .expect("register the validating webhook");
        Api::<MutatingWebhookConfiguration>::all(client.clone())
            .create(&PostParams::default(), &mutating)
            .await
            .expect("register the mutating webhook");
        Self {
            client: client.clone(),
            name,
        }
    }

    async fn remove(self) {
        Api::<ValidatingWebhookConfiguration>::all(self.client.clone())
            .delete(&self.name, &DeleteParams::default())
            .await
            .expect("remove the validating webhook");
        Api::<MutatingWebhookConfiguration>::all(self.client)
            .delete(&self.name, &DeleteParams::default())
            .await
            .expect("remove the mutating webhook");
    }
}

/// Waits until the apiserver calls both webhooks: it loads new
/// configurations in the background. Gives up after a minute.
async fn wait_until_active(maps: &Api<ConfigMap>) {
    for attempt in 0..600 {
        let probe = format!("probe-{attempt}");
        let created = maps
            .create(
                &PostParams::default(),
                &config_map(&probe, &[(LABEL, "probe")], &[("forbidden", "x")]),
            )
            .await;
        match created {
            // Denied: the validating webhook is active. The mutating one
            // runs before it, so it is active too once a created probe
            // came back labelled; check that on an allowed probe.
            Err(kube_client::Error::Api(status)) if status.code == 403 => {
                let allowed = maps
                    .create(
                        &PostParams::default(),
                        &config_map(&format!("{probe}-ok"), &[(LABEL, "probe")], &[]),
                    )
                    .await
                    .expect("an allowed probe");
                if allowed.labels().contains_key("admitted-by") {
                    return;
                }
            }
            Ok(_) | Err(kube_client::Error::Api(_)) => {}
            Err(other) => panic!("probing the webhooks: {other}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the apiserver did not call the webhooks within a minute");
}

#[tokio::test]
async fn the_apiserver_asks_webhooks_and_follows_their_answers() {
    let (client, ns) = client_in_fresh_namespace().await;
    let log: Log = Arc::default();
    let (port, ca_pem) = serve_webhooks(log.clone()).await;
    let registered = Registered::new(&client, &ns, port, &ca_pem).await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    wait_until_active(&maps).await;
    log.lock().expect("lock").clear();

    // Allowed, and changed by the mutating webhook's JSON patch.
    let created = maps
        .create(
            &PostParams::default(),
            &config_map("settings", &[(LABEL, "yes")], &[("mode", "fast")]),
        )
        .await
        .expect("allowed");
    assert_eq!(
        created.labels().get("admitted-by").map(String::as_str),
        Some("kube-test-webhook")
    );

    // Refused, with the webhook's message and code.
    let refused = maps
        .create(
            &PostParams::default(),
            &config_map("secret-ish", &[(LABEL, "yes")], &[("forbidden", "1")]),
        )
        .await;
    let status = crate::common::api_status(refused);
    assert_eq!(status.code, 403, "{status:?}");
    assert!(
        status
            .message
            .contains("ConfigMap secret-ish holds the key `forbidden`"),
        "{status:?}"
    );

    // An update is asked about with the old object; a dry run says so.
    let patch = json!({"data": {"forbidden": "now"}});
    let refused = maps
        .patch("settings", &PatchParams::default(), &Patch::Merge(&patch))
        .await;
    assert_eq!(crate::common::api_status(refused).code, 403);
    let dry = maps
        .create(
            &PostParams {
                dry_run: true,
                ..PostParams::default()
            },
            &config_map("rehearsal", &[(LABEL, "yes")], &[]),
        )
        .await
        .expect("a dry run is allowed");
    assert_eq!(dry.labels()["admitted-by"], "kube-test-webhook");

    registered.remove().await;

    let asked = log.lock().expect("lock").clone();
    let find = |path: &str, name: &str, operation: Operation| {
        asked
            .iter()
            .find(|a| a.path == path && a.name == name && a.operation == operation)
            .cloned()
            .unwrap_or_else(|| {
                panic!("{path} was not asked about {operation:?} of {name}: {asked:?}")
            })
    };
    let create = find("/validate", "settings", Operation::Create);
    assert_eq!(create.kind, "ConfigMap");
    assert_eq!(create.namespace.as_deref(), Some(ns.as_str()));
    assert!(!create.user.is_empty(), "the requesting user is named");
    assert!(!create.dry_run && !create.had_old_object);
    let update = find("/validate", "settings", Operation::Update);
    assert!(update.had_old_object, "updates carry the stored object");
    find("/mutate", "secret-ish", Operation::Create);
    assert!(find("/validate", "rehearsal", Operation::Create).dry_run);
}
