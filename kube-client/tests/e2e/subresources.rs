//! Subresources: scale, status, logs, eviction, and workload helpers.

use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{Pod, ServiceAccount},
};
use kube_client::{
    Api, Client,
    api::{EvictParams, LogParams, Patch, PatchParams, PostParams, ResourceExt},
};
use serde_json::json;

use crate::common::{api_status, client_in_fresh_namespace};

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "registry.invalid/none:1"}]}
            }
        }
    }))
    .expect("a valid deployment")
}

/// Pods need the namespace's `default` service account; without a controller
/// manager creating it, the test does.
async fn ensure_default_service_account(client: &Client, ns: &str) {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    let mut sa = ServiceAccount::default();
    sa.metadata.name = Some("default".into());
    match accounts.create(&PostParams::default(), &sa).await {
        Ok(_) => {}
        Err(kube_client::Error::Api(status)) if status.is_already_exists() => {}
        Err(other) => panic!("creating the default service account: {other}"),
    }
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "automountServiceAccountToken": false,
            "containers": [{"name": "main", "image": "registry.invalid/none:1"}]
        }
    }))
    .expect("a valid pod")
}

#[tokio::test]
async fn scale_subresource_reads_and_changes_replicas() {
    let (client, ns) = client_in_fresh_namespace().await;
    let deployments: Api<Deployment> = Api::namespaced(client, &ns);
    deployments
        .create(&PostParams::default(), &deployment("web", 1))
        .await
        .expect("create");

    let scale = deployments.get_scale("web").await.expect("get_scale");
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(1));

    let scaled = deployments
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .expect("patch_scale");
    assert_eq!(scaled.spec.as_ref().and_then(|s| s.replicas), Some(3));
    let stored = deployments.get("web").await.expect("get");
    assert_eq!(stored.spec.replicas, Some(3));

    let mut scale = deployments.get_scale("web").await.expect("get_scale");
    scale.spec.get_or_insert_default().replicas = Some(5);
    let replaced = deployments
        .replace_scale("web", &PostParams::default(), &scale)
        .await
        .expect("replace_scale");
    assert_eq!(replaced.spec.and_then(|s| s.replicas), Some(5));

    let missing = api_status(deployments.get_scale("nope").await);
    assert!(missing.is_not_found(), "{missing:?}");
}

#[tokio::test]
async fn status_subresource_changes_only_the_status() {
    let (client, ns) = client_in_fresh_namespace().await;
    let deployments: Api<Deployment> = Api::namespaced(client, &ns);
    deployments
        .create(&PostParams::default(), &deployment("api", 2))
        .await
        .expect("create");

    let patched = deployments
        .patch_status(
            "api",
            &PatchParams::default(),
            &Patch::Merge(json!({
                "spec": {"replicas": 9},
                "status": {"observedGeneration": 1, "replicas": 2, "unavailableReplicas": 2}
            })),
        )
        .await
        .expect("patch_status");
    let status = patched.status.clone().unwrap_or_default();
    assert_eq!(status.replicas, Some(2));
    assert_eq!(status.unavailable_replicas, Some(2));
    assert_eq!(
        patched.spec.replicas,
        Some(2),
        "the status subresource ignores spec changes"
    );

    let mut read = deployments.get_status("api").await.expect("get_status");
    assert_eq!(read.status.as_ref().and_then(|s| s.replicas), Some(2));
    read.status.get_or_insert_default().ready_replicas = Some(1);
    let replaced = deployments
        .replace_status("api", &PostParams::default(), &read)
        .await
        .expect("replace_status");
    assert_eq!(replaced.status.and_then(|s| s.ready_replicas), Some(1));

    let restarted = deployments.restart("api").await.expect("restart");
    let annotations = restarted
        .spec
        .template
        .metadata
        .and_then(|m| m.annotations)
        .unwrap_or_default();
    assert!(
        annotations.contains_key("kubectl.kubernetes.io/restartedAt"),
        "{annotations:?}"
    );
}

#[tokio::test]
async fn logs_of_an_unscheduled_pod_are_empty_and_bad_containers_are_named() {
    let (client, ns) = client_in_fresh_namespace().await;
    ensure_default_service_account(&client, &ns).await;
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    pods.create(&PostParams::default(), &pod("pending"))
        .await
        .expect("create pod");

    // A pod no node has taken has no log yet: the apiserver answers with nothing.
    let logs = pods
        .logs("pending", &LogParams::default())
        .await
        .expect("the log of a pending pod");
    assert_eq!(logs, "");

    let params = LogParams {
        container: Some("no-such-container".into()),
        ..LogParams::default()
    };
    let status = api_status(pods.logs("pending", &params).await);
    assert_eq!(status.code, 400, "{status:?}");
    assert!(
        status.message.contains("no-such-container"),
        "the message names the container: {}",
        status.message
    );

    let missing = match pods.log_stream("absent", &LogParams::default()).await {
        Err(kube_client::Error::Api(status)) => status,
        Err(other) => panic!("expected an Api error, got {other}"),
        Ok(_) => panic!("a missing pod has no log stream"),
    };
    assert!(missing.is_not_found(), "{missing:?}");
}

#[tokio::test]
async fn evicting_an_unscheduled_pod_deletes_it() {
    let (client, ns) = client_in_fresh_namespace().await;
    ensure_default_service_account(&client, &ns).await;
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    pods.create(&PostParams::default(), &pod("evictee"))
        .await
        .expect("create pod");
    let status = pods
        .evict("evictee", &EvictParams::default())
        .await
        .expect("evict");
    assert!(status.is_success(), "{status:?}");
    let gone = pods.get_opt("evictee").await.expect("get_opt");
    assert!(
        gone.is_none() || gone.is_some_and(|p| p.metadata.deletion_timestamp.is_some()),
        "the eviction deleted the pod"
    );
}

#[tokio::test]
async fn generic_subresource_calls_reach_the_named_subresource() {
    let (client, ns) = client_in_fresh_namespace().await;
    let deployments: Api<Deployment> = Api::namespaced(client, &ns);
    deployments
        .create(&PostParams::default(), &deployment("generic", 1))
        .await
        .expect("create");
    let via_status = deployments
        .get_subresource("status", "generic")
        .await
        .expect("get_subresource");
    assert_eq!(via_status.name_any(), "generic");
    let patched = deployments
        .patch_subresource(
            "status",
            "generic",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 4}})),
        )
        .await
        .expect("patch_subresource");
    assert_eq!(patched.status.and_then(|s| s.replicas), Some(4));
    let unknown = api_status(deployments.get_subresource("nonexistent", "generic").await);
    assert_eq!(unknown.code, 404, "{unknown:?}");
}

#[tokio::test]
async fn a_certificate_signing_request_is_approved_through_its_approval_subresource() {
    use base64::Engine as _;
    use k8s_openapi::api::certificates::v1::CertificateSigningRequest;

    let requests: Api<CertificateSigningRequest> = Api::all(crate::common::client().await);
    let key = rcgen::KeyPair::generate().expect("a key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "e2e-approval");
    let pem = params
        .serialize_request(&key)
        .and_then(|csr| csr.pem())
        .expect("a PEM certificate request");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let name = format!("e2e-approval-{nanos}");
    let request: CertificateSigningRequest = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "request": base64::engine::general_purpose::STANDARD.encode(pem),
            "signerName": "example.com/e2e",
            "usages": ["client auth"],
        },
    }))
    .expect("a valid request");
    requests
        .create(&PostParams::default(), &request)
        .await
        .expect("create");

    let conditions = |csr: &CertificateSigningRequest| -> Vec<(String, String)> {
        csr.status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
            .map(|c| (c.type_.clone(), c.status.clone()))
            .collect()
    };
    let pending = requests.get_approval(&name).await.expect("get_approval");
    assert!(conditions(&pending).is_empty(), "{pending:?}");

    let approval = json!({
        "status": {"conditions": [{
            "type": "Approved",
            "status": "True",
            "reason": "E2ETest",
            "message": "approved by the kube-client e2e test",
        }]},
    });
    let approved = requests
        .patch_approval(&name, &PatchParams::default(), &Patch::Merge(&approval))
        .await
        .expect("patch_approval");
    let expected = [("Approved".to_string(), "True".to_string())];
    assert_eq!(conditions(&approved), expected);
    let read = requests.get_approval(&name).await.expect("get_approval");
    assert_eq!(conditions(&read), expected);

    requests
        .delete(&name, &Default::default())
        .await
        .expect("delete");
}
