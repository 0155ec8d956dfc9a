//! Certificates and a TLS client for the webhook server's tests.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::{ClientConfig, RootCertStore, pki_types::ServerName};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_rustls::TlsConnector;

/// A certificate authority that issues serving certificates for 127.0.0.1.
pub(crate) struct Authority {
    certificate: rcgen::Certificate,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    pub(crate) fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let certificate = params.self_signed(&key).expect("a CA certificate");
        Self {
            certificate,
            issuer: Issuer::new(params, key),
        }
    }

    /// Writes a certificate for 127.0.0.1 and its key as `name.crt` and
    /// `name.key` in `dir`, modified at `modified` (so that a rewrite within
    /// one tick of the file system's clock still looks changed).
    pub(crate) fn issue(&self, dir: &Path, name: &str, modified: SystemTime) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().expect("a server key");
        let params = CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("parameters");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("a server certificate");
        let cert_path = dir.join(format!("{name}.crt"));
        let key_path = dir.join(format!("{name}.key"));
        write(&cert_path, cert.pem().as_bytes(), modified);
        write(&key_path, key.serialize_pem().as_bytes(), modified);
        (cert_path, key_path)
    }

    fn client(&self) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.certificate.der().clone())
            .expect("the CA is a valid root");
        let config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }

    /// Whether a client trusting only this authority completes a handshake
    /// with the server on `port`.
    pub(crate) async fn trusted_by(&self, port: u16) -> bool {
        self.connect(port).await.is_ok()
    }

    async fn connect(
        &self,
        port: u16,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        let name = ServerName::try_from("127.0.0.1").expect("an IP address");
        self.client().connect(name, tcp).await
    }

    /// Sends one HTTP/1.1 request to the server on `port`; returns the status
    /// and the body of the answer.
    pub(crate) async fn request(
        &self,
        port: u16,
        head: &str,
        body: &[u8],
    ) -> (u16, serde_json::Value) {
        let mut tls = self.connect(port).await.expect("a TLS connection");
        let request = format!(
            "{head}\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        tls.write_all(request.as_bytes()).await.expect("sent");
        tls.write_all(body).await.expect("sent");
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), tls.read_to_end(&mut answer))
            .await
            .expect("an answer in time")
            .expect("an answer");
        let answer = String::from_utf8(answer).expect("UTF-8");
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("a status code");
        (status, serde_json::from_str(body).expect("a JSON body"))
    }
}

fn write(path: &Path, content: &[u8], modified: SystemTime) {
    std::fs::write(path, content).expect("written");
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(modified))
        .expect("modification time set");
}
