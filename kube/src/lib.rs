//! A Kubernetes client and operator runtime in one crate.
//!
//! Re-exports [`kube_core`] as `kube::core`, and the client, runtime and derive
//! crates behind the `client`, `runtime` and `derive` features.

pub use kube_core as core;
#[cfg(feature = "client")]
pub use kube_client as client;
#[cfg(feature = "runtime")]
pub use kube_runtime as runtime;
#[cfg(feature = "derive")]
pub use kube_derive::*;
