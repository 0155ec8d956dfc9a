//! `just operator`'s program, run as a process against kube-apiserver: it
//! answers `/healthz` and `/readyz` with 200 once it leads and has synced,
//! `/metrics` lists every metric of controller-runtime, client-go and leader
//! election with its labels, and SIGTERM stops it cleanly.

use std::{process::Stdio, time::Duration};

use examples::{
    configmapgen::{ConfigMapGenerator, ConfigMapGeneratorSpec},
    operator::LEASE,
};
use kube::{Api, api::PostParams};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::{common::within, controllers::http_get};

/// The operator process, killed if the test fails before stopping it.
struct Operator(Child);

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

/// The value of the first sample starting with `series` (its name and, if
/// given, the start of its labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| line.starts_with(series))
        .find_map(|line| line.rsplit_once(' ')?.1.parse().ok())
}

#[tokio::test]
async fn the_operator_serves_probes_and_every_metric_and_stops_on_sigterm() {
    let env = kube_test::TestEnv::start()
        .await
        .expect("the kube-test control plane must start");
    let ns = env.fresh_namespace().await.expect("a fresh namespace");
    let mut child = Command::new(env!("CARGO_BIN_EXE_operator"))
        .arg("--kubeconfig")
        .arg(env.kubeconfig_path())
        .args(["--namespace", &ns, "--probes-addr", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .env_remove("KUBECONFIG")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the operator starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let operator = Operator(child);
    let mut lines = BufReader::new(stdout).lines();
    let address: std::net::SocketAddr = within("the operator to print its probe address", async {
        loop {
            let line = lines
                .next_line()
                .await
                .expect("readable output")
                .expect("the operator printed its probe address before exiting");
            if let Some(address) = line.strip_prefix("probes: http://") {
                break address.parse().expect("an address");
            }
        }
    })
    .await;
    // Keep reading, so the operator never blocks on a full pipe.
    let drain = tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    assert!(
        http_get(address, "/healthz")
            .await
            .starts_with("HTTP/1.1 200")
    );
    within("/readyz to answer 200", async {
        while !http_get(address, "/readyz")
            .await
            .starts_with("HTTP/1.1 200")
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;

    let client = env.client().await.expect("a client");
    let generators: Api<ConfigMapGenerator> = Api::namespaced(client, &ns);
    let hello = ConfigMapGenerator::new(
        "hello",
        ConfigMapGeneratorSpec {
            content: "hello".into(),
            count: Some(2),
        },
    );
    generators
        .create(&PostParams::default(), &hello)
        .await
        .expect("created");
    let controller = r#"controller="configmapgenerator""#;
    let queue = r#"controller="configmapgenerator",name="configmapgenerator""#;
    let reconciled =
        format!(r#"controller_runtime_reconcile_total{{{controller},result="requeue_after"}}"#);
    let metrics = within("a reconcile to be counted", async {
        loop {
            let metrics = http_get(address, "/metrics").await;
            if sample(&metrics, &reconciled).is_some_and(|n| n >= 1.0) {
                break metrics;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        metrics.contains("content-type: text/plain; version=0.0.4"),
        "{metrics}"
    );
    let mut expected: Vec<String> = ["success", "error", "requeue", "requeue_after"]
        .iter()
        .map(|result| {
            format!(r#"controller_runtime_reconcile_total{{{controller},result="{result}"}}"#)
        })
        .collect();
    for name in [
        "controller_runtime_reconcile_errors_total",
        "controller_runtime_terminal_reconcile_errors_total",
        "controller_runtime_reconcile_panics_total",
        "controller_runtime_reconcile_time_seconds_count",
        "controller_runtime_max_concurrent_reconciles",
        "controller_runtime_active_workers",
        "watcher_restarts_total",
    ] {
        expected.push(format!("{name}{{{controller}}}"));
    }
    expected.push(format!(
        r#"controller_runtime_reconcile_time_seconds_bucket{{{controller},le="0.005"}}"#
    ));
    for name in [
        "workqueue_depth",
        "workqueue_adds_total",
        "workqueue_queue_duration_seconds_count",
        "workqueue_work_duration_seconds_count",
        "workqueue_unfinished_work_seconds",
        "workqueue_longest_running_processor_seconds",
        "workqueue_retries_total",
    ] {
        expected.push(format!("{name}{{{queue}}}"));
    }
    expected.push(format!(
        r#"workqueue_queue_duration_seconds_bucket{{{queue},le="1e-08"}}"#
    ));
    expected.push(format!(
        r#"leader_election_master_status{{name="{LEASE}"}} 1"#
    ));
    let host = env
        .server_url()
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string();
    expected.push(format!(
        r#"rest_client_requests_total{{code="200",method="GET",host="{host}"}}"#
    ));
    expected.push(format!(
        r#"rest_client_requests_total{{code="201",method="POST",host="{host}"}}"#
    ));
    expected.push(format!(
        r#"rest_client_request_duration_seconds_bucket{{verb="GET",host="{host}",le="0.005"}}"#
    ));
    for series in &expected {
        assert!(
            metrics.contains(series.as_str()),
            "missing {series:?} in:\n{metrics}"
        );
    }

    let pid = operator.0.id().expect("running").to_string();
    let signalled = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill runs");
    assert!(signalled.success());
    let mut operator = operator;
    let status = within("the operator to stop", operator.0.wait())
        .await
        .expect("the exit status");
    assert!(status.success(), "the operator stopped with {status}");
    drain.abort();
}
