//! The fault proxy in front of the real apiserver, through kube-client: every
//! fault, as a client sees it.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api, Client, Error as ClientError,
    api::{ListParams, ObjectMeta, PostParams, WatchEvent, WatchParams},
    error::TransportError,
};
use kube_test::{
    TestEnv,
    faults::{Fault, FaultProxy, FaultRule, Match, Verb},
};

const LABEL: &str = "fault-proxy-test";

async fn env() -> &'static TestEnv {
    TestEnv::start().await.expect("the control plane starts")
}

async fn proxy() -> FaultProxy {
    FaultProxy::start(env().await)
        .await
        .expect("the fault proxy starts")
}

/// A namespace of the test's own, made directly (not through the proxy).
async fn namespace() -> String {
    env().await.fresh_namespace().await.expect("a namespace")
}

fn config_map(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some([(LABEL.to_string(), "yes".to_string())].into()),
            ..ObjectMeta::default()
        },
        data: Some([("k".to_string(), "v".to_string())].into()),
        ..ConfigMap::default()
    }
}

/// ConfigMaps in `namespace`, made through a direct client.
async fn direct_config_maps(namespace: &str, names: &[&str]) -> Api<ConfigMap> {
    let client = env().await.client().await.expect("a direct client");
    let api: Api<ConfigMap> = Api::namespaced(client, namespace);
    for name in names {
        api.create(&PostParams::default(), &config_map(name))
            .await
            .expect("create");
    }
    api
}

fn through(proxy: &FaultProxy, namespace: &str) -> Api<ConfigMap> {
    Api::namespaced(proxy.client().expect("a proxy client"), namespace)
}

fn labelled() -> WatchParams {
    WatchParams::default()
        .labels(&format!("{LABEL}=yes"))
        .timeout(60)
}

#[tokio::test]
async fn requests_pass_through_and_are_recorded() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a"]).await;
    let proxy = proxy().await;
    let api = through(&proxy, &ns);
    let listed = api.list(&ListParams::default()).await.expect("list");
    assert!(
        listed
            .items
            .iter()
            .any(|cm| cm.metadata.name.as_deref() == Some("a"))
    );
    api.get("a").await.expect("get");

    let seen = proxy.requests();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[0].verb, Verb::List);
    assert_eq!(seen[0].path, format!("/api/v1/namespaces/{ns}/configmaps"));
    assert_eq!(seen[1].verb, Verb::Get);
    assert!(seen.iter().all(|r| r.status == Some(200) && !r.faulted()));
}

#[tokio::test]
async fn a_status_fault_answers_without_forwarding() {
    let ns = namespace().await;
    let direct = direct_config_maps(&ns, &[]).await;
    let proxy = proxy().await;
    proxy.inject(FaultRule::new(Match::creates(), Fault::internal_error()).times(1));
    let api = through(&proxy, &ns);
    let err = api
        .create(&PostParams::default(), &config_map("refused"))
        .await
        .expect_err("the create gets a 500");
    assert!(
        matches!(&err, ClientError::Api(status) if status.code == 500),
        "{err:?}"
    );
    assert!(direct.get_opt("refused").await.expect("get").is_none());
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "a 500 on a create is not retried: {seen:#?}");
    assert_eq!(seen[0].status, Some(500));
    assert_eq!(seen[0].fault, Some(Fault::internal_error()));

    // The rule was for one request only.
    api.create(&PostParams::default(), &config_map("accepted"))
        .await
        .expect("the second create passes");
}

#[tokio::test]
async fn too_many_requests_carries_retry_after() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a"]).await;
    let proxy = proxy().await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::too_many_requests(1)).times(1));
    through(&proxy, &ns)
        .get("a")
        .await
        .expect("get after the 429");
    let statuses: Vec<_> = proxy.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(429), Some(200)]);
}

#[tokio::test]
async fn a_delay_holds_the_request_then_forwards_it() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a"]).await;
    let proxy = proxy().await;
    proxy.inject(FaultRule::new(
        Match::gets(),
        Fault::Delay(Duration::from_millis(300)),
    ));
    let started = std::time::Instant::now();
    let got = through(&proxy, &ns).get("a").await.expect("get");
    assert_eq!(got.metadata.name.as_deref(), Some("a"));
    assert!(started.elapsed() >= Duration::from_millis(300));
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].faulted());
    assert_eq!(seen[0].status, Some(200));
}

#[tokio::test]
async fn a_connection_closed_before_forwarding_creates_nothing() {
    let ns = namespace().await;
    let direct = direct_config_maps(&ns, &[]).await;
    let proxy = proxy().await;
    proxy.inject(FaultRule::new(
        Match::creates(),
        Fault::CloseBeforeForwarding,
    ));
    let err = through(&proxy, &ns)
        .create(&PostParams::default(), &config_map("lost"))
        .await
        .expect_err("no answer");
    assert!(
        matches!(err.transport(), Some(TransportError::Broken { .. })),
        "{err:?}"
    );
    assert!(direct.get_opt("lost").await.expect("get").is_none());
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].status, None);
}

#[tokio::test]
async fn a_connection_closed_after_forwarding_loses_the_answer_only() {
    let ns = namespace().await;
    let direct = direct_config_maps(&ns, &[]).await;
    let proxy = proxy().await;
    proxy.inject(FaultRule::new(
        Match::creates(),
        Fault::CloseAfterForwarding,
    ));
    let err = through(&proxy, &ns)
        .create(&PostParams::default(), &config_map("made"))
        .await
        .expect_err("no answer");
    assert!(
        matches!(err.transport(), Some(TransportError::Broken { .. })),
        "{err:?}"
    );
    assert!(
        direct.get_opt("made").await.expect("get").is_some(),
        "the apiserver acted on the request"
    );
    assert_eq!(proxy.requests().len(), 1);
}

#[tokio::test]
async fn a_body_dropped_after_some_bytes_fails_the_read() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a"]).await;
    let proxy = proxy().await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::DropAfterBytes(10)));
    let err = through(&proxy, &ns).get("a").await.expect_err("cut short");
    assert!(
        matches!(err.transport(), Some(TransportError::Broken { .. })),
        "{err:?}"
    );
    let seen = proxy.requests();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|r| r.status == Some(200) && r.faulted()),
        "the headers went out: {seen:#?}"
    );
}

#[tokio::test]
async fn a_watch_dropped_after_events_yields_them_then_an_error() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a", "b", "c"]).await;
    let proxy = proxy().await;
    proxy.inject(FaultRule::new(Match::watches(), Fault::DropAfterEvents(2)));
    let mut events = through(&proxy, &ns)
        .watch(&labelled(), "0")
        .await
        .expect("watch")
        .boxed();
    for _ in 0..2 {
        let event = events.next().await.expect("an event").expect("ok");
        assert!(matches!(event, WatchEvent::Added(_)), "{event:?}");
    }
    let err = events.next().await.expect("an error").expect_err("dropped");
    assert!(
        matches!(err.transport(), Some(TransportError::Broken { .. })),
        "{err:?}"
    );
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn a_watch_ended_after_events_yields_them_then_ends_without_error() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a", "b", "c"]).await;
    let proxy = proxy().await;
    proxy.inject(FaultRule::new(Match::watches(), Fault::EndAfterEvents(2)));
    let events: Vec<_> = through(&proxy, &ns)
        .watch(&labelled(), "0")
        .await
        .expect("watch")
        .collect()
        .await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        events
            .iter()
            .all(|event| matches!(event, Ok(WatchEvent::Added(_)))),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_watch_ends_with_410_gone_after_events() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a", "b", "c"]).await;
    let proxy = proxy().await;
    proxy.inject(
        FaultRule::new(
            Match::watches().path_contains("configmaps"),
            Fault::WatchGone { after_events: 2 },
        )
        .times(1),
    );
    let api = through(&proxy, &ns);
    let events: Vec<_> = api
        .watch(&labelled(), "0")
        .await
        .expect("watch")
        .collect()
        .await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(matches!(events[0], Ok(WatchEvent::Added(_))));
    assert!(matches!(events[1], Ok(WatchEvent::Added(_))));
    match &events[2] {
        Ok(WatchEvent::Error(status)) => {
            assert_eq!(status.code, 410);
            assert_eq!(status.reason, "Expired");
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }

    // Spent: the next watch is untouched.
    let mut events = api.watch(&labelled(), "0").await.expect("watch").boxed();
    for _ in 0..3 {
        let event = events.next().await.expect("an event").expect("ok");
        assert!(matches!(event, WatchEvent::Added(_)), "{event:?}");
    }
}

#[tokio::test]
async fn a_stalled_response_times_out_and_clear_releases_it() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a"]).await;
    let proxy = proxy().await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::StallResponse));
    let mut config = proxy.config();
    config.read_timeout = Some(Duration::from_secs(1));
    config.write_timeout = None;
    let api: Api<ConfigMap> = Api::namespaced(Client::try_from(config).expect("client"), &ns);
    let err = api.get("a").await.expect_err("stalled");
    assert!(
        err.transport().is_some_and(TransportError::is_timeout),
        "{err:?}"
    );
    assert!(err.to_string().contains("read_timeout"), "{err}");
    let seen = proxy.requests();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|r| r.verb == Verb::Get && r.status.is_none())
    );
    proxy.clear();
    api.get("a").await.expect("after clear");
}

#[tokio::test]
async fn a_body_stalled_mid_way_times_out() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a"]).await;
    let proxy = proxy().await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::StallAfterBytes(5)));
    let mut config = proxy.config();
    config.read_timeout = Some(Duration::from_secs(1));
    let api: Api<ConfigMap> = Api::namespaced(Client::try_from(config).expect("client"), &ns);
    let err = api.get("a").await.expect_err("stalled");
    assert!(
        err.transport().is_some_and(TransportError::is_timeout),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_watch_stalled_after_events_holds_until_cleared() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a", "b"]).await;
    let proxy = proxy().await;
    proxy.inject(FaultRule::new(Match::watches(), Fault::StallAfterEvents(1)));
    let mut events = through(&proxy, &ns)
        .watch(&labelled(), "0")
        .await
        .expect("watch")
        .boxed();
    let first = events.next().await.expect("an event").expect("ok");
    assert!(matches!(first, WatchEvent::Added(_)));
    let held = tokio::time::timeout(Duration::from_millis(500), events.next()).await;
    assert!(held.is_err(), "the second event is held back: {held:?}");
    proxy.clear();
    let err = events
        .next()
        .await
        .expect("an error")
        .expect_err("released stalls close the connection");
    assert!(
        matches!(err.transport(), Some(TransportError::Broken { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn skipped_requests_pass_before_the_fault() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a"]).await;
    let proxy = proxy().await;
    proxy.inject(
        FaultRule::new(
            Match::gets().path_contains("/configmaps/a"),
            Fault::Status {
                code: 404,
                retry_after: None,
            },
        )
        .skip(1)
        .times(1),
    );
    let api = through(&proxy, &ns);
    api.get("a").await.expect("first get passes");
    let err = api.get("a").await.expect_err("second is refused");
    assert!(err.status().is_some_and(|s| s.is_not_found()), "{err:?}");
    api.get("a").await.expect("third get passes");
}

/// The proxy belongs to no test runtime: made in one, it serves another.
#[test]
fn the_proxy_outlives_the_runtime_it_was_started_in() {
    let first = tokio::runtime::Runtime::new().expect("runtime");
    let proxy = first.block_on(proxy());
    drop(first);
    let second = tokio::runtime::Runtime::new().expect("runtime");
    second.block_on(async {
        let version = proxy
            .client()
            .expect("client")
            .apiserver_version()
            .await
            .expect("version through the proxy");
        assert!(!version.git_version.is_empty());
    });
}

/// While the apiserver is stopped the proxy answers 503; it follows the
/// control plane across the restart.
#[tokio::test]
async fn the_proxy_answers_503_while_the_apiserver_is_down() {
    let env = TestEnv::start_owned().await.expect("own control plane");
    let proxy = FaultProxy::start(&env).await.expect("proxy");
    let client = proxy.client().expect("client");
    client.apiserver_version().await.expect("up");
    env.stop().await.expect("stop");
    let err = client.apiserver_version().await.expect_err("down");
    assert!(err.status().is_some_and(|s| s.code == 503), "{err:?}");
    assert!(err.to_string().contains(env.server_url()), "{err}");
    env.resume().await.expect("resume");
    client.apiserver_version().await.expect("up again");
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.status == Some(503) && !r.faulted()),
        "{:#?}",
        proxy.requests()
    );
}

#[tokio::test]
async fn disconnect_all_closes_open_watches() {
    let ns = namespace().await;
    direct_config_maps(&ns, &["a"]).await;
    let proxy = proxy().await;
    let mut events = through(&proxy, &ns)
        .watch(&labelled(), "0")
        .await
        .expect("watch")
        .boxed();
    let first = events.next().await.expect("an event").expect("ok");
    assert!(matches!(first, WatchEvent::Added(_)));
    proxy.disconnect_all();
    // Events already on their way (a bookmark, say) may come first.
    let err = loop {
        match events.next().await.expect("an error before the end") {
            Ok(_) => continue,
            Err(err) => break err,
        }
    };
    assert!(
        matches!(err.transport(), Some(TransportError::Broken { .. })),
        "{err:?}"
    );
    assert!(events.next().await.is_none());
    // New requests are served as before.
    through(&proxy, &ns).get("a").await.expect("get");
}
