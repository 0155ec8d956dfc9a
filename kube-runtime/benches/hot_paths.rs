//! Throughput of the runtime's hot paths: the store, the controller's main
//! trigger and the scheduler. Prints nanoseconds per operation; run with
//! `cargo bench -p kube-runtime --bench hot_paths`.

use std::{
    collections::BTreeMap,
    hint::black_box,
    time::{Duration, Instant},
};

use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::core::ObjectMeta;
use kube_runtime::{
    WatchStreamExt,
    controller::trigger_self,
    reflector::{self, ObjectRef},
    scheduler::{ScheduleRequest, scheduler},
    watcher::Event,
};

const OBJECTS: usize = 10_000;
const ROUNDS: usize = 5;

/// A config map of a realistic size: a few labels, an owner-ish annotation and
/// about a kilobyte of data.
fn object(i: usize, generation: i64) -> ConfigMap {
    let labels: BTreeMap<String, String> = (0..5)
        .map(|l| (format!("label-{l}"), format!("value-{i}-{l}")))
        .collect();
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(format!("object-{i}")),
            namespace: Some(format!("namespace-{}", i % 10)),
            uid: Some(format!("00000000-0000-0000-0000-{i:012}")),
            resource_version: Some(format!("{}", i as i64 * 10 + generation)),
            generation: Some(generation),
            labels: Some(labels),
            annotations: Some([("example.com/note".to_string(), "x".repeat(100))].into()),
            ..ObjectMeta::default()
        },
        data: Some([("payload".to_string(), "y".repeat(1000))].into()),
        ..ConfigMap::default()
    }
}

/// Runs `f` for `ROUNDS` rounds and reports the best time per operation.
fn measure(name: &str, operations: usize, mut f: impl FnMut()) {
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        f();
        best = best.min(start.elapsed());
    }
    let per_op = best.as_nanos() as f64 / operations as f64;
    println!("{name:<58} {per_op:>10.0} ns/op");
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn main() {
    let initial: Vec<_> = (0..OBJECTS).map(|i| object(i, 1)).collect();
    let updates: Vec<_> = (0..OBJECTS).map(|i| object(i, 2)).collect();

    measure(
        "store: apply (borrowed event, as reflector())",
        OBJECTS,
        || {
            let (_reader, mut writer) = reflector::store::<ConfigMap>();
            for obj in &updates {
                writer.apply_watcher_event(&Event::Apply(black_box(obj.clone())));
            }
        },
    );

    measure(
        "store: relist of every object, swapped at InitDone",
        OBJECTS,
        || {
            let (reader, mut writer) = reflector::store::<ConfigMap>();
            writer.apply_watcher_event(&Event::Init);
            for obj in &initial {
                writer.apply_watcher_event(&Event::InitApply(obj.clone()));
            }
            writer.apply_watcher_event(&Event::InitDone);
            black_box(reader.len());
        },
    );

    let (reader, mut writer) = reflector::store::<ConfigMap>();
    for obj in &initial {
        writer.apply_watcher_event(&Event::Apply(obj.clone()));
    }
    let refs: Vec<_> = initial.iter().map(ObjectRef::from_obj).collect();
    measure("store: get by ObjectRef", OBJECTS, || {
        for obj_ref in &refs {
            black_box(reader.get(obj_ref));
        }
    });

    // Both paths below clone each update first: it stands for the object the
    // watcher decoded, which the stream then owns.
    measure(
        "trigger path: reflector + applied_objects + trigger_self",
        OBJECTS,
        || {
            let (_reader, writer) = reflector::store::<ConfigMap>();
            let events = stream::iter(updates.iter().map(|obj| Ok(Event::Apply(obj.clone()))));
            let requests =
                trigger_self::<ConfigMap, _>(events.reflect(writer).applied_objects(), ());
            black_box(block_on(requests.count()));
        },
    );

    measure(
        "trigger path: owned apply + reference (the controller's)",
        OBJECTS,
        || {
            let (_reader, mut writer) = reflector::store::<ConfigMap>();
            let events = stream::iter(
                updates
                    .iter()
                    .map(|obj| Ok::<_, ()>(Event::Apply(obj.clone()))),
            );
            let requests = events.map(|event| {
                if let Ok(Event::Apply(obj)) = &event {
                    black_box(ObjectRef::<ConfigMap>::from_obj(obj));
                }
                if let Ok(event) = event {
                    writer.apply_watcher_event_owned(event);
                }
            });
            black_box(block_on(requests.count()));
        },
    );

    let keys: Vec<_> = initial.iter().map(ObjectRef::from_obj).collect();
    measure(
        "scheduler: 10 requests per object, merged and emitted",
        OBJECTS * 10,
        || {
            block_on(async {
                let now = tokio::time::Instant::now();
                let requests = (0..10)
                    .flat_map(|_| keys.iter())
                    .map(|key| ScheduleRequest {
                        message: key.clone(),
                        run_at: now,
                    });
                let emitted = scheduler(stream::iter(requests)).count().await;
                assert_eq!(emitted, OBJECTS);
            });
        },
    );
}
