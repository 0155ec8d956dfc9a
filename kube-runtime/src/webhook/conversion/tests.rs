use std::time::Duration;

use serde_json::{Value, json};

use super::*;

const UID: &str = "c1d2e3f4-0000-4000-8000-000000000001";

fn review(objects: Value) -> Bytes {
    let body = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "ConversionReview",
        "request": {
            "uid": UID,
            "desiredAPIVersion": "example.com/v2",
            "objects": objects,
        }
    });
    Bytes::from(body.to_string())
}

fn widget(version: &str, name: &str) -> Value {
    json!({"apiVersion": format!("example.com/{version}"), "kind": "Widget", "metadata": {"name": name}})
}

async fn ask(endpoint: &impl Endpoint, body: Bytes) -> (StatusCode, ConversionResponse) {
    let reply = endpoint.answer(body, Duration::from_secs(5)).await;
    let review: ConversionReview = serde_json::from_slice(&reply.body).expect("a ConversionReview");
    assert_eq!(review.types.api_version, "apiextensions.k8s.io/v1");
    assert_eq!(review.types.kind, "ConversionReview");
    (reply.status, review.response.expect("a response"))
}

async fn relabel(request: ConversionRequest) -> ConversionResponse {
    let version = request.desired_api_version.clone();
    let objects = request
        .objects
        .iter()
        .cloned()
        .map(|mut object| {
            object["apiVersion"] = version.clone().into();
            object
        })
        .collect();
    ConversionResponse::for_request(request).success(objects)
}

#[tokio::test]
async fn converted_objects_are_sent_back_with_the_uid() {
    let endpoint = Conversion::new(relabel);
    let (status, response) = ask(
        &endpoint,
        review(json!([widget("v1", "a"), widget("v1", "b")])),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response.uid, UID);
    assert_eq!(response.result.status, Some(StatusSummary::Success));
    assert_eq!(
        response.converted_objects,
        [widget("v2", "a"), widget("v2", "b")]
    );
}

#[tokio::test]
async fn a_success_that_lost_objects_is_sent_as_a_failure() {
    let endpoint = Conversion::new(|request: ConversionRequest| async move {
        ConversionResponse::for_request(request).success(Vec::new())
    });
    let (status, response) = ask(&endpoint, review(json!([widget("v1", "a")]))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response.uid, UID);
    assert_eq!(response.result.status, Some(StatusSummary::Failure));
    assert!(
        response.result.message.contains("converted 0 objects of 1"),
        "{}",
        response.result.message
    );
}

#[tokio::test]
async fn a_handlers_failure_is_passed_on() {
    let endpoint = Conversion::new(|request: ConversionRequest| async move {
        ConversionResponse::for_request(request)
            .failure(Status::failure("v1 widgets need a size", "Invalid"))
    });
    let (_, response) = ask(&endpoint, review(json!([widget("v1", "a")]))).await;
    assert_eq!(response.uid, UID);
    assert_eq!(response.result.status, Some(StatusSummary::Failure));
    assert_eq!(response.result.message, "v1 widgets need a size");
}

#[tokio::test(start_paused = true)]
async fn a_handler_that_takes_too_long_is_answered_for() {
    let endpoint = Conversion::new(|request: ConversionRequest| async move {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        ConversionResponse::for_request(request)
    });
    let (status, response) = ask(&endpoint, review(json!([]))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response.uid, UID);
    assert_eq!(response.result.code, 504);
    assert_eq!(response.result.status, Some(StatusSummary::Failure));
}

#[tokio::test]
async fn malformed_reviews_get_a_400_naming_the_problem() {
    let endpoint = Conversion::new(relabel);
    let cases: [(&[u8], &str); 3] = [
        (b"[]", "does not decode"),
        (
            br#"{"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview"}"#,
            "holds no request",
        ),
        (
            br#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}"#,
            "not admission.k8s.io/v1 AdmissionReview",
        ),
    ];
    for (body, problem) in cases {
        let (status, response) = ask(&endpoint, Bytes::from_static(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(response.result.code, 400);
        assert_eq!(response.result.status, Some(StatusSummary::Failure));
        assert!(
            response.result.message.contains(problem),
            "{problem}: {}",
            response.result.message
        );
    }
}

#[tokio::test]
async fn a_request_missing_a_field_is_refused_with_its_uid() {
    let endpoint = Conversion::new(relabel);
    let body = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "ConversionReview",
        "request": {"uid": UID, "objects": []},
    });
    let (status, response) = ask(&endpoint, Bytes::from(body.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response.uid, UID);
    assert_eq!(response.result.code, 400);
    assert!(
        response.result.message.contains("desiredAPIVersion"),
        "{}",
        response.result.message
    );
}
