//! Controller metrics after a run against the real apiserver, under
//! controller-runtime's and client-go's names: reconcile counts by result,
//! the reconcile time histogram, errors, the work queue, active workers and
//! watcher restarts, with the values the run implies and each controller
//! under its own label.

use std::{sync::Arc, time::Duration};

use futures::channel::mpsc;
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::Api;
use kube_runtime::{
    Controller,
    controller::Action,
    leader_election::{LeaderElector, Outcome},
    metrics::Metrics,
    watcher,
};
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

    let mut registry = Registry::default();
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
    .named("e2e")
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
        let settled = sample(
            &text,
            r#"controller_runtime_reconcile_total{controller="e2e",result="success"}"#,
        ) == Some(3.0)
            && sample(
                &text,
                r#"controller_runtime_reconcile_total{controller="e2e",result="error"}"#,
            ) == Some(1.0)
            && sample(
                &text,
                r#"controller_runtime_active_workers{controller="e2e"}"#,
            ) == Some(1.0);
        settled.then_some(text)
    })
    .await;
    let held = held.elapsed();
    ctx.gate.add_permits(1);
    assert_eq!(
        sample(
            &during,
            r#"controller_runtime_reconcile_time_seconds_count{controller="e2e"}"#
        ),
        Some(4.0),
        "the running reconcile has no duration yet"
    );

    // Once everything has run: four successes, one failure (retried only in
    // an hour, so it waits in the queue), two failed watches, nobody working.
    let text = eventually("the metrics of the whole run", || async {
        let text = encode(&registry);
        let settled = sample(
            &text,
            r#"controller_runtime_reconcile_total{controller="e2e",result="success"}"#,
        ) == Some(4.0)
            && sample(
                &text,
                r#"controller_runtime_reconcile_total{controller="e2e",result="error"}"#,
            ) == Some(1.0)
            && sample(&text, r#"watcher_restarts_total{controller="e2e"}"#) == Some(2.0)
            && sample(
                &text,
                r#"controller_runtime_active_workers{controller="e2e"}"#,
            ) == Some(0.0)
            && sample(
                &text,
                r#"workqueue_retries_total{controller="e2e",name="e2e"}"#,
            ) == Some(1.0);
        settled.then_some(text)
    })
    .await;
    eprintln!("{text}");
    assert_eq!(
        sample(
            &text,
            r#"controller_runtime_reconcile_errors_total{controller="e2e"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"controller_runtime_reconcile_time_seconds_count{controller="e2e"}"#
        ),
        Some(5.0),
        "one duration per finished reconcile"
    );
    let total = sample(
        &text,
        r#"controller_runtime_reconcile_time_seconds_sum{controller="e2e"}"#,
    )
    .expect("a sum");
    assert!(
        total >= held.as_secs_f64(),
        "the durations ({total} s) include the slow reconcile's wait ({held:?})"
    );
    assert_eq!(
        sample(
            &text,
            r#"controller_runtime_reconcile_time_seconds_bucket{le="+Inf",controller="e2e"}"#
        ),
        Some(5.0)
    );
    for family in [
        "# TYPE controller_runtime_reconcile counter",
        "# TYPE controller_runtime_reconcile_errors counter",
        "# TYPE controller_runtime_terminal_reconcile_errors counter",
        "# TYPE controller_runtime_reconcile_panics counter",
        "# TYPE controller_runtime_reconcile_time_seconds histogram",
        "# TYPE controller_runtime_max_concurrent_reconciles gauge",
        "# TYPE controller_runtime_active_workers gauge",
        "# TYPE workqueue_depth gauge",
        "# TYPE workqueue_adds counter",
        "# TYPE workqueue_queue_duration_seconds histogram",
        "# TYPE workqueue_work_duration_seconds histogram",
        "# TYPE workqueue_unfinished_work_seconds gauge",
        "# TYPE workqueue_longest_running_processor_seconds gauge",
        "# TYPE workqueue_retries counter",
        "# TYPE watcher_restarts counter",
    ] {
        assert!(text.contains(family), "missing {family:?}");
    }
    // The failed object waits for its retry in an hour: scheduled, not due.
    assert_eq!(
        sample(&text, r#"workqueue_depth{controller="e2e",name="e2e"}"#),
        Some(0.0)
    );
    assert!(
        sample(
            &text,
            r#"workqueue_adds_total{controller="e2e",name="e2e"}"#
        )
        .is_some_and(|adds| adds >= 5.0),
        "every object became due at least once"
    );
}

#[tokio::test]
async fn two_controllers_of_one_kind_write_their_own_series() {
    let (client, ns) = crate::common::client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    create(&api, "a", "ok").await;
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let controller = || {
        Controller::new(api.clone(), watcher::Config::default().labels(OURS))
            .with_metrics(metrics.clone())
            .run(
                |_: Arc<ConfigMap>, _: Arc<()>| async {
                    Ok::<_, ToldToFail>(Action::await_change())
                },
                |_, _, _| Action::await_change(),
                Arc::new(()),
            )
    };
    let first = Background::drive(controller());
    let second = Background::drive(controller());
    let text = eventually("both controllers to reconcile", || async {
        let text = encode(&registry);
        let done = |name: &str| {
            sample(
                &text,
                &format!(
                    r#"controller_runtime_reconcile_total{{controller="{name}",result="success"}}"#
                ),
            ) == Some(1.0)
        };
        (done("configmap") && done("configmap-2")).then_some(text)
    })
    .await;
    assert_eq!(
        sample(
            &text,
            r#"controller_runtime_max_concurrent_reconciles{controller="configmap"}"#
        ),
        Some(f64::INFINITY),
        "no concurrency limit was set"
    );
    // Once the first stops, its name is free: a new controller continues its
    // series rather than opening a third.
    first.stop().await;
    let third = Background::drive(controller());
    eventually("the restarted controller to reconcile", || async {
        let text = encode(&registry);
        let restarted = sample(
            &text,
            r#"controller_runtime_reconcile_total{controller="configmap",result="success"}"#,
        ) == Some(2.0);
        (restarted && !text.contains("configmap-3")).then_some(())
    })
    .await;
    drop((second, third));
}

#[tokio::test]
async fn leadership_is_reported_by_lease_name() {
    let (client, ns) = crate::common::client_in_fresh_namespace().await;
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let elector = LeaderElector::new(client, &ns, "metrics-lock", "only").with_metrics(metrics);
    let series = r#"leader_election_master_status{name="metrics-lock"}"#;
    let (release, released) = futures::channel::oneshot::channel::<()>();
    let (led, mut leading) = mpsc::unbounded();
    let election = tokio::spawn({
        let elector = elector.clone();
        async move {
            elector
                .run(async move {
                    let _ = led.unbounded_send(());
                    let _ = released.await;
                })
                .await
        }
    });
    next("leadership", &mut leading).await;
    assert_eq!(sample(&encode(&registry), series), Some(1.0));
    let _ = release.send(());
    let outcome = crate::common::within("the work to finish", election)
        .await
        .expect("the election task")
        .expect("valid timings");
    assert_eq!(outcome, Outcome::Completed(()));
    assert_eq!(sample(&encode(&registry), series), Some(0.0));
}
