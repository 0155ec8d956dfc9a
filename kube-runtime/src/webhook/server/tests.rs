use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;
use tokio::sync::oneshot;

use super::*;
use crate::webhook::testing::Authority;

/// Generous: the machine running the tests may be busy.
const DEADLINE: Duration = Duration::from_secs(30);

/// A server with one validating webhook at `/validate` allowing everything,
/// on a loopback port; stops when the sender is dropped.
async fn start(
    certs: CertWatcher,
) -> (
    u16,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), Error>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = Server::new(certs).validating(
        "validate",
        |request: AdmissionRequest<ConfigMap>| async move { AdmissionResponse::from(&request) },
    );
    let task = tokio::spawn(server.serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));
    (port, stop, task)
}

fn review() -> Vec<u8> {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u-1",
            "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
            "operation": "CREATE",
            "userInfo": {},
            "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
        }
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn reviews_are_answered_over_tls_and_malformed_ones_get_a_400() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let authority = Authority::new("ca");
    let (cert, key) = authority.issue(dir.path(), "tls", SystemTime::now());
    let (port, _stop, _task) = start(CertWatcher::new(&cert, &key).expect("loads")).await;

    let head = "POST /validate HTTP/1.1\r\nContent-Type: application/json";
    let (status, answer) = authority.request(port, head, &review()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["response"]["uid"], "u-1");
    assert_eq!(answer["response"]["allowed"], true);

    let (status, answer) = authority.request(port, head, b"{\"apiVersion\": 3").await;
    assert_eq!(status, 400, "{answer}");
    let message = answer["response"]["status"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("does not decode"), "{answer}");
}

#[tokio::test]
async fn a_rotated_certificate_is_served_after_the_next_poll() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (old, new) = (Authority::new("old ca"), Authority::new("new ca"));
    let (cert, key) = old.issue(dir.path(), "tls", SystemTime::now());
    let certs = CertWatcher::new(&cert, &key)
        .expect("loads")
        .poll_interval(Duration::from_millis(50));
    let (port, _stop, _task) = start(certs).await;
    assert!(old.trusted_by(port).await);
    assert!(!new.trusted_by(port).await);

    new.issue(
        dir.path(),
        "tls",
        SystemTime::now() + Duration::from_secs(5),
    );
    tokio::time::timeout(DEADLINE, async {
        while !new.trusted_by(port).await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the new certificate was served in time");
    assert!(!old.trusted_by(port).await, "the old certificate is gone");
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let authority = Authority::new("ca");
    let (cert, key) = authority.issue(dir.path(), "tls", SystemTime::now());
    let (port, stop, task) = start(CertWatcher::new(&cert, &key).expect("loads")).await;
    assert!(authority.trusted_by(port).await);
    drop(stop);
    let stopped = tokio::time::timeout(DEADLINE, task)
        .await
        .expect("stopped in time");
    assert!(matches!(stopped, Ok(Ok(()))));
    assert!(
        TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "no longer listening"
    );
}
