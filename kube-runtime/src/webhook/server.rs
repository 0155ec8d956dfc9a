//! The webhook server: endpoints by path, served over TLS until shutdown.

use std::{
    collections::HashMap, convert::Infallible, future::Future, pin::pin, sync::Arc, time::Duration,
};

use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{
        conn::auto,
        graceful::{GracefulShutdown, Watcher},
    },
};
use kube_client::core::{
    Resource,
    admission::{AdmissionRequest, AdmissionResponse},
    conversion::{ConversionRequest, ConversionResponse},
};
use serde::{Serialize, de::DeserializeOwned};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::{
    CertWatcher, Error, Mutation,
    admission::Admission,
    conversion::Conversion,
    http::{Endpoint, Routes},
};

/// How long a handler may take by default: under the apiserver's default
/// webhook timeout of 10 s, so that the caller reads this server's message
/// rather than the apiserver's own timeout.
const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(8);
/// How long a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's headers, or its body.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long requests in flight may take to finish after a shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long to wait after a failed `accept` (out of file descriptors, say)
/// before trying again, rather than spinning.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// An HTTPS server for admission and conversion webhooks: each path is one
/// webhook, served by a handler from request to response.
///
/// See the [module documentation](super) for an example.
pub struct Server {
    certs: CertWatcher,
    endpoints: HashMap<String, Arc<dyn Endpoint>>,
    handler_timeout: Duration,
}

impl Server {
    /// A server presenting the certificate `certs` holds, with no webhooks yet.
    #[must_use]
    pub fn new(certs: CertWatcher) -> Self {
        Self {
            certs,
            endpoints: HashMap::new(),
            handler_timeout: DEFAULT_HANDLER_TIMEOUT,
        }
    }

    /// Serves a validating admission webhook at `path` (as in the
    /// configuration's `clientConfig.url`, e.g. `/validate`): `handler`
    /// decides each request about objects of type `K` (`DynamicObject` for
    /// any kind), usually starting from `AdmissionResponse::from(&request)`
    /// and denying with [`AdmissionResponse::deny`].
    ///
    /// A request whose object does not decode as `K` is denied with a message
    /// saying why. A path served before is served by this handler instead.
    #[must_use]
    pub fn validating<K, F, Fut>(self, path: &str, handler: F) -> Self
    where
        K: Resource + DeserializeOwned + Send + 'static,
        F: Fn(AdmissionRequest<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AdmissionResponse> + Send + 'static,
    {
        self.route(path, Admission::<K, F, AdmissionResponse>::new(handler))
    }

    /// Serves a mutating admission webhook at `path`: `handler` answers each
    /// request about objects of type `K` with a [`Mutation`] — the object as
    /// it should be stored, or a JSON Patch — which the server sends as the
    /// JSON Patch the apiserver applies.
    #[must_use]
    pub fn mutating<K, F, Fut>(self, path: &str, handler: F) -> Self
    where
        K: Resource + Serialize + DeserializeOwned + Send + 'static,
        F: Fn(AdmissionRequest<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Mutation<K>> + Send + 'static,
    {
        self.route(path, Admission::<K, F, Mutation<K>>::new(handler))
    }

    /// Serves a CRD conversion webhook at `path`: `handler` converts the
    /// objects of each request to its `desired_api_version`, usually
    /// answering `ConversionResponse::for_request(request).success(objects)`.
    ///
    /// A successful answer must hold as many objects as the request, in the
    /// same order; one that does not is sent as a failure saying so.
    #[must_use]
    pub fn conversion<F, Fut>(self, path: &str, handler: F) -> Self
    where
        F: Fn(ConversionRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ConversionResponse> + Send + 'static,
    {
        self.route(path, Conversion::new(handler))
    }

    /// Gives each handler `timeout` to answer instead of 8 s; a handler that
    /// takes longer is answered for with a failure saying so. Keep it under
    /// the webhook configuration's `timeoutSeconds` (10 s by default).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = timeout;
        self
    }

    fn route(mut self, path: &str, endpoint: impl Endpoint) -> Self {
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        self.endpoints.insert(path, Arc::new(endpoint));
        self
    }

    /// Serves HTTPS (HTTP/1.1 and HTTP/2) on `listener` until the task is
    /// dropped. Fails only when TLS cannot be set up.
    pub async fn serve(self, listener: TcpListener) -> Result<(), Error> {
        self.serve_with_shutdown(listener, std::future::pending())
            .await
    }

    /// Serves HTTPS on `listener` until `shutdown` completes, then stops
    /// accepting connections and gives requests in flight up to 10 s to
    /// finish. Fails only when TLS cannot be set up.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let acceptor = self.tls_acceptor()?;
        let routes = Arc::new(Routes {
            endpoints: self.endpoints,
            read_timeout: READ_TIMEOUT,
            handler_timeout: self.handler_timeout,
        });
        let graceful = GracefulShutdown::new();
        let mut poll = tokio::time::interval(self.certs.interval());
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = pin!(shutdown);
        tracing::info!(address = ?listener.local_addr().ok(), paths = ?routes.endpoints.keys().collect::<Vec<_>>(), "serving webhooks");
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = poll.tick() => {
                    self.certs.reload_if_changed();
                }
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _peer)) => {
                        tokio::spawn(serve_connection(
                            tcp,
                            acceptor.clone(),
                            Arc::clone(&routes),
                            graceful.watcher(),
                        ));
                    }
                    Err(error) => {
                        tracing::warn!(%error, "accepting a webhook connection failed");
                        tokio::time::sleep(ACCEPT_RETRY).await;
                    }
                },
            }
        }
        drop(listener);
        if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                "webhook requests still in flight after {SHUTDOWN_GRACE:?} were cut off"
            );
        }
        Ok(())
    }

    fn tls_acceptor(&self) -> Result<TlsAcceptor, Error> {
        let mut config = rustls::ServerConfig::builder_with_provider(self.certs.provider())
            .with_safe_default_protocol_versions()
            .map_err(Error::Tls)?
            .with_no_client_auth()
            .with_cert_resolver(self.certs.resolver());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("certs", &self.certs)
            .field("paths", &self.endpoints.keys().collect::<Vec<_>>())
            .field("timeout", &self.handler_timeout)
            .finish()
    }
}

/// One client connection: the TLS handshake, then HTTP requests until the
/// client closes it or the server shuts down.
async fn serve_connection(
    tcp: TcpStream,
    acceptor: TlsAcceptor,
    routes: Arc<Routes>,
    watcher: Watcher,
) {
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::debug!(%error, "a webhook client's TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!("a webhook client's TLS handshake timed out");
            return;
        }
    };
    let service = hyper::service::service_fn(move |request| {
        let routes = Arc::clone(&routes);
        async move { Ok::<_, Infallible>(routes.serve(request).await) }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT);
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(%error, "a webhook connection ended with an error");
    }
}

#[cfg(test)]
mod tests;
