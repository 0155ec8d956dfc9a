//! A client for the Kubernetes API: configuration, the HTTP client, `Api<K>`
//! and discovery.
//!
//! # The pieces
//!
//! - A [`Config`] says where the apiserver is and how to prove who you are. It is
//!   usually inferred the way `kubectl` does it: the current context of the
//!   kubeconfig, or the pod's service account inside a cluster.
//! - A [`Client`] is made from a `Config`. It sends every request through a
//!   tower service: by default a stack of small layers (see
//!   [`client::middleware`]) that adds credentials, retries what is safe to
//!   retry and bounds every wait, over connections speaking HTTP/2 over rustls.
//!   It turns the apiserver's answers into Rust values — or into
//!   [`Error::Api`] carrying the server's `Status` when it says no. Layers of
//!   your own go on top with [`client::ClientBuilder`]; any other service, such
//!   as a `tower-test` mock, goes under [`Client::new`].
//! - An [`Api<K>`](Api) binds a client to one resource type `K` in one namespace
//!   (or all of them) and offers its verbs: `get`, `list`, `create`, `replace`,
//!   `patch`, `delete`, `watch`, and subresources such as `status`, `scale` and
//!   pod logs. `K` is any [`Resource`]: a `k8s-openapi` type, a custom resource,
//!   or a [`DynamicObject`](api::DynamicObject) for kinds known only at runtime.
//! - [`Discovery`] asks the server which groups, versions and kinds it serves,
//!   for working with kinds that were not compiled in.
//!
//! ```no_run
//! use k8s_openapi::api::core::v1::Pod;
//! use kube_client::{Api, Client, api::{ListParams, ResourceExt}};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), kube_client::Error> {
//!     // The cluster kubectl would talk to.
//!     let client = Client::try_default().await?;
//!     // Pods in the context's namespace.
//!     let pods: Api<Pod> = Api::default_namespaced(client);
//!     for pod in pods.list(&ListParams::default().labels("app=web")).await? {
//!         println!("{} is {:?}", pod.name_any(), pod.status.and_then(|s| s.phase));
//!     }
//!     // Errors keep the apiserver's Status: branch on its reason.
//!     match pods.get("missing").await {
//!         Err(kube_client::Error::Api(status)) if status.is_not_found() => {}
//!         other => println!("{other:?}"),
//!     }
//!     Ok(())
//! }
//! ```
//!
//! # Features
//!
//! - `client` (default): [`Client`], [`Api`] and [`Discovery`].
//! - `config` (default, through `client`): kubeconfig and in-cluster configuration.
//! - `rustls-tls` and `ring` (default): TLS by rustls with the ring provider.
//! - `gzip`: ask the server for compressed responses, and decompress them as
//!   they stream.
//! - `jsonpatch`: `Patch::Json` (RFC 6902).
//! - `admission`: `api::admission`, the `AdmissionReview` types of admission
//!   webhooks (from `kube-core`).
//! - `oidc`: refresh the ID token of an `oidc` auth-provider in the
//!   kubeconfig (refresh-token grant against the issuer's token endpoint).
//! - `unstable-client`: `Client::get`, `Client::list` and `Client::fetch` by
//!   scope or by reference, without an `Api`.
//! - `ws`: `Api::exec`, `Api::attach` and `Api::portforward` of pods
//!   over WebSockets, with the credentials and TLS settings of the client.
//! - `kubelet-debug`: exec, attach, port-forward and logs through a kubelet's
//!   own endpoints (`Client::kubelet_node_exec` and friends).
//! - `aws-lc-rs`: rustls with the aws-lc-rs provider (preferred over ring when
//!   both are on).
//! - `webpki-roots`: trust the webpki root set, compiled in, instead of the
//!   operating system's store when a cluster names no certificate authority.
//! - `metrics`: client-go's request metrics in a `prometheus-client` registry
//!   (`client::middleware::ClientMetrics`, `ClientBuilder::with_metrics`).
//! - `hyper-util-tracing`: `tracing` events of the connection pool beneath the
//!   HTTP client.
//! - `openssl-tls`: OpenSSL connectors from `ConfigExt`, for stacks built by
//!   hand; the default stack stays on rustls (this turns on `rustls-tls`).
//! - `oauth`: Google's application default credentials for the `gcp`
//!   auth-provider of kubeconfig files.
//! - `http-proxy`, `socks5`, `proxy`: accepted so dependency lines written for
//!   kube-rs resolve; proxies always work.
//!
//! Watching for the long run (relists, bookmarks, backoff), caching and
//! controllers are the job of `kube-runtime`, built on this crate.

#[cfg(feature = "client")]
pub mod api;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "config")]
pub mod config;
#[cfg(feature = "client")]
pub mod discovery;
#[cfg(any(feature = "config", feature = "client"))]
pub mod error;

#[cfg(feature = "client")]
#[doc(inline)]
pub use api::Api;
#[cfg(feature = "client")]
#[doc(inline)]
pub use client::Client;
#[cfg(feature = "config")]
#[doc(inline)]
pub use config::Config;
#[cfg(feature = "client")]
#[doc(inline)]
pub use discovery::Discovery;
#[cfg(any(feature = "config", feature = "client"))]
#[doc(inline)]
pub use error::Error;

/// The result type of this crate: `Err` is [`Error`].
#[cfg(any(feature = "config", feature = "client"))]
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use crate::core::{CustomResourceExt, Resource, ResourceExt};
/// The types and pure request building this crate sends: `kube-core`.
pub use kube_core as core;
