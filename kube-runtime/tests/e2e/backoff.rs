//! A controller's error backoff and reconcile rate limit against the real
//! apiserver.
//!
//! Timings are asserted as lower bounds only: a busy machine makes
//! everything later, never earlier than the backoff or the limit allows.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::Api;
use kube_runtime::{
    Controller,
    controller::{self, Action, Config, ErrorBackoff, RateLimit},
    watcher,
};
use tokio::time::Instant;

use crate::common::{
    Background, OURS, client_in_fresh_namespace, create, eventually, set_value, value_of,
};

#[derive(Debug, thiserror::Error)]
#[error("told to fail")]
struct ToldToFail;

/// When each reconcile started, and what each error policy call read.
#[derive(Default)]
struct Seen {
    starts: Mutex<Vec<(Instant, String)>>,
    failure_counts: Mutex<Vec<Option<u32>>>,
}

#[tokio::test]
async fn a_failing_object_is_retried_after_doubling_delays_that_start_over_after_a_success() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    create(&api, "flaky", "first").await;
    let seen = Arc::new(Seen::default());
    let base = Duration::from_millis(100);
    let config =
        Config::default().error_backoff(ErrorBackoff::per_object(base, Duration::from_secs(10)));
    // Each value fails until it has been tried as often as it says: "first"
    // four times, "second" once.
    let reconcile = |cm: Arc<ConfigMap>, seen: Arc<Seen>| async move {
        let value = value_of(&cm).unwrap_or_default().to_string();
        let mut starts = seen.starts.lock().expect("lock");
        starts.push((Instant::now(), value.clone()));
        let tries = starts.iter().filter(|(_, v)| *v == value).count();
        let failures = if value == "first" { 4 } else { 1 };
        if tries <= failures {
            Err(ToldToFail)
        } else {
            Ok(Action::await_change())
        }
    };
    let error_policy = |_: Arc<ConfigMap>, _: &ToldToFail, seen: Arc<Seen>| {
        seen.failure_counts
            .lock()
            .expect("lock")
            .push(controller::consecutive_failures());
        Action::requeue(Duration::ZERO)
    };
    let _controller = Background::drive(
        Controller::new(api.clone(), watcher::Config::default().labels(OURS))
            .with_config(config)
            .run(reconcile, error_policy, seen.clone()),
    );

    eventually("four failures and a success", || async {
        (seen.starts.lock().expect("lock").len() >= 5).then_some(())
    })
    .await;
    set_value(&api, "flaky", "second").await;
    eventually("a failure and a success after the change", || async {
        (seen.starts.lock().expect("lock").len() >= 7).then_some(())
    })
    .await;

    assert_eq!(
        *seen.failure_counts.lock().expect("lock"),
        [Some(1), Some(2), Some(3), Some(4), Some(1)],
        "counted in a row per object, and started over after the success"
    );
    let starts = seen.starts.lock().expect("lock").clone();
    let gap = |i: usize| starts[i].0 - starts[i - 1].0;
    for (retry, wanted) in [
        (1, base),
        (2, base * 2),
        (3, base * 4),
        (4, base * 8),
        (6, base),
    ] {
        assert!(
            gap(retry) >= wanted,
            "retry {retry} came {:?} after the failure, before its backoff of {wanted:?}",
            gap(retry)
        );
    }
}

#[tokio::test]
async fn a_reconcile_rate_limit_spaces_the_reconciles_of_all_objects() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    for i in 0..6 {
        create(&api, &format!("cm-{i}"), "v").await;
    }
    let seen = Arc::new(Seen::default());
    let limit = RateLimit::new(4.0, 2).expect("a valid limit");
    let _controller = Background::drive(
        Controller::new(api.clone(), watcher::Config::default().labels(OURS))
            .with_config(Config::default().rate_limit(limit))
            .run(
                |cm: Arc<ConfigMap>, seen: Arc<Seen>| async move {
                    let name = cm.metadata.name.clone().unwrap_or_default();
                    seen.starts
                        .lock()
                        .expect("lock")
                        .push((Instant::now(), name));
                    Ok::<_, ToldToFail>(Action::await_change())
                },
                |_, _, _| Action::await_change(),
                seen.clone(),
            ),
    );
    let starts = eventually("six reconciles", || async {
        let starts = seen.starts.lock().expect("lock").clone();
        (starts.len() >= 6).then_some(starts)
    })
    .await;
    let mut names: Vec<_> = starts.iter().map(|(_, name)| name.clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 6, "each object once: {names:?}");
    // Two at once, then four more at 4 a second.
    let spread = starts[5].0 - starts[0].0;
    assert!(
        spread >= Duration::from_secs(1),
        "six reconciles under 4 a second (burst 2) took only {spread:?}"
    );
}
