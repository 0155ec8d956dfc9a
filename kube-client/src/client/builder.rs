//! [`ClientBuilder`]: a client from the default stack plus layers of your own,
//! or from a service of your own.

use std::{future::Future, pin::Pin};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use jiff::Timestamp;
use tower::{Layer, Service, ServiceExt, util::BoxService};

use super::{Body, Client, rate_limit::RateLimit, stack};
use crate::{Config, Error, Result, error::BoxError};

/// A response body of any type behind a box, as the default stack of
/// [`ClientBuilder::try_from`] answers.
pub type DynBody = dyn http_body::Body<Data = Bytes, Error = BoxError> + Send + Unpin;

/// The default stack as [`ClientBuilder::try_from`] makes it: any service of
/// requests to responses, boxed.
pub type GenericService = BoxService<Request<Body>, Response<Box<DynBody>>, BoxError>;

/// Builds a [`Client`] from a tower service and layers added on top of it.
///
/// Start from the default stack of a [`Config`] and add layers, e.g.
/// tower-http's `TraceLayer` or tower's `ConcurrencyLimitLayer`; each layer
/// added sees requests before the layers added earlier:
///
/// ```no_run
/// use kube_client::{Config, client::ClientBuilder};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config::infer().await?;
/// let client = ClientBuilder::try_from(config)?
///     .with_layer(&tower::limit::ConcurrencyLimitLayer::new(16))
///     .build();
/// # Ok(())
/// # }
/// ```
pub struct ClientBuilder<Svc> {
    service: Svc,
    default_namespace: String,
    valid_until: Option<Timestamp>,
}

impl<Svc> ClientBuilder<Svc> {
    /// A builder over a service of your own, for stacks built from scratch
    /// (see [`ConfigExt`](super::ConfigExt) for the pieces of the default
    /// one).
    pub fn new(service: Svc, default_namespace: impl Into<String>) -> Self
    where
        Svc: Service<Request<Body>>,
    {
        Self {
            service,
            default_namespace: default_namespace.into(),
            valid_until: None,
        }
    }

    /// Puts `layer` around the stack so far.
    pub fn with_layer<L: Layer<Svc>>(self, layer: &L) -> ClientBuilder<L::Service> {
        ClientBuilder {
            service: layer.layer(self.service),
            default_namespace: self.default_namespace,
            valid_until: self.valid_until,
        }
    }

    /// Holds the client to `limit`, as client-go's `QPS` and `Burst` do: each
    /// request, and each retry the default stack makes, waits for a token of
    /// a bucket holding `burst` tokens and refilled at `qps` a second. Off
    /// unless asked for, as in client-go under controller-runtime.
    ///
    /// The same as `with_layer(&RateLimitLayer::new(limit))`; see
    /// [`RateLimitLayer`](super::middleware::RateLimitLayer) for how it
    /// composes with the retries of `429 Too Many Requests`.
    ///
    /// The limit is a layer rather than fields of [`Config`], so that a
    /// `Config` keeps the fields it has in kube-rs and code building one field
    /// by field keeps compiling.
    pub fn with_rate_limit(
        self,
        limit: RateLimit,
    ) -> ClientBuilder<super::middleware::RateLimited<Svc>> {
        self.with_layer(&super::middleware::RateLimitLayer::new(limit))
    }

    /// Records client-go's request metrics (`rest_client_requests_total`,
    /// `rest_client_request_duration_seconds`) into `metrics`, one sample per
    /// attempt, retries included.
    ///
    /// The same as `with_layer(&metrics.layer())`.
    #[cfg(feature = "metrics")]
    pub fn with_metrics(
        self,
        metrics: &super::middleware::ClientMetrics,
    ) -> ClientBuilder<super::middleware::Measured<Svc>> {
        self.with_layer(&metrics.layer())
    }

    /// Records when the client's credentials stop being valid, for
    /// [`Client::valid_until`].
    pub fn with_valid_until(self, valid_until: Option<Timestamp>) -> Self {
        Self {
            valid_until,
            ..self
        }
    }

    /// The client.
    pub fn build<B>(self) -> Client
    where
        Svc: Service<Request<Body>, Response = Response<B>> + Send + 'static,
        Svc::Future: Send + 'static,
        Svc::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Client::new(self.service, self.default_namespace).with_valid_until(self.valid_until)
    }
}

impl<Svc> std::fmt::Debug for ClientBuilder<Svc> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("default_namespace", &self.default_namespace)
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

impl TryFrom<Config> for ClientBuilder<GenericService> {
    type Error = Error;

    /// A builder over the default stack of `config` (the stack that
    /// [`Client::try_from`] builds), to add layers to.
    fn try_from(config: Config) -> Result<Self> {
        let service = stack::default_stack(&config)?.map_response(|response| {
            response.map(|body| -> Box<DynBody> { Box::new(body.map_err(BoxError::from)) })
        });
        Ok(Self::new(
            BoxService::new(service),
            config.default_namespace,
        ))
    }
}

impl<E> TryFrom<(Config, E)> for ClientBuilder<GenericService>
where
    E: hyper::rt::Executor<Pin<Box<dyn Future<Output = ()> + Send>>>
        + Send
        + Sync
        + Clone
        + 'static,
{
    type Error = Error;

    /// As [`TryFrom<Config>`](#impl-TryFrom<Config>-for-ClientBuilder<GenericService>).
    ///
    /// The executor is not used: the default transport (reqwest) drives its
    /// connections on the tokio runtime it runs in. Spans reach its work
    /// through the request's own span, which the stack opens for every
    /// request.
    fn try_from((config, _executor): (Config, E)) -> Result<Self> {
        Self::try_from(config)
    }
}
