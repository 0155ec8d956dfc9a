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

#[tokio::test]
async fn a_published_event_is_readable_with_what_happened_and_who_reported_it() {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let subject = create(&api, "subject", "1").await;
    let helper = create(&api, "helper", "1").await;
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "example.com/e2e-controller".into(),
            instance: Some("e2e-controller-0".into()),
        },
    );
    let published = Event {
        type_: EventType::Normal,
        reason: "Configured".into(),
        note: Some("applied the desired configuration".into()),
        action: "Reconcile".into(),
        secondary: Some(helper.object_ref(&())),
    };
    recorder
        .publish(&published, &subject.object_ref(&()))
        .await
        .expect("published");

    let events: Api<K8sEvent> = Api::namespaced(client, &ns);
    let listed = events
        .list(&ListParams::default())
        .await
        .expect("listed")
        .items;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let event = &listed[0];
    assert_eq!(event.type_.as_deref(), Some("Normal"));
    assert_eq!(event.reason.as_deref(), Some("Configured"));
    assert_eq!(
        event.note.as_deref(),
        Some("applied the desired configuration")
    );
    assert_eq!(event.action.as_deref(), Some("Reconcile"));
    assert_eq!(
        event.reporting_controller.as_deref(),
        Some("example.com/e2e-controller")
    );
    assert_eq!(
        event.reporting_instance.as_deref(),
        Some("e2e-controller-0")
    );
    assert!(event.event_time.is_some());
    assert!(event.series.is_none(), "a single event has no series");
    let regarding = event.regarding.as_ref().expect("regarding");
    assert_eq!(
        (
            regarding.api_version.as_deref(),
            regarding.kind.as_deref(),
            regarding.namespace.as_deref(),
            regarding.name.as_deref(),
            regarding.uid.as_ref(),
        ),
        (
            Some("v1"),
            Some("ConfigMap"),
            Some(ns.as_str()),
            Some("subject"),
            subject.metadata.uid.as_ref(),
        )
    );
    let related = event.related.as_ref().expect("related");
    assert_eq!(related.name.as_deref(), Some("helper"));
    assert_eq!(related.uid.as_ref(), helper.metadata.uid.as_ref());
}
