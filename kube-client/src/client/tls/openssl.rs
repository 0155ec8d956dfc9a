//! TLS by OpenSSL for stacks built from [`ConfigExt`](crate::client::ConfigExt)
//! pieces (feature `openssl-tls`).
//!
//! The default stack always speaks rustls; these connectors are for programs
//! that build their own stack over hyper-util's client and want OpenSSL. They
//! follow the same kubeconfig settings: the certificate authority (the
//! system's roots without one), `insecure-skip-tls-verify`, `tls-server-name`
//! (checked and sent as SNI) and the client certificate.

use openssl::{
    error::ErrorStack,
    pkey::PKey,
    ssl::{SslConnector, SslConnectorBuilder, SslMethod, SslVerifyMode},
    x509::X509,
};

use crate::{
    Config,
    config::{LoadDataError, data},
};

/// Why an OpenSSL connector could not be made. Messages never contain keys.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// OpenSSL could not make the HTTPS connector.
    #[error("could not create the OpenSSL HTTPS connector: {0}")]
    CreateHttpsConnector(#[source] ErrorStack),

    /// OpenSSL could not make the TLS settings.
    #[error("could not create the OpenSSL TLS settings: {0}")]
    CreateSslConnector(#[source] SslConnectorError),
}

/// Why the OpenSSL TLS settings could not be made from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum SslConnectorError {
    /// OpenSSL could not start a connector.
    #[error("OpenSSL could not start a TLS connector: {0}")]
    CreateBuilder(#[source] ErrorStack),

    /// The client certificate could not be loaded.
    #[error("could not load the client certificate: {0}")]
    LoadClientCertificate(#[source] LoadDataError),

    /// The client key could not be loaded.
    #[error("could not load the client key: {0}")]
    LoadClientKey(#[source] LoadDataError),

    /// Only one of the client certificate and key is configured.
    #[error("the kubeconfig user has a client {present} but no client {missing}")]
    IncompleteIdentity {
        /// The one given.
        present: &'static str,
        /// The one missing.
        missing: &'static str,
    },

    /// The client certificate is not PEM OpenSSL understands.
    #[error("the client certificate is not a PEM certificate chain: {0}")]
    DeserializeCertificateChain(#[source] ErrorStack),

    /// The client certificate chain is empty.
    #[error("the client certificate holds no certificate")]
    GetLeafCertificate,

    /// OpenSSL refused the client certificate.
    #[error("OpenSSL refused the client certificate: {0}")]
    SetLeafCertificate(#[source] ErrorStack),

    /// OpenSSL refused a certificate of the client's chain.
    #[error("OpenSSL refused a certificate of the client certificate's chain: {0}")]
    AppendCertificate(#[source] ErrorStack),

    /// The client key is not PEM OpenSSL understands.
    #[error("the client key is not a PEM private key OpenSSL understands")]
    DeserializePrivateKey(#[source] ErrorStack),

    /// OpenSSL refused the client key (e.g. it does not match the certificate).
    #[error("OpenSSL refused the client key: {0}")]
    SetPrivateKey(#[source] ErrorStack),

    /// The certificate authority could not be read.
    #[error("could not read the certificate authority: {0}")]
    LoadRootCertificates(#[source] LoadDataError),

    /// A root certificate is not a certificate.
    #[error("root certificate {index} of the certificate authority is not valid: {source}")]
    DeserializeRootCertificate {
        /// Its position in the bundle, from 0.
        index: usize,
        /// What OpenSSL reported.
        #[source]
        source: ErrorStack,
    },

    /// OpenSSL refused a root certificate.
    #[error("OpenSSL refused root certificate {index} of the certificate authority: {source}")]
    AddRootCertificate {
        /// Its position in the bundle, from 0.
        index: usize,
        /// What OpenSSL reported.
        #[source]
        source: ErrorStack,
    },
}

/// The OpenSSL TLS settings of `config`'s cluster.
pub(crate) fn ssl_connector_builder(
    config: &Config,
) -> Result<SslConnectorBuilder, SslConnectorError> {
    let mut builder =
        SslConnector::builder(SslMethod::tls_client()).map_err(SslConnectorError::CreateBuilder)?;
    let auth = &config.auth_info;
    let cert = auth
        .load_client_certificate()
        .map_err(SslConnectorError::LoadClientCertificate)?;
    let key = auth
        .load_client_key()
        .map_err(SslConnectorError::LoadClientKey)?;
    match (cert, key) {
        (None, None) => {}
        (Some(_), None) => {
            return Err(SslConnectorError::IncompleteIdentity {
                present: "certificate",
                missing: "key",
            });
        }
        (None, Some(_)) => {
            return Err(SslConnectorError::IncompleteIdentity {
                present: "key",
                missing: "certificate",
            });
        }
        (Some(cert), Some(key)) => {
            let mut chain = X509::stack_from_pem(&cert)
                .map_err(SslConnectorError::DeserializeCertificateChain)?
                .into_iter();
            let leaf = chain.next().ok_or(SslConnectorError::GetLeafCertificate)?;
            builder
                .set_certificate(&leaf)
                .map_err(SslConnectorError::SetLeafCertificate)?;
            for intermediate in chain {
                builder
                    .add_extra_chain_cert(intermediate)
                    .map_err(SslConnectorError::AppendCertificate)?;
            }
            let key = PKey::private_key_from_pem(&key)
                .map_err(SslConnectorError::DeserializePrivateKey)?;
            builder
                .set_private_key(&key)
                .map_err(SslConnectorError::SetPrivateKey)?;
        }
    }
    let roots = match (&config.root_cert_file, &config.root_cert) {
        (Some(path), _) => Some(
            data::pem_certificates_file(path).map_err(SslConnectorError::LoadRootCertificates)?,
        ),
        (None, Some(certs)) => Some(certs.clone()),
        // SslConnector trusts the system's roots already.
        (None, None) => None,
    };
    for (index, der) in roots.iter().flatten().enumerate() {
        let cert = X509::from_der(der)
            .map_err(|source| SslConnectorError::DeserializeRootCertificate { index, source })?;
        builder
            .cert_store_mut()
            .add_cert(cert)
            .map_err(|source| SslConnectorError::AddRootCertificate { index, source })?;
    }
    if config.accept_invalid_certs {
        builder.set_verify(SslVerifyMode::NONE);
    }
    Ok(builder)
}

/// An HTTPS connector over `connector` with the TLS settings of `config`;
/// `tls-server-name` is checked and sent as SNI instead of the URL's host.
pub(crate) fn https_connector<H>(
    config: &Config,
    connector: H,
) -> Result<hyper_openssl::client::legacy::HttpsConnector<H>, Error> {
    let ssl = ssl_connector_builder(config).map_err(Error::CreateSslConnector)?;
    let mut https = hyper_openssl::client::legacy::HttpsConnector::with_connector(connector, ssl)
        .map_err(Error::CreateHttpsConnector)?;
    if let Some(name) = config.tls_server_name.clone().filter(|n| !n.is_empty()) {
        https.set_callback(move |connection, _uri| {
            // The name replaces the URL's host both for SNI and verification.
            connection.set_use_server_name_indication(false);
            connection.set_verify_hostname(false);
            connection.set_hostname(&name)?;
            match name.parse::<std::net::IpAddr>() {
                Ok(ip) => connection.param_mut().set_ip(ip),
                Err(_) => connection.param_mut().set_host(&name),
            }
        });
    }
    Ok(https)
}
