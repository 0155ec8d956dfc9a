//! The `Authorization` header of every request.

use std::{
    fmt,
    sync::Arc,
    task::{Context, Poll},
};

use futures::future::BoxFuture;
use http::{Request, Response, StatusCode, header::AUTHORIZATION};
use tower::{Layer, Service};

use super::CredentialsRefreshed;
use crate::{
    Error,
    client::{Body, auth::Credentials},
    error::BoxError,
};

/// Adds the `Authorization` header from the configured credentials to every
/// request that has none: a bearer token, a token file (read again as it
/// rotates), basic auth, an exec plugin's token or an OIDC ID token, refreshed
/// as they expire.
///
/// When the server answers `401 Unauthorized`, credentials that can be loaded
/// afresh are dropped so that the next request loads them again; the default
/// stack's retry layer then sends the refused request once more.
///
/// Made by [`ConfigExt::auth_layer`](crate::client::ConfigExt::auth_layer).
#[derive(Clone)]
pub struct AuthLayer {
    credentials: Arc<Credentials>,
}

impl AuthLayer {
    pub(crate) fn new(credentials: Arc<Credentials>) -> Self {
        Self { credentials }
    }
}

impl fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthLayer").finish_non_exhaustive()
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth {
            inner,
            credentials: self.credentials.clone(),
        }
    }
}

/// The service of [`AuthLayer`].
#[derive(Clone)]
pub struct Auth<S> {
    inner: S,
    credentials: Arc<Credentials>,
}

impl<S> fmt::Debug for Auth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth").finish_non_exhaustive()
    }
}

impl<S, B> Service<Request<Body>> for Auth<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<B>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The service made ready is the one to call; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let credentials = self.credentials.clone();
        Box::pin(async move {
            if !request.headers().contains_key(AUTHORIZATION)
                && let Some(value) = credentials
                    .authorization()
                    .await
                    .map_err(|e| BoxError::from(Error::Auth(e)))?
            {
                request.headers_mut().insert(AUTHORIZATION, value);
            }
            let mut response = inner.call(request).await.map_err(Into::into)?;
            if response.status() == StatusCode::UNAUTHORIZED && credentials.invalidate() {
                tracing::debug!("401 Unauthorized: the credentials will be loaded afresh");
                response.extensions_mut().insert(CredentialsRefreshed);
            }
            Ok(response)
        })
    }
}
