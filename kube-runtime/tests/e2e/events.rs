//! Publishing events against a real apiserver, repeats aggregated in a series.

use k8s_openapi::api::{core::v1::ConfigMap, events::v1::Event as K8sEvent};
use kube_client::{Api, Resource, api::ListParams};
use kube_runtime::events::{Event, EventType, Recorder, Reporter};

use crate::common::{client_in_fresh_namespace, create};

fn event(reason: &str) -> Event {
    Event {
        type_: EventType::Warning,
        reason: reason.into(),
        note: Some(format!("{reason} happened")),
        action: "Reconcile".into(),
        secondary: None,
    }
}

#[tokio::test]
async fn repeated_events_are_aggregated_into_a_series() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let cm = create(&api, "subject", "1").await;
    let reference = cm.object_ref(&());
    let recorder = Recorder::new(client.clone(), Reporter::from("e2e-controller"));

    for _ in 0..3 {
        recorder
            .publish(&event("Failing"), &reference)
            .await
            .expect("published");
    }
    recorder
        .publish(&event("Recovered"), &reference)
        .await
        .expect("published");

    let events: Api<K8sEvent> = Api::namespaced(client, &ns);
    let mut listed = events
        .list(&ListParams::default())
        .await
        .expect("listed")
        .items;
    listed.sort_by(|a, b| a.reason.cmp(&b.reason));
    let summary: Vec<_> = listed
        .iter()
        .map(|e| {
            (
                e.reason.clone().unwrap_or_default(),
                e.series.as_ref().map(|s| s.count),
                e.regarding
                    .as_ref()
                    .and_then(|r| r.name.clone())
                    .unwrap_or_default(),
                e.reporting_controller.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "Failing".to_string(),
                Some(3),
                "subject".to_string(),
                "e2e-controller".to_string()
            ),
            (
                "Recovered".to_string(),
                None,
                "subject".to_string(),
                "e2e-controller".to_string()
            ),
        ]
    );
}
