//! Rolls Deployments out again when a ConfigMap they use changes.
//!
//! A Deployment's pods read ConfigMaps at start (mounted as volumes, or as
//! environment variables through `envFrom`), so a changed ConfigMap reaches
//! them only when they restart. This controller stamps a hash of every
//! ConfigMap a Deployment uses on its pod template, as the annotation
//! `example.com/config-hash`: when one changes, so does the hash, and the
//! Deployment rolls its pods.
//!
//! The Deployments' store keeps an index from each ConfigMap to the
//! Deployments using it. When a ConfigMap changes, the controller's `watches`
//! mapper looks its Deployments up in that index — one hash lookup instead of
//! a scan of every Deployment.
//!
//! ```no_run
//! # async fn run(client: kube::Client) {
//! examples::configmap_rollout::run(client, "default", std::future::pending::<()>()).await;
//! # }
//! ```

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use futures::StreamExt;
use k8s_openapi::api::{apps::v1::Deployment, core::v1::ConfigMap};
use kube::{
    Api, Client, ResourceExt,
    api::{Patch, PatchParams},
    runtime::{
        Controller, WatchStreamExt,
        controller::Action,
        reflector::{ObjectRef, Store, store::Writer},
        watcher,
    },
};

/// The index of the Deployments' store: from `namespace/name` of a ConfigMap
/// to the Deployments using it.
pub const BY_CONFIG_MAP: &str = "configmap";

/// The pod template annotation holding the hash of a Deployment's ConfigMaps.
pub const HASH_ANNOTATION: &str = "example.com/config-hash";

/// The field manager of the annotation.
pub const MANAGER: &str = "configmap-rollout";

/// How long to wait before retrying a failed reconcile.
const RETRY: Duration = Duration::from_secs(5);

/// The index key of a ConfigMap.
pub fn index_key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// The names of the ConfigMaps a Deployment's pods use: mounted as volumes
/// (directly or projected), or read into the environment with `envFrom`.
pub fn config_maps_used(deployment: &Deployment) -> Vec<String> {
    let Some(pod) = deployment.spec.template.spec.as_ref() else {
        return Vec::new();
    };
    let volumes = pod.volumes.iter().flatten().flat_map(|volume| {
        let direct = volume.config_map.iter().map(|source| source.name.clone());
        let projected = volume
            .projected
            .iter()
            .flat_map(|projected| projected.sources.iter().flatten())
            .filter_map(|source| source.config_map.as_ref())
            .map(|source| source.name.clone());
        direct.chain(projected).collect::<Vec<_>>()
    });
    let environment = pod
        .containers
        .iter()
        .chain(pod.init_containers.iter().flatten())
        .flat_map(|container| container.env_from.iter().flatten())
        .filter_map(|source| source.config_map_ref.as_ref())
        .map(|source| source.name.clone());
    volumes.chain(environment).collect()
}

/// The index function: the keys of the ConfigMaps `deployment` uses.
fn index_keys(deployment: &Deployment) -> Vec<String> {
    let namespace = deployment.namespace().unwrap_or_default();
    config_maps_used(deployment)
        .iter()
        .map(|name| index_key(&namespace, name))
        .collect()
}

/// The Deployments using `config_map`, from the index.
pub fn users_of(
    deployments: &Store<Deployment>,
    config_map: &ConfigMap,
) -> Vec<ObjectRef<Deployment>> {
    let key = index_key(
        &config_map.namespace().unwrap_or_default(),
        &config_map.name_any(),
    );
    match deployments.by_index(BY_CONFIG_MAP, &key) {
        Ok(users) => users.iter().map(|d| ObjectRef::from_obj(&**d)).collect(),
        Err(error) => {
            tracing::error!(%error, "the Deployments' store lost its index");
            Vec::new()
        }
    }
}

/// A stable hash (64-bit FNV-1a) of the named ConfigMaps' data, in hex: the
/// same on every run of any build, so a restarted controller rolls nothing.
pub fn config_hash(config_maps: &BTreeMap<String, Option<ConfigMap>>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes.iter().chain([&0xff]) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for (name, config_map) in config_maps {
        feed(name.as_bytes());
        let Some(config_map) = config_map else {
            feed(b"(missing)");
            continue;
        };
        for (key, value) in config_map.data.iter().flatten() {
            feed(key.as_bytes());
            feed(value.as_bytes());
        }
        for (key, value) in config_map.binary_data.iter().flatten() {
            feed(key.as_bytes());
            feed(&value.0);
        }
    }
    format!("{hash:016x}")
}

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
#[error("{action} failed: {source}")]
pub struct Error {
    action: String,
    #[source]
    source: kube::Error,
}

/// Reconciles per Deployment (`namespace/name`) so far.
#[derive(Debug, Default)]
pub struct Stats(Mutex<BTreeMap<String, u64>>);

impl Stats {
    fn record(&self, deployment: &str) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(deployment.to_string())
            .or_default() += 1;
    }

    /// Reconciles so far, by Deployment.
    pub fn reconciles(&self) -> BTreeMap<String, u64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What reconciles share.
pub struct Context {
    client: Client,
    stats: Arc<Stats>,
}

/// Stamps the hash of the ConfigMaps `deployment` uses on its pod template.
pub async fn reconcile(deployment: Arc<Deployment>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = deployment.name_any();
    let namespace = deployment.namespace().unwrap_or_default();
    ctx.stats.record(&index_key(&namespace, &name));
    let used = config_maps_used(&deployment);
    if used.is_empty() {
        return Ok(Action::await_change());
    }
    let config_maps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut read = BTreeMap::new();
    for cm_name in used {
        let config_map = config_maps
            .get_opt(&cm_name)
            .await
            .map_err(|source| Error {
                action: format!("reading ConfigMap {namespace}/{cm_name}"),
                source,
            })?;
        read.insert(cm_name, config_map);
    }
    let hash = config_hash(&read);
    let stamped = deployment
        .spec
        .template
        .metadata
        .as_ref()
        .and_then(|meta| meta.annotations.as_ref())
        .and_then(|annotations| annotations.get(HASH_ANNOTATION));
    if stamped == Some(&hash) {
        return Ok(Action::await_change());
    }
    tracing::info!(deployment = %name, %namespace, %hash, "rolling out new configuration");
    let patch = serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": name },
        "spec": { "template": { "metadata": { "annotations": { HASH_ANNOTATION: hash } } } },
    });
    Api::<Deployment>::namespaced(ctx.client.clone(), &namespace)
        .patch(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(patch),
        )
        .await
        .map_err(|source| Error {
            action: format!("annotating Deployment {namespace}/{name}"),
            source,
        })?;
    Ok(Action::await_change())
}

fn error_policy(_: Arc<Deployment>, error: &Error, _: Arc<Context>) -> Action {
    tracing::warn!(%error, "reconcile failed");
    Action::requeue(RETRY)
}

/// Runs the controller over the Deployments and ConfigMaps of `namespace`
/// until `shutdown` completes; returns its reconcile counts.
pub async fn run(
    client: Client,
    namespace: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Arc<Stats> {
    let stats = Arc::new(Stats::default());
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);

    let writer = Writer::default().with_index(BY_CONFIG_MAP, index_keys);
    let store = writer.as_reader();
    let changed_deployments = watcher(deployments, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .touched_objects();
    let index = store.clone();
    Controller::for_stream(changed_deployments, store)
        .watches(config_maps, watcher::Config::default(), move |config_map| {
            users_of(&index, &config_map)
        })
        .graceful_shutdown_on(shutdown)
        .run(
            reconcile,
            error_policy,
            Arc::new(Context {
                client,
                stats: Arc::clone(&stats),
            }),
        )
        .for_each(|outcome| async move {
            if let Err(error) = outcome {
                tracing::debug!(%error, "controller error");
            }
        })
        .await;
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(pod: serde_json::Value) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod},
            },
        }))
        .expect("a Deployment")
    }

    #[test]
    fn mounted_projected_and_environment_config_maps_are_all_used() {
        let web = deployment(serde_json::json!({
            "volumes": [
                {"name": "a", "configMap": {"name": "mounted"}},
                {"name": "b", "projected": {"sources": [{"configMap": {"name": "projected"}}, {"secret": {"name": "s"}}]}},
                {"name": "c", "emptyDir": {}},
            ],
            "initContainers": [{"name": "init", "envFrom": [{"configMapRef": {"name": "init-env"}}]}],
            "containers": [{"name": "main", "envFrom": [{"configMapRef": {"name": "env"}}, {"secretRef": {"name": "s"}}]}],
        }));
        assert_eq!(
            config_maps_used(&web),
            ["mounted", "projected", "env", "init-env"]
        );
        assert_eq!(index_keys(&web)[0], "shop/mounted");
    }

    #[test]
    fn the_hash_follows_the_data_and_names_missing_config_maps() {
        let cm = |value: &str| {
            Some(ConfigMap {
                data: Some(BTreeMap::from([("k".to_string(), value.to_string())])),
                ..ConfigMap::default()
            })
        };
        let one = BTreeMap::from([("a".to_string(), cm("1"))]);
        let two = BTreeMap::from([("a".to_string(), cm("2"))]);
        let missing = BTreeMap::from([("a".to_string(), None)]);
        assert_eq!(config_hash(&one), config_hash(&one.clone()));
        assert_ne!(config_hash(&one), config_hash(&two));
        assert_ne!(config_hash(&one), config_hash(&missing));
        assert_eq!(config_hash(&one).len(), 16);
    }
}
