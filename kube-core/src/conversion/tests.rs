//! Conversion reviews as the CustomResourceDefinition versioning reference
//! shows them (`apiextensions.k8s.io/v1`), decoded and answered.

use serde_json::json;

use super::*;

const REQUEST: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1",
  "kind": "ConversionReview",
  "request": {
    "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
    "desiredAPIVersion": "example.com/v1",
    "objects": [
      {
        "kind": "CronTab",
        "apiVersion": "example.com/v1beta1",
        "metadata": {"creationTimestamp": "2019-09-04T14:03:02Z", "name": "local-crontab", "resourceVersion": "143", "uid": "3415a7fc-162b-4300-b5da-fd6083580d66"},
        "hostPort": "localhost:1234"
      },
      {
        "kind": "CronTab",
        "apiVersion": "example.com/v1beta1",
        "metadata": {"creationTimestamp": "2019-09-03T13:02:01Z", "name": "remote-crontab", "resourceVersion": "12893", "uid": "359a83ec-b575-460d-b553-d859cedde8a0"},
        "hostPort": "example.com:2345"
      }
    ]
  }
}"#;

#[test]
fn a_request_decodes_with_its_objects_in_order() {
    let review: ConversionReview = serde_json::from_str(REQUEST).expect("a review");
    let request = ConversionRequest::from_review(review).expect("a request");
    assert_eq!(request.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_eq!(request.desired_api_version, "example.com/v1");
    let names: Vec<_> = request
        .objects
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["local-crontab", "remote-crontab"]);
    let types = request.types.expect("the review's types");
    assert_eq!(types.kind, META_KIND);
    assert_eq!(types.api_version, META_API_VERSION_V1);
}

#[test]
fn a_success_carries_the_converted_objects_and_the_uid() {
    let review: ConversionReview = serde_json::from_str(REQUEST).expect("a review");
    let request = ConversionRequest::try_from(review).expect("a request");
    let converted = request
        .objects
        .iter()
        .map(|o| {
            let (host, port) = o["hostPort"]
                .as_str()
                .and_then(|hp| hp.split_once(':'))
                .unwrap_or_default();
            json!({
                "kind": "CronTab",
                "apiVersion": "example.com/v1",
                "metadata": o["metadata"],
                "host": host,
                "port": port,
            })
        })
        .collect();
    let answer = ConversionResponse::for_request(request)
        .success(converted)
        .into_review();
    let answer = serde_json::to_value(&answer).expect("encodes");
    assert_eq!(answer["apiVersion"], "apiextensions.k8s.io/v1");
    assert_eq!(answer["kind"], "ConversionReview");
    assert_eq!(
        answer["response"]["uid"],
        "705ab4f5-6393-11e8-b7cc-42010a800002"
    );
    assert_eq!(answer["response"]["result"], json!({"status": "Success"}));
    assert_eq!(
        answer["response"]["convertedObjects"][1]["host"],
        "example.com"
    );
    assert!(answer.get("request").is_none());
}

#[test]
fn failures_say_why_and_null_objects_decode_as_none() {
    let review: ConversionReview = serde_json::from_str(REQUEST).expect("a review");
    let request = ConversionRequest::try_from(review).expect("a request");
    let answer = ConversionResponse::for_request(request)
        .failure(Status::failure("hostPort could not be parsed", "Invalid"))
        .into_review();
    let answer = serde_json::to_value(&answer).expect("encodes");
    assert_eq!(
        answer["response"]["result"],
        json!({"status": "Failure", "message": "hostPort could not be parsed", "reason": "Invalid"})
    );
    let failed: ConversionReview = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "ConversionReview",
        "response": {"uid": "u", "result": {"status": "Failure"}, "convertedObjects": null}
    }))
    .expect("decodes");
    assert!(
        failed
            .response
            .expect("a response")
            .converted_objects
            .is_empty()
    );
}

#[test]
fn a_review_without_request_is_refused_and_answered_as_invalid() {
    let review: ConversionReview = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "ConversionReview"
    }))
    .expect("decodes");
    let err = ConversionRequest::from_review(review).expect_err("no request");
    let answer = ConversionResponse::invalid(Status::failure(&err.to_string(), "InvalidRequest"))
        .into_review();
    assert_eq!(answer.types.kind, META_KIND);
    let response = answer.response.expect("a response");
    assert_eq!(response.uid, "");
    assert!(response.result.is_failure());
}
