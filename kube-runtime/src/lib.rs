//! The operator runtime: watchers, reflectors, stores and controllers.
//!
//! Operators are built from streams:
//!
//! - a [`watcher`](mod@watcher) turns list and watch requests into an endless stream of
//!   [`watcher::Event`]s that survives timeouts, disconnects and `410 Gone`;
//! - a [`reflector`](mod@reflector) keeps an in-memory [`reflector::Store`] in step with it;
//! - the [`scheduler`](mod@scheduler) merges and delays reconcile requests;
//! - a [`Controller`] ties them together: it watches a resource and what it
//!   owns, and calls your reconcile function with the latest state of each
//!   object that needs attention;
//! - [`WatchStreamExt`] adapts watcher streams: backoff, object extraction,
//!   predicates.
//!
//! Around the controller: [`finalizer`](mod@finalizer) for cleanup before deletion, [`events`]
//! to tell users what happened, [`wait`] for conditions, and
//! [`leader_election`] to run one active replica among several. With the
//! `metrics` feature, `metrics` records controller-runtime's metrics; with
//! `probes`, `probes` serves `/healthz`, `/readyz` and `/metrics`; with
//! `webhook`, `webhook` serves admission and conversion webhooks.
//!
//! # A cache that follows the cluster
//!
//! A watcher feeding a store is the base of everything else here: reads come
//! from memory, and the stream says what changed.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use k8s_openapi::api::core::v1::Pod;
//! use kube_client::{Api, Client, ResourceExt};
//! use kube_runtime::{WatchStreamExt, reflector, watcher};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pods: Api<Pod> = Api::default_namespaced(Client::try_default().await?);
//! let (store, writer) = reflector::store();
//! // List, then watch from where the list ended; on errors back off and resume,
//! // relisting when the server has forgotten that point (410 Gone).
//! let changes = watcher(pods, watcher::Config::default())
//!     .default_backoff()
//!     .reflect(writer)
//!     .applied_objects();
//! let mut changes = std::pin::pin!(changes);
//! while let Some(pod) = changes.try_next().await? {
//!     println!("{} changed; {} pods in the store", pod.name_any(), store.len());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A [`Controller`] builds the same pipeline for the kind it manages and for
//! what that kind owns, and turns changes into calls of your `reconcile`
//! function; see [`controller`](mod@controller) for a complete one.

pub mod controller;
pub mod events;
pub mod finalizer;
pub mod leader_election;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(feature = "probes")]
pub mod probes;
pub mod reflector;
pub mod scheduler;
pub mod utils;
pub mod wait;
pub mod watcher;
#[cfg(feature = "webhook")]
pub mod webhook;

pub use controller::{Config, Controller, applier};
pub use finalizer::finalizer;
pub use reflector::reflector;
pub use scheduler::scheduler;
pub use utils::{Predicate, PredicateConfig, WatchStreamExt, predicates};
pub use wait::conditions;
pub use watcher::{metadata_watcher, watcher};
