//! Controller metrics after a run against the real apiserver: the
//! prometheus-client text encoding holds reconcile counts by result, the
//! duration histogram, errors, queue depth, active workers and watcher
//! restarts, with the values the run implies.

use std::{sync::Arc, time::Duration};

use futures::channel::mpsc;
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::Api;
use kube_runtime::{Controller, controller::Action, metrics::Metrics, watcher};
use kube_test::faults::{Fault, FaultRule, Match};
use prometheus_client::registry::Registry;
use tokio::sync::Semaphore;

use crate::common::{Background, OURS, create, eventually, next, value_of};

#[derive(Debug, thiserror::Error)]
#[error("told to fail")]
struct ToldToFail;

struct Context {
    /// Where the slow reconcile says it started.
    started: mpsc::UnboundedSender<()>,
    /// What the slow reconcile waits for.
    gate: Semaphore,
}

/// Succeeds, fails for objects whose value is `fail`, and waits at the gate
/// for objects whose value is `slow`.
async fn reconcile(cm: Arc<ConfigMap>, ctx: Arc<Context>) -> Result<Action, ToldToFail> {
    match value_of(&cm) {
        Some("fail") => Err(ToldToFail),
        Some("slow") => {
            let _ = ctx.started.unbounded_send(());
            let _permit = ctx.gate.acquire().await.expect("the gate stays open");
            Ok(Action::await_change())
        }
        _ => Ok(Action::await_change()),
    }
}

/// The value of the sample `series` (name and labels, exactly as encoded).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

fn encode(registry: &Registry) -> String {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry).expect("encodable");
    text
}

#[tokio::test]
async fn metrics_count_a_controller_run_against_the_apiserver() {
    let (proxy, direct, ns) = crate::common::proxy_and_fresh_namespace().await;
    let direct: Api<ConfigMap> = Api::namespaced(direct, &ns);
    for (name, value) in [("a", "ok"), ("b", "ok"), ("c", "ok"), ("bad", "fail")] {
        create(&direct, name, value).await;
    }
    create(&direct, "slow", "slow").await;
    // The controller's first two watches fail to start.
    proxy.inject(FaultRule::new(Match::watches(), Fault::internal_error()).times(2));

    let mut registry = Registry::with_prefix("e2e");
    let metrics = Metrics::new(&mut registry);
    let (started, mut slow_started) = mpsc::unbounded();
    let ctx = Arc::new(Context {
        started,
        gate: Semaphore::new(0),
    });
    let controller = Controller::new(
        Api::<ConfigMap>::namespaced(proxy.client().expect("a proxy client"), &ns),
        watcher::Config::default().labels(OURS),
    )
    .with_metrics(metrics)
    .run(
        reconcile,
        |_, _, _| Action::requeue(Duration::from_secs(3600)),
        ctx.clone(),
    );
    let _controller = Background::drive(controller);

    next("the slow reconcile to start", &mut slow_started).await;
    let held = tokio::time::Instant::now();
    // While the slow reconcile waits, the others finish: it is the one
    // worker left.
    let during = eventually("the other reconciles to finish", || async {
        let text = encode(&registry);
        let settled = sample(&text, "e2e_reconciles_total{result=\"success\"}") == Some(3.0)
            && sample(&text, "e2e_reconciles_total{result=\"error\"}") == Some(1.0)
            && sample(&text, "e2e_active_workers") == Some(1.0);
        settled.then_some(text)
    })
    .await;
    let held = held.elapsed();
    ctx.gate.add_permits(1);
    assert_eq!(
        sample(&during, "e2e_reconcile_duration_seconds_count"),
        Some(4.0),
        "the running reconcile has no duration yet"
    );

    // Once everything has run: four successes, one failure (retried only in
    // an hour, so it waits in the queue), two failed watches, nobody working.
    let text = eventually("the metrics of the whole run", || async {
        let text = encode(&registry);
        let settled = sample(&text, "e2e_reconciles_total{result=\"success\"}") == Some(4.0)
            && sample(&text, "e2e_reconciles_total{result=\"error\"}") == Some(1.0)
            && sample(&text, "e2e_watcher_restarts_total") == Some(2.0)
            && sample(&text, "e2e_active_workers") == Some(0.0)
            && sample(&text, "e2e_queue_depth") == Some(1.0);
        settled.then_some(text)
    })
    .await;
    eprintln!("{text}");
    assert_eq!(sample(&text, "e2e_reconcile_errors_total"), Some(1.0));
    assert_eq!(
        sample(&text, "e2e_reconcile_duration_seconds_count"),
        Some(5.0),
        "one duration per finished reconcile"
    );
    let total = sample(&text, "e2e_reconcile_duration_seconds_sum").expect("a sum");
    assert!(
        total >= held.as_secs_f64(),
        "the durations ({total} s) include the slow reconcile's wait ({held:?})"
    );
    assert_eq!(
        sample(&text, "e2e_reconcile_duration_seconds_bucket{le=\"+Inf\"}"),
        Some(5.0)
    );
    for family in [
        "# TYPE e2e_reconciles counter",
        "# TYPE e2e_reconcile_duration_seconds histogram",
        "# TYPE e2e_reconcile_errors counter",
        "# TYPE e2e_queue_depth gauge",
        "# TYPE e2e_active_workers gauge",
        "# TYPE e2e_watcher_restarts counter",
    ] {
        assert!(text.contains(family), "missing {family:?}");
    }
}
