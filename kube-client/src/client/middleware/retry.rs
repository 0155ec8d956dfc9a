//! Sending a request again when that is safe and may help.
//!
//! The rules (which failures, how long to wait, how many attempts) are those
//! of the [`retry`](crate::client::retry) module. This layer applies them, and
//! reads a body the caller wants whole within the attempt, so that a body that
//! breaks off is one more failure to retry rather than an error for the caller.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    task::{Context, Poll},
    time::Duration,
};

use futures::future::BoxFuture;
use http::{Request, Response};
use tower::{Layer, Service, ServiceExt};

use super::{AttemptDuties, BodyUse, CredentialsRefreshed};
use crate::{
    client::{
        Body,
        retry::{self, Failure, Outcome, RetryLimits},
    },
    error::{BoxError, TransportError},
};

/// Retries with the given limits.
#[derive(Debug, Clone)]
pub(crate) struct RetryLayer {
    limits: RetryLimits,
}

impl RetryLayer {
    pub(crate) fn new(limits: RetryLimits) -> Self {
        Self { limits }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Retry {
            inner,
            limits: self.limits,
        }
    }
}

/// The service of [`RetryLayer`].
#[derive(Debug, Clone)]
pub(crate) struct Retry<S> {
    inner: S,
    limits: RetryLimits,
}

type Answer = Result<Response<Body>, BoxError>;

impl<S> Service<Request<Body>> for Retry<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = BoxError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Answer>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let limits = self.limits;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = match body.into_bytes() {
                Ok(bytes) => bytes,
                // A streamed request body cannot be sent twice: one attempt.
                Err(body) => {
                    let (method, uri) = (parts.method.clone(), parts.uri.clone());
                    let extensions = parts.extensions.clone();
                    let started = tokio::time::Instant::now();
                    let answer = inner.oneshot(Request::from_parts(parts, body)).await;
                    let status = answer.as_ref().ok().map(Response::status);
                    AttemptDuties::of(&extensions).after(&method, &uri, status, started.elapsed());
                    return answer;
                }
            };
            let path = parts.uri.path().to_string();
            let whole = parts.extensions.get::<BodyUse>() == Some(&BodyUse::Whole);
            let attempt = Attempt {
                inner,
                request: Template { parts, body },
                whole,
                refreshed: AtomicBool::new(false),
            };
            let method = attempt.request.parts.method.clone();
            retry::run(&limits, &method, &path, |number| attempt.run(number)).await
        })
    }
}

/// What every attempt at one request shares.
struct Attempt<S> {
    inner: S,
    request: Template,
    /// The caller reads the body whole: read it within the attempt.
    whole: bool,
    /// Fresh credentials were tried once already.
    refreshed: AtomicBool,
}

/// A request whose body is held in memory, from which each attempt's copy is
/// made.
struct Template {
    parts: http::request::Parts,
    body: bytes::Bytes,
}

impl Template {
    fn request(&self) -> Request<Body> {
        let mut request = Request::new(Body::from(self.body.clone()));
        *request.method_mut() = self.parts.method.clone();
        *request.uri_mut() = self.parts.uri.clone();
        *request.version_mut() = self.parts.version;
        *request.headers_mut() = self.parts.headers.clone();
        *request.extensions_mut() = self.parts.extensions.clone();
        request
    }
}

impl<S> Attempt<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = BoxError> + Clone,
{
    /// Makes attempt `number` (from 1).
    async fn run(&self, number: u32) -> Outcome<Answer> {
        let parts = &self.request.parts;
        let duties = AttemptDuties::of(&parts.extensions);
        duties.before(number).await;
        let started = tokio::time::Instant::now();
        let sent = self.inner.clone().oneshot(self.request.request()).await;
        let status = sent.as_ref().ok().map(Response::status);
        duties.after(&parts.method, &parts.uri, status, started.elapsed());
        let response = match sent {
            Ok(response) => response,
            Err(error) => return failed(error),
        };
        let status = response.status();
        if status.is_success() {
            if !self.whole {
                return Outcome::Done(Ok(response));
            }
            let (parts, body) = response.into_parts();
            return match body.collect_raw().await {
                Ok(bytes) => Outcome::Done(Ok(Response::from_parts(parts, Body::from(bytes)))),
                // The body broke off: for a read, worth another attempt.
                Err(error) => failed(error),
            };
        }
        let (failure, retry_after) = if status == http::StatusCode::UNAUTHORIZED
            && response
                .extensions()
                .get::<CredentialsRefreshed>()
                .is_some()
            && !self.refreshed.swap(true, Ordering::Relaxed)
        {
            (Failure::CredentialsRefreshed, Some(Duration::ZERO))
        } else {
            (
                Failure::Status(status),
                retry::retry_after(response.headers()),
            )
        };
        Outcome::Failed {
            failure,
            retry_after,
            reason: format!("answered {status}"),
            result: Ok(response),
        }
    }
}

/// An attempt that ended in an error: a failure to retry when it is one the
/// transport classified, else final.
fn failed(error: BoxError) -> Outcome<Answer> {
    let failure = match error.downcast_ref::<TransportError>() {
        Some(TransportError::Connect { .. }) => Failure::Connect,
        Some(TransportError::Tls { .. }) => Failure::Tls,
        Some(TransportError::Broken { .. }) => Failure::Transport,
        Some(TransportError::Timeout { .. }) => Failure::Timeout,
        _ => return Outcome::Done(Err(error)),
    };
    Outcome::Failed {
        failure,
        retry_after: None,
        reason: error.to_string(),
        result: Err(error),
    }
}
