//! The probe server over a controller against the real apiserver:
//! `/readyz` answers 503 until the controller has listed what it watches
//! (and, with leader election, while standing by unless asked otherwise),
//! `/healthz` answers 200, and `/metrics` lists the controller's metrics.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube_client::Api;
use kube_runtime::{
    Controller,
    controller::{Action, Synced},
    leader_election::LeaderElector,
    metrics::Metrics,
    probes::{ProbeServer, Probes, Standby},
    watcher,
};
use kube_test::faults::{Fault, FaultRule, Match};
use prometheus_client::registry::Registry;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::common::{Background, OURS, client_in_fresh_namespace, create, eventually, within};

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

/// `GET path` from the server at `addr`: the status code and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    within(&format!("GET {path}"), async {
        let mut stream = TcpStream::connect(addr).await.expect("connected");
        let request = format!("GET {path} HTTP/1.1\r\nhost: probes\r\nconnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("sent");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .await
            .expect("an answer");
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {response:?}"));
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        (status, body)
    })
    .await
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Serves `registry` and the readiness of `controller` on a free port, and
/// runs the controller (reconciling every object successfully) until the
/// returned guard is dropped.
async fn serve_and_run(
    controller: Controller<ConfigMap>,
    registry: Registry,
) -> (ProbeServer, Background) {
    let probes = Probes::new()
        .metrics(registry)
        .ready_when_synced(controller.synced())
        .serve(any_port())
        .await
        .expect("the server starts");
    let running = Background::drive(controller.run(
        |_: Arc<ConfigMap>, _: Arc<()>| async { Ok::<_, Never>(Action::await_change()) },
        |_, _, _| Action::await_change(),
        Arc::new(()),
    ));
    (probes, running)
}

#[tokio::test]
async fn readyz_waits_until_every_watch_of_the_controller_has_listed() {
    let (proxy, direct, ns) = crate::common::proxy_and_fresh_namespace().await;
    create(&Api::namespaced(direct, &ns), "a", "v").await;
    // Every list of Secrets (the owned children) fails until cleared.
    proxy.inject(FaultRule::new(
        Match::lists().path_contains("secrets"),
        Fault::internal_error(),
    ));
    let client = proxy.client().expect("a proxy client");
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let controller = Controller::new(
        Api::<ConfigMap>::namespaced(client.clone(), &ns),
        watcher::Config::default().labels(OURS),
    )
    .owns(
        Api::<Secret>::namespaced(client, &ns),
        watcher::Config::default(),
    )
    .with_metrics(metrics)
    .named("probed");
    let (probes, _controller) = serve_and_run(controller, registry).await;
    let addr = probes.local_addr();

    assert_eq!(get(addr, "/healthz").await, (200, "ok\n".into()));
    // The ConfigMaps are listed and reconciled; the Secrets are not listed.
    eventually("the ConfigMap to be reconciled", || async {
        let (_, body) = get(addr, "/metrics").await;
        body.contains(
            r#"controller_runtime_reconcile_total{controller="probed",result="success"} 1"#,
        )
        .then_some(())
    })
    .await;
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("have not listed"), "{body}");

    proxy.clear();
    eventually("/readyz to answer 200", || async {
        (get(addr, "/readyz").await.0 == 200).then_some(())
    })
    .await;
}

#[tokio::test]
async fn metrics_lists_every_controller_metric_with_its_labels() {
    let (client, ns) = client_in_fresh_namespace().await;
    create(&Api::namespaced(client.clone(), &ns), "a", "v").await;
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let elector =
        LeaderElector::new(client.clone(), &ns, "probes-lock", "me").with_metrics(metrics.clone());
    let controller = Controller::new(
        Api::<ConfigMap>::namespaced(client, &ns),
        watcher::Config::default().labels(OURS),
    )
    .with_metrics(metrics);
    let (probes, _controller) = serve_and_run(controller, registry).await;
    let _elector = tokio::spawn(async move { elector.run(futures::future::pending::<()>()).await });
    let body = eventually("a reconcile and leadership", || async {
        let (_, body) = get(probes.local_addr(), "/metrics").await;
        let done = body.contains(
            r#"controller_runtime_reconcile_total{controller="configmap",result="success"} 1"#,
        ) && body.contains(r#"leader_election_master_status{name="probes-lock"} 1"#);
        done.then_some(body)
    })
    .await;
    for series in [
        r#"controller_runtime_reconcile_total{controller="configmap",result="error"} 0"#,
        r#"controller_runtime_reconcile_total{controller="configmap",result="requeue"} 0"#,
        r#"controller_runtime_reconcile_total{controller="configmap",result="requeue_after"} 0"#,
        r#"controller_runtime_reconcile_errors_total{controller="configmap"} 0"#,
        r#"controller_runtime_terminal_reconcile_errors_total{controller="configmap"} 0"#,
        r#"controller_runtime_reconcile_panics_total{controller="configmap"} 0"#,
        r#"controller_runtime_reconcile_time_seconds_count{controller="configmap"} 1"#,
        r#"controller_runtime_max_concurrent_reconciles{controller="configmap"} "#,
        r#"controller_runtime_active_workers{controller="configmap"} 0"#,
        r#"workqueue_depth{controller="configmap",name="configmap"} 0"#,
        r#"workqueue_adds_total{controller="configmap",name="configmap"} 1"#,
        r#"workqueue_queue_duration_seconds_count{controller="configmap",name="configmap"} 1"#,
        r#"workqueue_work_duration_seconds_count{controller="configmap",name="configmap"} 1"#,
        r#"workqueue_unfinished_work_seconds{controller="configmap",name="configmap"} 0"#,
        r#"workqueue_longest_running_processor_seconds{controller="configmap",name="configmap"} 0"#,
        r#"workqueue_retries_total{controller="configmap",name="configmap"} 0"#,
        r#"watcher_restarts_total{controller="configmap"} 0"#,
    ] {
        assert!(body.contains(series), "missing {series:?} in:\n{body}");
    }
}

#[tokio::test]
async fn with_leader_election_a_standby_is_ready_only_when_asked_to_be() {
    let (client, ns) = client_in_fresh_namespace().await;
    let elector = |identity: &str| {
        LeaderElector::new(client.clone(), &ns, "standby-lock", identity)
            .lease_duration(Duration::from_secs(4))
            .renew_deadline(Duration::from_secs(3))
            .retry_period(Duration::from_millis(500))
    };
    let (leader, standby) = (elector("leader"), elector("standby"));
    let _leading = tokio::spawn({
        let leader = leader.clone();
        async move { leader.run(futures::future::pending::<()>()).await }
    });
    within("the first replica to lead", async {
        while !leader.is_leader() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let _standing_by = tokio::spawn({
        let standby = standby.clone();
        async move { standby.run(futures::future::pending::<()>()).await }
    });

    // The leader's controller has synced: it is ready either way.
    let synced_leader = Synced::new();
    let controller = Controller::new(
        Api::<ConfigMap>::namespaced(client.clone(), &ns),
        watcher::Config::default().labels(OURS),
    )
    .with_synced(synced_leader.clone());
    let _controller = Background::drive(controller.run(
        |_: Arc<ConfigMap>, _: Arc<()>| async { Ok::<_, Never>(Action::await_change()) },
        |_, _, _| Action::await_change(),
        Arc::new(()),
    ));
    let leader_probes = Probes::new()
        .ready_when_synced(synced_leader)
        .leader_election(leader, Standby::NotReady)
        .serve(any_port())
        .await
        .expect("the server starts");
    eventually("the leader to be ready", || async {
        (get(leader_probes.local_addr(), "/readyz").await.0 == 200).then_some(())
    })
    .await;

    // The standby runs no controller: its Synced never syncs.
    let strict = Probes::new()
        .ready_when_synced(Synced::new())
        .leader_election(standby.clone(), Standby::NotReady)
        .serve(any_port())
        .await
        .expect("the server starts");
    let relaxed = Probes::new()
        .ready_when_synced(Synced::new())
        .leader_election(standby, Standby::Ready)
        .serve(any_port())
        .await
        .expect("the server starts");
    let (status, body) = get(strict.local_addr(), "/readyz").await;
    assert_eq!(status, 503);
    assert!(body.contains("standby is standing by"), "{body}");
    assert_eq!(get(relaxed.local_addr(), "/readyz").await.0, 200);
}
