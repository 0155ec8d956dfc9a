//! End-to-end tests of kube-runtime against a real kube-apiserver, started by
//! kube-test on loopback (once for this whole test binary).
//!
//! Every test needs the control plane: when it cannot start, the tests fail.

mod backoff;
mod bookmarks;
mod common;
mod conditions;
mod controller;
mod convergence;
mod events;
mod finalizer;
mod leader_election;
#[cfg(feature = "metrics")]
mod metrics;
mod owned_children;
#[cfg(feature = "probes")]
mod probes;
mod reflector;
#[cfg(feature = "unstable-runtime-subscribe")]
mod shared_reflector;
mod wait;
mod watcher;
#[cfg(feature = "webhook")]
mod webhook;
