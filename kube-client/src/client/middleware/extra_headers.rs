//! Headers added to every request: the configured ones and impersonation.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use http::{HeaderName, HeaderValue, Request};
use tower::{Layer, Service};

/// Adds headers to every request that does not set them itself: the
/// kubeconfig's extra headers and the `Impersonate-User`, `-Uid`, `-Group`
/// and `-Extra-*` headers of its `as*` settings.
///
/// Made by [`ConfigExt::extra_headers_layer`](crate::client::ConfigExt::extra_headers_layer).
#[derive(Clone)]
pub struct ExtraHeadersLayer {
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
}

impl ExtraHeadersLayer {
    /// Adds `headers`, in this order, where the request has no header of the
    /// same name (a name may repeat, e.g. several `Impersonate-Group`s).
    pub(crate) fn new(headers: Vec<(HeaderName, HeaderValue)>) -> Self {
        Self {
            headers: Arc::new(headers),
        }
    }
}

impl std::fmt::Debug for ExtraHeadersLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values may be credentials: only the names are shown.
        f.debug_struct("ExtraHeadersLayer")
            .field(
                "names",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<S> Layer<S> for ExtraHeadersLayer {
    type Service = ExtraHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ExtraHeaders {
            inner,
            headers: self.headers.clone(),
        }
    }
}

/// The service of [`ExtraHeadersLayer`].
#[derive(Clone)]
pub struct ExtraHeaders<S> {
    inner: S,
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
}

impl<S, ReqBody> Service<Request<ReqBody>> for ExtraHeaders<S>
where
    S: Service<Request<ReqBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if !self.headers.is_empty() {
            let headers = request.headers_mut();
            // Names the request sets itself are left alone, all values of them.
            let own: Vec<HeaderName> = self
                .headers
                .iter()
                .filter(|(name, _)| headers.contains_key(name))
                .map(|(name, _)| name.clone())
                .collect();
            for (name, value) in self.headers.iter() {
                if !own.contains(name) {
                    headers.append(name.clone(), value.clone());
                }
            }
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    async fn sent_headers(layer: &ExtraHeadersLayer, request: Request<()>) -> http::HeaderMap {
        layer
            .layer(tower::service_fn(|request: Request<()>| async move {
                Ok::<_, std::convert::Infallible>(request.headers().clone())
            }))
            .oneshot(request)
            .await
            .expect("infallible")
    }

    #[tokio::test]
    async fn configured_headers_are_added_unless_the_request_sets_them() {
        let layer = ExtraHeadersLayer::new(vec![
            (
                HeaderName::from_static("impersonate-group"),
                HeaderValue::from_static("devs"),
            ),
            (
                HeaderName::from_static("impersonate-group"),
                HeaderValue::from_static("ops"),
            ),
            (
                HeaderName::from_static("x-team"),
                HeaderValue::from_static("blue"),
            ),
        ]);
        let headers = sent_headers(&layer, Request::new(())).await;
        let groups: Vec<_> = headers.get_all("impersonate-group").iter().collect();
        assert_eq!(groups, ["devs", "ops"]);
        assert_eq!(headers["x-team"], "blue");

        let own = Request::builder()
            .header("x-team", "red")
            .body(())
            .expect("request");
        let headers = sent_headers(&layer, own).await;
        let teams: Vec<_> = headers.get_all("x-team").iter().collect();
        assert_eq!(teams, ["red"], "the request's own header wins");
    }

    #[test]
    fn debug_shows_names_but_not_values() {
        let layer = ExtraHeadersLayer::new(vec![(
            HeaderName::from_static("x-api-key"),
            HeaderValue::from_static("hunter2"),
        )]);
        let text = format!("{layer:?}");
        assert!(text.contains("x-api-key"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
