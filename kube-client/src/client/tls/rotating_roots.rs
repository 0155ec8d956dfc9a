//! Trusting the certificate authority in a file that may be replaced while the
//! client runs.
//!
//! Clusters rotate their certificate authority: inside a pod, the kubelet
//! rewrites `/var/run/secrets/kubernetes.io/serviceaccount/ca.crt`, and a
//! kubeconfig's `certificate-authority` file can be replaced the same way. A
//! client that read the file once would refuse the apiserver's new certificate
//! until it is restarted. [`RotatingRoots`] re-reads the file when it may have
//! changed: at most once per [`RECHECK_INTERVAL`] in the normal course, and at
//! once (but at most once per [`RETRY_INTERVAL`]) when a certificate fails to
//! verify, which is the moment a rotation shows.
//!
//! A file that has become unreadable or holds no usable certificate is reported
//! in the log and the last good set stays in use: a half-written file must not
//! cut the client off.
//!
//! The file is read by one handshake at a time, and without holding the lock
//! every handshake takes to find the current certificates: a slow read (a
//! network file system) delays only the handshake that does it.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use rustls::{
    DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::CryptoProvider,
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
};

use super::{Error, supported_schemes, verify_tls12, verify_tls13};

/// How often the file is checked for changes while verification succeeds.
pub(crate) const RECHECK_INTERVAL: Duration = Duration::from_secs(60);
/// How often a failing verification may cause the file to be read again.
pub(crate) const RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// A server certificate verifier trusting the certificates of a file, re-read
/// as the file changes.
#[derive(Debug)]
pub(crate) struct RotatingRoots {
    path: PathBuf,
    provider: Arc<CryptoProvider>,
    recheck_interval: Duration,
    retry_interval: Duration,
    loaded: RwLock<Loaded>,
    /// Set while a handshake re-reads the file; the others go on with the
    /// certificates loaded before.
    refreshing: AtomicBool,
}

/// The certificates as last read, and the file content they came from.
#[derive(Debug)]
struct Loaded {
    verifier: Arc<WebPkiServerVerifier>,
    contents: Vec<u8>,
    checked_at: Instant,
}

impl RotatingRoots {
    /// Reads the certificates of `path`; fails when the file cannot be read or
    /// holds no valid certificate.
    pub(crate) fn new(path: &Path, provider: Arc<CryptoProvider>) -> Result<Self, Error> {
        Self::with_intervals(path, provider, RECHECK_INTERVAL, RETRY_INTERVAL)
    }

    fn with_intervals(
        path: &Path,
        provider: Arc<CryptoProvider>,
        recheck_interval: Duration,
        retry_interval: Duration,
    ) -> Result<Self, Error> {
        let contents = read(path)?;
        let verifier = build_verifier(path, &contents, &provider)?;
        Ok(Self {
            path: path.to_path_buf(),
            provider,
            recheck_interval,
            retry_interval,
            loaded: RwLock::new(Loaded {
                verifier,
                contents,
                checked_at: Instant::now(),
            }),
            refreshing: AtomicBool::new(false),
        })
    }

    /// The verifier to use now, after re-reading the file if it is due
    /// (`after_failure` shortens the wait).
    fn verifier(&self, after_failure: bool) -> Arc<WebPkiServerVerifier> {
        let wait = if after_failure {
            self.retry_interval
        } else {
            self.recheck_interval
        };
        let current = {
            let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
            if loaded.checked_at.elapsed() < wait {
                return loaded.verifier.clone();
            }
            loaded.verifier.clone()
        };
        // One handshake reads the file; the others do not wait for it.
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return current;
        }
        let _done = Refreshing(&self.refreshing);
        {
            // Another handshake may have read it just before this one.
            let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
            if loaded.checked_at.elapsed() < wait {
                return loaded.verifier.clone();
            }
        }
        self.refresh()
    }

    /// Reads the file again, outside the lock, and trusts its content if it
    /// changed and is usable; else keeps the old certificates. Returns the
    /// verifier to use.
    fn refresh(&self) -> Arc<WebPkiServerVerifier> {
        let replacement = match read(&self.path) {
            Ok(contents) => {
                // Timestamps can be coarse or preserved by the writer, so
                // compare the contents: a certificate bundle is a few kilobytes.
                let unchanged = {
                    let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
                    loaded.contents == contents
                };
                if unchanged {
                    None
                } else {
                    match build_verifier(&self.path, &contents, &self.provider) {
                        Ok(verifier) => Some((verifier, contents)),
                        Err(error) => {
                            tracing::warn!(%error, "keeping the previously loaded certificate authority");
                            None
                        }
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "keeping the previously loaded certificate authority");
                None
            }
        };
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        loaded.checked_at = Instant::now();
        if let Some((verifier, contents)) = replacement {
            tracing::info!(path = %self.path.display(), "certificate authority file changed: trusting its new content");
            loaded.verifier = verifier;
            loaded.contents = contents;
        }
        loaded.verifier.clone()
    }
}

/// Clears the "a handshake is reading the file" flag when that handshake is
/// done with it, however it ends.
struct Refreshing<'a>(&'a AtomicBool);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    crate::config::data::read_file(path, crate::config::data::MAX_DATA_FILE).map_err(|source| {
        Error::ReadRootCertificateFile {
            path: path.to_path_buf(),
            source,
        }
    })
}

fn build_verifier(
    path: &Path,
    pem: &[u8],
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, Error> {
    let mut roots = RootCertStore::empty();
    for (index, certificate) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let certificate = certificate.map_err(|source| Error::RootCertificateFileInvalid {
            path: path.to_path_buf(),
            reason: format!("certificate {index} is not valid PEM: {source}"),
        })?;
        roots
            .add(certificate)
            .map_err(|source| Error::RootCertificateFileInvalid {
                path: path.to_path_buf(),
                reason: format!("certificate {index} is not a valid certificate: {source}"),
            })?;
    }
    if roots.is_empty() {
        return Err(Error::RootCertificateFileInvalid {
            path: path.to_path_buf(),
            reason: "it holds no PEM certificate".into(),
        });
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| Error::Config(rustls::Error::General(e.to_string())))
}

impl ServerCertVerifier for RotatingRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verify = |verifier: Arc<WebPkiServerVerifier>| {
            verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        };
        match verify(self.verifier(false)) {
            Err(rustls::Error::InvalidCertificate(_)) => verify(self.verifier(true)),
            outcome => outcome,
        }
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

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    const CA: &[u8] = include_bytes!("../../config/test_data/ca.pem");
    const OTHER_CA: &[u8] = include_bytes!("../../config/test_data/other-ca.pem");
    const SERVER: &[u8] = include_bytes!("../../config/test_data/server.pem");

    fn provider() -> Arc<CryptoProvider> {
        super::super::crypto_provider().expect("a provider is enabled in tests")
    }

    fn verify(roots: &RotatingRoots) -> Result<ServerCertVerified, rustls::Error> {
        let server = CertificateDer::from_pem_slice(SERVER).expect("the server certificate");
        let name = ServerName::try_from("127.0.0.1").expect("a name");
        roots.verify_server_cert(&server, &[], &name, &[], UnixTime::now())
    }

    fn write(path: &Path, pem: &[u8]) {
        // Write beside and rename, as the kubelet's atomic writer does.
        let staged = path.with_extension("new");
        fs::write(&staged, pem).expect("write the staged file");
        fs::rename(&staged, path).expect("replace the file");
    }

    #[test]
    fn a_rotated_authority_is_trusted_once_the_file_changes() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("ca.crt");
        write(&path, OTHER_CA);
        let roots = RotatingRoots::with_intervals(&path, provider(), Duration::MAX, Duration::ZERO)
            .expect("the file loads");
        assert!(
            verify(&roots).is_err(),
            "the server is not signed by OTHER_CA"
        );

        write(&path, CA);
        verify(&roots).expect("the failed verification re-reads the rotated file");
    }

    #[test]
    fn the_file_is_rechecked_on_schedule() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("ca.crt");
        write(&path, CA);
        let roots = RotatingRoots::with_intervals(&path, provider(), Duration::ZERO, Duration::MAX)
            .expect("the file loads");
        verify(&roots).expect("trusted");

        write(&path, OTHER_CA);
        assert!(
            verify(&roots).is_err(),
            "the replaced authority no longer vouches for it"
        );
    }

    #[test]
    fn failures_do_not_reread_the_file_more_often_than_allowed() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("ca.crt");
        write(&path, OTHER_CA);
        let roots = RotatingRoots::with_intervals(&path, provider(), Duration::MAX, Duration::MAX)
            .expect("the file loads");
        write(&path, CA);
        assert!(
            verify(&roots).is_err(),
            "not re-read before the retry interval"
        );
    }

    /// Reading the file can be slow (a network file system, a FIFO): other
    /// handshakes go on with the certificates they have meanwhile.
    #[cfg(unix)]
    #[test]
    fn a_slow_read_of_the_file_does_not_hold_up_other_handshakes() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("ca.crt");
        write(&path, CA);
        let roots = Arc::new(
            RotatingRoots::with_intervals(&path, provider(), Duration::ZERO, Duration::MAX)
                .expect("the file loads"),
        );
        // A FIFO in the file's place: opening it waits for a writer.
        let fifo = dir.path().join("ca.fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        fs::rename(&fifo, &path).expect("the FIFO replaces the file");

        // Two handshakes at once, each due to re-read the file: one reads it
        // (and waits for the writer), the other must not wait for that one.
        let (done, finished) = std::sync::mpsc::channel();
        for _ in 0..2 {
            let roots = roots.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let _ = done.send(verify(&roots).is_ok());
            });
        }
        let first = finished
            .recv_timeout(Duration::from_secs(10))
            .expect("a handshake finishes while the other reads the file");
        assert!(first, "verified with the certificates loaded before");
        fs::write(&path, CA).expect("the reader gets the file");
        let second = finished
            .recv_timeout(Duration::from_secs(10))
            .expect("the reading handshake finishes once the file is written");
        assert!(second);
    }

    #[test]
    fn a_broken_or_missing_file_keeps_the_last_good_authority() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("ca.crt");
        write(&path, CA);
        let roots =
            RotatingRoots::with_intervals(&path, provider(), Duration::ZERO, Duration::ZERO)
                .expect("the file loads");

        write(&path, b"-----BEGIN CERTIFICATE-----\nnot base64\n");
        verify(&roots).expect("a half-written file does not replace the good set");
        fs::remove_file(&path).expect("remove");
        verify(&roots).expect("a vanished file does not replace the good set");
    }

    #[test]
    fn an_unusable_file_is_an_error_naming_it_at_the_start() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let missing = dir.path().join("absent.crt");
        let error = RotatingRoots::new(&missing, provider()).expect_err("no file");
        assert!(error.to_string().contains("absent.crt"), "{error}");

        let empty = dir.path().join("empty.crt");
        fs::write(&empty, b"no certificates here").expect("write");
        let error = RotatingRoots::new(&empty, provider()).expect_err("no certificate");
        let message = error.to_string();
        assert!(
            message.contains("empty.crt") && message.contains("no PEM certificate"),
            "{message}"
        );
    }
}
