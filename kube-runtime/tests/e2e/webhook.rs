//! The webhook server, called by the real apiserver on loopback: a
//! ValidatingWebhookConfiguration refuses objects with the handler's
//! message, a MutatingWebhookConfiguration adds a label, and a CRD with two
//! versions converts between them through a conversion webhook.
//!
//! The server's certificate comes from a certificate authority made here,
//! whose certificate is each configuration's `caBundle`. The admission
//! webhooks only see their test's namespace.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use k8s_openapi::{
    ByteString,
    api::{
        admissionregistration::v1::{MutatingWebhookConfiguration, ValidatingWebhookConfiguration},
        core::v1::ConfigMap,
    },
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Client, ResourceExt,
    api::{Api, DeleteParams, PostParams},
    core::{
        ApiResource, DynamicObject, GroupVersionKind,
        admission::{AdmissionRequest, AdmissionResponse},
        conversion::{ConversionRequest, ConversionResponse},
    },
    runtime::webhook::{CertWatcher, Mutation, Server},
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::common::{client_in_fresh_namespace, config_map, eventually, within};

/// Writes a CA and a serving certificate for 127.0.0.1 signed by it into
/// `dir`; returns the CA certificate (PEM) and the watcher of the pair.
fn certificates(dir: &Path) -> (String, CertWatcher) {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "kube-runtime e2e webhook CA");
    let authority =
        rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("a CA certificate");
    let key = rcgen::KeyPair::generate().expect("a serving key");
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("serving params")
        .signed_by(&key, &authority)
        .expect("a serving certificate");
    let (cert_path, key_path) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::write(&cert_path, cert.pem()).expect("certificate written");
    std::fs::write(&key_path, key.serialize_pem()).expect("key written");
    let watcher = CertWatcher::new(&cert_path, &key_path).expect("the pair loads");
    (authority.pem(), watcher)
}

/// Serves `server` on a loopback port until the test ends; returns the port.
async fn serve(server: Server) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(server.serve(listener));
    port
}

/// The label that puts a ConfigMap under this file's admission webhooks.
const WATCHED: &str = "webhook-e2e";

/// Refuses ConfigMaps holding the key `forbidden`.
async fn validate(request: AdmissionRequest<ConfigMap>) -> AdmissionResponse {
    let response = AdmissionResponse::from(&request);
    match &request.object {
        Some(cm)
            if cm
                .data
                .as_ref()
                .is_some_and(|d| d.contains_key("forbidden")) =>
        {
            response.deny(format!(
                "ConfigMap {} holds the key `forbidden`",
                cm.name_any()
            ))
        }
        _ => response,
    }
}

/// Labels every ConfigMap as admitted.
async fn mutate(request: AdmissionRequest<ConfigMap>) -> Mutation<ConfigMap> {
    match request.object {
        Some(mut cm) => {
            cm.labels_mut()
                .insert("example.com/admitted".into(), "yes".into());
            Mutation::Object(cm)
        }
        None => Mutation::Unchanged,
    }
}

/// One admission webhook for ConfigMap creates and updates in `ns`.
fn webhook(ns: &str, kind: &str, port: u16, path: &str, ca_pem: &str) -> Value {
    json!({
        "name": format!("{kind}.{ns}.kube-runtime.test"),
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
        "objectSelector": {"matchExpressions": [{"key": WATCHED, "operator": "Exists"}]},
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "failurePolicy": "Fail",
        "timeoutSeconds": 10,
    })
}

/// Registers a webhook configuration of type `K` holding `webhook`.
async fn register<K>(client: &Client, name: &str, webhook: Value) -> Api<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    let api: Api<K> = Api::all(client.clone());
    let configuration: K =
        serde_json::from_value(json!({"metadata": {"name": name}, "webhooks": [webhook]}))
            .expect("a webhook configuration");
    api.create(&PostParams::default(), &configuration)
        .await
        .expect("the webhook configuration is registered");
    api
}

/// A ConfigMap the webhooks look at.
fn watched(name: &str, key: &str) -> ConfigMap {
    let mut cm = config_map(name, "x");
    cm.labels_mut().insert(WATCHED.into(), "yes".into());
    if let Some(data) = cm.data.as_mut() {
        data.insert(key.into(), "1".into());
    }
    cm
}

#[tokio::test]
async fn a_validating_webhook_refuses_objects_with_the_handlers_message() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (ca_pem, certs) = certificates(dir.path());
    let port = serve(Server::new(certs).validating("/validate", validate)).await;
    let (client, ns) = client_in_fresh_namespace().await;
    let name = format!("validate-{ns}");
    let configurations = register::<ValidatingWebhookConfiguration>(
        &client,
        &name,
        webhook(&ns, "validate", port, "/validate", &ca_pem),
    )
    .await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);

    // The apiserver loads new configurations in the background: probe until
    // a forbidden ConfigMap is refused by the webhook.
    let mut attempt = 0;
    let status = eventually("the webhook to refuse a forbidden ConfigMap", || {
        attempt += 1;
        let maps = maps.clone();
        async move {
            match maps
                .create(
                    &PostParams::default(),
                    &watched(&format!("probe-{attempt}"), "forbidden"),
                )
                .await
            {
                Err(kube::Error::Api(status)) if status.message.contains("holds the key") => {
                    Some(status)
                }
                _ => None,
            }
        }
    })
    .await;
    assert!(
        status.message.contains(&format!(
            "ConfigMap probe-{attempt} holds the key `forbidden`"
        )),
        "{status:?}"
    );
    maps.create(&PostParams::default(), &watched("allowed", "fine"))
        .await
        .expect("an allowed ConfigMap is created");

    configurations
        .delete(&name, &DeleteParams::default())
        .await
        .expect("the configuration is removed");
}

#[tokio::test]
async fn a_mutating_webhook_adds_a_label() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (ca_pem, certs) = certificates(dir.path());
    let port = serve(Server::new(certs).mutating("/mutate", mutate)).await;
    let (client, ns) = client_in_fresh_namespace().await;
    let name = format!("mutate-{ns}");
    let configurations = register::<MutatingWebhookConfiguration>(
        &client,
        &name,
        webhook(&ns, "mutate", port, "/mutate", &ca_pem),
    )
    .await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);

    let mut attempt = 0;
    let created = eventually("the webhook to label a ConfigMap", || {
        attempt += 1;
        let maps = maps.clone();
        async move {
            let created = maps
                .create(
                    &PostParams::default(),
                    &watched(&format!("probe-{attempt}"), "data"),
                )
                .await
                .expect("created");
            created
                .labels()
                .contains_key("example.com/admitted")
                .then_some(created)
        }
    })
    .await;
    assert_eq!(created.labels()["example.com/admitted"], "yes");
    assert_eq!(created.labels()[WATCHED], "yes", "the other labels stay");
    let stored = maps.get(&created.name_any()).await.expect("read");
    assert_eq!(
        stored.labels()["example.com/admitted"],
        "yes",
        "the label is stored"
    );

    configurations
        .delete(&name, &DeleteParams::default())
        .await
        .expect("the configuration is removed");
}

const GROUP: &str = "webhook.e2e.example.com";

/// `Paint` v1 spells `spec.colour`, v2 `spec.color`.
fn convert_paint(mut object: Value, desired: &str) -> Value {
    let (from, to) = if desired.ends_with("/v2") {
        ("colour", "color")
    } else {
        ("color", "colour")
    };
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut)
        && let Some(value) = spec.remove(from)
    {
        spec.insert(to.into(), value);
    }
    object["apiVersion"] = desired.into();
    object
}

fn paint_crd(port: u16, ca_pem: &str) -> CustomResourceDefinition {
    let version = |name: &str, field: &str, storage: bool| {
        json!({
            "name": name,
            "served": true,
            "storage": storage,
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {"spec": {"type": "object", "properties": {field: {"type": "string"}}}},
            }},
        })
    };
    serde_json::from_value(json!({
        "metadata": {"name": format!("paints.{GROUP}")},
        "spec": {
            "group": GROUP,
            "names": {"plural": "paints", "singular": "paint", "kind": "Paint", "listKind": "PaintList"},
            "scope": "Namespaced",
            "versions": [version("v1", "colour", true), version("v2", "color", false)],
            "conversion": {
                "strategy": "Webhook",
                "webhook": {
                    "clientConfig": {
                        "url": format!("https://127.0.0.1:{port}/convert"),
                        "caBundle": ByteString(ca_pem.as_bytes().to_vec()),
                    },
                    "conversionReviewVersions": ["v1"],
                },
            },
        },
    }))
    .expect("a CustomResourceDefinition")
}

#[tokio::test]
async fn a_crd_with_two_versions_converts_through_the_conversion_webhook() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (ca_pem, certs) = certificates(dir.path());
    let conversions = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&conversions);
    let server = Server::new(certs).conversion("/convert", move |request: ConversionRequest| {
        counted.fetch_add(1, Ordering::Relaxed);
        async move {
            let desired = request.desired_api_version.clone();
            let objects = request
                .objects
                .iter()
                .map(|object| convert_paint(object.clone(), &desired))
                .collect();
            ConversionResponse::for_request(request).success(objects)
        }
    });
    let port = serve(server).await;
    let env = kube_test::TestEnv::start()
        .await
        .expect("the kube-test control plane must start");
    env.install_crd(paint_crd(port, &ca_pem))
        .await
        .expect("the CRD is installed");
    let (client, ns) = client_in_fresh_namespace().await;
    let v1 = ApiResource::from_gvk(&GroupVersionKind::gvk(GROUP, "v1", "Paint"));
    let v2 = ApiResource::from_gvk(&GroupVersionKind::gvk(GROUP, "v2", "Paint"));
    let paints_v1: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &v1);
    let paints_v2: Api<DynamicObject> = Api::namespaced_with(client, &ns, &v2);

    // Written as v1 (the stored version), read as v2: converted on the way out.
    let red = DynamicObject::new("red", &v1).data(json!({"spec": {"colour": "red"}}));
    within(
        "a v1 Paint to be created",
        paints_v1.create(&PostParams::default(), &red),
    )
    .await
    .expect("created as v1");
    let read = within("the Paint to be read as v2", paints_v2.get("red"))
        .await
        .expect("read as v2");
    assert_eq!(
        read.types.as_ref().map(|t| t.api_version.as_str()),
        Some("webhook.e2e.example.com/v2")
    );
    assert_eq!(read.data["spec"], json!({"color": "red"}));

    // Written as v2, stored as v1: converted on the way in.
    let blue = DynamicObject::new("blue", &v2).data(json!({"spec": {"color": "blue"}}));
    within(
        "a v2 Paint to be created",
        paints_v2.create(&PostParams::default(), &blue),
    )
    .await
    .expect("created as v2");
    let read = paints_v1.get("blue").await.expect("read as v1");
    assert_eq!(read.data["spec"], json!({"colour": "blue"}));
    assert!(
        conversions.load(Ordering::Relaxed) >= 2,
        "the webhook converted"
    );

    // The CRD names this test's server, which stops with the test.
    let crds: Api<CustomResourceDefinition> = Api::all(env.client().await.expect("a client"));
    crds.delete(&format!("paints.{GROUP}"), &DeleteParams::default())
        .await
        .expect("the CRD is removed");
}
