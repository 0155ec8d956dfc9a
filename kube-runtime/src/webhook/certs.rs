//! The serving certificate: read from PEM files, and read again when they
//! change on disk.
//!
//! Certificates in Kubernetes rotate: cert-manager renews them, and a Secret
//! mounted as a volume changes its files in place (through a symlink swap).
//! [`CertWatcher`] hands rustls the current certificate at each handshake and
//! looks at the files' modification times and sizes every poll interval;
//! when they changed it reads both files again. A pair that does not load
//! (half-written, or a key that does not belong to the certificate) leaves
//! the previous one in service and is tried again at the next poll.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError, RwLock},
    time::{Duration, SystemTime},
};

use rustls::{
    crypto::CryptoProvider,
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

use super::Error;

/// How often the files are looked at by default, as controller-runtime's
/// certificate watcher does.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// A serving certificate and key read from PEM files, read again when the
/// files change. Give it to [`Server::new`](super::Server::new).
///
/// ```no_run
/// use std::time::Duration;
/// use kube_runtime::webhook::CertWatcher;
///
/// # fn run() -> Result<(), kube_runtime::webhook::Error> {
/// let certs = CertWatcher::new("/tls/tls.crt", "/tls/tls.key")?
///     .poll_interval(Duration::from_secs(30));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct CertWatcher {
    shared: Arc<Shared>,
    poll_interval: Duration,
}

struct Shared {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    stamps: Mutex<Stamps>,
}

/// What the files looked like when last loaded, and when a load last failed
/// (so that a broken pair is reported once, not at every poll).
#[derive(Default)]
struct Stamps {
    loaded: Option<FileStamps>,
    failed: Option<FileStamps>,
}

/// The modification time and size of the certificate and key files.
type FileStamps = [(Option<SystemTime>, u64); 2];

impl CertWatcher {
    /// Reads the certificate chain at `cert_path` and the private key at
    /// `key_path` (PEM), failing now if they do not load: a webhook that
    /// cannot serve TLS should not start.
    pub fn new(cert_path: impl AsRef<Path>, key_path: impl AsRef<Path>) -> Result<Self, Error> {
        let cert_path = cert_path.as_ref().to_path_buf();
        let key_path = key_path.as_ref().to_path_buf();
        let provider = crypto_provider()?;
        let stamps = file_stamps(&cert_path, &key_path);
        let current = load(&cert_path, &key_path, &provider)?;
        Ok(Self {
            shared: Arc::new(Shared {
                cert_path,
                key_path,
                provider,
                current: RwLock::new(current),
                stamps: Mutex::new(Stamps {
                    loaded: Some(stamps),
                    failed: None,
                }),
            }),
            poll_interval: DEFAULT_POLL_INTERVAL,
        })
    }

    /// Looks at the files every `interval` instead of every 10 seconds.
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    pub(crate) fn interval(&self) -> Duration {
        self.poll_interval
    }

    pub(crate) fn provider(&self) -> Arc<CryptoProvider> {
        Arc::clone(&self.shared.provider)
    }

    /// What rustls asks for the certificate at each handshake.
    pub(crate) fn resolver(&self) -> Arc<dyn ResolvesServerCert> {
        Arc::new(Resolver(Arc::clone(&self.shared)))
    }

    /// Reads the files again if they changed since they were last loaded;
    /// says whether a new certificate is in service.
    pub(crate) fn reload_if_changed(&self) -> bool {
        let shared = &self.shared;
        let stamps = file_stamps(&shared.cert_path, &shared.key_path);
        let mut seen = shared.stamps.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.loaded == Some(stamps) {
            return false;
        }
        match load(&shared.cert_path, &shared.key_path, &shared.provider) {
            Ok(fresh) => {
                *shared
                    .current
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = fresh;
                *seen = Stamps {
                    loaded: Some(stamps),
                    failed: None,
                };
                tracing::info!(
                    cert = %shared.cert_path.display(),
                    "the webhook serves a new certificate"
                );
                true
            }
            Err(error) => {
                if seen.failed != Some(stamps) {
                    tracing::warn!(%error, "the changed webhook certificate does not load; the previous one stays in service");
                    seen.failed = Some(stamps);
                }
                false
            }
        }
    }
}

impl fmt::Debug for CertWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertWatcher")
            .field("cert_path", &self.shared.cert_path)
            .field("key_path", &self.shared.key_path)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

/// Hands out the certificate in service.
struct Resolver(Arc<Shared>);

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("cert_path", &self.0.cert_path)
            .finish_non_exhaustive()
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self
                .0
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        ))
    }
}

fn file_stamps(cert_path: &Path, key_path: &Path) -> FileStamps {
    [cert_path, key_path].map(|path| match std::fs::metadata(path) {
        Ok(meta) => (meta.modified().ok(), meta.len()),
        Err(_) => (None, 0),
    })
}

/// Reads and checks a certificate chain and its key.
fn load(
    cert_path: &Path,
    key_path: &Path,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, Error> {
    let cert_pem = std::fs::read(cert_path).map_err(|source| Error::ReadFile {
        path: cert_path.to_path_buf(),
        source,
    })?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| Error::Certificate {
            path: cert_path.to_path_buf(),
            problem: error.to_string(),
        })?;
    if chain.is_empty() {
        return Err(Error::Certificate {
            path: cert_path.to_path_buf(),
            problem: "it holds no PEM certificate".into(),
        });
    }
    let key_pem = std::fs::read(key_path).map_err(|source| Error::ReadFile {
        path: key_path.to_path_buf(),
        source,
    })?;
    // The parser's own messages may quote lines of the file: they stay out of
    // the error, which would otherwise carry key material into logs.
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|error| Error::PrivateKey {
        path: key_path.to_path_buf(),
        problem: match error {
            rustls_pki_types::pem::Error::NoItemsFound => "it holds no PEM private key",
            _ => "it holds a malformed PEM section",
        },
    })?;
    let certified =
        CertifiedKey::from_der(chain, key, provider).map_err(|source| Error::KeyPair {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            source,
        })?;
    Ok(Arc::new(certified))
}

/// The crypto provider: aws-lc-rs when enabled (only ever on purpose, as ring
/// is the default), else ring when enabled, else the process-wide default.
fn crypto_provider() -> Result<Arc<CryptoProvider>, Error> {
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

#[cfg(test)]
mod tests;
