//! Which failed requests the client sends again, counted at the proxy.

use std::time::{Duration, Instant};

use futures::StreamExt;
use kube_client::{
    api::{ListParams, PostParams, WatchEvent, WatchParams},
    error::TransportError,
};
use kube_test::faults::{Fault, FaultRule, Match, Verb};

use crate::{
    config_map, create_directly, direct, proxy_and_namespace, seen, statuses, through,
    through_client,
};

#[tokio::test]
async fn a_429_is_retried_after_the_retry_after_wait() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::too_many_requests(1)).times(1));
    let started = Instant::now();
    through(&proxy, &ns)
        .get("a")
        .await
        .expect("get after the 429");
    assert_eq!(statuses(&proxy, Verb::Get), [Some(429), Some(200)]);
    // A lower bound only: the retry waited as long as the server asked.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_create_refused_with_429_is_sent_again_and_creates_once() {
    let (proxy, ns) = proxy_and_namespace().await;
    proxy.inject(FaultRule::new(Match::creates(), Fault::too_many_requests(1)).times(1));
    through(&proxy, &ns)
        .create(&PostParams::default(), &config_map("once"))
        .await
        .expect("create after the 429");
    assert_eq!(statuses(&proxy, Verb::Create), [Some(429), Some(201)]);
}

#[tokio::test]
async fn two_503s_then_the_list_succeeds() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    proxy.inject(FaultRule::new(Match::lists(), Fault::service_unavailable()).times(2));
    let list = through(&proxy, &ns)
        .list(&ListParams::default())
        .await
        .expect("list after two 503s");
    assert!(
        list.items
            .iter()
            .any(|cm| cm.metadata.name.as_deref() == Some("a"))
    );
    assert_eq!(
        statuses(&proxy, Verb::List),
        [Some(503), Some(503), Some(200)]
    );
}

#[tokio::test]
async fn retries_are_bounded() {
    let (proxy, ns) = proxy_and_namespace().await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::service_unavailable()));
    let err = through(&proxy, &ns).get("a").await.expect_err("always 503");
    assert_eq!(err.status().map(|s| s.code), Some(503), "{err:?}");
    assert_eq!(statuses(&proxy, Verb::Get), [Some(503); 5]);
}

#[tokio::test]
async fn without_default_retry_the_first_failure_is_returned() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::service_unavailable()).times(1));
    let mut config = proxy.config();
    config.default_retry = false;
    let client = kube_client::Client::try_from(config).expect("client");
    let err = through_client(client, &ns)
        .get("a")
        .await
        .expect_err("the 503 comes back");
    assert_eq!(err.status().map(|s| s.code), Some(503), "{err:?}");
    assert_eq!(statuses(&proxy, Verb::Get), [Some(503)]);
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_returns_the_429_at_once() {
    let (proxy, ns) = proxy_and_namespace().await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::too_many_requests(120)));
    let err = through(&proxy, &ns).get("a").await.expect_err("429");
    assert!(
        err.status().is_some_and(|s| s.is_too_many_requests()),
        "{err:?}"
    );
    assert_eq!(statuses(&proxy, Verb::Get), [Some(429)]);
}

#[tokio::test]
async fn a_500_is_not_retried_even_for_a_get() {
    let (proxy, ns) = proxy_and_namespace().await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::internal_error()));
    let err = through(&proxy, &ns).get("a").await.expect_err("500");
    assert_eq!(err.status().map(|s| s.code), Some(500), "{err:?}");
    assert_eq!(statuses(&proxy, Verb::Get), [Some(500)]);
}

#[tokio::test]
async fn a_create_answered_500_is_not_replayed() {
    let (proxy, ns) = proxy_and_namespace().await;
    proxy.inject(FaultRule::new(Match::creates(), Fault::internal_error()));
    let err = through(&proxy, &ns)
        .create(&PostParams::default(), &config_map("x"))
        .await
        .expect_err("500");
    assert_eq!(err.status().map(|s| s.code), Some(500), "{err:?}");
    assert_eq!(statuses(&proxy, Verb::Create), [Some(500)]);
}

#[tokio::test]
async fn a_create_answered_503_is_not_replayed_unless_asked_to_retry_after() {
    let (proxy, ns) = proxy_and_namespace().await;
    proxy.inject(FaultRule::new(Match::creates(), Fault::service_unavailable()).times(1));
    let api = through(&proxy, &ns);
    api.create(&PostParams::default(), &config_map("x"))
        .await
        .expect_err("503");
    assert_eq!(statuses(&proxy, Verb::Create), [Some(503)]);

    proxy.forget_requests();
    proxy.inject(
        FaultRule::new(
            Match::creates(),
            Fault::Status {
                code: 503,
                retry_after: Some(1),
            },
        )
        .times(1),
    );
    api.create(&PostParams::default(), &config_map("y"))
        .await
        .expect("created on the retry the server asked for");
    assert_eq!(statuses(&proxy, Verb::Create), [Some(503), Some(201)]);
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_not_replayed() {
    let (proxy, ns) = proxy_and_namespace().await;
    proxy.inject(FaultRule::new(
        Match::creates(),
        Fault::CloseAfterForwarding,
    ));
    let err = through(&proxy, &ns)
        .create(&PostParams::default(), &config_map("made"))
        .await
        .expect_err("the connection closed without an answer");
    assert!(
        matches!(err.transport(), Some(TransportError::Broken { .. })),
        "{err:?}"
    );
    assert_eq!(seen(&proxy, Verb::Create).len(), 1);
    assert!(
        direct(&ns)
            .await
            .get_opt("made")
            .await
            .expect("get")
            .is_some(),
        "the create took effect; sending it again would have failed with AlreadyExists"
    );
}

#[tokio::test]
async fn a_create_whose_connection_closed_is_not_replayed_either() {
    let (proxy, ns) = proxy_and_namespace().await;
    proxy.inject(FaultRule::new(
        Match::creates(),
        Fault::CloseBeforeForwarding,
    ));
    through(&proxy, &ns)
        .create(&PostParams::default(), &config_map("lost"))
        .await
        .expect_err("no answer");
    // The client cannot tell this from a lost answer.
    assert_eq!(statuses(&proxy, Verb::Create), [None]);
}

#[tokio::test]
async fn a_get_whose_connection_closed_is_retried() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::CloseBeforeForwarding).times(2));
    through(&proxy, &ns)
        .get("a")
        .await
        .expect("third time lucky");
    assert_eq!(statuses(&proxy, Verb::Get), [None, None, Some(200)]);
}

#[tokio::test]
async fn a_get_whose_body_broke_off_is_retried() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::DropAfterBytes(20)).times(1));
    let got = through(&proxy, &ns).get("a").await.expect("get");
    assert_eq!(got.metadata.name.as_deref(), Some("a"));
    let gets = seen(&proxy, Verb::Get);
    assert_eq!(gets.len(), 2, "{gets:#?}");
    assert!(gets[0].faulted() && !gets[1].faulted());
}

#[tokio::test]
async fn a_watch_refused_with_503_is_opened_again() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    proxy.inject(FaultRule::new(Match::watches(), Fault::service_unavailable()).times(1));
    let mut events = through(&proxy, &ns)
        .watch(&WatchParams::default().timeout(30), "0")
        .await
        .expect("watch")
        .boxed();
    let first = events.next().await.expect("an event").expect("ok");
    assert!(matches!(first, WatchEvent::Added(_)), "{first:?}");
    assert_eq!(statuses(&proxy, Verb::Watch), [Some(503), Some(200)]);
}
