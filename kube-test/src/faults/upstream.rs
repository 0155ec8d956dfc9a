//! The proxy's side of the apiserver: HTTPS as the control plane's admin.

use std::{path::Path, sync::Arc};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

use crate::Error;

/// Files of the state directory the proxy authenticates with.
const SERVING_CA: &str = "ca.crt";
const ADMIN_CERT: &str = "admin.crt";
const ADMIN_KEY: &str = "admin.key";

/// An HTTP client for the apiserver that trusts its serving CA and presents
/// the admin client certificate. It never proxies, follows redirects or
/// decompresses: bodies pass through as the apiserver sent them.
pub(crate) fn admin_client(state_dir: &Path) -> Result<reqwest::Client, Error> {
    let tls = admin_tls(state_dir)?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .no_zstd()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::FaultProxy {
            what: "building the HTTPS client for the apiserver".into(),
            reason: e.to_string(),
        })
}

fn admin_tls(state_dir: &Path) -> Result<rustls::ClientConfig, Error> {
    let ca_path = state_dir.join(SERVING_CA);
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates(&ca_path)? {
        roots.add(cert).map_err(|e| unusable(&ca_path, e))?;
    }
    let cert_path = state_dir.join(ADMIN_CERT);
    let chain = certificates(&cert_path)?;
    let key_path = state_dir.join(ADMIN_KEY);
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| unusable(&key_path, e))?;
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_root_certificates(roots)
                .with_client_auth_cert(chain, key)
        })
        .map_err(|e| Error::FaultProxy {
            what: format!(
                "setting up TLS with {} and {}",
                cert_path.display(),
                key_path.display()
            ),
            reason: e.to_string(),
        })
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| unusable(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unusable(path, e))?;
    if certs.is_empty() {
        return Err(unusable(path, "no certificate in the file"));
    }
    Ok(certs)
}

fn unusable(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::FaultProxy {
        what: format!("loading {}", path.display()),
        reason: reason.to_string(),
    }
}
