//! A real Kubernetes control plane on loopback, for tests and demos.
//!
//! [`TestEnv`] starts one process that runs etcd, kube-apiserver and the
//! controllers a cluster without nodes still needs — garbage collection
//! (ownerReference cascades, foreground and background), namespace deletion,
//! `default` ServiceAccounts, ServiceAccount token Secrets and
//! `kube-root-ca.crt` ConfigMaps — all from the published Kubernetes Go
//! modules, with no containers. Pods are accepted but stay `Pending`: there is
//! no scheduler and no kubelet.
//!
//! History behaves as on a cluster that has run a while: etcd starts at
//! revision 100 and is compacted once the apiserver is ready, so a watch from
//! an old resource version (such as `"1"`) gets `410 Gone`.
//!
//! The apiserver listens on `127.0.0.1` with a self-signed certificate,
//! authorises with RBAC, and serves the TokenRequest API, so tests can act as
//! the admin (`system:masters`), as ServiceAccounts (tokens from
//! TokenRequest), or as any user (client certificates signed with
//! [`TestEnv::client_ca`]).
//!
//! # The control plane binary
//!
//! The Go program in this crate's `controlplane/` directory is built with
//! `go build` on first use (Go 1.26 or newer must be installed), into
//! `kube-test/` in Cargo's target directory, and rebuilt only when its sources
//! change. Set `KUBE_TEST_CONTROLPLANE_BIN` to use a binary built elsewhere.
//! [`controlplane_binary`] builds it without starting it, e.g. in CI before
//! the tests run.
//!
//! # Example
//!
//! ```no_run
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube_client::{Api, api::PostParams};
//! use kube_test::TestEnv;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let env = TestEnv::start().await?;
//! let namespace = env.fresh_namespace().await?;
//! let config_maps: Api<ConfigMap> = Api::namespaced(env.client().await?, &namespace);
//! let mut cm = ConfigMap::default();
//! cm.metadata.name = Some("settings".into());
//! config_maps.create(&PostParams::default(), &cm).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Outside of Rust, `just cluster` runs the same control plane in the
//! foreground and prints `export KUBECONFIG=...` for `kubectl`.
//!
//! # Faults
//!
//! [`faults::FaultProxy`] sits between a client and the control plane and
//! injects what real clusters do to long-running clients: `429`s and `5xx`s,
//! delays, dropped connections, cut and stalled bodies, watches ended with
//! `410 Gone`. Together with [`TestEnv::restart`] it shows that a client or
//! controller keeps working through them.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod binary;
mod cluster;
mod env;
mod error;
pub mod faults;
mod process;

pub use binary::{BINARY_ENV, controlplane_binary};
pub use env::TestEnv;
pub use error::Error;
