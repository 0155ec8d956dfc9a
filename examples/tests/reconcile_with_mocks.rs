//! A reconciler unit-tested against a mock service, the way kube-rs users
//! test theirs: `tower_test::mock::pair()`, then `Client::new`, then each
//! request the reconciler sends is checked (method, path, body) and answered.
//!
//! This runs in milliseconds and needs no cluster; what it cannot show is that
//! the apiserver agrees with the requests. `tests/examples/controllers.rs` runs
//! the same reconciler against a real kube-apiserver for that.

use std::sync::Arc;

use examples::configmapgen::{self, ConfigMapGenerator, ConfigMapGeneratorSpec, Stats};
use http::{Method, Request, Response, StatusCode};
use kube::{Client, Resource, client::Body, runtime::controller::Action};
use serde_json::{Value, json};
use tower_test::mock::{self, Handle, SendResponse};

type MockHandle = Handle<Request<Body>, Response<Body>>;

/// A generator as the apiserver would hand it to the reconciler.
fn generator(count: u32) -> ConfigMapGenerator {
    let mut generator = ConfigMapGenerator::new(
        "greeting",
        ConfigMapGeneratorSpec {
            content: "hello".into(),
            count: Some(count),
        },
    );
    generator.meta_mut().namespace = Some("apps".into());
    generator.meta_mut().uid = Some("uid-1".into());
    generator.meta_mut().generation = Some(1);
    generator
}

/// The next request, with its body as JSON (`Null` when it has none).
async fn next_request(handle: &mut MockHandle) -> (Request<Value>, SendResponse<Response<Body>>) {
    let (request, send) = handle
        .next_request()
        .await
        .expect("the reconciler sends another request");
    let (parts, body) = request.into_parts();
    let bytes = body.collect_bytes().await.expect("an in-memory body");
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (Request::from_parts(parts, json), send)
}

fn answer(send: SendResponse<Response<Body>>, status: StatusCode, body: Value) {
    let response = Response::builder()
        .status(status)
        .body(Body::from(serde_json::to_vec(&body).expect("JSON")))
        .expect("a response");
    send.send_response(response);
}

/// Answers a request by echoing its object back, as a create or apply would.
fn echo(request: &Request<Value>, send: SendResponse<Response<Body>>) {
    answer(send, StatusCode::OK, request.body().clone());
}

#[tokio::test]
async fn a_new_generator_gets_its_config_maps_an_event_and_a_status() {
    let (service, mut handle) = mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    let context = configmapgen::context(client, Arc::new(Stats::default()));
    let reconcile = tokio::spawn(configmapgen::reconcile(Arc::new(generator(2)), context));

    // 1. It lists the ConfigMaps it made before, by label.
    let (request, send) = next_request(&mut handle).await;
    assert_eq!(request.method(), Method::GET);
    assert_eq!(request.uri().path(), "/api/v1/namespaces/apps/configmaps");
    assert_eq!(
        request.uri().query(),
        Some("labelSelector=example.com%2Fgenerator%3Dgreeting")
    );
    answer(
        send,
        StatusCode::OK,
        json!({ "apiVersion": "v1", "kind": "ConfigMapList", "metadata": {}, "items": [] }),
    );

    // 2. It applies the two ConfigMaps it wants, owned by the generator.
    for index in 0..2 {
        let (request, send) = next_request(&mut handle).await;
        assert_eq!(request.method(), Method::PATCH);
        assert_eq!(
            request.uri().path(),
            format!("/api/v1/namespaces/apps/configmaps/greeting-{index}")
        );
        assert_eq!(
            request.uri().query(),
            Some("force=true&fieldManager=configmapgen-controller")
        );
        assert_eq!(
            request.headers()["content-type"],
            "application/apply-patch+yaml"
        );
        let body = request.body();
        assert_eq!(body["data"]["content"], "hello");
        assert_eq!(body["data"]["index"], format!("{index} of 2"));
        assert_eq!(body["metadata"]["ownerReferences"][0]["uid"], "uid-1");
        echo(&request, send);
    }

    // 3. It tells what it did in one event.
    let (request, send) = next_request(&mut handle).await;
    assert_eq!(request.method(), Method::POST);
    assert_eq!(
        request.uri().path(),
        "/apis/events.k8s.io/v1/namespaces/apps/events"
    );
    assert_eq!(request.body()["reason"], "Created");
    assert_eq!(
        request.body()["note"],
        "created ConfigMaps greeting-0, greeting-1"
    );
    echo(&request, send);

    // 4. It records the ConfigMaps in the generator's status.
    let (request, send) = next_request(&mut handle).await;
    assert_eq!(request.method(), Method::PATCH);
    assert_eq!(
        request.uri().path(),
        "/apis/example.com/v1/namespaces/apps/configmapgenerators/greeting/status"
    );
    assert_eq!(
        request.body()["status"]["configMaps"],
        json!(["greeting-0", "greeting-1"])
    );
    assert_eq!(request.body()["status"]["observedGeneration"], 1);
    let mut updated = serde_json::to_value(generator(2)).expect("JSON");
    updated["status"] = request.body()["status"].clone();
    answer(send, StatusCode::OK, updated);

    let action = reconcile
        .await
        .expect("the reconcile ran")
        .expect("the reconcile succeeded");
    assert_eq!(action, Action::requeue(std::time::Duration::from_secs(300)));
}

#[tokio::test]
async fn a_refused_list_fails_the_reconcile_with_the_apiserver_status() {
    let (service, mut handle) = mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    let context = configmapgen::context(client, Arc::new(Stats::default()));
    let reconcile = tokio::spawn(configmapgen::reconcile(Arc::new(generator(1)), context));

    let (request, send) = next_request(&mut handle).await;
    assert_eq!(request.method(), Method::GET);
    answer(
        send,
        StatusCode::FORBIDDEN,
        json!({
            "apiVersion": "v1", "kind": "Status", "status": "Failure", "code": 403,
            "reason": "Forbidden",
            "message": "configmaps is forbidden: User \"operator\" cannot list resource \"configmaps\"",
        }),
    );

    let err = reconcile
        .await
        .expect("the reconcile ran")
        .expect_err("the list was refused");
    let text = err.to_string();
    assert!(
        text.contains("listing the ConfigMaps of apps/greeting"),
        "{text}"
    );
    assert!(text.contains("forbidden"), "{text}");
}
