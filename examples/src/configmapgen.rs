//! A ConfigMap generator operator: each `ConfigMapGenerator` object asks for
//! `count` ConfigMaps holding `content`, and the operator makes it so.
//!
//! The generated ConfigMaps name their generator as controlling owner, so
//! deleting a generator lets the garbage collector delete them; the operator
//! itself creates missing ones, updates changed ones and deletes surplus ones
//! when `count` shrinks. Every reconcile that changed something publishes an
//! event (`events.k8s.io/v1`) on the generator, and the generator's status
//! records what exists.
//!
//! ```no_run
//! use examples::configmapgen;
//! # async fn run(client: kube::Client) -> anyhow::Result<()> {
//! let stats = configmapgen::run(client, None, std::future::pending::<()>()).await;
//! # let _ = stats;
//! # Ok(())
//! # }
//! ```

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client, CustomResource, Resource, ResourceExt,
    api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams},
    runtime::{
        Controller,
        controller::{self, Action},
        events::{Event, EventType, Recorder, Reporter},
        metrics::Metrics,
        watcher,
    },
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The name the operator uses as field manager and event reporter.
pub const MANAGER: &str = "configmapgen-controller";

/// The label every generated ConfigMap carries, naming its generator.
pub const GENERATOR_LABEL: &str = "example.com/generator";

/// How often a generator is looked at again when nothing changes, to repair
/// drift the watches could have missed.
const RESYNC: Duration = Duration::from_secs(300);

/// How long to wait before retrying a failed reconcile.
const RETRY: Duration = Duration::from_secs(5);

/// What ConfigMaps to generate.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "ConfigMapGenerator",
    namespaced,
    status = "ConfigMapGeneratorStatus",
    shortname = "cmg",
    printcolumn(name = "Content", type_ = "string", json_path = ".spec.content"),
    printcolumn(name = "Count", type_ = "integer", json_path = ".spec.count")
)]
pub struct ConfigMapGeneratorSpec {
    /// The text each generated ConfigMap holds under the key `content`.
    pub content: String,
    /// How many ConfigMaps to generate, named `<generator>-0`, `<generator>-1`, ...
    /// (one when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    pub count: Option<u32>,
}

impl ConfigMapGeneratorSpec {
    /// How many ConfigMaps this spec asks for.
    pub fn wanted(&self) -> u32 {
        self.count.unwrap_or(1)
    }
}

/// What the operator last made of a generator.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapGeneratorStatus {
    /// The names of the ConfigMaps generated.
    pub config_maps: Vec<String>,
    /// The generation of the spec they were generated from.
    pub observed_generation: Option<i64>,
}

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The generator has no namespace or uid (it was not read from the apiserver).
    #[error("generator {0} has no namespace or uid")]
    Incomplete(String),
    /// A request to the apiserver failed.
    #[error("{action} failed: {source}")]
    Kube {
        /// What was being done.
        action: String,
        /// What the client reported.
        #[source]
        source: kube::Error,
    },
}

fn kube_error(action: impl Into<String>) -> impl FnOnce(kube::Error) -> Error {
    let action = action.into();
    move |source| Error::Kube { action, source }
}

/// What the operator has done so far, by generator (`namespace/name`).
#[derive(Debug, Default)]
pub struct Stats {
    reconciles: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    fn record(&self, generator: &str) {
        *self
            .reconciles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(generator.to_string())
            .or_default() += 1;
    }

    /// Reconciles so far, by generator (`namespace/name`).
    pub fn reconciles(&self) -> BTreeMap<String, u64> {
        self.reconciles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What reconciles share.
pub struct Context {
    client: Client,
    recorder: Recorder,
    stats: Arc<Stats>,
}

/// What one reconcile changed.
#[derive(Debug, Default, PartialEq)]
struct Changes {
    created: Vec<String>,
    updated: Vec<String>,
    deleted: Vec<String>,
}

impl Changes {
    /// One event per kind of change, e.g. reason `Created` with the note
    /// `created ConfigMaps a-0, a-1`. Distinct reasons keep them apart: repeats
    /// of one reason on one object are folded into a single event's series.
    fn events(&self) -> Vec<Event> {
        [
            ("Created", "created", &self.created),
            ("Updated", "updated", &self.updated),
            ("Deleted", "deleted", &self.deleted),
        ]
        .into_iter()
        .filter(|(.., names)| !names.is_empty())
        .map(|(reason, verb, names)| {
            let noun = if names.len() == 1 {
                "ConfigMap"
            } else {
                "ConfigMaps"
            };
            Event {
                type_: EventType::Normal,
                reason: reason.into(),
                note: Some(format!("{verb} {noun} {}", names.join(", "))),
                action: "Generate".into(),
                secondary: None,
            }
        })
        .collect()
    }
}

/// The ConfigMaps `generator` wants, by name.
pub fn desired_config_maps(generator: &ConfigMapGenerator) -> BTreeMap<String, ConfigMap> {
    let name = generator.name_any();
    let wanted = generator.spec.wanted();
    (0..wanted)
        .map(|index| {
            let cm_name = format!("{name}-{index}");
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(cm_name.clone()),
                    namespace: generator.namespace(),
                    labels: Some(BTreeMap::from([(GENERATOR_LABEL.into(), name.clone())])),
                    owner_references: generator.controller_owner_ref(&()).map(|o| vec![o]),
                    ..ObjectMeta::default()
                },
                data: Some(BTreeMap::from([
                    ("content".into(), generator.spec.content.clone()),
                    ("index".into(), format!("{index} of {wanted}")),
                ])),
                ..ConfigMap::default()
            };
            (cm_name, cm)
        })
        .collect()
}

/// Brings the ConfigMaps of `generator` in line with its spec.
pub async fn reconcile(
    generator: Arc<ConfigMapGenerator>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let name = generator.name_any();
    let (Some(namespace), Some(uid)) = (generator.namespace(), generator.uid()) else {
        return Err(Error::Incomplete(name));
    };
    ctx.stats.record(&format!("{namespace}/{name}"));
    tracing::info!(generator = %name, %namespace, "reconciling");

    let config_maps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &namespace);
    let desired = desired_config_maps(&generator);
    let existing = config_maps
        .list(&ListParams::default().labels(&format!("{GENERATOR_LABEL}={name}")))
        .await
        .map_err(kube_error(format!(
            "listing the ConfigMaps of {namespace}/{name}"
        )))?;
    let ours: BTreeMap<String, ConfigMap> = existing
        .into_iter()
        .filter(|cm| cm.owner_references().iter().any(|o| o.uid == uid))
        .map(|cm| (cm.name_any(), cm))
        .collect();

    let mut changes = Changes::default();
    let apply = PatchParams::apply(MANAGER).force();
    for (cm_name, cm) in &desired {
        match ours.get(cm_name) {
            Some(current) if current.data == cm.data => continue,
            Some(_) => changes.updated.push(cm_name.clone()),
            None => changes.created.push(cm_name.clone()),
        }
        config_maps
            .patch(cm_name, &apply, &Patch::Apply(cm))
            .await
            .map_err(kube_error(format!(
                "applying ConfigMap {namespace}/{cm_name}"
            )))?;
    }
    for cm_name in ours.keys().filter(|n| !desired.contains_key(*n)) {
        match config_maps.delete(cm_name, &DeleteParams::default()).await {
            Ok(_) => changes.deleted.push(cm_name.clone()),
            // Already gone: nothing left to do.
            Err(kube::Error::Api(status)) if status.is_not_found() => {}
            Err(source) => {
                return Err(kube_error(format!(
                    "deleting ConfigMap {namespace}/{cm_name}"
                ))(source));
            }
        }
    }

    for event in changes.events() {
        // Events inform; failing to publish one must not fail the reconcile.
        if let Err(error) = ctx
            .recorder
            .publish(&event, &generator.object_ref(&()))
            .await
        {
            tracing::warn!(generator = %name, %error, "could not publish an event");
        }
    }

    let status = ConfigMapGeneratorStatus {
        config_maps: desired.keys().cloned().collect(),
        observed_generation: generator.metadata.generation,
    };
    if generator.status.as_ref() != Some(&status) {
        let patch = serde_json::json!({
            "apiVersion": ConfigMapGenerator::api_version(&()),
            "kind": ConfigMapGenerator::kind(&()),
            "status": status,
        });
        Api::<ConfigMapGenerator>::namespaced(ctx.client.clone(), &namespace)
            .patch_status(&name, &apply, &Patch::Apply(&patch))
            .await
            .map_err(kube_error(format!(
                "updating the status of {namespace}/{name}"
            )))?;
    }
    Ok(Action::requeue(RESYNC))
}

/// Retries a failed reconcile a little later.
pub fn error_policy(generator: Arc<ConfigMapGenerator>, error: &Error, _: Arc<Context>) -> Action {
    tracing::warn!(generator = %generator.name_any(), %error, "reconcile failed; retrying");
    Action::requeue(RETRY)
}

/// The operator's controller, over the generators in `namespace` (all
/// namespaces when `None`) and the ConfigMaps they own.
pub fn controller(client: &Client, namespace: Option<&str>) -> Controller<ConfigMapGenerator> {
    let (generators, config_maps): (Api<ConfigMapGenerator>, Api<ConfigMap>) = match namespace {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client.clone(), ns),
        ),
        None => (Api::all(client.clone()), Api::all(client.clone())),
    };
    Controller::new(generators, watcher::Config::default()).owns(
        config_maps,
        watcher::Config::default().labels(GENERATOR_LABEL),
    )
}

/// The context reconciles share, publishing events as [`MANAGER`].
pub fn context(client: Client, stats: Arc<Stats>) -> Arc<Context> {
    let recorder = Recorder::new(client.clone(), Reporter::from(MANAGER));
    Arc::new(Context {
        client,
        recorder,
        stats,
    })
}

/// Runs the operator until `shutdown` completes (then lets running reconciles
/// finish), and returns what it did.
pub async fn run(
    client: Client,
    namespace: Option<&str>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Arc<Stats> {
    run_with_metrics(client, namespace, None, shutdown).await
}

/// [`run`], recording controller metrics into `metrics` when given.
pub async fn run_with_metrics(
    client: Client,
    namespace: Option<&str>,
    metrics: Option<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Arc<Stats> {
    let stats = Arc::new(Stats::default());
    let mut controller = controller(&client, namespace).graceful_shutdown_on(shutdown);
    if let Some(metrics) = metrics {
        controller = controller.with_metrics(metrics);
    }
    controller
        .run(reconcile, error_policy, context(client, stats.clone()))
        .for_each(|outcome| async move { log_outcome(outcome) })
        .await;
    stats
}

/// Logs what the controller reports: failures at warn, the rest at debug.
pub(crate) fn log_outcome<T: std::fmt::Debug>(
    outcome: Result<T, controller::Error<Error, watcher::Error>>,
) {
    match outcome {
        Ok(done) => tracing::debug!(?done, "reconciled"),
        // A generator deleted while its ConfigMaps' deletions still trigger it.
        Err(controller::Error::ObjectNotFound(object)) => {
            tracing::debug!(%object, "reconcile requested for a deleted generator")
        }
        // Already logged by the error policy.
        Err(controller::Error::ReconcilerFailed(..)) => {}
        Err(error) => tracing::warn!(%error, "controller error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator(count: Option<u32>) -> ConfigMapGenerator {
        let mut g = ConfigMapGenerator::new(
            "gen",
            ConfigMapGeneratorSpec {
                content: "hello".into(),
                count,
            },
        );
        g.metadata.namespace = Some("ns".into());
        g.metadata.uid = Some("uid-1".into());
        g
    }

    #[test]
    fn desired_config_maps_are_numbered_labelled_and_owned() {
        let desired = desired_config_maps(&generator(Some(2)));
        assert_eq!(desired.keys().collect::<Vec<_>>(), ["gen-0", "gen-1"]);
        let second = &desired["gen-1"];
        assert_eq!(
            second.labels().get(GENERATOR_LABEL).map(String::as_str),
            Some("gen")
        );
        let owner = &second.owner_references()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("ConfigMapGenerator", "uid-1")
        );
        assert_eq!(owner.controller, Some(true));
        let data = second.data.clone().unwrap_or_default();
        assert_eq!(data.get("content").map(String::as_str), Some("hello"));
        assert_eq!(data.get("index").map(String::as_str), Some("1 of 2"));
    }

    #[test]
    fn count_defaults_to_one() {
        assert_eq!(desired_config_maps(&generator(None)).len(), 1);
    }

    #[test]
    fn each_kind_of_change_is_one_event() {
        let changes = Changes {
            created: vec!["a-0".into(), "a-1".into()],
            updated: vec![],
            deleted: vec!["a-2".into()],
        };
        let events: Vec<_> = changes
            .events()
            .into_iter()
            .map(|e| (e.reason, e.note.unwrap_or_default()))
            .collect();
        assert_eq!(
            events,
            [
                (
                    "Created".to_string(),
                    "created ConfigMaps a-0, a-1".to_string()
                ),
                ("Deleted".to_string(), "deleted ConfigMap a-2".to_string()),
            ]
        );
        assert!(Changes::default().events().is_empty());
    }
}
