//! Admission reviews as the Kubernetes API reference shows them
//! (`admission.k8s.io/v1`), decoded and answered.

use k8s_openapi::api::{apps::v1::Deployment, core::v1::Pod};
use serde_json::{Value, json};

use super::*;
use crate::ResourceExt;

/// An update of a deployment's `scale` subresource, with every field of a
/// request set, as in the reference's example.
const SCALE_UPDATE: &str = r#"{
  "apiVersion": "admission.k8s.io/v1",
  "kind": "AdmissionReview",
  "request": {
    "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
    "kind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
    "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
    "subResource": "scale",
    "requestKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
    "requestResource": {"group": "apps", "version": "v1", "resource": "deployments"},
    "requestSubResource": "scale",
    "name": "my-deployment",
    "namespace": "my-namespace",
    "operation": "UPDATE",
    "userInfo": {
      "username": "admin",
      "uid": "014fbff9a07c",
      "groups": ["system:authenticated", "my-admin-group"],
      "extra": {"some-key": ["some-value1", "some-value2"]}
    },
    "object": {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "my-deployment"}, "spec": {"replicas": 3}},
    "oldObject": {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "my-deployment"}, "spec": {"replicas": 1}},
    "options": {"apiVersion": "meta.k8s.io/v1", "kind": "UpdateOptions", "fieldManager": "kubectl"},
    "dryRun": false
  }
}"#;

/// A pod being created, with the least a request carries.
const POD_CREATE: &str = r#"{
  "apiVersion": "admission.k8s.io/v1",
  "kind": "AdmissionReview",
  "request": {
    "uid": "b8a5d9f2-1c3e-4a4b-9d6e-2f1a3c5e7b90",
    "kind": {"group": "", "version": "v1", "kind": "Pod"},
    "resource": {"group": "", "version": "v1", "resource": "pods"},
    "namespace": "shop",
    "operation": "CREATE",
    "userInfo": {"username": "system:serviceaccount:shop:deployer"},
    "object": {
      "apiVersion": "v1",
      "kind": "Pod",
      "metadata": {"generateName": "web-", "namespace": "shop", "labels": {"app": "web"}},
      "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}
    },
    "oldObject": null,
    "dryRun": true,
    "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
  }
}"#;

/// A deployment being deleted: no object, only the old one.
const DEPLOYMENT_DELETE: &str = r#"{
  "apiVersion": "admission.k8s.io/v1",
  "kind": "AdmissionReview",
  "request": {
    "uid": "0d3c6a0e-7e43-4a5c-8f51-3c1a9e2b7d11",
    "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
    "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
    "name": "web",
    "namespace": "shop",
    "operation": "DELETE",
    "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
    "object": null,
    "oldObject": {
      "apiVersion": "apps/v1",
      "kind": "Deployment",
      "metadata": {"name": "web", "namespace": "shop"},
      "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "main", "image": "nginx"}]}}}
    },
    "dryRun": false,
    "options": {"apiVersion": "meta.k8s.io/v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
  }
}"#;

/// An exec into a pod: a connect, with the exec options and no objects.
const POD_EXEC_CONNECT: &str = r#"{
  "apiVersion": "admission.k8s.io/v1",
  "kind": "AdmissionReview",
  "request": {
    "uid": "5f8e2b1c-aa90-4c3d-b7e6-91d2c0f4a3b2",
    "kind": {"group": "", "version": "v1", "kind": "PodExecOptions"},
    "resource": {"group": "", "version": "v1", "resource": "pods"},
    "subResource": "exec",
    "name": "web-7d9f",
    "namespace": "shop",
    "operation": "CONNECT",
    "userInfo": {"username": "bob"},
    "object": {"apiVersion": "v1", "kind": "PodExecOptions", "stdout": true, "command": ["ls"]},
    "oldObject": null,
    "dryRun": false,
    "options": null
  }
}"#;

fn request<T: Resource + serde::de::DeserializeOwned>(body: &str) -> AdmissionRequest<T> {
    let review: AdmissionReview<T> = serde_json::from_str(body).expect("a valid review");
    assert_eq!(review.types.kind, META_KIND);
    assert_eq!(review.types.api_version, META_API_VERSION_V1);
    review.try_into().expect("a request")
}

#[test]
fn a_request_with_every_field_decodes() {
    let req: AdmissionRequest<DynamicObject> = request(SCALE_UPDATE);
    assert_eq!(req.types.kind, "AdmissionReview");
    assert_eq!(req.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_eq!(
        req.kind,
        GroupVersionKind::gvk("autoscaling", "v1", "Scale")
    );
    assert_eq!(
        req.resource,
        GroupVersionResource::gvr("apps", "v1", "deployments")
    );
    assert_eq!(req.sub_resource.as_deref(), Some("scale"));
    assert_eq!(
        req.request_kind,
        Some(GroupVersionKind::gvk("autoscaling", "v1", "Scale"))
    );
    assert_eq!(
        req.request_resource,
        Some(GroupVersionResource::gvr("apps", "v1", "deployments"))
    );
    assert_eq!(req.request_sub_resource.as_deref(), Some("scale"));
    assert_eq!(req.name, "my-deployment");
    assert_eq!(req.namespace.as_deref(), Some("my-namespace"));
    assert_eq!(req.operation, Operation::Update);
    assert_eq!(req.user_info.username.as_deref(), Some("admin"));
    assert_eq!(req.user_info.uid.as_deref(), Some("014fbff9a07c"));
    assert_eq!(
        req.user_info.groups.as_deref(),
        Some(
            &[
                "system:authenticated".to_string(),
                "my-admin-group".to_string()
            ][..]
        )
    );
    let extra = req.user_info.extra.as_ref().expect("extra");
    assert_eq!(extra["some-key"], ["some-value1", "some-value2"]);
    let replicas =
        |o: &Option<DynamicObject>| o.as_ref().map(|o| o.data["spec"]["replicas"].clone());
    assert_eq!(replicas(&req.object), Some(json!(3)));
    assert_eq!(replicas(&req.old_object), Some(json!(1)));
    assert!(!req.dry_run);
    let options = req.options.as_ref().expect("options");
    assert_eq!(options.0["kind"], "UpdateOptions");
}

#[test]
fn typed_objects_decode_and_missing_fields_default() {
    let req: AdmissionRequest<Pod> = request(POD_CREATE);
    assert_eq!(req.operation, Operation::Create);
    assert_eq!(req.name, "", "the server picks the name later");
    assert_eq!(req.sub_resource, None);
    assert_eq!(req.request_kind, None);
    assert!(req.dry_run);
    assert!(req.old_object.is_none());
    let pod = req.object.expect("the pod");
    assert_eq!(pod.labels()["app"], "web");
    let image = pod
        .spec
        .and_then(|s| s.containers.into_iter().next())
        .and_then(|c| c.image);
    assert_eq!(image.as_deref(), Some("nginx:1.27"));

    let req: AdmissionRequest<Deployment> = request(DEPLOYMENT_DELETE);
    assert_eq!(req.operation, Operation::Delete);
    assert!(req.object.is_none());
    assert_eq!(req.old_object.map(|d| d.name_any()).as_deref(), Some("web"));
    assert_eq!(
        req.options.map(|o| o.0["propagationPolicy"].clone()),
        Some(json!("Background"))
    );
}

#[test]
fn connects_carry_the_subresource_and_its_options_object() {
    let req: AdmissionRequest<DynamicObject> = request(POD_EXEC_CONNECT);
    assert_eq!(req.operation, Operation::Connect);
    assert_eq!(req.sub_resource.as_deref(), Some("exec"));
    assert_eq!(req.kind.kind, "PodExecOptions");
    let options = req.object.expect("the exec options");
    assert_eq!(options.data["command"], json!(["ls"]));
    assert!(req.options.is_none());
}

#[test]
fn a_review_without_a_request_is_answered_as_invalid() {
    let review: AdmissionReview<DynamicObject> = serde_json::from_value(json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview"
    }))
    .expect("a review");
    let err = TryInto::<AdmissionRequest<_>>::try_into(review).expect_err("no request");
    let answer =
        serde_json::to_value(AdmissionResponse::invalid(err).into_review()).expect("encodes");
    assert_eq!(
        answer,
        json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {
                "uid": "",
                "allowed": false,
                "status": {
                    "status": "Failure",
                    "message": "the AdmissionReview holds no request",
                    "reason": "InvalidRequest"
                }
            }
        })
    );
}

#[test]
fn an_allowing_answer_echoes_the_uid_and_version() {
    let req: AdmissionRequest<Pod> = request(POD_CREATE);
    let answer =
        serde_json::to_value(AdmissionResponse::from(&req).into_review()).expect("encodes");
    assert_eq!(
        answer,
        json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {"uid": "b8a5d9f2-1c3e-4a4b-9d6e-2f1a3c5e7b90", "allowed": true, "status": {}}
        })
    );
}

#[test]
fn a_denial_carries_message_and_code() {
    let req: AdmissionRequest<Pod> = request(POD_CREATE);
    let mut response = AdmissionResponse::from(&req).deny("images must come from our registry");
    response.result.code = 403;
    response.warnings = Some(vec!["nginx:1.27 is old".into()]);
    response
        .audit_annotations
        .insert("registry-policy/image".into(), "nginx:1.27".into());
    let answer = serde_json::to_value(response.into_review()).expect("encodes");
    assert_eq!(
        answer["response"],
        json!({
            "uid": "b8a5d9f2-1c3e-4a4b-9d6e-2f1a3c5e7b90",
            "allowed": false,
            "status": {"code": 403, "message": "images must come from our registry"},
            "warnings": ["nginx:1.27 is old"],
            "auditAnnotations": {"registry-policy/image": "nginx:1.27"}
        })
    );
}

#[test]
fn a_patch_is_sent_base64_encoded_with_its_type() {
    let req: AdmissionRequest<DynamicObject> = request(SCALE_UPDATE);
    let patch: json_patch::Patch =
        serde_json::from_value(json!([{"op": "add", "path": "/spec/replicas", "value": 3}]))
            .expect("a patch");
    let response = AdmissionResponse::from(&req)
        .with_patch(patch)
        .expect("encodes");
    assert_eq!(response.patch_type(), Some(PatchType::JsonPatch));
    let answer = serde_json::to_value(response.clone().into_review()).expect("encodes");
    assert_eq!(answer["response"]["patchType"], "JSONPatch");
    // The patch as JSON, base64-encoded as Kubernetes sends byte strings.
    assert_eq!(
        answer["response"]["patch"],
        "W3sib3AiOiJhZGQiLCJwYXRoIjoiL3NwZWMvcmVwbGljYXMiLCJ2YWx1ZSI6M31d"
    );
    // And back: a webhook's answer decodes to the same bytes.
    let decoded: AdmissionReview<DynamicObject> = serde_json::from_value(answer).expect("decodes");
    let decoded = decoded.response.expect("a response");
    assert_eq!(decoded.patch, response.patch);
    let bytes = decoded.patch.expect("patch bytes");
    let value: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(
        value,
        json!([{"op": "add", "path": "/spec/replicas", "value": 3}])
    );
}

#[test]
fn unknown_operations_are_refused() {
    let body = POD_CREATE.replace("\"CREATE\"", "\"PATCH\"");
    assert!(serde_json::from_str::<AdmissionReview<Pod>>(&body).is_err());
}

#[cfg(feature = "cel")]
#[test]
fn the_cel_request_keeps_what_admission_policies_see() {
    let cel = request::<DynamicObject>(SCALE_UPDATE).to_cel_request();
    assert_eq!(cel.operation, "UPDATE");
    assert_eq!(
        (cel.name.as_str(), cel.namespace.as_str()),
        ("my-deployment", "my-namespace")
    );
    assert_eq!(
        (cel.username.as_str(), cel.uid.as_str()),
        ("admin", "014fbff9a07c")
    );
    assert_eq!(cel.groups, ["system:authenticated", "my-admin-group"]);
    assert!(!cel.dry_run);
    assert_eq!(
        (
            cel.kind.group.as_str(),
            cel.kind.version.as_str(),
            cel.kind.kind.as_str()
        ),
        ("autoscaling", "v1", "Scale")
    );
    assert_eq!(cel.resource.resource, "deployments");

    let cel = request::<Pod>(POD_CREATE).to_cel_request();
    assert_eq!(cel.operation, "CREATE");
    assert_eq!((cel.name.as_str(), cel.uid.as_str()), ("", ""));
    assert!(cel.groups.is_empty() && cel.dry_run);
}
