//! The default service stack, built from a [`Config`]: the layers of
//! [`middleware`](super::middleware), in the order a request passes through
//! them, over the [`Transport`].

use std::sync::Arc;

use http::{Request, Response};
use tower::{ServiceBuilder, util::BoxCloneSyncService};

#[cfg(feature = "rustls-tls")]
use super::tls;
use super::{
    Body, ConfigExt,
    auth::Credentials,
    middleware::{
        AuthLayer, BaseUriLayer, retry::RetryLayer, timeout::TimeoutLayer, trace::TraceLayer,
    },
    retry::RetryLimits,
    transport::Transport,
};
use crate::{Config, Error, Result, error::BoxError};

/// A service that every clone of a client shares.
pub(crate) type SharedService = BoxCloneSyncService<Request<Body>, Response<Body>, BoxError>;

/// The default stack for `config`.
pub(crate) fn default_stack(config: &Config) -> Result<SharedService> {
    let server = server_name(&config.cluster_url);
    #[cfg(feature = "rustls-tls")]
    let identity = tls::ClientIdentity::from_config(config).map_err(Error::RustlsTls)?;
    let credentials = Credentials::new(
        config,
        #[cfg(feature = "rustls-tls")]
        Some(identity.clone()),
    )
    .map_err(Error::Auth)?;
    let retry = if config.default_retry {
        RetryLimits::default()
    } else {
        RetryLimits::single_attempt()
    };
    let transport = Transport::new(
        config,
        #[cfg(feature = "rustls-tls")]
        identity,
    )?;

    let stack = ServiceBuilder::new()
        .layer(BaseUriLayer::new(config.cluster_url.clone()))
        .layer(TraceLayer)
        .layer(RetryLayer::new(retry))
        .layer(config.extra_headers_layer()?)
        .layer(AuthLayer::new(Arc::new(credentials)));
    #[cfg(feature = "gzip")]
    let stack = stack
        .option_layer((!config.disable_compression).then_some(super::middleware::gzip::GzipLayer));
    let stack = stack
        .layer(TimeoutLayer::new(
            server,
            config.read_timeout,
            config.write_timeout,
        ))
        .service(transport);
    Ok(BoxCloneSyncService::new(stack))
}

/// The cluster URL for requests and messages: no user info, no trailing slash.
pub(crate) fn server_name(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("https");
    let authority = uri.authority().map_or("", |a| a.as_str());
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let path = uri.path().trim_end_matches('/');
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
