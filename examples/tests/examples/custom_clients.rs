//! custom_client: the default stack with layers on top, and a stack built by
//! hand over hyper-util, each doing CRUD and a watch against kube-apiserver.

use examples::custom_client::{self, Outcome};

use crate::common::within;

fn expected(name: &str) -> Outcome {
    Outcome {
        listed: vec![name.to_string()],
        patched: Some("two".into()),
        watched: vec!["MODIFIED", "DELETED"],
        gone: true,
    }
}

async fn env_config_and_namespace() -> (kube::Config, String) {
    let env = kube_test::TestEnv::start()
        .await
        .expect("the kube-test control plane must start");
    let namespace = env.fresh_namespace().await.expect("a fresh namespace");
    (env.config().await.expect("a config"), namespace)
}

#[tokio::test]
async fn layers_on_the_default_stack_see_every_request() {
    let (config, ns) = env_config_and_namespace().await;
    let client = custom_client::layered_client(config, 2).expect("a client");
    let outcome = within(
        "a round trip through trace and concurrency layers",
        custom_client::round_trip(client, &ns, "layered"),
    )
    .await
    .expect("the round trip succeeds");
    assert_eq!(outcome, expected("layered"));
}

#[tokio::test]
async fn a_stack_built_by_hand_over_hyper_util_works_the_same() {
    let (config, ns) = env_config_and_namespace().await;
    let client = custom_client::hand_built_client(config).expect("a client");
    let outcome = within(
        "a round trip through a hand-built stack",
        custom_client::round_trip(client, &ns, "by-hand"),
    )
    .await
    .expect("the round trip succeeds");
    assert_eq!(outcome, expected("by-hand"));
}
