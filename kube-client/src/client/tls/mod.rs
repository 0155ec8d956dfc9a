//! TLS with the apiserver, by rustls: which certificates to trust, which name the
//! server's certificate must carry, and which client certificate to present.
//!
//! - With `certificate-authority(-data)`, exactly those certificates are trusted;
//!   without, the operating system's trust store is.
//! - `insecure-skip-tls-verify` accepts any server certificate (the handshake
//!   signatures are still checked, so the connection is encrypted, but to whom is
//!   unknown). Together with a certificate authority it is an error, as in
//!   client-go: one of the two settings is a mistake.
//! - `tls-server-name` checks the certificate against that name instead of the
//!   URL's host, for apiservers reached through an address their certificate
//!   does not list; the default transport also sends it as SNI (see
//!   `transport::sni`).
//! - The client certificate comes from the kubeconfig, or from an exec plugin at
//!   runtime; [`ClientIdentity`] holds the current one and hands it to each new
//!   handshake.

use std::sync::{
    Arc, Once, RwLock,
    atomic::{AtomicU64, Ordering},
};

use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::{
        ResolvesClientCert, WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::CryptoProvider,
    pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime, pem::PemObject},
    sign::CertifiedKey,
};

use crate::{Config, config::LoadDataError};

#[cfg(feature = "openssl-tls")]
pub(crate) mod openssl;
mod rotating_roots;
use rotating_roots::RotatingRoots;

/// Why the TLS settings could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No rustls crypto provider is available: enable the `ring` feature or
    /// install a process-wide default provider.
    #[error(
        "no rustls crypto provider: enable kube-client's `ring` feature or install one with CryptoProvider::install_default"
    )]
    NoCryptoProvider,

    /// The client certificate could not be loaded.
    #[error("could not load the client certificate: {0}")]
    LoadClientCertificate(#[source] LoadDataError),

    /// The client key could not be loaded.
    #[error("could not load the client key: {0}")]
    LoadClientKey(#[source] LoadDataError),

    /// A client certificate was given without its key.
    #[error(
        "{origin} gives a client certificate but no client key (client-key or client-key-data)"
    )]
    MissingPrivateKey {
        /// Where the certificate came from.
        origin: String,
    },

    /// A client key was given without its certificate.
    #[error(
        "{origin} gives a client key but no client certificate (client-certificate or client-certificate-data)"
    )]
    MissingCertificate {
        /// Where the key came from.
        origin: String,
    },

    /// The client certificate or key is not valid PEM of a supported kind.
    #[error("the {what} from {origin} is not usable: {reason}")]
    InvalidIdentityPem {
        /// `client certificate` or `client key`.
        what: &'static str,
        /// Where it came from.
        origin: String,
        /// What is wrong (never the key itself).
        reason: String,
    },

    /// The private key is not one rustls can sign with, or does not match the
    /// certificate.
    #[error("the client key from {origin} cannot be used: {source}")]
    InvalidPrivateKey {
        /// Where the key came from.
        origin: String,
        /// What rustls reported.
        #[source]
        source: rustls::Error,
    },

    /// A configured root certificate is not a valid certificate.
    #[error("root certificate {index} of the certificate authority is not valid: {source}")]
    AddRootCertificate {
        /// The certificate's position in the bundle, from 0.
        index: usize,
        /// What rustls reported.
        #[source]
        source: rustls::Error,
    },

    /// `tls-server-name` is not a DNS name or IP address.
    #[error("tls-server-name {name:?} is not a valid DNS name or IP address")]
    InvalidServerName {
        /// The configured name.
        name: String,
    },

    /// Verification of the server's certificate is skipped, yet root
    /// certificates to verify it with are configured. Refused, as client-go
    /// does, rather than ignoring the certificates.
    #[error(
        "Config::accept_invalid_certs (insecure-skip-tls-verify) is set together with Config::root_cert or Config::root_cert_file (certificate-authority); root certificates are only used to verify the server, so unset one of the two"
    )]
    InsecureWithRootCertificates,

    /// The certificate authority file could not be read.
    #[error("could not read the certificate authority file {}: {source}", path.display())]
    ReadRootCertificateFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },

    /// The certificate authority file holds no usable certificate.
    #[error("the certificate authority file {} is not usable: {reason}", path.display())]
    RootCertificateFileInvalid {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// rustls refused the configuration (e.g. the provider supports no safe
    /// protocol version).
    #[error("rustls refused the TLS configuration: {0}")]
    Config(#[source] rustls::Error),
}

/// The crypto provider: aws-lc-rs when enabled (it is only ever enabled on
/// purpose, while ring is on by default), else ring when enabled, else the
/// process-wide default.
pub(crate) fn crypto_provider() -> Result<Arc<CryptoProvider>, Error> {
    #[cfg(feature = "aws-lc-rs")]
    {
        Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
    }
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    {
        Ok(Arc::new(rustls::crypto::ring::default_provider()))
    }
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    {
        CryptoProvider::get_default()
            .cloned()
            .ok_or(Error::NoCryptoProvider)
    }
}

/// The rustls configuration for `config`'s cluster, presenting whatever client
/// certificate `identity` holds at each handshake.
pub(crate) fn rustls_client_config(
    config: &Config,
    identity: Arc<ClientIdentity>,
) -> Result<ClientConfig, Error> {
    let provider = identity.provider.clone();
    let verifier = server_verifier(config, &provider)?;
    let mut tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::Config)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(identity);
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}

/// A rustls configuration for servers other than the apiserver (an OIDC
/// issuer, Google's token endpoint): trusting `roots` when given, else what a
/// cluster without a certificate authority trusts; no client certificate.
#[cfg(any(feature = "oidc", feature = "oauth"))]
pub(crate) fn plain_client_config(roots: Option<&[Vec<u8>]>) -> Result<ClientConfig, Error> {
    let provider = crypto_provider()?;
    let verifier: Arc<dyn ServerCertVerifier> = match roots {
        Some(certs) => {
            let mut store = RootCertStore::empty();
            for (index, der) in certs.iter().enumerate() {
                store
                    .add(CertificateDer::from(der.clone()))
                    .map_err(|source| Error::AddRootCertificate { index, source })?;
            }
            WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                .build()
                .map_err(|e| Error::Config(rustls::Error::General(e.to_string())))?
        }
        None => default_trust(&provider)?,
    };
    let mut tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::Config)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}

/// How the server's certificate is checked.
pub(crate) fn server_verifier(
    config: &Config,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, Error> {
    if config.accept_invalid_certs {
        if config.root_cert.is_some() || config.root_cert_file.is_some() {
            return Err(Error::InsecureWithRootCertificates);
        }
        static WARNING: Once = Once::new();
        WARNING.call_once(|| {
            tracing::warn!(
                "insecure-skip-tls-verify is set: the apiserver's certificate is not verified, so anyone on the network path can impersonate it"
            );
        });
        return Ok(Arc::new(AcceptAnyServerCert {
            provider: provider.clone(),
        }));
    }
    let verifier: Arc<dyn ServerCertVerifier> = match (&config.root_cert_file, &config.root_cert) {
        // The file wins: it is re-read as it changes, so a rotated authority is
        // trusted without a restart.
        (Some(path), _) => Arc::new(RotatingRoots::new(path, provider.clone())?),
        (None, Some(certs)) => {
            let mut roots = RootCertStore::empty();
            for (index, der) in certs.iter().enumerate() {
                roots
                    .add(CertificateDer::from(der.clone()))
                    .map_err(|source| Error::AddRootCertificate { index, source })?;
            }
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| Error::Config(rustls::Error::General(e.to_string())))?
        }
        (None, None) => default_trust(provider)?,
    };
    match config.tls_server_name.as_deref().filter(|n| !n.is_empty()) {
        None => Ok(verifier),
        Some(name) => {
            let name = ServerName::try_from(name.to_string())
                .map_err(|_| Error::InvalidServerName { name: name.into() })?;
            Ok(Arc::new(FixedServerName {
                inner: verifier,
                name,
            }))
        }
    }
}

/// The verifier for clusters that name no certificate authority: Mozilla's
/// root set as compiled into `webpki-roots`.
#[cfg(feature = "webpki-roots")]
fn default_trust(provider: &Arc<CryptoProvider>) -> Result<Arc<dyn ServerCertVerifier>, Error> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let verifier: Arc<dyn ServerCertVerifier> =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| Error::Config(rustls::Error::General(e.to_string())))?;
    Ok(verifier)
}

/// The verifier for clusters that name no certificate authority: the
/// operating system's trust store.
#[cfg(not(feature = "webpki-roots"))]
fn default_trust(provider: &Arc<CryptoProvider>) -> Result<Arc<dyn ServerCertVerifier>, Error> {
    Ok(
        match rustls_platform_verifier::Verifier::new(provider.clone()) {
            Ok(verifier) => Arc::new(verifier),
            // Plain-HTTP clusters need no trust store; HTTPS ones fail their
            // handshake with this reason, naming the server.
            Err(error) => Arc::new(NoTrustStore {
                reason: error.to_string(),
                provider: provider.clone(),
            }),
        },
    )
}

/// The handshake-signature checks of a verifier that decides about
/// certificates itself: by the crypto provider's algorithms, as rustls'
/// own verifier does.
fn verify_tls12(
    provider: &CryptoProvider,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls12_signature(
        message,
        cert,
        dss,
        &provider.signature_verification_algorithms,
    )
}

/// [`verify_tls12`] for TLS 1.3.
fn verify_tls13(
    provider: &CryptoProvider,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls13_signature(
        message,
        cert,
        dss,
        &provider.signature_verification_algorithms,
    )
}

/// The signature schemes [`verify_tls12`] and [`verify_tls13`] accept.
fn supported_schemes(provider: &CryptoProvider) -> Vec<SignatureScheme> {
    provider
        .signature_verification_algorithms
        .supported_schemes()
}

/// Accepts any server certificate; handshake signatures are still verified.
#[derive(Debug)]
struct AcceptAnyServerCert {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12(&self.provider, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13(&self.provider, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        supported_schemes(&self.provider)
    }
}

/// Checks certificates against a fixed name (`tls-server-name`) rather than the
/// host the connection was made to.
#[derive(Debug)]
struct FixedServerName {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for FixedServerName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Refuses every server: no certificate authority was configured and the
/// operating system's trust store could not be loaded.
#[cfg(not(feature = "webpki-roots"))]
#[derive(Debug)]
struct NoTrustStore {
    reason: String,
    provider: Arc<CryptoProvider>,
}

#[cfg(not(feature = "webpki-roots"))]
impl ServerCertVerifier for NoTrustStore {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Err(rustls::Error::General(format!(
            "no certificate authority is configured for this cluster and the system trust store is unavailable ({})",
            self.reason
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12(&self.provider, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13(&self.provider, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        supported_schemes(&self.provider)
    }
}

/// The client certificate presented to the apiserver, replaceable at runtime
/// (exec plugins hand out short-lived certificates).
///
/// Each replacement bumps a generation number, so the client knows to open new
/// connections: a TLS connection keeps the certificate it was opened with.
#[derive(Debug)]
pub(crate) struct ClientIdentity {
    current: RwLock<Option<Arc<CertifiedKey>>>,
    generation: AtomicU64,
    provider: Arc<CryptoProvider>,
}

impl ClientIdentity {
    /// The identity of `config`'s kubeconfig user (client certificate and key),
    /// or none yet.
    pub(crate) fn from_config(config: &Config) -> Result<Arc<Self>, Error> {
        let identity = ClientIdentity {
            current: RwLock::new(None),
            generation: AtomicU64::new(0),
            provider: crypto_provider()?,
        };
        let auth = &config.auth_info;
        let cert = auth
            .load_client_certificate()
            .map_err(Error::LoadClientCertificate)?;
        let key = auth.load_client_key().map_err(Error::LoadClientKey)?;
        match (cert, key) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(Error::MissingPrivateKey {
                    origin: "the kubeconfig user".into(),
                });
            }
            (None, Some(_)) => {
                return Err(Error::MissingCertificate {
                    origin: "the kubeconfig user".into(),
                });
            }
            (Some(cert), Some(key)) => {
                let cert_origin = match &auth.client_certificate_data {
                    Some(d) if !d.trim().is_empty() => "client-certificate-data".to_string(),
                    _ => format!(
                        "client-certificate {}",
                        auth.client_certificate.as_deref().unwrap_or_default()
                    ),
                };
                let key_origin = match &auth.client_key_data {
                    Some(_) => "client-key-data".to_string(),
                    None => format!(
                        "client-key {}",
                        auth.client_key.as_deref().unwrap_or_default()
                    ),
                };
                let key =
                    certified_key(&cert, &cert_origin, &key, &key_origin, &identity.provider)?;
                identity.store(Some(Arc::new(key)));
            }
        }
        Ok(Arc::new(identity))
    }

    /// Replaces the certificate with one in PEM (as exec plugins give it).
    /// Returns whether it differs from the one before.
    pub(crate) fn replace_pem(
        &self,
        cert_pem: &[u8],
        key_pem: &[u8],
        origin: &str,
    ) -> Result<bool, Error> {
        let key = certified_key(cert_pem, origin, key_pem, origin, &self.provider)?;
        let unchanged = self
            .current()
            .is_some_and(|current| current.cert == key.cert);
        if !unchanged {
            self.store(Some(Arc::new(key)));
        }
        Ok(!unchanged)
    }

    /// How many times the certificate was replaced.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn current(&self) -> Option<Arc<CertifiedKey>> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn store(&self, key: Option<Arc<CertifiedKey>>) {
        match self.current.write() {
            Ok(mut guard) => *guard = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

impl ResolvesClientCert for ClientIdentity {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.current()
    }

    fn has_certs(&self) -> bool {
        self.current().is_some()
    }
}

/// A certificate chain and its private key (RSA PKCS#1, EC SEC1 or PKCS#8), checked
/// to belong together.
fn certified_key(
    cert_pem: &[u8],
    cert_origin: &str,
    key_pem: &[u8],
    key_origin: &str,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, Error> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::InvalidIdentityPem {
            what: "client certificate",
            origin: cert_origin.to_string(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(Error::InvalidIdentityPem {
            what: "client certificate",
            origin: cert_origin.to_string(),
            reason: "no \"-----BEGIN CERTIFICATE-----\" block found".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| Error::InvalidIdentityPem {
        what: "client key",
        origin: key_origin.to_string(),
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no RSA, EC or PKCS#8 \"PRIVATE KEY\" block found".to_string()
            }
            other => other.to_string(),
        },
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|source| Error::InvalidPrivateKey {
        origin: key_origin.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use rustls::pki_types::ServerName;

    use super::*;

    const CA: &[u8] = include_bytes!("../../config/test_data/ca.pem");
    const OTHER_CA: &[u8] = include_bytes!("../../config/test_data/other-ca.pem");
    const SERVER: &[u8] = include_bytes!("../../config/test_data/server.pem");
    const RSA_CERT: &[u8] = include_bytes!("../../config/test_data/client-rsa.pem");
    const RSA_KEY: &[u8] = include_bytes!("../../config/test_data/client-rsa-key.pem");
    const EC_CERT: &[u8] = include_bytes!("../../config/test_data/client-ec.pem");
    const EC_KEY: &[u8] = include_bytes!("../../config/test_data/client-ec-key.pem");
    const EC_KEY_PKCS8: &[u8] = include_bytes!("../../config/test_data/client-ec-key-pkcs8.pem");

    fn provider() -> Arc<CryptoProvider> {
        crypto_provider().expect("ring is enabled in tests")
    }

    fn der(pem: &[u8]) -> Vec<u8> {
        CertificateDer::from_pem_slice(pem)
            .expect("a certificate")
            .as_ref()
            .to_vec()
    }

    fn verify(config: &Config, host: &str) -> Result<ServerCertVerified, rustls::Error> {
        let verifier = server_verifier(config, &provider()).expect("verifier");
        let name = ServerName::try_from(host.to_string()).expect("name");
        verifier.verify_server_cert(
            &CertificateDer::from(der(SERVER)),
            &[],
            &name,
            &[],
            UnixTime::now(),
        )
    }

    fn config_trusting(ca: &[u8]) -> Config {
        let mut config = Config::new(http::Uri::from_static("https://127.0.0.1:6443"));
        config.root_cert = Some(vec![der(ca)]);
        config
    }

    #[test]
    fn the_configured_authority_is_trusted_and_names_are_checked() {
        let config = config_trusting(CA);
        assert!(verify(&config, "127.0.0.1").is_ok());
        assert!(verify(&config, "kubernetes.test").is_ok());
        let err = verify(&config, "10.0.0.1").expect_err("not in the certificate");
        assert!(
            matches!(err, rustls::Error::InvalidCertificate(_)),
            "{err:?}"
        );
    }

    #[test]
    fn an_unrelated_authority_is_refused() {
        let err = verify(&config_trusting(OTHER_CA), "127.0.0.1").expect_err("wrong CA");
        assert!(
            matches!(err, rustls::Error::InvalidCertificate(_)),
            "{err:?}"
        );
        // The system store does not know the test CA either.
        let config = Config::new(http::Uri::from_static("https://127.0.0.1:6443"));
        assert!(verify(&config, "127.0.0.1").is_err());
    }

    /// With `webpki-roots`, a cluster without a certificate authority trusts
    /// Mozilla's roots: a public chain verifies, a private one does not.
    #[cfg(feature = "webpki-roots")]
    #[test]
    fn webpki_roots_trust_public_chains_when_no_authority_is_configured() {
        const LEAF: &[u8] = include_bytes!("../../config/test_data/public-leaf-aws.der");
        const INTERMEDIATE: &[u8] =
            include_bytes!("../../config/test_data/public-intermediate-aws.der");
        // A moment when the public chain was valid.
        let when = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_786_530_173));
        let config = Config::new(http::Uri::from_static("https://aws.amazon.com"));
        let verifier = server_verifier(&config, &provider()).expect("verifier");
        let public = ServerName::try_from("aws.amazon.com").expect("name");
        verifier
            .verify_server_cert(
                &CertificateDer::from(LEAF),
                &[CertificateDer::from(INTERMEDIATE)],
                &public,
                &[],
                when,
            )
            .expect("a public chain verifies against the webpki roots");
        let private = ServerName::try_from("127.0.0.1").expect("name");
        let err = verifier
            .verify_server_cert(
                &CertificateDer::from(der(SERVER)),
                &[],
                &private,
                &[],
                UnixTime::now(),
            )
            .expect_err("the test CA is no public root");
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
            ),
            "{err:?}"
        );
    }

    /// The provider follows the features: aws-lc-rs when it is on, else ring.
    #[test]
    fn the_crypto_provider_follows_the_features() {
        let key_provider = format!("{:?}", provider().key_provider);
        let expected = if cfg!(feature = "aws-lc-rs") {
            "AwsLcRs"
        } else {
            "Ring"
        };
        assert_eq!(key_provider, expected);
    }

    #[test]
    fn several_authorities_can_be_trusted_at_once() {
        let mut config = config_trusting(OTHER_CA);
        config.root_cert = Some(vec![der(OTHER_CA), der(CA)]);
        assert!(verify(&config, "127.0.0.1").is_ok());
    }

    #[test]
    fn tls_server_name_replaces_the_connection_host() {
        let mut config = config_trusting(CA);
        config.tls_server_name = Some("kubernetes.test".into());
        // Connected to an address the certificate does not list.
        assert!(verify(&config, "10.0.0.1").is_ok());
        config.tls_server_name = Some("other.test".into());
        assert!(verify(&config, "127.0.0.1").is_err());
        config.tls_server_name = Some("not a name".into());
        let err = server_verifier(&config, &provider()).expect_err("invalid name");
        assert!(err.to_string().contains("\"not a name\""), "{err}");
    }

    #[test]
    fn insecure_skip_tls_verify_accepts_anything() {
        let mut config = Config::new(http::Uri::from_static("https://127.0.0.1:6443"));
        config.accept_invalid_certs = true;
        assert!(verify(&config, "10.0.0.1").is_ok());
    }

    #[test]
    fn skipping_verification_with_root_certificates_is_refused_naming_both() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, CA).expect("write");
        let mut with_certs = config_trusting(CA);
        with_certs.accept_invalid_certs = true;
        let mut with_file = Config::new(http::Uri::from_static("https://127.0.0.1:6443"));
        with_file.root_cert_file = Some(file);
        with_file.accept_invalid_certs = true;
        for config in [with_certs, with_file] {
            let err = server_verifier(&config, &provider()).expect_err("contradictory");
            assert!(
                matches!(err, Error::InsecureWithRootCertificates),
                "{err:?}"
            );
            let text = err.to_string();
            assert!(text.contains("accept_invalid_certs"), "{text}");
            assert!(text.contains("insecure-skip-tls-verify"), "{text}");
            assert!(text.contains("root_cert"), "{text}");
            assert!(text.contains("certificate-authority"), "{text}");
        }
    }

    #[test]
    fn invalid_root_certificates_are_reported_by_position() {
        let mut config = config_trusting(CA);
        config.root_cert = Some(vec![der(CA), b"garbage".to_vec()]);
        let err = server_verifier(&config, &provider()).expect_err("garbage");
        assert!(err.to_string().contains("root certificate 1"), "{err}");
    }

    #[test]
    fn rsa_ec_and_pkcs8_keys_are_loaded() {
        let provider = provider();
        for (cert, key, name) in [
            (RSA_CERT, RSA_KEY, "rsa"),
            (EC_CERT, EC_KEY, "ec"),
            (EC_CERT, EC_KEY_PKCS8, "pkcs8"),
        ] {
            let certified = certified_key(cert, "cert", key, "key", &provider).expect(name);
            assert_eq!(certified.cert.len(), 1, "{name}");
        }
    }

    #[test]
    fn mismatched_and_malformed_keys_are_refused_without_echoing_them() {
        let provider = provider();
        let err = certified_key(RSA_CERT, "cert", EC_KEY, "client-key /k.pem", &provider)
            .expect_err("wrong key");
        assert!(err.to_string().contains("client-key /k.pem"), "{err}");

        let err = certified_key(
            RSA_CERT,
            "cert",
            b"secret-but-not-a-key",
            "client-key-data",
            &provider,
        )
        .expect_err("no key");
        let text = err.to_string();
        assert!(text.contains("client-key-data"), "{text}");
        assert!(!text.contains("secret-but-not-a-key"), "{text}");

        let err = certified_key(
            b"nothing",
            "client-certificate-data",
            EC_KEY,
            "k",
            &provider,
        )
        .expect_err("no cert");
        assert!(err.to_string().contains("client-certificate-data"), "{err}");
    }

    #[test]
    fn the_kubeconfig_identity_is_loaded_from_files_or_data() {
        use base64::Engine;
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("c.pem"), EC_CERT).expect("cert");
        let mut config = config_trusting(CA);
        config.auth_info.client_certificate = Some(dir.path().join("c.pem").display().to_string());
        config.auth_info.client_key_data = Some(
            base64::engine::general_purpose::STANDARD
                .encode(EC_KEY)
                .into(),
        );
        let identity = ClientIdentity::from_config(&config).expect("identity");
        assert!(identity.has_certs());
        assert_eq!(identity.generation(), 1);

        config.auth_info.client_key_data = None;
        let err = ClientIdentity::from_config(&config).expect_err("no key");
        assert!(matches!(err, Error::MissingPrivateKey { .. }), "{err:?}");

        config.auth_info.client_key = Some("/nonexistent/key.pem".into());
        let err = ClientIdentity::from_config(&config).expect_err("unreadable key");
        assert!(err.to_string().contains("/nonexistent/key.pem"), "{err}");
    }

    #[test]
    fn replacing_the_identity_bumps_the_generation_only_on_change() {
        let config = config_trusting(CA);
        let identity = ClientIdentity::from_config(&config).expect("empty identity");
        assert!(!identity.has_certs());
        assert!(
            identity
                .replace_pem(EC_CERT, EC_KEY, "plugin")
                .expect("first")
        );
        assert!(
            !identity
                .replace_pem(EC_CERT, EC_KEY_PKCS8, "plugin")
                .expect("same cert")
        );
        assert!(
            identity
                .replace_pem(RSA_CERT, RSA_KEY, "plugin")
                .expect("new cert")
        );
        assert_eq!(identity.generation(), 2);
        assert!(identity.has_certs());
    }

    #[test]
    fn the_client_config_offers_http2() {
        let config = config_trusting(CA);
        let identity = ClientIdentity::from_config(&config).expect("identity");
        let tls = rustls_client_config(&config, identity).expect("tls");
        assert_eq!(tls.alpn_protocols[0], b"h2");
    }
}
