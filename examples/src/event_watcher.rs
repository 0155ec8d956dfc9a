//! Following the cluster's events (`events.k8s.io/v1`), as
//! `kubectl events --watch` does, one line each.

use futures::{Stream, TryStreamExt};
use k8s_openapi::api::events::v1::Event;
use kube::{
    Api, Client,
    runtime::{WatchStreamExt, watcher},
};

/// One line for an event: `Warning BackOff Pod/web-0: Back-off restarting failed container`.
pub fn describe(event: &Event) -> String {
    let regarding = event
        .regarding
        .as_ref()
        .map(|r| {
            format!(
                "{}/{}",
                r.kind.as_deref().unwrap_or("?"),
                r.name.as_deref().unwrap_or("?")
            )
        })
        .unwrap_or_else(|| "?".into());
    let count = event.series.as_ref().map_or(1, |s| s.count);
    let repeats = if count > 1 {
        format!(" (x{count})")
    } else {
        String::new()
    };
    format!(
        "{} {} {}: {}{}",
        event.type_.as_deref().unwrap_or("Normal"),
        event.reason.as_deref().unwrap_or(""),
        regarding,
        event.note.as_deref().unwrap_or(""),
        repeats
    )
}

/// The events in `namespace` (or everywhere), described, as they are
/// published or updated.
pub fn run(
    client: Client,
    namespace: Option<&str>,
) -> impl Stream<Item = Result<String, watcher::Error>> + use<> {
    let events: Api<Event> = match namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    watcher(events, watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .map_ok(|event| describe(&event))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::{core::v1::ObjectReference, events::v1::EventSeries};

    use super::*;

    #[test]
    fn events_read_as_one_line() {
        let mut event = Event {
            type_: Some("Warning".into()),
            reason: Some("Failed".into()),
            note: Some("image not found".into()),
            regarding: Some(ObjectReference {
                kind: Some("Pod".into()),
                name: Some("web-0".into()),
                ..ObjectReference::default()
            }),
            ..Event::default()
        };
        assert_eq!(
            describe(&event),
            "Warning Failed Pod/web-0: image not found"
        );
        event.series = Some(EventSeries {
            count: 4,
            last_observed_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
                k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            ),
        });
        assert_eq!(
            describe(&event),
            "Warning Failed Pod/web-0: image not found (x4)"
        );
    }
}
