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
