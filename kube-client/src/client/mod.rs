//! The HTTP client that talks to the apiserver.
//!
//! A [`Client`] holds one connection pool to one apiserver, with its TLS settings,
//! credentials and default namespace. It sends the [`http::Request`]s that
//! [`kube_core::Request`] builds and decodes the answers: objects, lists, watch
//! event streams, or the apiserver's `Status` as [`Error::Api`].
//!
//! Most programs use it through [`Api`](crate::Api), which builds the requests for
//! one resource type; the `request*` methods here are for everything else.
//!
//! Along the way the client
//! - adds the `Authorization` header from the configured credentials (and, after a
//!   `401`, refreshes them and tries once more), impersonation headers, and the
//!   configured extra headers;
//! - retries reads on `429`, `503`, broken connections and bodies that break off,
//!   and any request on `429`, on `503` with `Retry-After`, or when no
//!   connection could be opened — never a write whose outcome is unknown — with
//!   exponential backoff and jitter, following `Retry-After` (five attempts
//!   within thirty seconds at most; see the `retry` module);
//! - bounds ordinary requests by the configured read timeout (no response, or no
//!   data in the body, for that long), and watches by the server-side
//!   `timeoutSeconds` they ask for plus a margin, so a dead connection is noticed
//!   even when neither TCP nor HTTP/2 keepalives report it;
//! - opens one `tracing` span per request, with its method, path and status.

mod auth;
mod body;
#[cfg(feature = "unstable-client")]
mod client_ext;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod json;
#[cfg(feature = "kubelet-debug")]
mod kubelet_debug;
mod retry;
#[cfg(feature = "rustls-tls")]
mod tls;
#[cfg(feature = "ws")]
mod upgrade;
mod watch;

pub use auth::Error as AuthError;
#[cfg(feature = "oidc")]
pub use auth::oidc_errors;
#[cfg(feature = "unstable-client")]
pub use client_ext::{
    Cluster, CollectionUrl, Namespace, NamespaceError, NamespacedRef, ObjectRef, ObjectUrl, scope,
};
#[cfg(feature = "rustls-tls")]
pub use tls::Error as RustlsTlsError;
#[cfg(feature = "ws")]
pub(crate) use upgrade::protocols as upgrade_protocols;
#[cfg(feature = "ws")]
pub use upgrade::{Connection, UpgradeConnectionError};

use std::{
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use either::{Either, Left, Right};
use futures::{AsyncBufRead, Stream, TryStreamExt};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use k8s_openapi::apimachinery::pkg::{apis::meta::v1 as meta, version::Info};
pub use kube_core::discovery::v2::{
    APIGroupDiscovery, APIGroupDiscoveryList, APIResourceDiscovery, APISubresourceDiscovery,
    APIVersionDiscovery, GroupVersionKind as DiscoveryGroupVersionKind,
};
use kube_core::{
    Status, WatchEvent, discovery::v2::ACCEPT_AGGREGATED_DISCOVERY_V2, params::ListParams,
};
use serde::{Deserialize, de::DeserializeOwned};
use tracing::Instrument;

use self::{
    body::{BodyStream, RequestContext},
    retry::{Failure, Outcome, RetryPolicy},
    watch::EventStream,
};
use crate::{
    Config, Error, Result,
    error::{DiscoveryError, TimeoutLimit},
};

/// The `User-Agent` of every request.
const USER_AGENT: &str = concat!("kube/", env!("CARGO_PKG_VERSION"));

/// How much longer than the server's own `timeoutSeconds` a watch may stay silent
/// before the client takes the connection for dead.
const WATCH_IDLE_MARGIN: Duration = Duration::from_secs(30);

/// The longest a watch without `timeoutSeconds` lasts: the apiserver ends it
/// after a random time between one and two `--min-request-timeout`s (30 minutes
/// by default).
const SERVER_DEFAULT_WATCH_TIMEOUT_MAX: Duration = Duration::from_secs(3600);

/// A client for one Kubernetes apiserver.
///
/// Cheap to clone: clones share one connection pool and one set of credentials.
/// Make one with [`Client::try_default`] (kubeconfig or in-cluster configuration,
/// as `kubectl` finds it) or [`Client::try_from`] a [`Config`].
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
    inner: Arc<Inner>,
}

struct Inner {
    http: Connections,
    /// The cluster URL without credentials or a trailing slash, e.g.
    /// `https://10.0.0.1:6443`; request paths are appended to it.
    server: String,
    default_namespace: String,
    credentials: auth::Credentials,
    /// Configured extra headers and impersonation headers.
    extra_headers: HeaderMap,
    read_timeout: Option<Duration>,
    /// How long to wait for a response's headers.
    header_timeout: Option<Duration>,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.inner.server)
            .field("default_namespace", &self.inner.default_namespace)
            .field("read_timeout", &self.inner.read_timeout)
            .finish_non_exhaustive()
    }
}

/// What a caller wants of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The whole body, read within the attempt (so a body that breaks off can
    /// be retried).
    WholeBody,
    /// The body of a successful response as a stream (failed responses are
    /// still read whole).
    Stream,
}

/// A response as the caller wanted it.
enum Answer {
    Whole { status: StatusCode, body: Vec<u8> },
    Streaming(reqwest::Response),
}

impl Answer {
    fn status(&self) -> StatusCode {
        match self {
            Answer::Whole { status, .. } => *status,
            Answer::Streaming(response) => response.status(),
        }
    }
}

/// One request, as every attempt at it sends it.
struct Exchange<'a> {
    url: &'a reqwest::Url,
    headers: &'a HeaderMap,
    body: Bytes,
    context: &'a RequestContext,
    want: Want,
    /// Credentials are refreshed after a `401` once per request.
    refreshed_credentials: AtomicBool,
}

/// An attempt that failed before there was a response to hand back.
fn failed(
    failure: Failure,
    retry_after: Option<Duration>,
    error: Error,
) -> Outcome<Result<Answer>> {
    Outcome::Failed {
        failure,
        retry_after,
        reason: error.to_string(),
        result: Err(error),
    }
}

impl TryFrom<Config> for Client {
    type Error = Error;

    /// Builds a client from a configuration: TLS, credentials, proxy, timeouts.
    fn try_from(config: Config) -> Result<Self> {
        Client::from_config(&config)
    }
}

impl Client {
    /// A client for the cluster `kubectl` would use: the current context of the
    /// kubeconfig (`$KUBECONFIG` or `~/.kube/config`), or else the in-cluster
    /// service account.
    pub async fn try_default() -> Result<Self> {
        let config = Config::infer().await.map_err(Error::InferConfig)?;
        Client::try_from(config)
    }

    fn from_config(config: &Config) -> Result<Self> {
        let server = server_name(&config.cluster_url);
        #[cfg(feature = "rustls-tls")]
        let identity = tls::ClientIdentity::from_config(config).map_err(Error::RustlsTls)?;
        let credentials = auth::Credentials::new(
            config,
            #[cfg(feature = "rustls-tls")]
            Some(identity.clone()),
        )
        .map_err(Error::Auth)?;

        let mut extra_headers = HeaderMap::new();
        for (name, value) in &config.headers {
            extra_headers.append(name.clone(), value.clone());
        }
        for (name, value) in credentials.impersonation_headers() {
            extra_headers.append(name, value);
        }

        let http = Connections::new(
            config,
            #[cfg(feature = "rustls-tls")]
            identity,
        )?;

        let header_timeout = match (config.read_timeout, config.write_timeout) {
            (Some(read), Some(write)) => Some(read.saturating_add(write)),
            (read, write) => read.or(write),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                server,
                default_namespace: config.default_namespace.clone(),
                credentials,
                extra_headers,
                read_timeout: config.read_timeout,
                header_timeout,
                retry: if config.default_retry {
                    RetryPolicy::default()
                } else {
                    RetryPolicy::single_attempt()
                },
            }),
        })
    }

    /// The namespace `Api::default_namespaced` uses: the kubeconfig context's
    /// namespace, the pod's own namespace in a cluster, or `default`.
    pub fn default_namespace(&self) -> &str {
        &self.inner.default_namespace
    }

    /// Sends a request and decodes the response body as `T`.
    ///
    /// A non-success response becomes [`Error::Api`] with the server's `Status`.
    pub async fn request<T>(&self, request: http::Request<Vec<u8>>) -> Result<T>
    where
        T: DeserializeOwned,
    {
        let body = self.request_bytes(request).await?;
        decode(&body)
    }

    /// Sends a request and returns the response body as text (invalid UTF-8 is
    /// replaced).
    pub async fn request_text(&self, request: http::Request<Vec<u8>>) -> Result<String> {
        let body = self.request_bytes(request).await?;
        Ok(match String::from_utf8(body) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Sends a request and returns the response body as it arrives, e.g. a
    /// followed log. No read timeout applies to the body.
    pub async fn request_stream(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<impl AsyncBufRead + Send + Unpin + use<>> {
        let body = self.open_stream(request, None).await?;
        Ok(body.map_err(std::io::Error::other).into_async_read())
    }

    /// Sends a request whose success is answered either with an object `T` or with
    /// a `Status` (as deletes are: the object while finalizers or graceful deletion
    /// keep it, a `Status` once it is gone).
    pub async fn request_status<T>(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<Either<T, Status>>
    where
        T: DeserializeOwned,
    {
        let body = self.request_bytes(request).await?;
        if kind_of(&body).as_deref() == Some("Status") {
            decode(&body).map(Right)
        } else {
            decode(&body).map(Left)
        }
    }

    /// Sends a watch request and streams its events.
    ///
    /// The stream yields each [`WatchEvent`] as its line arrives, including
    /// `ERROR` events (`410 Gone` when the resource version is too old). It ends
    /// when the server closes the watch (after `timeoutSeconds`), and yields an
    /// error then ends when the connection fails, a line is not a valid event, the
    /// body stops mid-event, or nothing arrives for 30 s longer than the requested
    /// `timeoutSeconds` (60 minutes and 30 s without it: the longest watch the
    /// apiserver grants by default).
    pub async fn request_events<T>(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<impl Stream<Item = Result<WatchEvent<T>>> + Send + Unpin + use<T>>
    where
        T: Clone + DeserializeOwned,
    {
        let idle = watch_idle_limit(request.uri());
        let body = self
            .open_stream(request, Some((idle, TimeoutLimit::WatchIdle)))
            .await?;
        Ok(EventStream::new(body))
    }

    /// Sends a request and reads the whole body of a successful response.
    async fn request_bytes(&self, request: http::Request<Vec<u8>>) -> Result<Vec<u8>> {
        let (answer, _context) = self.send(request, Want::WholeBody).await?;
        match answer {
            Answer::Whole { status, body } if status.is_success() => Ok(body),
            Answer::Whole { status, body } => Err(api_error(status, &body)),
            // Not asked for: a whole body was wanted.
            Answer::Streaming(response) => Err(api_error(response.status(), &[])),
        }
    }

    /// Sends a request and returns the body of a successful response as a stream.
    async fn open_stream(
        &self,
        request: http::Request<Vec<u8>>,
        idle_limit: Option<(Duration, TimeoutLimit)>,
    ) -> Result<BodyStream> {
        let (answer, context) = self.send(request, Want::Stream).await?;
        match answer {
            Answer::Streaming(response) => Ok(BodyStream::new(response, idle_limit, context)),
            Answer::Whole { status, body } => Err(api_error(status, &body)),
        }
    }

    /// Reads a whole body, failing when no data arrives for the read timeout.
    async fn read_body(
        &self,
        response: &mut reqwest::Response,
        context: &RequestContext,
    ) -> std::result::Result<Vec<u8>, (Failure, Error)> {
        let capacity = response.content_length().unwrap_or(0).min(64 << 20);
        let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        loop {
            let next = response.chunk();
            let chunk = match self.inner.read_timeout {
                Some(limit) => tokio::time::timeout(limit, next).await.map_err(|_| {
                    (
                        Failure::Timeout,
                        context.timeout(limit, TimeoutLimit::ReadTimeout),
                    )
                })?,
                None => next.await,
            };
            match chunk.map_err(|e| self.classify(e, context))? {
                Some(chunk) => body.extend_from_slice(&chunk),
                None => return Ok(body),
            }
        }
    }

    /// Where a request goes on the cluster, and what its errors will name.
    fn target(&self, parts: &http::request::Parts) -> Result<(reqwest::Url, RequestContext)> {
        let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let url_text = format!("{}{}", self.inner.server, path_and_query);
        let url = reqwest::Url::parse(&url_text).map_err(|e| Error::InvalidUrl {
            url: url_text.clone(),
            reason: e.to_string(),
        })?;
        let context = RequestContext {
            server: self.inner.server.clone(),
            method: parts.method.clone(),
            path: parts.uri.path().to_string(),
        };
        Ok((url, context))
    }

    /// Sends a request, with credentials, extra headers and retries, and returns
    /// the response once its headers arrived (and, if wanted, its whole body, or
    /// any failed response's body).
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
        want: Want,
    ) -> Result<(Answer, RequestContext)> {
        let (parts, body) = request.into_parts();
        let (url, context) = self.target(&parts)?;
        let span = tracing::debug_span!(
            "HTTP",
            http.method = %context.method,
            url.path = %context.path,
            http.status_code = tracing::field::Empty,
        );
        let body = Bytes::from(body);
        let exchange = Exchange {
            url: &url,
            headers: &parts.headers,
            body,
            context: &context,
            want,
            refreshed_credentials: AtomicBool::new(false),
        };
        let answer = retry::run(
            &self.inner.retry,
            &context.method,
            &context.path,
            |_attempt| self.attempt(&exchange),
        )
        .instrument(span.clone())
        .await;
        match &answer {
            Ok(answer) => {
                span.record("http.status_code", answer.status().as_u16());
            }
            Err(error) => {
                span.in_scope(|| tracing::debug!(%error, "request failed"));
            }
        }
        Ok((answer?, context))
    }

    /// One attempt at an exchange (two when the credentials had expired).
    async fn attempt(&self, exchange: &Exchange<'_>) -> Outcome<Result<Answer>> {
        let context = exchange.context;
        let method = &context.method;
        // Waiting for the headers is reading; sending a body is writing.
        let header_timeout = if exchange.body.is_empty() {
            self.inner.read_timeout
        } else {
            self.inner.header_timeout
        };
        let mut response = loop {
            let request = match self
                .prepare(
                    method,
                    exchange.url,
                    exchange.headers,
                    exchange.body.clone(),
                )
                .await
            {
                Ok(request) => request,
                Err(error) => return Outcome::Done(Err(error)),
            };
            let client = match self.inner.http.current() {
                Ok(client) => client,
                Err(error) => return Outcome::Done(Err(error)),
            };
            let sent = client.execute(request);
            let outcome = match header_timeout {
                Some(limit) => match tokio::time::timeout(limit, sent).await {
                    Ok(result) => result.map_err(|e| self.classify(e, context)),
                    Err(_) => {
                        let limit_name = if exchange.body.is_empty() {
                            TimeoutLimit::ReadTimeout
                        } else {
                            TimeoutLimit::ReadAndWriteTimeout
                        };
                        Err((Failure::Timeout, context.timeout(limit, limit_name)))
                    }
                },
                None => sent.await.map_err(|e| self.classify(e, context)),
            };
            let response = match outcome {
                Ok(response) => response,
                Err((failure, error)) => return failed(failure, None, error),
            };
            if response.status() == StatusCode::UNAUTHORIZED
                && !exchange.refreshed_credentials.swap(true, Ordering::Relaxed)
            {
                // Expired tokens are refreshed once; the server refused the
                // request before acting on it, so any verb may be resent.
                self.inner.credentials.invalidate();
                tracing::debug!("401 Unauthorized: refreshing credentials and retrying");
                continue;
            }
            break response;
        };

        let status = response.status();
        if status.is_success() && exchange.want == Want::Stream {
            return Outcome::Done(Ok(Answer::Streaming(response)));
        }
        let retry_after = retry::retry_after(response.headers());
        let body = match self.read_body(&mut response, context).await {
            Ok(body) => body,
            // The body broke off: for a read this is worth another attempt.
            Err((failure, error)) => return failed(failure, None, error),
        };
        let answer = Answer::Whole { status, body };
        if status.is_success() {
            return Outcome::Done(Ok(answer));
        }
        Outcome::Failed {
            failure: Failure::Status(status),
            retry_after,
            reason: format!("answered {status}"),
            result: Ok(answer),
        }
    }

    /// One attempt's request: the caller's headers, then the configured extra
    /// headers and credentials where the caller set none.
    async fn prepare(
        &self,
        method: &Method,
        url: &reqwest::Url,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<reqwest::Request> {
        let mut request = reqwest::Request::new(method.clone(), url.clone());
        let out = request.headers_mut();
        out.clone_from(headers);
        for name in self.inner.extra_headers.keys() {
            if !headers.contains_key(name) {
                for value in self.inner.extra_headers.get_all(name) {
                    out.append(name.clone(), value.clone());
                }
            }
        }
        if !out.contains_key(header::AUTHORIZATION)
            && let Some(mut value) = self
                .inner
                .credentials
                .authorization()
                .await
                .map_err(Error::Auth)?
        {
            value.set_sensitive(true);
            out.insert(header::AUTHORIZATION, value);
        }
        if !out.contains_key(header::ACCEPT) {
            out.insert(
                header::ACCEPT,
                HeaderValue::from_static("application/json, */*"),
            );
        }
        if !body.is_empty() {
            *request.body_mut() = Some(reqwest::Body::from(body));
        }
        Ok(request)
    }

    /// What kind of failure a reqwest error is, and the error to report.
    fn classify(&self, error: reqwest::Error, context: &RequestContext) -> (Failure, Error) {
        let server = self.inner.server.clone();
        if error.is_connect() {
            let source: crate::error::BoxError = Box::new(error.without_url());
            if is_tls_failure(source.as_ref()) {
                return (Failure::Tls, Error::Tls { server, source });
            }
            return (Failure::Connect, Error::Connect { server, source });
        }
        if error.is_timeout() {
            return (Failure::Timeout, context.transport(error));
        }
        (Failure::Transport, context.transport(error))
    }
}

/// The HTTP client and its connection pool.
///
/// A TLS connection keeps the client certificate it was opened with. When an exec
/// plugin hands out a new certificate, a new pool is started so that the next
/// requests present it; requests in flight finish on the old one.
struct Connections {
    current: Mutex<(u64, reqwest::Client)>,
    settings: HttpSettings,
}

/// What an HTTP client is built from.
struct HttpSettings {
    server: String,
    connect_timeout: Option<Duration>,
    #[cfg_attr(not(feature = "gzip"), allow(dead_code))]
    disable_compression: bool,
    proxy: Option<http::Uri>,
    no_proxy: bool,
    #[cfg(feature = "rustls-tls")]
    tls: rustls::ClientConfig,
    #[cfg(feature = "rustls-tls")]
    identity: Arc<tls::ClientIdentity>,
}

impl Connections {
    fn new(
        config: &Config,
        #[cfg(feature = "rustls-tls")] identity: Arc<tls::ClientIdentity>,
    ) -> Result<Self> {
        let settings = HttpSettings {
            server: server_name(&config.cluster_url),
            connect_timeout: config.connect_timeout,
            disable_compression: config.disable_compression,
            proxy: config.proxy_url.clone(),
            // Like Go's ProxyFromEnvironment, loopback servers are never proxied.
            no_proxy: is_loopback(&config.cluster_url),
            #[cfg(feature = "rustls-tls")]
            tls: tls::rustls_client_config(config, identity.clone()).map_err(Error::RustlsTls)?,
            #[cfg(feature = "rustls-tls")]
            identity,
        };
        let client = settings.build()?;
        Ok(Self {
            current: Mutex::new((settings.generation(), client)),
            settings,
        })
    }

    /// The client to send the next request with.
    fn current(&self) -> Result<reqwest::Client> {
        let mut current = match self.current.lock() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        };
        let generation = self.settings.generation();
        if current.0 != generation {
            tracing::debug!("the client certificate changed; opening new connections");
            *current = (generation, self.settings.build()?);
        }
        Ok(current.1.clone())
    }
}

impl HttpSettings {
    /// Which client certificate connections would present.
    fn generation(&self) -> u64 {
        #[cfg(feature = "rustls-tls")]
        {
            self.identity.generation()
        }
        #[cfg(not(feature = "rustls-tls"))]
        {
            0
        }
    }

    fn build(&self) -> Result<reqwest::Client> {
        self.builder()?.build().map_err(|e| Error::Connect {
            server: self.server.clone(),
            source: Box::new(e),
        })
    }

    /// A client builder with every setting but the HTTP version.
    fn builder(&self) -> Result<reqwest::ClientBuilder> {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            // A peer that vanished (no FIN, no RST) is noticed within about a
            // minute: 30 s idle, then three probes 10 s apart. HTTP/2 pings
            // (the apiserver speaks HTTP/2) notice it within 45 s.
            .tcp_keepalive(Duration::from_secs(30))
            .tcp_keepalive_interval(Duration::from_secs(10))
            .tcp_keepalive_retries(3)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .http2_keep_alive_timeout(Duration::from_secs(15))
            .http2_keep_alive_while_idle(true);
        if let Some(timeout) = self.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        #[cfg(feature = "gzip")]
        {
            builder = builder.gzip(!self.disable_compression);
        }
        #[cfg(feature = "rustls-tls")]
        {
            builder = builder.tls_backend_preconfigured(self.tls.clone());
        }
        builder = match &self.proxy {
            // An explicit proxy-url replaces the environment, as in kubectl.
            Some(proxy) => {
                let proxy =
                    reqwest::Proxy::all(proxy.to_string()).map_err(|e| Error::InvalidUrl {
                        url: server_name(proxy),
                        reason: format!("not usable as a proxy: {}", e.without_url()),
                    })?;
                builder.proxy(proxy)
            }
            None if self.no_proxy => builder.no_proxy(),
            // Otherwise HTTPS_PROXY, HTTP_PROXY and NO_PROXY apply.
            None => builder,
        };
        Ok(builder)
    }
}

/// Discovery and version endpoints.
impl Client {
    /// The apiserver's version (`GET /version`).
    pub async fn apiserver_version(&self) -> Result<Info> {
        self.request(plain_get("/version")?).await
    }

    /// The named API groups and their versions (`GET /apis`).
    pub async fn list_api_groups(&self) -> Result<meta::APIGroupList> {
        self.request(plain_get("/apis")?).await
    }

    /// The resources of one named group version, e.g. `apps/v1`
    /// (`GET /apis/apps/v1`).
    pub async fn list_api_group_resources(
        &self,
        apiversion: &str,
    ) -> Result<meta::APIResourceList> {
        check_group_version(apiversion, 2)?;
        self.request(plain_get(&format!("/apis/{apiversion}"))?)
            .await
    }

    /// The versions of the core group (`GET /api`).
    pub async fn list_core_api_versions(&self) -> Result<meta::APIVersions> {
        self.request(plain_get("/api")?).await
    }

    /// The resources of one version of the core group, e.g. `v1` (`GET /api/v1`).
    pub async fn list_core_api_resources(&self, version: &str) -> Result<meta::APIResourceList> {
        check_group_version(version, 1)?;
        self.request(plain_get(&format!("/api/{version}"))?).await
    }

    /// Every named group, version and resource in one aggregated discovery
    /// document (`GET /apis`, `apidiscovery.k8s.io/v2`).
    ///
    /// Fails with [`DiscoveryError::AggregatedDiscoveryUnavailable`] on servers
    /// older than Kubernetes 1.30, which only offer the per-group documents.
    pub async fn list_api_groups_aggregated(&self) -> Result<APIGroupDiscoveryList> {
        match self
            .aggregated_or_legacy::<meta::APIGroupList>("/apis")
            .await?
        {
            Left(aggregated) => Ok(aggregated),
            Right(_) => Err(aggregated_unavailable("/apis")),
        }
    }

    /// The core group's versions and resources as an aggregated discovery
    /// document (`GET /api`, `apidiscovery.k8s.io/v2`).
    pub async fn list_core_api_versions_aggregated(&self) -> Result<APIGroupDiscoveryList> {
        match self
            .aggregated_or_legacy::<meta::APIVersions>("/api")
            .await?
        {
            Left(aggregated) => Ok(aggregated),
            Right(_) => Err(aggregated_unavailable("/api")),
        }
    }

    /// Asks for the aggregated document at `path`, accepting the legacy one.
    pub(crate) async fn aggregated_or_legacy<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Either<APIGroupDiscoveryList, T>> {
        let mut request = plain_get(path)?;
        request.headers_mut().insert(
            header::ACCEPT,
            HeaderValue::from_static(ACCEPT_AGGREGATED_DISCOVERY_V2),
        );
        let body = self.request_bytes(request).await?;
        if kind_of(&body).as_deref() == Some("APIGroupDiscoveryList") {
            decode(&body).map(Left)
        } else {
            decode(&body).map(Right)
        }
    }
}

fn aggregated_unavailable(path: &str) -> Error {
    Error::Discovery(DiscoveryError::AggregatedDiscoveryUnavailable(
        path.to_string(),
    ))
}

/// A `GET` of a fixed path without params.
fn plain_get(path: &str) -> Result<http::Request<Vec<u8>>> {
    kube_core::Request::new(path)
        .list(&ListParams::default())
        .map_err(Error::BuildRequest)
}

/// Refuses group versions that would change the meaning of the URL.
fn check_group_version(gv: &str, max_segments: usize) -> Result<()> {
    let segments: Vec<&str> = gv.split('/').collect();
    let valid = segments.len() <= max_segments
        && segments.iter().all(|s| {
            !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        });
    if valid {
        Ok(())
    } else {
        Err(Error::Discovery(DiscoveryError::InvalidGroupVersion(
            gv.to_string(),
        )))
    }
}

/// Decodes a response body, naming the expected type on failure.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    json::from_bytes(body).map_err(|source| Error::Decode {
        expected: crate::error::short_type_name::<T>(),
        source,
    })
}

/// The `kind` of a JSON object, without decoding the rest.
fn kind_of(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Kind {
        kind: Option<String>,
    }
    serde_json::from_slice::<Kind>(body).ok()?.kind
}

fn api_error(status: StatusCode, body: &[u8]) -> Error {
    Error::Api(Box::new(crate::error::status_from_body(status, body)))
}

/// How long a watch may stay silent before the connection is taken for dead:
/// the `timeoutSeconds` it asks the server for (or else the longest timeout the
/// apiserver picks by default), plus a margin.
fn watch_idle_limit(uri: &http::Uri) -> Duration {
    server_timeout(uri)
        .unwrap_or(SERVER_DEFAULT_WATCH_TIMEOUT_MAX)
        .saturating_add(WATCH_IDLE_MARGIN)
}

/// The `timeoutSeconds` a watch request asks the server for.
fn server_timeout(uri: &http::Uri) -> Option<Duration> {
    let query = uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "timeoutSeconds")
        .and_then(|(_, value)| value.parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The cluster URL for requests and messages: no user info, no trailing slash.
fn server_name(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("https");
    let authority = uri.authority().map_or("", |a| a.as_str());
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let path = uri.path().trim_end_matches('/');
    format!("{scheme}://{host}{path}")
}

/// Whether the cluster URL names this machine.
fn is_loopback(uri: &http::Uri) -> bool {
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a connection failed in the TLS handshake (rather than TCP or DNS).
fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        #[cfg(feature = "rustls-tls")]
        if error.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && is_tls_failure(inner)
        {
            return true;
        }
        current = error.source();
    }
    false
}

/// A configuration for `url` without credentials, for tests.
#[cfg(test)]
pub(crate) fn test_config(url: &str) -> Config {
    Config {
        cluster_url: url.parse().expect("a valid URL"),
        default_namespace: "home".into(),
        root_cert: None,
        root_cert_file: None,
        connect_timeout: Some(Duration::from_secs(5)),
        read_timeout: Some(Duration::from_secs(5)),
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
        assert!(matches!(err, Error::Connect { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&url), "{text}");
        assert!(text.contains("check the cluster's server URL"), "{text}");
    }

    #[test]
    fn debug_shows_the_server_but_no_headers() {
        let mut config = test_config("https://127.0.0.1:6443");
        config.headers.push((
            http::HeaderName::from_static("x-secret"),
            HeaderValue::from_static("hunter2"),
        ));
        let client = Client::try_from(config).expect("client");
        let text = format!("{client:?}");
        assert!(text.contains("https://127.0.0.1:6443"), "{text}");
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
    fn server_names_drop_user_info_and_trailing_slashes() {
        let uri: http::Uri = "https://user:secret@example.com:6443/k8s/clusters/c1/"
            .parse()
            .expect("uri");
        assert_eq!(
            server_name(&uri),
            "https://example.com:6443/k8s/clusters/c1"
        );
        let uri: http::Uri = "https://127.0.0.1:6443".parse().expect("uri");
        assert_eq!(server_name(&uri), "https://127.0.0.1:6443");
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for (url, expected) in [
            ("https://127.0.0.1:6443", true),
            ("https://127.5.0.9", true),
            ("https://localhost:6443", true),
            ("https://[::1]:6443", true),
            ("https://10.0.0.1:6443", false),
            ("https://kubernetes.default.svc", false),
        ] {
            let uri: http::Uri = url.parse().expect("uri");
            assert_eq!(is_loopback(&uri), expected, "{url}");
        }
    }

    #[test]
    fn watch_timeouts_come_from_the_query() {
        let uri: http::Uri = "/api/v1/pods?watch=true&timeoutSeconds=290&resourceVersion=5"
            .parse()
            .expect("uri");
        assert_eq!(server_timeout(&uri), Some(Duration::from_secs(290)));
        let uri: http::Uri = "/api/v1/pods?watch=true".parse().expect("uri");
        assert_eq!(server_timeout(&uri), None);
    }

    #[test]
    fn silent_watches_are_dead_after_their_timeout_and_a_margin() {
        let uri: http::Uri = "/api/v1/pods?watch=true&timeoutSeconds=290"
            .parse()
            .expect("uri");
        assert_eq!(watch_idle_limit(&uri), Duration::from_secs(320));
        let uri: http::Uri = "/api/v1/pods?watch=true".parse().expect("uri");
        assert_eq!(
            watch_idle_limit(&uri),
            Duration::from_secs(3630),
            "without timeoutSeconds the apiserver's longest default applies"
        );
    }

    #[test]
    fn group_versions_are_checked() {
        assert!(check_group_version("apps/v1", 2).is_ok());
        assert!(check_group_version("v1", 1).is_ok());
        assert!(check_group_version("example.com/v1beta1", 2).is_ok());
        for bad in [
            "",
            "apps/",
            "a/b/c",
            "../secrets",
            "apps/v1?watch=1",
            "a b/v1",
        ] {
            assert!(check_group_version(bad, 2).is_err(), "{bad:?}");
        }
        assert!(check_group_version("apps/v1", 1).is_err());
    }

    #[test]
    fn kinds_are_read_without_the_rest() {
        assert_eq!(
            kind_of(br#"{"kind":"Status","code":200}"#).as_deref(),
            Some("Status")
        );
        assert_eq!(kind_of(br#"{"metadata":{}}"#), None);
        assert_eq!(kind_of(b"not json"), None);
    }

    #[test]
    fn decode_errors_name_the_type() {
        let err = decode::<meta::APIGroupList>(b"{\"groups\": 5}").expect_err("bad body");
        let text = err.to_string();
        assert!(text.contains("APIGroupList"), "{text}");
        assert!(text.contains("line 1 column"), "{text}");
    }

    #[test]
    fn plain_gets_have_no_query() {
        let request = plain_get("/version").expect("valid");
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri(), "/version");
    }
}
