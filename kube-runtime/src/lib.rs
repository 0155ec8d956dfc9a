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
//! [`leader_election`] to run one active replica among several.

pub mod controller;
pub mod events;
pub mod finalizer;
pub mod leader_election;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod reflector;
pub mod scheduler;
pub mod utils;
pub mod wait;
pub mod watcher;

pub use controller::{Config, Controller, applier};
pub use finalizer::finalizer;
pub use reflector::reflector;
pub use scheduler::scheduler;
pub use utils::{Predicate, PredicateConfig, WatchStreamExt, predicates};
pub use wait::conditions;
pub use watcher::{metadata_watcher, watcher};
