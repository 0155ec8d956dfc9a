//! [`ConfigExt`]: the pieces of the default stack, for building your own.

use std::sync::Arc;

use super::{
    auth::{self, Credentials},
    middleware::{AuthLayer, BaseUriLayer, ExtraHeadersLayer},
};
use crate::{Config, Error, Result};

/// The pieces of a [`Client`](crate::Client)'s service stack, made from a
/// [`Config`], for building a stack of your own over another HTTP client.
///
/// A minimal stack over hyper-util's client:
///
/// ```no_run
/// use kube_client::{Client, Config, client::ConfigExt};
/// use tower::{BoxError, ServiceBuilder};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config::infer().await?;
/// let https = config.rustls_https_connector()?;
/// let service = ServiceBuilder::new()
///     .layer(config.base_uri_layer())
///     .option_layer(config.auth_layer()?)
///     .map_err(BoxError::from)
///     .service(
///         hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
///             .build(https),
///     );
/// let client = Client::new(service, config.default_namespace);
/// # Ok(())
/// # }
/// ```
///
/// Such a stack has only the pieces put into it: no retries, time limits or
/// extra headers unless added. This trait is sealed.
pub trait ConfigExt: private::Sealed {
    /// Sends requests to the cluster URL (with its path prefix).
    fn base_uri_layer(&self) -> BaseUriLayer;

    /// Adds the `Authorization` header of the configured user, if it has
    /// credentials other than a client certificate (which TLS presents).
    ///
    /// Exec plugins that hand out client certificates need the default stack,
    /// which can change the certificate its connections present.
    fn auth_layer(&self) -> Result<Option<AuthLayer>>;

    /// Adds the configured extra headers and the impersonation headers.
    fn extra_headers_layer(&self) -> Result<ExtraHeadersLayer>;

    /// The rustls configuration of the cluster: its certificate authority (or
    /// the system's roots), `insecure-skip-tls-verify`, `tls-server-name` and
    /// the client certificate. It names no ALPN protocols: the HTTP client it
    /// is given to offers the versions it speaks.
    #[cfg(feature = "rustls-tls")]
    fn rustls_client_config(&self) -> Result<rustls::ClientConfig>;

    /// A hyper connector speaking TLS with [`rustls_client_config`](Self::rustls_client_config),
    /// over TCP.
    #[cfg(feature = "rustls-tls")]
    fn rustls_https_connector(
        &self,
    ) -> Result<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>>;

    /// A hyper connector speaking TLS with [`rustls_client_config`](Self::rustls_client_config)
    /// over the connections `connector` opens.
    #[cfg(feature = "rustls-tls")]
    fn rustls_https_connector_with_connector<H>(
        &self,
        connector: H,
    ) -> Result<hyper_rustls::HttpsConnector<H>>;

    /// A hyper connector speaking TLS by OpenSSL with the cluster's settings
    /// (see [`openssl_ssl_connector_builder`](Self::openssl_ssl_connector_builder)),
    /// over TCP. `tls-server-name` is checked and sent as SNI.
    #[cfg(feature = "openssl-tls")]
    fn openssl_https_connector(
        &self,
    ) -> Result<
        hyper_openssl::client::legacy::HttpsConnector<
            hyper_util::client::legacy::connect::HttpConnector,
        >,
    >;

    /// A hyper connector speaking TLS by OpenSSL with the cluster's settings
    /// over the connections `connector` opens.
    #[cfg(feature = "openssl-tls")]
    fn openssl_https_connector_with_connector<H>(
        &self,
        connector: H,
    ) -> Result<hyper_openssl::client::legacy::HttpsConnector<H>>
    where
        H: tower::Service<http::Uri> + Send,
        H::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        H::Future: Send + 'static,
        H::Response: hyper::rt::Read
            + hyper::rt::Write
            + hyper_util::client::legacy::connect::Connection
            + Unpin;

    /// OpenSSL's TLS settings for the cluster: its certificate authority (or
    /// the system's roots), `insecure-skip-tls-verify` and the client
    /// certificate. (`tls-server-name` is applied per connection by the
    /// connectors above.)
    #[cfg(feature = "openssl-tls")]
    fn openssl_ssl_connector_builder(&self) -> Result<openssl::ssl::SslConnectorBuilder>;
}

/// hyper-util's TCP connector with the configured connect timeout, for a TLS
/// connector to wrap.
#[cfg(feature = "rustls-tls")]
fn tcp_connector(config: &Config) -> hyper_util::client::legacy::connect::HttpConnector {
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    // The TLS connector decides the scheme; plain TCP must not refuse https.
    http.enforce_http(false);
    http.set_connect_timeout(config.connect_timeout);
    http
}

mod private {
    pub trait Sealed {}
    impl Sealed for super::Config {}
}

impl ConfigExt for Config {
    fn base_uri_layer(&self) -> BaseUriLayer {
        BaseUriLayer::new(self.cluster_url.clone())
    }

    fn auth_layer(&self) -> Result<Option<AuthLayer>> {
        let credentials = Credentials::new(
            self,
            #[cfg(feature = "rustls-tls")]
            None,
        )
        .map_err(Error::Auth)?;
        Ok(credentials
            .is_some()
            .then(|| AuthLayer::new(Arc::new(credentials))))
    }

    fn extra_headers_layer(&self) -> Result<ExtraHeadersLayer> {
        let mut headers = self.headers.clone();
        headers.extend(auth::impersonation_headers(self).map_err(Error::Auth)?);
        Ok(ExtraHeadersLayer::new(headers))
    }

    #[cfg(feature = "rustls-tls")]
    fn rustls_client_config(&self) -> Result<rustls::ClientConfig> {
        let identity = super::tls::ClientIdentity::from_config(self).map_err(Error::RustlsTls)?;
        let mut tls = super::tls::rustls_client_config(self, identity).map_err(Error::RustlsTls)?;
        tls.alpn_protocols.clear();
        Ok(tls)
    }

    #[cfg(feature = "rustls-tls")]
    fn rustls_https_connector(
        &self,
    ) -> Result<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>>
    {
        self.rustls_https_connector_with_connector(tcp_connector(self))
    }

    #[cfg(feature = "rustls-tls")]
    fn rustls_https_connector_with_connector<H>(
        &self,
        connector: H,
    ) -> Result<hyper_rustls::HttpsConnector<H>> {
        // The connector offers HTTP/1.1 by ALPN itself (it refuses a
        // configuration that names protocols already).
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(self.rustls_client_config()?)
            .https_or_http();
        // tls-server-name is sent as SNI too, as client-go does.
        let builder = match &self.tls_server_name {
            Some(name) => {
                let name = rustls::pki_types::ServerName::try_from(name.clone()).map_err(|_| {
                    Error::RustlsTls(super::tls::Error::InvalidServerName { name: name.clone() })
                })?;
                builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
            }
            None => builder,
        };
        Ok(builder.enable_http1().wrap_connector(connector))
    }

    #[cfg(feature = "openssl-tls")]
    fn openssl_https_connector(
        &self,
    ) -> Result<
        hyper_openssl::client::legacy::HttpsConnector<
            hyper_util::client::legacy::connect::HttpConnector,
        >,
    > {
        self.openssl_https_connector_with_connector(tcp_connector(self))
    }

    #[cfg(feature = "openssl-tls")]
    fn openssl_https_connector_with_connector<H>(
        &self,
        connector: H,
    ) -> Result<hyper_openssl::client::legacy::HttpsConnector<H>>
    where
        H: tower::Service<http::Uri> + Send,
        H::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        H::Future: Send + 'static,
        H::Response: hyper::rt::Read
            + hyper::rt::Write
            + hyper_util::client::legacy::connect::Connection
            + Unpin,
    {
        super::tls::openssl::https_connector(self, connector).map_err(Error::OpensslTls)
    }

    #[cfg(feature = "openssl-tls")]
    fn openssl_ssl_connector_builder(&self) -> Result<openssl::ssl::SslConnectorBuilder> {
        super::tls::openssl::ssl_connector_builder(self)
            .map_err(|e| Error::OpensslTls(super::tls::openssl::Error::CreateSslConnector(e)))
    }
}
