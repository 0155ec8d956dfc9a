//! A controller of a derived custom resource that owns ConfigMaps: it
//! recreates a child deleted behind its back, follows changes of its owner's
//! spec, and the children go with their owner (garbage collection through
//! controller owner references that block the owner's deletion).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use k8s_openapi::{api::core::v1::ConfigMap, apimachinery::pkg::apis::meta::v1::OwnerReference};
use kube::{CustomResource, CustomResourceExt};
use kube_client::{
    Api, Client, Resource,
    api::{DeleteParams, ObjectMeta, Patch, PatchParams, PostParams},
};
use kube_runtime::{Controller, controller::Action, watcher};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Background, OURS, eventually};

/// A greeting, published as a ConfigMap the controller owns.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "e2e.kube-runtime.example",
    version = "v1",
    kind = "Greeting",
    namespaced
)]
pub struct GreetingSpec {
    /// What the child ConfigMap says.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Failed(#[from] kube_client::Error);

const MANAGER: &str = "e2e-greeting-controller";

fn child_name(greeting: &str) -> String {
    format!("{greeting}-greeting")
}

/// Applies the child ConfigMap of `greeting`: its message, owned by the
/// greeting as its controller, blocking the greeting's foreground deletion.
async fn reconcile(greeting: Arc<Greeting>, client: Arc<Client>) -> Result<Action, Failed> {
    // Children of a greeting being deleted are the garbage collector's.
    if greeting.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let name = greeting.metadata.name.clone().unwrap_or_default();
    let namespace = greeting.metadata.namespace.clone().unwrap_or_default();
    let owner = OwnerReference {
        block_owner_deletion: Some(true),
        ..greeting
            .controller_owner_ref(&())
            .expect("a stored greeting has a name and uid")
    };
    let child = ConfigMap {
        metadata: ObjectMeta {
            name: Some(child_name(&name)),
            labels: Some(BTreeMap::from([("e2e".to_string(), "yes".to_string())])),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(
            "message".to_string(),
            greeting.spec.message.clone(),
        )])),
        ..ConfigMap::default()
    };
    let config_maps: Api<ConfigMap> = Api::namespaced((*client).clone(), &namespace);
    config_maps
        .patch(
            &child_name(&name),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&child),
        )
        .await?;
    Ok(Action::await_change())
}

fn retry_soon(_: Arc<Greeting>, _: &Failed, _: Arc<Client>) -> Action {
    Action::requeue(Duration::from_millis(500))
}

/// The greetings and config maps of a fresh namespace, with a controller
/// running on them until the returned guard is dropped.
async fn greetings_with_controller() -> (Api<Greeting>, Api<ConfigMap>, Background) {
    let env = kube_test::TestEnv::start()
        .await
        .expect("the kube-test control plane must start");
    env.install_crd(Greeting::crd())
        .await
        .expect("the Greeting CRD installs");
    let namespace = env.fresh_namespace().await.expect("a fresh namespace");
    let client = env.client().await.expect("a client");
    let greetings: Api<Greeting> = Api::namespaced(client.clone(), &namespace);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let controller = Controller::new(greetings.clone(), watcher::Config::default())
        .owns(config_maps.clone(), watcher::Config::default().labels(OURS))
        .run(reconcile, retry_soon, Arc::new(client));
    (greetings, config_maps, Background::drive(controller))
}

async fn create_greeting(api: &Api<Greeting>, name: &str, message: &str) -> Greeting {
    let greeting = Greeting::new(
        name,
        GreetingSpec {
            message: message.into(),
        },
    );
    api.create(&PostParams::default(), &greeting)
        .await
        .unwrap_or_else(|err| panic!("creating greeting {name}: {err}"))
}

fn message_of(cm: &ConfigMap) -> Option<&str> {
    cm.data.as_ref()?.get("message").map(String::as_str)
}

/// Waits until the child of `greeting` says `message`, and returns it.
async fn child_saying(config_maps: &Api<ConfigMap>, greeting: &str, message: &str) -> ConfigMap {
    let name = child_name(greeting);
    eventually(&format!("{name} to say {message:?}"), || async {
        let found = config_maps.get_opt(&name).await.expect("readable");
        found.filter(|cm| message_of(cm) == Some(message))
    })
    .await
}

async fn gone<K>(api: &Api<K>, name: &str) -> Option<()>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name)
        .await
        .expect("readable")
        .is_none()
        .then_some(())
}

#[tokio::test]
async fn a_deleted_child_is_recreated_and_owned_by_its_greeting() {
    let (greetings, config_maps, _controller) = greetings_with_controller().await;
    let greeting = create_greeting(&greetings, "hello", "hi").await;

    let child = child_saying(&config_maps, "hello", "hi").await;
    let owners = child.metadata.owner_references.clone().unwrap_or_default();
    assert_eq!(owners.len(), 1, "{owners:?}");
    let owner = &owners[0];
    assert_eq!(
        (
            owner.kind.as_str(),
            owner.name.as_str(),
            owner.api_version.as_str()
        ),
        ("Greeting", "hello", "e2e.kube-runtime.example/v1")
    );
    assert_eq!(Some(&owner.uid), greeting.metadata.uid.as_ref());
    assert_eq!(owner.controller, Some(true));
    assert_eq!(owner.block_owner_deletion, Some(true));

    config_maps
        .delete(&child_name("hello"), &DeleteParams::default())
        .await
        .expect("deleted");
    let old_uid = child.metadata.uid.clone();
    let recreated = eventually("the child to be recreated", || async {
        let found = config_maps
            .get_opt(&child_name("hello"))
            .await
            .expect("readable");
        found.filter(|cm| cm.metadata.uid != old_uid)
    })
    .await;
    assert_eq!(message_of(&recreated), Some("hi"));
}

#[tokio::test]
async fn the_child_follows_changes_of_its_greetings_spec() {
    let (greetings, config_maps, _controller) = greetings_with_controller().await;
    create_greeting(&greetings, "hello", "hi").await;
    child_saying(&config_maps, "hello", "hi").await;

    for message in ["bonjour", "hallo"] {
        let change = serde_json::json!({ "spec": { "message": message } });
        greetings
            .patch("hello", &PatchParams::default(), &Patch::Merge(change))
            .await
            .expect("patched");
        child_saying(&config_maps, "hello", message).await;
    }
}

#[tokio::test]
async fn children_are_garbage_collected_with_their_greeting() {
    let (greetings, config_maps, _controller) = greetings_with_controller().await;
    create_greeting(&greetings, "background", "hi").await;
    create_greeting(&greetings, "foreground", "hi").await;
    child_saying(&config_maps, "background", "hi").await;
    child_saying(&config_maps, "foreground", "hi").await;

    // The default propagation deletes the owner at once, its children after.
    greetings
        .delete("background", &DeleteParams::default())
        .await
        .expect("deleted");
    let background_child = child_name("background");
    eventually("the background greeting's child to go", || {
        gone(&config_maps, &background_child)
    })
    .await;

    // Foreground propagation keeps the owner until the children that block
    // its deletion are gone.
    let deleting = greetings
        .delete("foreground", &DeleteParams::foreground())
        .await
        .expect("deletion accepted")
        .left()
        .expect("the greeting waits for its children");
    assert!(
        deleting
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"foregroundDeletion".to_string())
    );
    let foreground_child = child_name("foreground");
    eventually("the foreground greeting and its child to go", || async {
        gone(&greetings, "foreground").await?;
        gone(&config_maps, &foreground_child).await
    })
    .await;
}
