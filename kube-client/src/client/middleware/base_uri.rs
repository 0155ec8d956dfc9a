//! Turning a request's path into a URL on the cluster.

use std::task::{Context, Poll};

use http::{Request, Uri, uri::PathAndQuery};
use tower::{Layer, Service};

use crate::config::redact::RedactedUri;

/// Sends every request to the cluster's URL: the request's path and query are
/// put after the cluster URL's scheme, host and path prefix.
///
/// With a cluster URL of `https://rancher.example.com/k8s/clusters/c1`, a
/// request for `/api/v1/pods` goes to
/// `https://rancher.example.com/k8s/clusters/c1/api/v1/pods`.
#[derive(Clone)]
pub struct BaseUriLayer {
    base: Uri,
}

impl std::fmt::Debug for BaseUriLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The cluster URL may carry user info (a password).
        f.debug_struct("BaseUriLayer")
            .field("base", &RedactedUri(&self.base))
            .finish()
    }
}

impl BaseUriLayer {
    /// Sends requests to `base_uri` (the cluster URL, with an optional path
    /// prefix; its query, if any, is ignored).
    pub fn new(base_uri: Uri) -> Self {
        Self { base: base_uri }
    }
}

impl<S> Layer<S> for BaseUriLayer {
    type Service = BaseUri<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BaseUri {
            inner,
            base: self.base.clone(),
        }
    }
}

/// The service of [`BaseUriLayer`].
#[derive(Clone)]
pub struct BaseUri<S> {
    inner: S,
    base: Uri,
}

impl<S: std::fmt::Debug> std::fmt::Debug for BaseUri<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaseUri")
            .field("inner", &self.inner)
            .field("base", &RedactedUri(&self.base))
            .finish()
    }
}

impl<S, ReqBody> Service<Request<ReqBody>> for BaseUri<S>
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
        // Joining two valid URIs cannot fail; should it ever, the request goes on
        // unchanged and the transport reports its relative URL.
        if let Some(uri) = join(&self.base, request.uri()) {
            *request.uri_mut() = uri;
        }
        self.inner.call(request)
    }
}

/// The cluster URL's scheme and host, its path prefix, then the request's path
/// and query.
fn join(base: &Uri, request: &Uri) -> Option<Uri> {
    let path_and_query = request.path_and_query().map_or("/", PathAndQuery::as_str);
    let prefix = base.path().trim_end_matches('/');
    let mut parts = base.clone().into_parts();
    parts.path_and_query = Some(if prefix.is_empty() {
        PathAndQuery::try_from(path_and_query).ok()?
    } else {
        PathAndQuery::try_from(format!("{prefix}{path_and_query}")).ok()?
    });
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(base: &str, request: &str) -> String {
        let base: Uri = base.parse().expect("base");
        let request: Uri = request.parse().expect("request");
        join(&base, &request).expect("joined").to_string()
    }

    #[test]
    fn paths_and_queries_go_after_the_cluster_url() {
        assert_eq!(
            joined("https://10.0.0.1:6443", "/api/v1/pods?watch=true"),
            "https://10.0.0.1:6443/api/v1/pods?watch=true"
        );
        assert_eq!(
            joined("https://10.0.0.1:6443/", "/version"),
            "https://10.0.0.1:6443/version"
        );
    }

    #[test]
    fn path_prefixes_are_kept() {
        assert_eq!(
            joined(
                "https://rancher.example.com/k8s/clusters/c1",
                "/api/v1/pods"
            ),
            "https://rancher.example.com/k8s/clusters/c1/api/v1/pods"
        );
        assert_eq!(
            joined("https://rancher.example.com/k8s/clusters/c1/", "/apis"),
            "https://rancher.example.com/k8s/clusters/c1/apis"
        );
    }

    #[tokio::test]
    async fn the_layer_rewrites_the_request() {
        use tower::ServiceExt;
        let service = BaseUriLayer::new("http://127.0.0.1:8001/prefix".parse().expect("uri"))
            .layer(tower::service_fn(|request: Request<()>| async move {
                Ok::<_, std::convert::Infallible>(request.uri().to_string())
            }));
        let request = Request::get("/api/v1/namespaces")
            .body(())
            .expect("request");
        let sent = service.oneshot(request).await.expect("infallible");
        assert_eq!(sent, "http://127.0.0.1:8001/prefix/api/v1/namespaces");
    }
}
