//! A proxy between a client and the control plane that injects the failures
//! real clusters inflict on long-running clients.
//!
//! [`FaultProxy`] listens on loopback for plain HTTP/1.1 and forwards every
//! request to the [`TestEnv`]'s apiserver over TLS, authenticated as the
//! admin, so a client pointed at [`FaultProxy::url`] needs no credentials.
//! [`FaultRule`]s choose requests by [`Verb`], path and query ([`Match`]) and
//! say what to do to them ([`Fault`]): answer `429`/`500`/`503`, delay,
//! close the connection, cut a body or a watch short, end a watch early but
//! cleanly, stall, or end a watch with `410 Gone`. [`FaultProxy::requests`] tells what the proxy saw and did,
//! so a test can count, for instance, how often a request was sent.
//!
//! When the apiserver cannot be reached (it was [stopped](TestEnv::stop)),
//! the proxy answers `503 Service Unavailable`, as a load balancer in front of
//! it would. Upgrades (`exec`, `attach`, `portforward`) are not proxied.
//!
//! ```no_run
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube_client::Api;
//! use kube_test::{TestEnv, faults::{Fault, FaultProxy, FaultRule, Match}};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let env = TestEnv::start().await?;
//! let proxy = FaultProxy::start(env).await?;
//! proxy.inject(FaultRule::new(Match::lists(), Fault::too_many_requests(1)).times(1));
//! let config_maps: Api<ConfigMap> = Api::all(proxy.client()?);
//! config_maps.list(&Default::default()).await?; // retried after the 429
//! assert_eq!(proxy.requests().len(), 2);
//! # Ok(())
//! # }
//! ```

mod cut;
mod rules;
mod server;

mod upstream;

use std::{net::SocketAddr, sync::Arc};

use kube_client::{Client, Config};
use tokio::sync::oneshot;

pub use rules::{Fault, FaultRule, Match, Verb};

use crate::{Error, TestEnv};
use server::{Shared, Upstream, lock};

/// A fault-injecting HTTP proxy in front of a [`TestEnv`]'s apiserver.
///
/// The proxy runs on a thread and Tokio runtime of its own, so one proxy can
/// serve clients made in different `#[tokio::test]` runtimes, and it keeps
/// serving while the test's runtime is blocked. It stops, closing every
/// connection, when dropped. It follows the control plane across
/// [`restart`](TestEnv::restart)s: the apiserver keeps its port and
/// certificates.
pub struct FaultProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    /// Dropping it stops the proxy.
    _shutdown: oneshot::Sender<()>,
}

/// One request the proxy received, and what it did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SeenRequest {
    /// The HTTP method.
    pub method: http::Method,
    /// The path and query, e.g. `/api/v1/configmaps?watch=true`.
    pub path: String,
    /// The Kubernetes verb of the request.
    pub verb: Verb,
    /// The HTTP status the client got, or `None` when it got no response
    /// (the connection was closed or stalled before the headers).
    pub status: Option<u16>,
    /// The fault of the rule that matched the request, if any.
    pub fault: Option<Fault>,
}

impl SeenRequest {
    /// Whether a fault other than [`Fault::PassThrough`] was applied.
    pub fn faulted(&self) -> bool {
        self.fault
            .as_ref()
            .is_some_and(|fault| *fault != Fault::PassThrough)
    }
}

impl FaultProxy {
    /// Starts a proxy for `env`'s apiserver on a free loopback port.
    ///
    /// Needs no particular async runtime: the proxy brings its own.
    pub async fn start(env: &TestEnv) -> Result<FaultProxy, Error> {
        let http = upstream::admin_client(env.state_dir())?;
        let upstream = Arc::new(Upstream {
            http,
            server: env.server_url().trim_end_matches('/').to_string(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| {
                listener.set_nonblocking(true)?;
                Ok(listener)
            })
            .map_err(|e| proxy_error("listening on 127.0.0.1", e))?;
        let address = listener
            .local_addr()
            .map_err(|e| proxy_error("reading the listening address", e))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| proxy_error("starting the proxy's runtime", e))?;
        let shared = Arc::new(Shared::new());
        let (shutdown, shutdown_received) = oneshot::channel();
        let served = shared.clone();
        std::thread::Builder::new()
            .name(format!("fault-proxy-{}", address.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(error) => {
                            tracing::error!(%error, "the fault proxy could not listen");
                            return;
                        }
                    };
                    server::serve(listener, upstream, served, shutdown_received).await;
                });
                // Dropping the runtime here ends every connection task.
            })
            .map_err(|e| proxy_error("starting the proxy's thread", e))?;
        tracing::info!(%address, server = %env.server_url(), "fault proxy listening");
        Ok(FaultProxy {
            address,
            shared,
            _shutdown: shutdown,
        })
    }

    /// The proxy's URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A client configuration pointing at the proxy, without credentials (the
    /// proxy authenticates as the admin), with the `default` namespace and the
    /// default timeouts.
    pub fn config(&self) -> Config {
        let url = http::Uri::builder()
            .scheme("http")
            .authority(self.address.to_string())
            .path_and_query("/")
            .build()
            .unwrap_or_default();
        Config::new(url)
    }

    /// A new client through the proxy; make one per test runtime.
    pub fn client(&self) -> Result<Client, Error> {
        Client::try_from(self.config()).map_err(|source| Error::Kube {
            action: format!("creating a client for the fault proxy at {}", self.url()),
            source,
        })
    }

    /// Adds a rule after those already in force; the first live rule matching
    /// a request decides its fault.
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.shared.rules).push(rule);
    }

    /// Removes every rule, and closes the connections held by stalls.
    pub fn clear(&self) {
        lock(&self.shared.rules).clear();
        self.shared
            .release
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// Closes every connection that is waiting for or receiving a response
    /// (open watches included), as a restarting load balancer would. Rules stay
    /// in force; the clients' next requests open new connections.
    pub fn disconnect_all(&self) {
        self.shared
            .disconnect
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.shared.seen).clone()
    }

    /// Forgets the requests received so far.
    pub fn forget_requests(&self) {
        lock(&self.shared.seen).clear();
    }
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

fn proxy_error(what: &str, error: std::io::Error) -> Error {
    Error::FaultProxy {
        what: what.to_string(),
        reason: error.to_string(),
    }
}

/// An error and its causes on one line.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let message = error.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        cause = error.source();
    }
    text
}
