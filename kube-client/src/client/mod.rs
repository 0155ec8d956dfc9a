//! The HTTP client that talks to the apiserver.
//!
//! A [`Client`] sends every request through a tower
//! [`tower::Service`] of `http::Request<Body>` to
//! `http::Response<Body>`, and turns what comes back into Rust values:
//! objects, lists, watch event streams, or the apiserver's `Status` as
//! [`Error::Api`]. Everything above that seam (building requests, decoding
//! JSON, splitting watch streams into events, discovery, every verb of
//! [`Api`](crate::Api)) works the same over any service.
//!
//! [`Client::try_from`] a [`Config`] builds the default service: a stack of
//! small layers over reqwest and rustls, listed in request order in
//! [`middleware`]. They add credentials and headers, retry what is safe to
//! retry, bound every wait, and open one `tracing` span per request.
//! [`ClientBuilder`] adds layers of your own on top of that stack, and
//! [`Client::new`] takes any service at all: a stack built from the pieces of
//! [`ConfigExt`], or a `tower-test` mock in unit tests.
//!
//! ```no_run
//! use http::{Request, Response};
//! use kube_client::{Api, Client, client::Body};
//! use k8s_openapi::api::core::v1::ConfigMap;
//!
//! # async fn run() {
//! let (mock, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
//! let client = Client::new(mock, "default");
//! let config_maps: Api<ConfigMap> = Api::default_namespaced(client);
//! tokio::spawn(async move {
//!     let (request, send) = handle.next_request().await.expect("a request");
//!     assert_eq!(request.uri().path(), "/api/v1/namespaces/default/configmaps/settings");
//!     let body = serde_json::to_vec(&serde_json::json!({
//!         "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "settings" },
//!     })).expect("json");
//!     send.send_response(Response::new(Body::from(body)));
//! });
//! let settings = config_maps.get("settings").await.expect("answered by the mock");
//! # }
//! ```

mod auth;
mod body;
mod builder;
#[cfg(feature = "unstable-client")]
mod client_ext;
mod config_ext;
mod endpoints;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod json;
#[cfg(feature = "kubelet-debug")]
mod kubelet_debug;
pub(crate) mod limits;
pub(crate) mod managed_fields;
pub mod middleware;
pub mod rate_limit;
mod requests;
pub mod retry;
mod stack;
#[cfg(feature = "rustls-tls")]
mod tls;
mod transport;
#[cfg(feature = "ws")]
mod upgrade;
mod watch;

pub use auth::Error as AuthError;
#[cfg(feature = "oauth")]
pub use auth::OAuthError;
#[cfg(feature = "oidc")]
pub use auth::oidc_errors;
pub use body::Body;
pub use builder::{ClientBuilder, DynBody};
#[cfg(feature = "unstable-client")]
pub use client_ext::{
    Cluster, CollectionUrl, Namespace, NamespaceError, NamespacedRef, ObjectRef, ObjectUrl, scope,
};
pub use config_ext::ConfigExt;
pub use kube_core::discovery::v2::{
    APIGroupDiscovery, APIGroupDiscoveryList, APIResourceDiscovery, APISubresourceDiscovery,
    APIVersionDiscovery, GroupVersionKind as DiscoveryGroupVersionKind,
};
pub use limits::ResponseBodyLimit;
#[cfg(feature = "rustls-tls")]
pub use tls::Error as RustlsTlsError;
#[cfg(feature = "ws")]
pub(crate) use upgrade::protocols as upgrade_protocols;
#[cfg(feature = "ws")]
pub use upgrade::{Connection, UpgradeConnectionError};
pub use watch::MAX_WATCH_LINE;

#[cfg(feature = "openssl-tls")]
pub use tls::openssl::Error as OpensslTlsError;

use std::{fmt, sync::Arc};

use http::{Request, Response};
use jiff::Timestamp;
use tower::{Service, ServiceExt, util::BoxService};

pub(crate) use self::stack::server_name;
use self::{middleware::BodyUse, stack::SharedService};
use crate::{Config, Error, Result, error::BoxError};

/// A client for one Kubernetes apiserver.
///
/// Cheap to clone: clones share one service stack, and with it one connection
/// pool and one set of credentials. Make one with [`Client::try_default`]
/// (kubeconfig or in-cluster configuration, as `kubectl` finds it),
/// [`Client::try_from`] a [`Config`], [`ClientBuilder`] to add layers, or
/// [`Client::new`] over any service.
///
/// ```no_run
/// use kube_client::{Api, Client};
/// use k8s_openapi::api::core::v1::Namespace;
///
/// # async fn run() -> Result<(), kube_client::Error> {
/// let client = Client::try_default().await?;
/// let version = client.apiserver_version().await?;
/// println!("talking to Kubernetes {}", version.git_version);
/// let namespaces: Api<Namespace> = Api::all(client);
/// for ns in namespaces.list(&Default::default()).await? {
///     println!("{:?}", ns.metadata.name);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    service: Stack,
    default_namespace: Arc<str>,
    valid_until: Option<Timestamp>,
}

/// The service under a client, as its clones share it.
#[derive(Clone)]
enum Stack {
    /// A service that can be cloned: each request calls a clone of its own.
    /// The default stack is one.
    Cloneable(SharedService),
    /// Any other service: requests take turns to make it ready and call it,
    /// then wait for their responses side by side.
    Exclusive(Arc<tokio::sync::Mutex<OwnService>>),
}

/// A service of the client's own, boxed.
type OwnService = BoxService<Request<Body>, Response<Body>, BoxError>;

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("default_namespace", &self.default_namespace)
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client over `service`, whose requests' namespace is
    /// `default_namespace` when an [`Api`](crate::Api) names none.
    ///
    /// The service gets each request with a path and query only (e.g.
    /// `/api/v1/namespaces/default/pods?limit=500`): a base URI layer, or the
    /// service itself, adds the cluster's URL. It must answer with any body of
    /// `Bytes`; its errors become [`Error::Service`] (or [`Error::HyperError`],
    /// or this crate's own error where a layer returned one).
    ///
    /// Requests wait their turn to make the service ready, so a service that
    /// limits how many requests run at once works as it should. Any service
    /// works, including `tower-test`'s mock (see the [module](self) docs).
    pub fn new<S, B, T>(service: S, default_namespace: T) -> Self
    where
        S: Service<Request<Body>, Response = Response<B>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
        T: Into<String>,
    {
        let service = service
            .map_response(|response| response.map(Body::wrap))
            .map_err(Into::into);
        Client {
            service: Stack::Exclusive(Arc::new(tokio::sync::Mutex::new(BoxService::new(service)))),
            default_namespace: Arc::from(default_namespace.into()),
            valid_until: None,
        }
    }

    /// This client, recording when its credentials stop being valid (see
    /// [`valid_until`](Self::valid_until)).
    pub fn with_valid_until(self, valid_until: Option<Timestamp>) -> Self {
        Client {
            valid_until,
            ..self
        }
    }

    /// When the client's credentials stop being valid, as recorded by
    /// [`with_valid_until`](Self::with_valid_until): a program that made the
    /// client from short-lived credentials checks this and makes a new one.
    pub fn valid_until(&self) -> &Option<Timestamp> {
        &self.valid_until
    }

    /// A client for the cluster `kubectl` would use: the current context of the
    /// kubeconfig (`$KUBECONFIG` or `~/.kube/config`), or else the in-cluster
    /// service account.
    pub async fn try_default() -> Result<Self> {
        let config = Config::infer().await.map_err(Error::InferConfig)?;
        Client::try_from(config)
    }

    /// The namespace `Api::default_namespaced` uses: the kubeconfig context's
    /// namespace, the pod's own namespace in a cluster, or `default`.
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    /// Sends a request through the service stack and returns the response as
    /// it came back: any status, with its body still to be read.
    ///
    /// For proxying or talking to endpoints the typed methods do not cover;
    /// the path must be relative to the cluster URL.
    pub async fn send(&self, request: Request<Body>) -> Result<Response<Body>> {
        let answer = match &self.service {
            Stack::Cloneable(service) => service.clone().oneshot(request).await,
            Stack::Exclusive(service) => {
                let sent = {
                    let mut service = service.lock().await;
                    match service.ready().await {
                        Ok(ready) => Ok(ready.call(request)),
                        Err(error) => Err(error),
                    }
                };
                match sent {
                    Ok(response) => response.await,
                    Err(error) => Err(error),
                }
            }
        };
        answer.map_err(Error::from_service)
    }

    /// Sends a request built by `kube-core`, telling the stack how its body
    /// will be read.
    pub(crate) async fn send_for(
        &self,
        request: Request<Vec<u8>>,
        body_use: BodyUse,
    ) -> Result<Response<Body>> {
        let mut request = request.map(Body::from);
        request.extensions_mut().insert(body_use);
        self.send(request).await
    }
}

impl TryFrom<Config> for Client {
    type Error = Error;

    /// A client over the default stack: TLS, credentials, proxy, timeouts and
    /// retries as `config` says.
    fn try_from(config: Config) -> Result<Self> {
        let service = stack::default_stack(&config)?;
        Ok(Client {
            service: Stack::Cloneable(service),
            default_namespace: Arc::from(config.default_namespace),
            valid_until: None,
        })
    }
}

impl TryFrom<crate::config::Kubeconfig> for Client {
    type Error = Error;

    /// A client for the current context of `kubeconfig`.
    fn try_from(kubeconfig: crate::config::Kubeconfig) -> Result<Self> {
        Client::try_from(Config::try_from(kubeconfig)?)
    }
}

/// A configuration for `url` without credentials, for tests.
#[cfg(test)]
pub(crate) fn test_config(url: &str) -> Config {
    Config {
        cluster_url: url.parse().expect("a valid URL"),
        default_namespace: "home".into(),
        root_cert: None,
        root_cert_file: None,
        connect_timeout: Some(std::time::Duration::from_secs(5)),
        read_timeout: Some(std::time::Duration::from_secs(5)),
        write_timeout: None,
        accept_invalid_certs: false,
        auth_info: Default::default(),
        disable_compression: false,
        proxy_url: None,
        tls_server_name: None,
        headers: Vec::new(),
        default_retry: true,
        reset_reader_on_write: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TransportError;

    /// A loopback port with nothing listening on it.
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        port
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_server_after_bounded_retries() {
        let url = format!("http://127.0.0.1:{}", closed_port());
        let client = Client::try_from(test_config(&url)).expect("client");
        let err = client
            .apiserver_version()
            .await
            .expect_err("nothing listens");
        assert!(
            matches!(err.transport(), Some(TransportError::Connect { .. })),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains(&url), "{text}");
        assert!(text.contains("check the cluster's server URL"), "{text}");
    }

    #[test]
    fn debug_shows_the_namespace_but_no_headers() {
        let mut config = test_config("https://127.0.0.1:6443");
        config.headers.push((
            http::HeaderName::from_static("x-secret"),
            http::HeaderValue::from_static("hunter2"),
        ));
        let client = Client::try_from(config).expect("client");
        let text = format!("{client:?}");
        assert!(text.contains("home"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn http_https_and_socks5_proxies_are_accepted() {
        for proxy in [
            "http://127.0.0.1:3128",
            "https://proxy.example.com:443",
            "socks5://127.0.0.1:1080",
            "socks5h://user:pw@127.0.0.1:1080",
        ] {
            let mut config = test_config("https://10.0.0.1:6443");
            config.proxy_url = Some(proxy.parse().expect("uri"));
            Client::try_from(config).unwrap_or_else(|e| panic!("{proxy}: {e}"));
        }
    }

    #[test]
    fn valid_until_is_recorded() {
        let (mock, _handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let client = Client::new(mock, "default");
        assert_eq!(client.valid_until(), &None);
        let until = Timestamp::from_second(2_000_000_000).expect("valid");
        let client = client.with_valid_until(Some(until));
        assert_eq!(client.valid_until(), &Some(until));
        assert_eq!(client.default_namespace(), "default");
    }
}
