//! configmapgen_controller, leader_election and controller_metrics.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use examples::{
    cluster::install_crd,
    configmapgen::{self, ConfigMapGenerator, ConfigMapGeneratorSpec, GENERATOR_LABEL, MANAGER},
    controller_metrics, leader_election,
};
use k8s_openapi::api::{core::v1::ConfigMap, events::v1::Event};
use kube::{
    Api, CustomResourceExt, ResourceExt,
    api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams},
    runtime::{
        leader_election::Outcome,
        wait::{await_condition, conditions},
    },
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::oneshot,
};

use crate::common::{client_in_fresh_namespace, within};

/// The names and `content` of the generated ConfigMaps, once there are `count`.
async fn generated(api: &Api<ConfigMap>, owner: &str, count: usize) -> Vec<(String, String)> {
    let params = ListParams::default().labels(&format!("{GENERATOR_LABEL}={owner}"));
    within(&format!("{count} ConfigMaps of {owner}"), async {
        loop {
            let list = api.list(&params).await.expect("listed");
            if list.items.len() == count {
                let mut found: Vec<(String, String)> = list
                    .iter()
                    .map(|cm| {
                        let content = cm
                            .data
                            .as_ref()
                            .and_then(|d| d.get("content").cloned())
                            .unwrap_or_default();
                        (cm.name_any(), content)
                    })
                    .collect();
                found.sort();
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

#[tokio::test]
async fn generators_become_owned_config_maps_that_follow_their_spec() {
    let (client, ns) = client_in_fresh_namespace().await;
    install_crd(&client, &ConfigMapGenerator::crd(), MANAGER)
        .await
        .expect("CRD installed");
    let (stop, stopped) = oneshot::channel::<()>();
    let operator = tokio::spawn({
        let client = client.clone();
        let ns = ns.clone();
        async move {
            configmapgen::run(client, Some(&ns), async {
                let _ = stopped.await;
            })
            .await
        }
    });

    let generators: Api<ConfigMapGenerator> = Api::namespaced(client.clone(), &ns);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let generator = ConfigMapGenerator::new(
        "gen",
        ConfigMapGeneratorSpec {
            content: "first".into(),
            count: Some(2),
        },
    );
    let created = generators
        .create(&PostParams::default(), &generator)
        .await
        .expect("generator created");
    assert_eq!(
        generated(&config_maps, "gen", 2).await,
        [
            ("gen-0".to_string(), "first".to_string()),
            ("gen-1".to_string(), "first".to_string())
        ]
    );
    let owned = config_maps.get("gen-0").await.expect("gen-0");
    let owner = &owned.owner_references()[0];
    assert_eq!(owner.uid, created.uid().expect("a uid"));
    assert_eq!(owner.controller, Some(true));

    let patch = serde_json::json!({ "spec": { "content": "second", "count": 1 } });
    generators
        .patch("gen", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("generator changed");
    assert_eq!(
        generated(&config_maps, "gen", 1).await,
        [("gen-0".to_string(), "second".to_string())]
    );
    let status = within(
        "the status to record the change",
        await_condition(
            generators.clone(),
            "gen",
            |g: Option<&ConfigMapGenerator>| {
                g.and_then(|g| g.status.as_ref())
                    .is_some_and(|s| s.config_maps == ["gen-0"])
            },
        ),
    )
    .await
    .expect("watched")
    .and_then(|g| g.status)
    .expect("a status");
    assert_eq!(status.observed_generation, Some(2));

    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let mut published: Vec<(String, String)> = events
        .list(&ListParams::default())
        .await
        .expect("events listed")
        .iter()
        .filter(|e| e.reporting_controller.as_deref() == Some(MANAGER))
        .map(|e| {
            (
                e.reason.clone().unwrap_or_default(),
                e.note.clone().unwrap_or_default(),
            )
        })
        .collect();
    published.sort();
    assert_eq!(
        published,
        [
            (
                "Created".to_string(),
                "created ConfigMaps gen-0, gen-1".to_string()
            ),
            ("Deleted".to_string(), "deleted ConfigMap gen-1".to_string()),
            ("Updated".to_string(), "updated ConfigMap gen-0".to_string()),
        ]
    );

    // Deleting the generator leaves its ConfigMaps to the garbage collector.
    generators
        .delete("gen", &DeleteParams::default())
        .await
        .expect("generator deleted");
    let uid = owned.uid().expect("a uid");
    within(
        "the garbage collector to delete gen-0",
        await_condition(config_maps, "gen-0", conditions::is_deleted(&uid)),
    )
    .await
    .expect("watched");

    let _ = stop.send(());
    let stats = within("the operator to stop", operator)
        .await
        .expect("the operator task");
    let reconciles = stats.reconciles();
    assert!(
        reconciles
            .get(&format!("{ns}/gen"))
            .is_some_and(|n| *n >= 2),
        "{reconciles:?}"
    );
}

#[tokio::test]
async fn only_the_lease_holder_works_and_a_release_hands_over() {
    let (client, ns) = client_in_fresh_namespace().await;
    let lease = "example-lock";
    let (finish_first, first_finishes) = oneshot::channel::<()>();
    let first = tokio::spawn({
        let (client, ns) = (client.clone(), ns.clone());
        async move {
            leader_election::run(client, &ns, lease, "first", async {
                let _ = first_finishes.await;
                "first's work"
            })
            .await
        }
    });
    within("first to lead", async {
        while leader_election::holder(client.clone(), &ns, lease)
            .await
            .expect("lease read")
            .as_deref()
            != Some("first")
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;

    let second_started = Arc::new(Mutex::new(false));
    let second = tokio::spawn({
        let (client, ns, started) = (client.clone(), ns.clone(), second_started.clone());
        async move {
            leader_election::run(client, &ns, lease, "second", async move {
                *started.lock().expect("lock") = true;
                "second's work"
            })
            .await
        }
    });
    // The second replica keeps trying while the first holds the lease.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !*second_started.lock().expect("lock"),
        "nobody works without the lease"
    );

    let _ = finish_first.send(());
    let first = within("first to finish", first)
        .await
        .expect("task")
        .expect("elected");
    assert_eq!(first, Outcome::Completed("first's work"));
    let second = within("second to take over", second)
        .await
        .expect("task")
        .expect("elected");
    assert_eq!(second, Outcome::Completed("second's work"));
    assert_eq!(
        leader_election::holder(client, &ns, lease)
            .await
            .expect("lease read"),
        None,
        "the lease is released after the work completes"
    );
}

/// `GET path` from a server at `address`: the whole response.
pub async fn http_get(address: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(address).await.expect("connected");
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("response read");
    response
}

/// The value of the sample named exactly `sample` in a text exposition.
fn sample(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn reconciles_are_counted_and_served_over_http() {
    let (client, ns) = client_in_fresh_namespace().await;
    let (server, controller) =
        controller_metrics::start(client.clone(), &ns, ([127, 0, 0, 1], 0).into())
            .await
            .expect("listening");
    let address = server.local_addr();
    let controller = tokio::spawn(controller);

    let config_maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    for name in ["one", "two"] {
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(BTreeMap::from([(
                    controller_metrics::SELECTOR.into(),
                    "yes".into(),
                )])),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        };
        config_maps
            .create(&PostParams::default(), &cm)
            .await
            .expect("created");
    }

    let success = r#"controller_runtime_reconcile_total{controller="configmap",result="success"}"#;
    let response = within("two successful reconciles to be counted", async {
        loop {
            let response = http_get(address, "/metrics").await;
            if sample(&response, success).is_some_and(|n| n >= 2.0) {
                return response;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert_eq!(
        sample(
            &response,
            r#"controller_runtime_reconcile_errors_total{controller="configmap"}"#
        ),
        Some(0.0)
    );
    assert!(
        sample(
            &response,
            r#"controller_runtime_reconcile_time_seconds_count{controller="configmap"}"#
        )
        .is_some_and(|n| n >= 2.0)
    );
    assert!(
        http_get(address, "/readyz")
            .await
            .starts_with("HTTP/1.1 200 OK")
    );
    assert!(http_get(address, "/").await.starts_with("HTTP/1.1 404"));

    controller.abort();
}
