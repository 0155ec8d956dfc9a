use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::core::ResourceExt;
use serde_json::{Value, json};

use super::*;

const UID: &str = "0a8c5d1e-7f42-4b3a-9e61-2d5f8c3b1a07";

/// An `admission.k8s.io/v1` review of `operation` on a ConfigMap.
fn review(operation: &str, object: Value) -> Bytes {
    let body = json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": UID,
            "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
            "name": "settings",
            "namespace": "shop",
            "operation": operation,
            "userInfo": {"username": "alice"},
            "object": object,
            "oldObject": null,
        }
    });
    Bytes::from(body.to_string())
}

fn config_map(labels: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop", "labels": labels},
        "data": {"mode": "fast"},
    })
}

/// The HTTP status, and the response of the review answered.
async fn ask(endpoint: &impl Endpoint, body: Bytes) -> (StatusCode, AdmissionResponse) {
    let reply = endpoint.answer(body, Duration::from_secs(5)).await;
    let review: AdmissionReview<DynamicObject> =
        serde_json::from_slice(&reply.body).expect("an AdmissionReview");
    assert_eq!(review.types.api_version, "admission.k8s.io/v1");
    assert_eq!(review.types.kind, "AdmissionReview");
    (reply.status, review.response.expect("a response"))
}

fn validating<F, Fut>(handler: F) -> Admission<ConfigMap, F, AdmissionResponse>
where
    F: Fn(AdmissionRequest<ConfigMap>) -> Fut,
{
    Admission::new(handler)
}

fn mutating<F, Fut>(handler: F) -> Admission<ConfigMap, F, Mutation<ConfigMap>>
where
    F: Fn(AdmissionRequest<ConfigMap>) -> Fut,
{
    Admission::new(handler)
}

async fn deny_unlabelled(request: AdmissionRequest<ConfigMap>) -> AdmissionResponse {
    let response = AdmissionResponse::from(&request);
    match &request.object {
        Some(cm) if cm.labels().contains_key("team") => response,
        _ => response.deny("a ConfigMap needs a team label"),
    }
}

async fn add_label(request: AdmissionRequest<ConfigMap>) -> Mutation<ConfigMap> {
    match request.object {
        Some(mut cm) => {
            cm.labels_mut()
                .insert("example.com/admitted".into(), "yes".into());
            Mutation::Object(cm)
        }
        None => Mutation::Unchanged,
    }
}

/// The JSON Patch a response carries.
fn patch_of(response: &AdmissionResponse) -> Value {
    let patch = response.patch.as_ref().expect("a patch");
    serde_json::from_slice(patch).expect("a JSON patch")
}

#[tokio::test]
async fn a_validating_handler_decides_and_the_answer_carries_the_uid() {
    let endpoint = validating(deny_unlabelled);
    let (status, allowed) = ask(
        &endpoint,
        review("CREATE", config_map(json!({"team": "a"}))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(allowed.allowed);
    assert_eq!(allowed.uid, UID);

    let (status, denied) = ask(&endpoint, review("CREATE", config_map(json!({})))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!denied.allowed);
    assert_eq!(denied.uid, UID);
    assert_eq!(denied.result.message, "a ConfigMap needs a team label");
}

#[tokio::test]
async fn the_uid_is_the_requests_whatever_the_handler_answers() {
    let endpoint = validating(|_request| async { AdmissionResponse::invalid("made up") });
    let (_, response) = ask(&endpoint, review("CREATE", config_map(json!({})))).await;
    assert_eq!(response.uid, UID);
    assert_eq!(response.result.message, "made up");
}

#[tokio::test]
async fn a_returned_object_becomes_the_json_patch_that_makes_it() {
    let endpoint = mutating(add_label);
    let original = config_map(json!({"team": "a"}));
    let (status, response) = ask(&endpoint, review("CREATE", original.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(response.allowed);
    assert_eq!(
        response.patch_type(),
        Some(kube_client::core::admission::PatchType::JsonPatch)
    );
    let patch = patch_of(&response);
    // A `/` in a label key is escaped as `~1` in the JSON pointer.
    assert_eq!(
        patch,
        json!([{"op": "add", "path": "/metadata/labels/example.com~1admitted", "value": "yes"}])
    );
    let mut patched = original;
    let patch: json_patch::Patch = serde_json::from_value(patch).expect("a patch");
    json_patch::patch(&mut patched, &patch).expect("the patch applies");
    assert_eq!(patched["metadata"]["labels"]["example.com/admitted"], "yes");
    assert_eq!(patched["metadata"]["labels"]["team"], "a");
}

#[tokio::test]
async fn fields_the_type_does_not_know_are_not_patched_away() {
    let endpoint = mutating(add_label);
    let mut original = config_map(json!({}));
    original["futureField"] = json!({"kept": true});
    original["metadata"]["futureMeta"] = json!("kept");
    let (_, response) = ask(&endpoint, review("CREATE", original)).await;
    let patch = patch_of(&response);
    let ops = patch.as_array().expect("a list of operations");
    assert_eq!(ops.len(), 1, "only the label is added: {patch}");
    assert_eq!(ops[0]["op"], "add");
}

#[tokio::test]
async fn an_unchanged_object_sends_no_patch() {
    let endpoint = mutating(|request: AdmissionRequest<ConfigMap>| async move {
        request.object.map_or(Mutation::Unchanged, Mutation::Object)
    });
    let (_, response) = ask(&endpoint, review("CREATE", config_map(json!({})))).await;
    assert!(response.allowed);
    assert_eq!(response.patch, None);
    assert_eq!(response.patch_type(), None);
}

#[tokio::test]
async fn a_returned_patch_is_sent_as_it_is() {
    let ops = json!([{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}]);
    let given: json_patch::Patch = serde_json::from_value(ops.clone()).expect("a patch");
    let endpoint = mutating(move |_request| {
        let patch = given.clone();
        async move { Mutation::Patch(patch) }
    });
    let (_, response) = ask(&endpoint, review("CREATE", config_map(json!({})))).await;
    assert_eq!(patch_of(&response), ops);
}

#[tokio::test]
async fn a_mutation_can_deny() {
    let endpoint = mutating(|_request| async { Mutation::Deny("not today".into()) });
    let (status, response) = ask(&endpoint, review("CREATE", config_map(json!({})))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!response.allowed);
    assert_eq!(response.result.message, "not today");
}

#[tokio::test]
async fn an_object_returned_for_a_delete_is_an_error_not_a_patch() {
    let object = serde_json::from_value::<ConfigMap>(config_map(json!({}))).expect("a ConfigMap");
    let endpoint = mutating(move |_request| {
        let object = object.clone();
        async move { Mutation::Object(object) }
    });
    let (status, response) = ask(&endpoint, review("DELETE", Value::Null)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!response.allowed);
    assert_eq!(response.result.code, 500);
    assert!(
        response.result.message.contains("nothing to patch"),
        "{}",
        response.result.message
    );
}

#[tokio::test(start_paused = true)]
async fn a_handler_that_takes_too_long_is_answered_for() {
    let endpoint = mutating(|_request| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Mutation::Unchanged
    });
    let (status, response) = ask(&endpoint, review("CREATE", config_map(json!({})))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!response.allowed);
    assert_eq!(response.uid, UID);
    assert_eq!(response.result.code, 504);
    assert!(
        response.result.message.contains("did not answer within 5s"),
        "{}",
        response.result.message
    );
}

#[tokio::test]
async fn a_handler_that_panics_is_answered_for() {
    let endpoint = validating(|request: AdmissionRequest<ConfigMap>| async move {
        let data = request.object.and_then(|cm| cm.data).unwrap_or_default();
        let Some(missing) = data.get("missing") else {
            panic!("this handler panics on every ConfigMap without the key `missing`");
        };
        AdmissionResponse::invalid(missing)
    });
    let (status, response) = ask(&endpoint, review("CREATE", config_map(json!({})))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!response.allowed);
    assert_eq!(response.result.code, 500);
    assert!(response.result.message.contains("panicked"));
}

#[tokio::test]
async fn malformed_reviews_get_a_400_naming_the_problem() {
    let endpoint = validating(deny_unlabelled);
    let cases: [(&[u8], &str); 4] = [
        (b"{not json", "does not decode"),
        (
            br#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}"#,
            "holds no request",
        ),
        (
            br#"{"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "request": null}"#,
            "not apiextensions.k8s.io/v1 ConversionReview",
        ),
        (
            br#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": 5}}"#,
            "invalid type",
        ),
    ];
    for (body, problem) in cases {
        let (status, response) = ask(&endpoint, Bytes::from_static(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert!(!response.allowed);
        assert_eq!(response.result.code, 400);
        assert!(
            response.result.message.contains(problem),
            "{problem}: {}",
            response.result.message
        );
    }
}

#[tokio::test]
async fn an_object_of_another_type_is_denied_with_the_uid_so_the_user_reads_why() {
    let endpoint = validating(deny_unlabelled);
    let mut body: Value =
        serde_json::from_slice(&review("CREATE", config_map(json!({})))).expect("JSON");
    body["request"]["object"]["data"] = json!(["not", "a", "map"]);
    let (status, response) = ask(&endpoint, Bytes::from(body.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response.uid, UID);
    assert!(!response.allowed);
    assert_eq!(response.result.code, 400);
    assert!(
        response.result.message.contains("ConfigMap"),
        "{}",
        response.result.message
    );
}

#[tokio::test]
async fn refusals_before_decoding_are_admission_reviews_with_the_status() {
    let endpoint = validating(deny_unlabelled);
    let reply = endpoint.refuse(StatusCode::PAYLOAD_TOO_LARGE, "too big".into());
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let review: AdmissionReview<DynamicObject> =
        serde_json::from_slice(&reply.body).expect("an AdmissionReview");
    let response = review.response.expect("a response");
    assert_eq!(response.result.code, 413);
    assert_eq!(response.result.message, "too big");
}
