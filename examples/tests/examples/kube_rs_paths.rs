//! Compile-time check that the paths code written for kube-rs imports exist
//! here under the same names: if one moves or disappears, this test binary
//! stops compiling.
#![allow(unused_imports, deprecated)]

use kube::{
    Api, Client, Config, CustomResource, CustomResourceExt, Discovery, Error, Resource,
    ResourceExt, Result,
    api::{
        ApiResource, DeleteParams, DynamicObject, EvictParams, GetParams, GroupVersionKind,
        ListParams, LogParams, NotUsed, Object, ObjectList, ObjectMeta, PartialObjectMeta,
        PartialObjectMetaExt, Patch, PatchParams, PostParams, Preconditions, PropagationPolicy,
        TypeMeta, ValidationDirective, VersionMatch, WatchEvent, WatchParams, entry::Entry,
    },
    config::{
        AuthInfo, Cluster, Context, InferConfigError, KubeConfigOptions, Kubeconfig,
        KubeconfigError, NamedAuthInfo, NamedCluster, NamedContext,
    },
    core::{
        ClusterResourceScope, DynamicResourceScope, ErrorResponse, Expression, GroupVersion,
        GroupVersionResource, NamespaceResourceScope, Selector, SelectorExt, Status,
        crd::merge_crds,
        object::{HasSpec, HasStatus},
    },
    discovery::{
        ApiCapabilities, ApiGroup, Scope, group, oneshot, pinned_group, pinned_kind, verbs,
    },
    runtime::{
        Controller, Predicate, WatchStreamExt, applier,
        controller::{
            Action, Config as ControllerConfig, Error as ControllerError, ReconcileReason,
            ReconcileRequest, trigger_owners, trigger_self, trigger_with,
        },
        events::{Event as RecordedEvent, EventType, Recorder, Reporter},
        finalizer::{Error as FinalizerError, Event as Finalizer, finalizer},
        metadata_watcher, predicates,
        reflector::{self, Lookup, ObjectRef, Store, store, store::Writer},
        scheduler,
        utils::{Backoff, CancelableJoinHandle, StreamBackoff},
        wait::{Condition, await_condition, conditions, delete::delete_and_finalize},
        watcher::{
            self, Config as WatcherConfig, DefaultBackoff, Event, ExponentialBackoff,
            InitialListStrategy, ListSemantic, watch_object,
        },
    },
};

use std::{cell::Cell, sync::Arc};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    config::NoProxyError,
    core::response::reason::{STORAGE_READ_ERROR, is_known},
    prelude::*,
    runtime::events::Reference,
};
use serde::Deserialize;

/// What an operator's own error type makes of a finalizer error: an
/// exhaustive `match`, with `InvalidFinalizer` a unit variant, as kube-rs
/// operators write it.
fn describe<E: std::error::Error + 'static>(error: &FinalizerError<E>) -> &'static str {
    match error {
        FinalizerError::ApplyFailed(_) => "apply failed",
        FinalizerError::CleanupFailed(_) => "cleanup failed",
        FinalizerError::AddFinalizer(_) => "adding the finalizer failed",
        FinalizerError::RemoveFinalizer(_) => "removing the finalizer failed",
        FinalizerError::UnnamedObject => "unnamed object",
        FinalizerError::InvalidFinalizer => "invalid finalizer",
    }
}

#[tokio::test]
async fn finalizer_errors_match_exhaustively_with_a_unit_invalid_finalizer() {
    let (client, ns) = crate::common::client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let mut map = ConfigMap::default();
    map.metadata.name = Some("guarded".into());
    let outcome = finalizer(&maps, "not a finalizer", Arc::new(map), |_| async {
        Ok::<_, std::io::Error>(Action::await_change())
    })
    .await;
    let error = outcome.expect_err("a finalizer name with spaces is refused");
    assert_eq!(describe(&error), "invalid finalizer");
    assert!(matches!(error, FinalizerError::InvalidFinalizer));
}

/// A config map read into a type that may move between threads but not be
/// shared between them (`Cell` is not `Sync`).
#[derive(kube::Resource, Clone, Debug, Deserialize)]
#[resource(inherit = "ConfigMap")]
struct Unshared {
    metadata: ObjectMeta,
    #[serde(skip)]
    reads: Cell<u32>,
}

#[tokio::test]
async fn objects_that_are_not_sync_can_be_watched_waited_for_and_owned() {
    fn is_send<T: Send>(_: &T) {}
    let (client, ns) = crate::common::client_in_fresh_namespace().await;
    let unshared: Api<Unshared> = Api::namespaced(client.clone(), &ns);
    let parents: Api<ConfigMap> = Api::namespaced(client, &ns);

    is_send(&watcher::watcher(
        unshared.clone(),
        WatcherConfig::default(),
    ));
    is_send(&metadata_watcher(
        unshared.clone(),
        WatcherConfig::default(),
    ));
    is_send(&watch_object(unshared.clone(), "one"));
    is_send(&await_condition(
        unshared.clone(),
        "one",
        |_: Option<&Unshared>| true,
    ));
    is_send(&delete_and_finalize(
        unshared.clone(),
        "one",
        &DeleteParams::default(),
    ));
    let controller = Controller::new(parents, WatcherConfig::default())
        .owns(unshared.clone(), WatcherConfig::default())
        .watches(unshared, WatcherConfig::default(), |object: Unshared| {
            object.reads.set(object.reads.get() + 1);
            None::<ObjectRef<ConfigMap>>
        });
    // Nothing is polled: building each stream and future is what is checked.
    drop(controller);
}

#[test]
fn smaller_kube_rs_names_exist() {
    let map = {
        let mut map = ConfigMap::default();
        map.metadata.name = Some("settings".into());
        map.metadata.namespace = Some("shop".into());
        map
    };
    assert_eq!(
        ObjectRef::from(&map),
        ObjectRef::new("settings").within("shop")
    );
    assert!(is_known(STORAGE_READ_ERROR) && !is_known(""));
    let error = NoProxyError::ParseMatcher {
        input: "::bad".into(),
    };
    assert!(error.to_string().contains("::bad"));
    fn is_hash<T: std::hash::Hash + Eq>() {}
    is_hash::<Reference>();
    assert_eq!(map.name_any(), "settings");
}
