//! The controller under test: every parent ConfigMap owns a child ConfigMap
//! holding the parent's `value`. Its desired state is checked from a fresh
//! list.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures::StreamExt;
use k8s_openapi::{api::core::v1::ConfigMap, apimachinery::pkg::apis::meta::v1::OwnerReference};
use kube_client::{
    Api, Client, ResourceExt,
    api::{ListParams, ObjectMeta, Patch, PatchParams},
};
use kube_runtime::{Controller, controller::Action, watcher};

pub const PARENT_LABEL: &str = "soak/parent";
pub const CHILD_LABEL: &str = "soak/child";
const FIELD_MANAGER: &str = "soak-controller";

/// What the controller counts.
#[derive(Default)]
pub struct Counters {
    pub reconciles: AtomicU64,
    pub reconcile_errors: AtomicU64,
    pub stream_errors: AtomicU64,
}

struct Context {
    children: Api<ConfigMap>,
    counters: Arc<Counters>,
}

pub fn child_name(parent: &str) -> String {
    format!("{parent}-child")
}

pub fn value_of(cm: &ConfigMap) -> Option<&str> {
    cm.data.as_ref()?.get("value").map(String::as_str)
}

fn desired_child(parent: &ConfigMap) -> Option<ConfigMap> {
    let name = parent.metadata.name.clone()?;
    let uid = parent.metadata.uid.clone()?;
    let value = value_of(parent).unwrap_or_default().to_string();
    Some(ConfigMap {
        metadata: ObjectMeta {
            name: Some(child_name(&name)),
            labels: Some(BTreeMap::from([(
                CHILD_LABEL.to_string(),
                "true".to_string(),
            )])),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name: name.clone(),
                uid,
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([
            ("value".to_string(), value),
            ("parent".to_string(), name),
        ])),
        ..ConfigMap::default()
    })
}

async fn reconcile(
    parent: Arc<ConfigMap>,
    ctx: Arc<Context>,
) -> Result<Action, kube_client::Error> {
    ctx.counters.reconciles.fetch_add(1, Ordering::Relaxed);
    let Some(mut child) = desired_child(&parent) else {
        return Ok(Action::await_change());
    };
    child.metadata.managed_fields = None;
    let mut apply = serde_json::to_value(&child).map_err(kube_client::Error::SerdeError)?;
    apply["apiVersion"] = "v1".into();
    apply["kind"] = "ConfigMap".into();
    ctx.children
        .patch(
            &child_name(&parent.name_any()),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&apply),
        )
        .await?;
    Ok(Action::requeue(Duration::from_secs(300)))
}

fn error_policy(_parent: Arc<ConfigMap>, _error: &kube_client::Error, ctx: Arc<Context>) -> Action {
    ctx.counters
        .reconcile_errors
        .fetch_add(1, Ordering::Relaxed);
    Action::requeue(Duration::from_secs(2))
}

/// Runs the controller through `client` until the task is aborted.
pub fn spawn(
    client: Client,
    namespace: &str,
    counters: Arc<Counters>,
) -> tokio::task::JoinHandle<()> {
    let parents: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let children: Api<ConfigMap> = Api::namespaced(client, namespace);
    let context = Arc::new(Context {
        children: children.clone(),
        counters: counters.clone(),
    });
    let controller = Controller::new(
        parents,
        watcher::Config::default().labels(&format!("{PARENT_LABEL}=true")),
    )
    .owns(
        children,
        watcher::Config::default().labels(&format!("{CHILD_LABEL}=true")),
    );
    tokio::spawn(async move {
        controller
            .run(reconcile, error_policy, context)
            .for_each(|result| {
                if result.is_err() {
                    counters.stream_errors.fetch_add(1, Ordering::Relaxed);
                }
                futures::future::ready(())
            })
            .await;
    })
}

/// How far the cluster is from the desired state, from fresh lists.
#[derive(Debug, Default)]
pub struct Divergence {
    pub parents: usize,
    pub missing_children: Vec<String>,
    pub stale_children: Vec<String>,
    pub orphans: Vec<String>,
}

impl Divergence {
    pub fn is_empty(&self) -> bool {
        self.missing_children.is_empty()
            && self.stale_children.is_empty()
            && self.orphans.is_empty()
    }
}

pub async fn divergence(api: &Api<ConfigMap>) -> Result<Divergence, kube_client::Error> {
    let parents = api
        .list(&ListParams::default().labels(&format!("{PARENT_LABEL}=true")))
        .await?;
    let children = api
        .list(&ListParams::default().labels(&format!("{CHILD_LABEL}=true")))
        .await?;
    let children: BTreeMap<String, &ConfigMap> = children
        .items
        .iter()
        .map(|child| (child.name_any(), child))
        .collect();
    let mut divergence = Divergence {
        parents: parents.items.len(),
        ..Divergence::default()
    };
    let mut expected = std::collections::BTreeSet::new();
    for parent in &parents.items {
        let name = child_name(&parent.name_any());
        expected.insert(name.clone());
        match children.get(&name) {
            None => divergence.missing_children.push(name),
            Some(child) => {
                let owned = child
                    .metadata
                    .owner_references
                    .as_ref()
                    .and_then(|refs| refs.first())
                    .is_some_and(|owner| Some(&owner.uid) == parent.metadata.uid.as_ref());
                if !owned || value_of(child) != value_of(parent) {
                    divergence.stale_children.push(name);
                }
            }
        }
    }
    divergence.orphans = children
        .keys()
        .filter(|name| !expected.contains(*name))
        .cloned()
        .collect();
    Ok(divergence)
}
