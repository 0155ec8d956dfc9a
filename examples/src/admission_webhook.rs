//! An admission webhook for ConfigMaps, served by `kube::runtime::webhook`:
//!
//! - validating: a ConfigMap may not hold a key that looks like a secret
//!   (`password`, `token`, ...) — those belong in Secrets;
//! - mutating: every new ConfigMap is annotated with who created it
//!   (`example.com/created-by`).
//!
//! [`run`] serves it for a cluster whose apiserver runs on this machine (a
//! local control plane: `just cluster`): it makes a certificate authority and
//! a serving certificate for 127.0.0.1, listens on a loopback port, and
//! registers the two webhooks for one namespace with that authority as
//! `caBundle`, removing them again when it stops. In a real cluster the
//! server runs in a pod behind a Service, with a certificate from, say,
//! cert-manager mounted from a Secret: [`server`] is the part that stays.
//!
//! ```no_run
//! # async fn run(client: kube::Client) -> anyhow::Result<()> {
//! examples::admission_webhook::run(client, "default", std::future::pending::<()>()).await?;
//! # Ok(())
//! # }
//! ```

use std::{future::Future, path::Path};

use anyhow::Context as _;
use k8s_openapi::{
    ByteString,
    api::{
        admissionregistration::v1::{MutatingWebhookConfiguration, ValidatingWebhookConfiguration},
        core::v1::ConfigMap,
    },
};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, PostParams},
    core::admission::{AdmissionRequest, AdmissionResponse, Operation},
    runtime::webhook::{CertWatcher, Mutation, Server},
};
use serde_json::json;
use tokio::net::TcpListener;

/// The annotation naming who created a ConfigMap.
pub const CREATED_BY: &str = "example.com/created-by";

/// Parts of key names that say a value is a secret.
const SECRET_WORDS: [&str; 5] = ["password", "passwd", "token", "secret", "private-key"];

/// The webhook server: `/validate` and `/mutate`, presenting `certs`.
pub fn server(certs: CertWatcher) -> Server {
    Server::new(certs)
        .validating("/validate", validate)
        .mutating("/mutate", mutate)
}

/// Refuses ConfigMaps holding keys that look like secrets.
pub async fn validate(request: AdmissionRequest<ConfigMap>) -> AdmissionResponse {
    let response = AdmissionResponse::from(&request);
    let Some(config_map) = &request.object else {
        return response;
    };
    let secret_like: Vec<&str> = config_map
        .data
        .iter()
        .flat_map(|data| data.keys())
        .chain(config_map.binary_data.iter().flat_map(|data| data.keys()))
        .filter(|key| {
            let key = key.to_ascii_lowercase();
            SECRET_WORDS.iter().any(|word| key.contains(word))
        })
        .map(String::as_str)
        .collect();
    if secret_like.is_empty() {
        return response;
    }
    response.deny(format!(
        "ConfigMap {} holds {}, which look like secrets: put them in a Secret",
        config_map.name_any(),
        secret_like.join(", ")
    ))
}

/// Annotates each new ConfigMap with the name of the user creating it.
pub async fn mutate(request: AdmissionRequest<ConfigMap>) -> Mutation<ConfigMap> {
    let (Operation::Create, Some(mut config_map)) = (request.operation, request.object) else {
        return Mutation::Unchanged;
    };
    let user = request.user_info.username.unwrap_or_default();
    config_map
        .annotations_mut()
        .entry(CREATED_BY.into())
        .or_insert(user);
    Mutation::Object(config_map)
}

/// A certificate authority (PEM) and a serving certificate for 127.0.0.1
/// signed by it, written to `dir` and watched there.
pub fn local_certificates(dir: &Path) -> anyhow::Result<(String, CertWatcher)> {
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "admission_webhook example CA");
    let authority = rcgen::CertifiedIssuer::self_signed(ca, ca_key)?;
    let key = rcgen::KeyPair::generate()?;
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])?
        .signed_by(&key, &authority)?;
    let (cert_path, key_path) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::write(&cert_path, cert.pem()).context("writing the certificate")?;
    std::fs::write(&key_path, key.serialize_pem()).context("writing the key")?;
    Ok((authority.pem(), CertWatcher::new(cert_path, key_path)?))
}

/// The webhook configurations [`register`] made.
pub struct Registration {
    client: Client,
    name: String,
}

/// Registers the validating and mutating webhooks for ConfigMaps of
/// `namespace`, served at `https://127.0.0.1:{port}` with a certificate
/// signed by `ca_pem`.
pub async fn register(
    client: &Client,
    namespace: &str,
    port: u16,
    ca_pem: &str,
) -> anyhow::Result<Registration> {
    let name = format!("configmap-policy.{namespace}.example.com");
    let webhook = |path: &str| {
        json!({
            "name": format!("{}.{name}", path.trim_start_matches('/')),
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
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "failurePolicy": "Fail",
            "timeoutSeconds": 10,
        })
    };
    let validating: ValidatingWebhookConfiguration = serde_json::from_value(json!({
        "metadata": {"name": name},
        "webhooks": [webhook("/validate")],
    }))?;
    let mutating: MutatingWebhookConfiguration = serde_json::from_value(json!({
        "metadata": {"name": name},
        "webhooks": [webhook("/mutate")],
    }))?;
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .create(&PostParams::default(), &validating)
        .await
        .context("registering the validating webhook")?;
    Api::<MutatingWebhookConfiguration>::all(client.clone())
        .create(&PostParams::default(), &mutating)
        .await
        .context("registering the mutating webhook")?;
    Ok(Registration {
        client: client.clone(),
        name,
    })
}

impl Registration {
    /// Removes both webhook configurations.
    pub async fn remove(self) -> anyhow::Result<()> {
        Api::<ValidatingWebhookConfiguration>::all(self.client.clone())
            .delete(&self.name, &DeleteParams::default())
            .await
            .context("removing the validating webhook")?;
        Api::<MutatingWebhookConfiguration>::all(self.client)
            .delete(&self.name, &DeleteParams::default())
            .await
            .context("removing the mutating webhook")?;
        Ok(())
    }
}

/// Serves the webhooks for the ConfigMaps of `namespace` on a loopback port,
/// registered with the apiserver, until `shutdown` completes; then removes
/// the registration. For an apiserver on this machine.
pub async fn run(
    client: Client,
    namespace: &str,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("a directory for the certificates")?;
    let (ca_pem, certs) = local_certificates(dir.path())?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding a loopback port")?;
    let port = listener.local_addr()?.port();
    let registration = register(&client, namespace, port, &ca_pem).await?;
    tracing::info!(port, %namespace, "serving the ConfigMap webhooks; Ctrl-C stops");
    let served = server(certs).serve_with_shutdown(listener, shutdown).await;
    registration.remove().await?;
    served?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(operation: &str, data: serde_json::Value) -> AdmissionRequest<ConfigMap> {
        let review: kube::core::admission::AdmissionReview<ConfigMap> =
            serde_json::from_value(json!({
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "request": {
                    "uid": "u",
                    "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                    "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                    "operation": operation,
                    "userInfo": {"username": "alice"},
                    "object": {"metadata": {"name": "app"}, "data": data},
                }
            }))
            .expect("a review");
        review.try_into().expect("a request")
    }

    #[tokio::test]
    async fn secret_looking_keys_are_refused_and_named() {
        let refused = validate(request(
            "CREATE",
            json!({"DB_PASSWORD": "x", "mode": "fast"}),
        ))
        .await;
        assert!(!refused.allowed);
        assert!(
            refused.result.message.contains("DB_PASSWORD"),
            "{}",
            refused.result.message
        );
        assert!(!refused.result.message.contains("mode"));
        assert!(
            validate(request("CREATE", json!({"mode": "fast"})))
                .await
                .allowed
        );
    }

    #[tokio::test]
    async fn new_config_maps_are_annotated_with_their_creator() {
        let Mutation::Object(cm) = mutate(request("CREATE", json!({}))).await else {
            panic!("a create is annotated");
        };
        assert_eq!(cm.annotations()[CREATED_BY], "alice");
        assert!(matches!(
            mutate(request("UPDATE", json!({}))).await,
            Mutation::Unchanged
        ));
    }
}
