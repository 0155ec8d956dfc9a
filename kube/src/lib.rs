//! Kubernetes in Rust: a typed client and an operator runtime, in one crate.
//!
//! Kubernetes' API is uniform underneath its many kinds: every object carries
//! `apiVersion`, `kind` and `metadata`, lives at a URL derived from its group,
//! version, plural and namespace, and is listed and watched the same way. This
//! crate encodes that once, with traits and generics, so one [`Api<K>`](Api)
//! serves every type — the built-in ones from `k8s-openapi`, custom resources
//! derived with [`CustomResource`], and [`DynamicObject`](core::DynamicObject)s
//! discovered at runtime.
//!
//! ```no_run
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube::{Api, Client, ResourceExt, api::{ListParams, Patch, PatchParams}};
//!
//! #[tokio::main]
//! async fn main() -> kube::Result<()> {
//!     // Whatever cluster kubectl would talk to.
//!     let client = Client::try_default().await?;
//!     let config_maps: Api<ConfigMap> = Api::default_namespaced(client);
//!
//!     // Server-side apply: declare what this program owns.
//!     let desired = serde_json::json!({
//!         "apiVersion": "v1",
//!         "kind": "ConfigMap",
//!         "data": { "greeting": "hello" },
//!     });
//!     let params = PatchParams::apply("example").force();
//!     config_maps.patch("greeting", &params, &Patch::Apply(&desired)).await?;
//!
//!     for cm in config_maps.list(&ListParams::default()).await? {
//!         println!("{}", cm.name_any());
//!     }
//!     Ok(())
//! }
//! ```
//!
//! # The crates behind it
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`core`] | `kube-core` | [`Resource`], params, `WatchEvent`, `DynamicObject`, request building |
//! | [`api`], [`client`], [`config`], [`discovery`] | `kube-client` | [`Api`], [`Client`], [`Config`], [`Discovery`] |
//! | [`runtime`] | `kube-runtime` | watchers, reflectors and stores, `Controller`, finalizers, events, leader election |
//! | [`CustomResource`], [`Resource`](derive@Resource), [`KubeSchema`] | `kube-derive` | derive macros |
//!
//! # Features
//!
//! - `client` (default): [`Client`], [`Api`], [`Discovery`]; implies `config`.
//! - `config` (default): kubeconfig and in-cluster configuration.
//! - `rustls-tls`, `ring` (default): TLS with rustls and the ring provider.
//! - `runtime`: the operator runtime, as [`runtime`].
//! - `derive`: `#[derive(CustomResource, Resource, KubeSchema)]`.
//! - `jsonpatch`: `Patch::Json` (RFC 6902 JSON patches).
//! - `gzip`: ask the apiserver for compressed responses.
//! - `metrics`: metrics with controller-runtime's and client-go's names in a
//!   `prometheus-client` registry: controllers, work queues and leader
//!   election (`runtime::metrics`), and the client's requests
//!   (`client::middleware::ClientMetrics`).
//! - `probes`: `runtime::probes`, an HTTP server for an operator's `/healthz`,
//!   `/readyz` and `/metrics` (implies `metrics`).
//! - `webhook`: `runtime::webhook`, an HTTPS server for admission and CRD
//!   conversion webhooks (implies `runtime` and `admission`).
//! - `aws-lc-rs`: rustls with the aws-lc-rs provider instead of ring.
//! - `webpki-roots`: when a cluster names no certificate authority, trust the
//!   webpki (Mozilla) root set compiled into the binary instead of the
//!   operating system's trust store.
//! - `hyper-util-tracing`: `tracing` events from the connection layer.
//! - `admission`: `core::admission`, the `AdmissionReview` types for writing
//!   admission webhooks.
//! - `oidc`: refresh the ID token of an `oidc` auth-provider in the
//!   kubeconfig with its refresh token when it expires or is refused.
//! - `unstable-client`: `Client::get`, `Client::list` and `Client::fetch`,
//!   by scope (`client::scope::{Cluster, Namespace}`) or by reference.
//! - `unstable-runtime`: shared reflectors (`runtime::reflector::store_shared`,
//!   `Writer::subscribe`, `WatchStreamExt::reflect_shared`) and the
//!   controller's `for_shared_stream`, `owns_shared_stream` and
//!   `watches_shared_stream`. `Controller::for_stream`, `owns_stream`,
//!   `watches_stream` and `reconcile_on`, behind this flag in kube-rs, are
//!   always available here.
//! - `ws`: `exec`, `attach` and `portforward` of pods over WebSockets
//!   (`Api::exec`, `api::AttachedProcess`, `api::Portforwarder`).
//! - `kubelet-debug`: the same, and logs, through a kubelet's own endpoints
//!   (`Client::kubelet_node_exec` and friends), for a client whose cluster URL
//!   is the kubelet.
//!
//! Some features exist so that dependency lines written for kube-rs resolve
//! unchanged, and say so:
//!
//! - `http-proxy`, `socks5`, `proxy`: proxies (`proxy-url` in the kubeconfig,
//!   `HTTPS_PROXY`/`NO_PROXY`, `socks5://` URLs) always work; these features add
//!   nothing.
//! - `openssl-tls`: TLS is always rustls here; this feature turns on
//!   `rustls-tls` with the ring provider, so a program that asked for OpenSSL
//!   builds and connects the same way, without linking OpenSSL.
//!
//! The final binary picks the Kubernetes version through `k8s-openapi`'s
//! version feature (for example `k8s-openapi = { features = ["latest"] }`); this
//! crate never does.
//!
//! # Where to go next
//!
//! - Custom resources: `#[derive(CustomResource)]` on a spec struct gives the
//!   resource type and its CustomResourceDefinition (feature `derive`).
//! - Operators: `runtime::Controller` reconciles a kind and what it owns;
//!   `runtime::watcher` and `runtime::reflector` are the streams and caches
//!   beneath it (feature `runtime`).
//! - Tests against a real kube-apiserver, started on loopback in one call: the
//!   `kube-test` crate.
//! - Runnable programs, one job each, every one tested: the repository's
//!   `examples` crate (`crd_derive`, `pod_reflector`, `configmapgen_controller`,
//!   `leader_election`, `controller_metrics`, ...).

#[cfg(feature = "client")]
#[doc(inline)]
pub use kube_client::{api, client, discovery};

#[cfg(feature = "client")]
#[doc(inline)]
pub use kube_client::{Api, Client, Discovery};

#[cfg(feature = "config")]
#[doc(inline)]
pub use kube_client::config;

#[cfg(feature = "config")]
#[doc(inline)]
pub use kube_client::Config;

#[cfg(any(feature = "config", feature = "client"))]
#[doc(inline)]
pub use kube_client::{Error, error};

/// The result of the client's operations: `Err` is [`Error`].
#[cfg(any(feature = "config", feature = "client"))]
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(feature = "derive")]
pub use kube_derive::{CustomResource, KubeSchema, Resource};

#[cfg(feature = "runtime")]
#[doc(inline)]
pub use kube_runtime as runtime;

#[doc(inline)]
pub use kube_core as core;

pub use crate::core::{CustomResourceExt, Resource, ResourceExt};

pub mod prelude {
    //! The traits most programs use, imported anonymously so their methods are
    //! in scope without their names:
    //!
    //! ```
    //! use kube::prelude::*;
    //! ```

    pub use crate::core::{
        CustomResourceExt as _, PartialObjectMetaExt as _, Resource as _, ResourceExt as _,
        SelectorExt as _,
    };

    #[cfg(feature = "client")]
    pub use crate::client::ConfigExt as _;

    #[cfg(feature = "runtime")]
    pub use crate::runtime::WatchStreamExt as _;

    #[cfg(feature = "unstable-client")]
    pub use crate::client::scope::NamespacedRef;
}
