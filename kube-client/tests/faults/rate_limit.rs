//! Client-side rate limiting and request metrics against the real apiserver,
//! through the fault proxy: retries of `429` wait for their tokens too, and
//! every attempt is counted with its code.

use std::time::{Duration, Instant};

use kube_client::client::{ClientBuilder, middleware::ClientMetrics, rate_limit::RateLimit};
use kube_test::faults::{Fault, FaultRule, Match, Verb};
use prometheus_client::registry::Registry;

use crate::{create_directly, proxy_and_namespace, statuses, through_client};

#[tokio::test]
async fn requests_beyond_the_burst_are_spaced_by_the_rate() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    let limit = RateLimit::new(5.0, 2).expect("a valid limit");
    let client = ClientBuilder::try_from(proxy.config())
        .expect("the default stack")
        .with_rate_limit(limit)
        .build();
    let api = through_client(client, &ns);
    let started = Instant::now();
    let reads = (0..7).map(|_| api.get("a"));
    for read in futures::future::join_all(reads).await {
        read.expect("every read succeeds, none is refused by the limit");
    }
    // A lower bound only: two at once, then five more 200 ms apart.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "7 reads at 5 a second with a burst of 2 took {:?}",
        started.elapsed()
    );
    assert_eq!(statuses(&proxy, Verb::Get), [Some(200); 7]);
}

#[tokio::test]
async fn a_retry_after_429_waits_for_its_token_even_when_the_server_asks_for_no_wait() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::too_many_requests(0)).times(1));
    let limit = RateLimit::new(1.0, 1).expect("a valid limit");
    let client = ClientBuilder::try_from(proxy.config())
        .expect("the default stack")
        .with_rate_limit(limit)
        .build();
    let started = Instant::now();
    through_client(client, &ns)
        .get("a")
        .await
        .expect("the read succeeds once retried");
    assert_eq!(statuses(&proxy, Verb::Get), [Some(429), Some(200)]);
    // A lower bound only: `Retry-After: 0`, yet the retry took a second
    // token, earned one second after the first.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the retry did not wait for the rate limit: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn every_attempt_is_counted_with_its_code_method_and_host() {
    let (proxy, ns) = proxy_and_namespace().await;
    create_directly(&ns, "a").await;
    proxy.inject(FaultRule::new(Match::gets(), Fault::too_many_requests(0)).times(1));
    let mut registry = Registry::default();
    let metrics = ClientMetrics::new(&mut registry);
    let config = proxy.config();
    let host = config
        .cluster_url
        .authority()
        .expect("the proxy's address")
        .to_string();
    let client = ClientBuilder::try_from(config)
        .expect("the default stack")
        .with_metrics(&metrics)
        .build();
    let api = through_client(client, &ns);
    api.get("a").await.expect("the read succeeds once retried");
    api.get_opt("missing").await.expect("a 404 is None");

    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodable");
    for expected in [
        format!(r#"rest_client_requests_total{{code="429",method="GET",host="{host}"}} 1"#),
        format!(r#"rest_client_requests_total{{code="200",method="GET",host="{host}"}} 1"#),
        format!(r#"rest_client_requests_total{{code="404",method="GET",host="{host}"}} 1"#),
        format!(r#"rest_client_request_duration_seconds_count{{verb="GET",host="{host}"}} 3"#),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }
}
