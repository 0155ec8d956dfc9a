//! Nothing waits forever: stalled answers, bodies and watches end in errors
//! that name the limit that ran out.

use std::time::Duration;

use futures::StreamExt;
use kube_client::{
    Client, Error,
    api::{PostParams, WatchEvent, WatchParams},
    error::{TimeoutLimit, TransportError},
};
use kube_test::faults::{Fault, FaultProxy, FaultRule, Match, Verb};

use crate::{config_map, create_directly, proxy_and_namespace, statuses, through, through_client};

/// A client of the proxy that waits one second to read and one to write.
fn impatient_client(proxy: &FaultProxy) -> Client {
    let mut config = proxy.config();
    config.read_timeout = Some(Duration::from_secs(1));
    config.write_timeout = Some(Duration::from_secs(1));
    Client::try_from(config).expect("client")
}

#[tokio::test]
async fn a_get_without_an_answer_fails_after_the_read_timeout() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::StallResponse));
    let err = through_client(impatient_client(&proxy), &ns)
        .get("a")
        .await
        .expect_err("never answered");
    match err.transport() {
        Some(TransportError::Timeout { after, limit, .. }) => {
            assert_eq!(*after, Duration::from_secs(1));
            assert_eq!(*limit, TimeoutLimit::ReadTimeout);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("Config::read_timeout"), "{text}");
    assert!(text.contains("/configmaps/a"), "{text}");
    // A read that timed out is tried again, a bounded number of times.
    assert_eq!(statuses(&proxy, Verb::Get), [None; 5]);
}

#[tokio::test]
async fn a_create_without_an_answer_fails_once_after_read_and_write_timeouts() {
    let (proxy, ns) = proxy_and_namespace().await;
    proxy.inject(FaultRule::new(Match::creates(), Fault::StallResponse));
    let err = through_client(impatient_client(&proxy), &ns)
        .create(&PostParams::default(), &config_map("x"))
        .await
        .expect_err("never answered");
    match err.transport() {
        Some(TransportError::Timeout { after, limit, .. }) => {
            assert_eq!(*after, Duration::from_secs(2));
            assert_eq!(*limit, TimeoutLimit::ReadAndWriteTimeout);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(err.to_string().contains("Config::write_timeout"), "{err}");
    assert_eq!(statuses(&proxy, Verb::Create), [None]);
}

#[tokio::test]
async fn a_body_that_stops_mid_way_fails_after_the_read_timeout() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::StallAfterBytes(5)));
    let err = through_client(impatient_client(&proxy), &ns)
        .get("a")
        .await
        .expect_err("the body never ends");
    assert!(
        matches!(
            err.transport(),
            Some(TransportError::Timeout {
                limit: TimeoutLimit::ReadTimeout,
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(statuses(&proxy, Verb::Get), [Some(200); 5]);
}

/// A watch that has gone silent for longer than its own server-side timeout
/// is on a dead connection: the client ends it with an error instead of
/// waiting forever. (This test waits the 1 s timeout plus the 30 s margin.)
#[tokio::test]
async fn a_silent_watch_is_taken_for_a_dead_connection() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    proxy.inject(FaultRule::new(Match::watches(), Fault::StallAfterEvents(1)));
    let mut events = through(&proxy, &ns)
        .watch(&WatchParams::default().timeout(1), "0")
        .await
        .expect("watch")
        .boxed();
    let first = events.next().await.expect("an event").expect("ok");
    assert!(matches!(first, WatchEvent::Added(_)), "{first:?}");
    let err = events
        .next()
        .await
        .expect("an error")
        .expect_err("the connection is taken for dead");
    assert!(matches!(err, Error::ReadEvents(_)), "{err:?}");
    match err.transport() {
        Some(TransportError::Timeout { after, limit, .. }) => {
            assert_eq!(*after, Duration::from_secs(31));
            assert_eq!(*limit, TimeoutLimit::WatchIdle);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(err.to_string().contains("timeoutSeconds"), "{err}");
    assert!(
        events.next().await.is_none(),
        "the watch ends after the error"
    );
}
