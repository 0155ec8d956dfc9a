//! One small HTTP server for an operator's probes and metrics:
//!
//! | path | answer |
//! |---|---|
//! | `/healthz` | `200 ok` while the process serves: the liveness probe |
//! | `/readyz` | `200 ok` once ready, else `503` saying what is missing: the readiness probe |
//! | `/metrics` | the registry in Prometheus' text format (0.0.4), when one was given |
//!
//! Ready means: every controller named with
//! [`ready_when_synced`](Probes::ready_when_synced) runs and has listed
//! everything it watches ([`Synced`]), and, with
//! [`leader_election`](Probes::leader_election), this replica leads, or
//! stands by and [`Standby::Ready`] was chosen. A standby that reports ready
//! keeps receiving traffic (say, webhook calls served by every replica); one
//! that does not is left out of its Service until it leads.
//!
//! ```no_run
//! use kube_runtime::{Controller, probes::Probes};
//! # use std::sync::Arc;
//! # use k8s_openapi::api::core::v1::ConfigMap;
//! # use kube_client::{Api, Client};
//! # async fn run(client: Client) -> std::io::Result<()> {
//! let mut registry = prometheus_client::registry::Registry::default();
//! let metrics = kube_runtime::metrics::Metrics::new(&mut registry);
//! let controller = Controller::new(Api::<ConfigMap>::all(client), Default::default())
//!     .with_metrics(metrics);
//! let _probes = Probes::new()
//!     .metrics(registry)
//!     .ready_when_synced(controller.synced())
//!     .serve("127.0.0.1:8080".parse().expect("an address"))
//!     .await?; // serves until dropped
//! # Ok(())
//! # }
//! ```
//!
//! The server speaks HTTP/1.1 (hyper), answers nothing else, and stops when
//! the [`ProbeServer`] is dropped.

use std::{convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::{server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::{encoding::prometheus_text, registry::Registry};
use tokio::{net::TcpListener, task::JoinSet};

use crate::{controller::Synced, leader_election::LeaderElector};

/// How long a client may take to send its request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// What a replica that does not lead answers on `/readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Standby {
    /// Not ready: only the leader receives traffic.
    #[default]
    NotReady,
    /// Ready: a standby is a healthy replica, waiting to take over.
    Ready,
}

/// What to serve; [`serve`](Self::serve) starts the server.
#[derive(Debug, Default)]
pub struct Probes {
    registry: Option<Registry>,
    synced: Vec<Synced>,
    leader: Option<(LeaderElector, Standby)>,
}

impl Probes {
    /// Probes that are ready at once and serve no metrics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `registry` at `/metrics`. Register everything before: the
    /// server owns the registry from now on.
    #[must_use]
    pub fn metrics(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Ready only while the controller behind `synced` runs and has listed
    /// everything it watches. Call once per controller.
    #[must_use]
    pub fn ready_when_synced(mut self, synced: Synced) -> Self {
        self.synced.push(synced);
        self
    }

    /// Ready only while `elector` leads, unless `standby` is
    /// [`Standby::Ready`]: then a replica standing by is ready too.
    #[must_use]
    pub fn leader_election(mut self, elector: LeaderElector, standby: Standby) -> Self {
        self.leader = Some((elector, standby));
        self
    }

    /// Listens on `addr` (port 0 picks a free port) and serves until the
    /// returned [`ProbeServer`] is dropped.
    pub async fn serve(self, addr: SocketAddr) -> std::io::Result<ProbeServer> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let probes = Arc::new(self);
        let task = tokio::spawn(accept(listener, probes));
        tracing::info!(%local_addr, "serving /healthz, /readyz and /metrics");
        Ok(ProbeServer { local_addr, task })
    }

    /// Why this replica is not ready, if it is not.
    fn not_ready(&self) -> Option<String> {
        if let Some((elector, standby)) = &self.leader
            && !elector.is_leader()
        {
            return match standby {
                Standby::Ready => None,
                Standby::NotReady => Some(format!(
                    "{} is standing by: it does not hold the lease",
                    elector.identity()
                )),
            };
        }
        let pending = self.synced.iter().filter(|s| !s.is_synced()).count();
        (pending > 0).then(|| {
            format!(
                "{pending} of {} controllers have not listed everything they watch",
                self.synced.len()
            )
        })
    }

    fn answer<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n".into());
        }
        match request.uri().path() {
            "/healthz" => text(StatusCode::OK, "ok\n".into()),
            "/readyz" => match self.not_ready() {
                None => text(StatusCode::OK, "ok\n".into()),
                Some(why) => text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("not ready: {why}\n"),
                ),
            },
            "/metrics" => match &self.registry {
                Some(registry) => metrics(registry),
                None => text(StatusCode::NOT_FOUND, "no metrics are served\n".into()),
            },
            _ => text(
                StatusCode::NOT_FOUND,
                "try /healthz, /readyz or /metrics\n".into(),
            ),
        }
    }
}

/// The running server; dropping it stops it and closes its connections.
#[derive(Debug)]
pub struct ProbeServer {
    local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl ProbeServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for ProbeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepts connections until aborted; aborting drops the connections too.
async fn accept(listener: TcpListener, probes: Arc<Probes>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&probes)));
                }
                Err(error) => {
                    // Out of file descriptors, say: pause rather than spin.
                    tracing::warn!(%error, "accepting a probe connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, probes: Arc<Probes>) {
    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
        let response = probes.answer(&request);
        async move { Ok::<_, Infallible>(response) }
    });
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(error) = served {
        tracing::debug!(%error, "a probe connection failed");
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    respond(status, "text/plain; charset=utf-8", body)
}

fn metrics(registry: &Registry) -> Response<Full<Bytes>> {
    let mut body = String::new();
    match prometheus_text::encode(&mut body, registry) {
        Ok(()) => respond(StatusCode::OK, prometheus_text::CONTENT_TYPE, body),
        Err(error) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding the metrics failed: {error}\n"),
        ),
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

#[cfg(test)]
mod tests {
    use prometheus_client::metrics::counter::Counter;

    use super::*;

    async fn get(probes: &Probes, path: &str) -> (StatusCode, String) {
        let request = Request::get(path).body(()).expect("request");
        let response = probes.answer(&request);
        let status = response.status();
        let body = response.into_body();
        let bytes = http_body_util::BodyExt::collect(body)
            .await
            .expect("a full body")
            .to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn healthz_is_ok_and_unknown_paths_are_not_found() {
        let probes = Probes::new();
        assert_eq!(
            get(&probes, "/healthz").await,
            (StatusCode::OK, "ok\n".into())
        );
        assert_eq!(get(&probes, "/other").await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            get(&probes, "/metrics").await.0,
            StatusCode::NOT_FOUND,
            "no registry was given"
        );
        let post = Request::post("/healthz").body(()).expect("request");
        assert_eq!(
            probes.answer(&post).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[tokio::test]
    async fn readyz_waits_for_every_controller_to_sync() {
        let (first, second) = (Synced::new(), Synced::new());
        let probes = Probes::new()
            .ready_when_synced(first.clone())
            .ready_when_synced(second.clone());
        let (status, body) = get(&probes, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("2 of 2 controllers"), "{body}");
        assert_eq!(Probes::new().not_ready(), None, "nothing to wait for");
    }

    #[tokio::test]
    async fn metrics_are_served_in_prometheus_text_format() {
        let mut registry = Registry::default();
        let counter = Counter::<u64>::default();
        registry.register("probe_test", "A counter for the test", counter.clone());
        counter.inc();
        let probes = Probes::new().metrics(registry);
        let request = Request::get("/metrics").body(()).expect("request");
        let response = probes.answer(&request);
        assert_eq!(
            response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.as_bytes()),
            Some(prometheus_text::CONTENT_TYPE.as_bytes())
        );
        let (status, body) = get(&probes, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("probe_test_total 1"), "{body}");
        assert!(!body.contains("# EOF"), "not OpenMetrics: {body}");
    }
}
