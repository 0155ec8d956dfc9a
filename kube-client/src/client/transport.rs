//! The bottom of the default stack: HTTP over reqwest and rustls.
//!
//! [`Transport`] owns the connection pool. It speaks HTTP/2 to the apiserver
//! (and HTTP/1.1 where a server offers nothing else), keeps connections alive
//! with TCP keepalives and HTTP/2 pings, goes through the configured or
//! environment's proxy, and opens WebSocket upgrades on a connection of their
//! own over HTTP/1.1. Its failures are [`TransportError`]s saying whether the
//! request could have reached the server, which the retry layer relies on.
//!
//! A TLS connection keeps the client certificate it was opened with. When an
//! exec plugin hands out a new certificate, a new pool is started so that the
//! next requests present it; requests in flight finish on the old one.

use std::{
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Duration,
};

use futures::{TryStreamExt, future::BoxFuture};
use http::{HeaderValue, Request, Response, header};
use http_body_util::BodyExt;
use tower::Service;

use super::Body;
#[cfg(feature = "rustls-tls")]
use super::tls;
#[cfg(feature = "rustls-tls")]
use sni::ServerNameRoute;

#[cfg(feature = "rustls-tls")]
mod sni;
use crate::{
    Config, Error, Result,
    error::{BoxError, TransportError},
};

/// The `User-Agent` of every request.
const USER_AGENT: &str = concat!("kube/", env!("CARGO_PKG_VERSION"));

/// Sends requests with reqwest.
#[derive(Clone)]
pub(crate) struct Transport {
    connections: Arc<Connections>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("server", &self.connections.settings.server)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport for `config`'s cluster, presenting `identity`'s current
    /// client certificate.
    pub(crate) fn new(
        config: &Config,
        #[cfg(feature = "rustls-tls")] identity: Arc<tls::ClientIdentity>,
    ) -> Result<Self> {
        Ok(Self {
            connections: Arc::new(Connections::new(
                config,
                #[cfg(feature = "rustls-tls")]
                identity,
            )?),
        })
    }
}

impl Service<Request<Body>> for Transport {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // reqwest queues requests itself.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let connections = self.connections.clone();
        Box::pin(async move {
            let server = &connections.settings.server;
            let method = request.method().clone();
            let path = request.uri().path().to_string();
            let upgrade = request.headers().contains_key(header::UPGRADE);
            let client = if upgrade {
                connections.settings.upgrade_client()
            } else {
                connections.current()
            }
            .map_err(BoxError::from)?;
            #[cfg(feature = "rustls-tls")]
            let request = {
                let mut request = request;
                if let Some(route) = &connections.settings.route {
                    route.route(request.uri_mut());
                }
                request
            };
            let request = to_reqwest(request, server)?;
            let response = client
                .execute(request)
                .await
                .map_err(|e| classify(e, server, &method, &path))?;
            let response = http::Response::from(response);
            let server = server.clone();
            Ok(response.map(move |body| {
                // Failures while the body streams name the request they belong to.
                Body::wrap(body.map_err(move |e| -> BoxError {
                    Box::new(TransportError::Broken {
                        server: server.clone(),
                        method: method.clone(),
                        path: path.clone(),
                        source: Box::new(e.without_url()),
                    })
                }))
            }))
        })
    }
}

/// The reqwest request for `request`, whose URI the base URI layer made
/// absolute.
fn to_reqwest(request: Request<Body>, server: &str) -> Result<reqwest::Request, BoxError> {
    let (mut parts, body) = request.into_parts();
    parts
        .headers
        .entry(header::ACCEPT)
        .or_insert(HeaderValue::from_static("application/json, */*"));
    userinfo_to_basic_auth(&mut parts);
    let body = match body.into_bytes() {
        Ok(bytes) if bytes.is_empty() => reqwest::Body::default(),
        Ok(bytes) => reqwest::Body::from(bytes),
        Err(stream) => reqwest::Body::wrap_stream(
            stream
                .into_data_stream()
                .map_err(|e: Error| -> BoxError { Box::new(e) }),
        ),
    };
    let uri = parts.uri.to_string();
    reqwest::Request::try_from(Request::from_parts(parts, body)).map_err(|e| -> BoxError {
        Box::new(TransportError::InvalidUrl {
            url: uri_without_credentials(&uri, server),
            reason: e.without_url().to_string(),
        })
    })
}

/// Takes the user info (`user:password@`) out of the request's URL, where it
/// would reach the wire in HTTP/2's `:authority` and the logs of the
/// connection pool. As Go's HTTP client does, it becomes HTTP basic auth,
/// unless the request carries an `Authorization` header already.
fn userinfo_to_basic_auth(parts: &mut http::request::Parts) {
    let Some((userinfo, _)) = parts
        .uri
        .authority()
        .and_then(|a| a.as_str().rsplit_once('@'))
    else {
        return;
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let credentials = format!("{}:{}", percent_decode(user), percent_decode(password));
    let basic = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, credentials);
    parts.uri = crate::config::redact::uri_without_userinfo(&parts.uri);
    if let Ok(mut value) = HeaderValue::try_from(format!("Basic {basic}")) {
        value.set_sensitive(true);
        parts.headers.entry(header::AUTHORIZATION).or_insert(value);
    }
}

/// Decodes `%XX` escapes; anything else is kept as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A URL for messages: the request URL when it is on the cluster, else only
/// the cluster's.
fn uri_without_credentials(uri: &str, server: &str) -> String {
    if uri.starts_with(server) {
        uri.to_string()
    } else {
        server.to_string()
    }
}

/// What a reqwest error says about the request: that it never connected (TLS
/// or not), or that it broke after it may have been sent.
fn classify(error: reqwest::Error, server: &str, method: &http::Method, path: &str) -> BoxError {
    let server = server.to_string();
    if error.is_connect() {
        let source: BoxError = Box::new(error.without_url());
        if is_tls_failure(source.as_ref()) {
            return Box::new(TransportError::Tls { server, source });
        }
        return Box::new(TransportError::Connect { server, source });
    }
    Box::new(TransportError::Broken {
        server,
        method: method.clone(),
        path: path.to_string(),
        source: Box::new(error.without_url()),
    })
}

/// Whether a connection failed in the TLS handshake (rather than TCP or DNS).
fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        #[cfg(feature = "rustls-tls")]
        if error.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && is_tls_failure(inner)
        {
            return true;
        }
        current = error.source();
    }
    false
}

/// The HTTP client and its connection pool.
struct Connections {
    current: Mutex<(u64, reqwest::Client)>,
    settings: HttpSettings,
}

/// What an HTTP client is built from.
struct HttpSettings {
    server: String,
    connect_timeout: Option<Duration>,
    proxy: Option<http::Uri>,
    no_proxy: bool,
    #[cfg(feature = "rustls-tls")]
    tls: rustls::ClientConfig,
    #[cfg(feature = "rustls-tls")]
    identity: Arc<tls::ClientIdentity>,
    /// Sends `tls-server-name` as SNI.
    #[cfg(feature = "rustls-tls")]
    route: Option<Arc<ServerNameRoute>>,
}

impl Connections {
    fn new(
        config: &Config,
        #[cfg(feature = "rustls-tls")] identity: Arc<tls::ClientIdentity>,
    ) -> Result<Self> {
        #[cfg(not(feature = "rustls-tls"))]
        if config.cluster_url.scheme_str() == Some("https") {
            return Err(Error::TlsRequired);
        }
        // Like Go's ProxyFromEnvironment, loopback servers are never proxied.
        let no_proxy = is_loopback(&config.cluster_url);
        let settings = HttpSettings {
            server: super::server_name(&config.cluster_url),
            connect_timeout: config.connect_timeout,
            proxy: config.proxy_url.clone(),
            no_proxy,
            #[cfg(feature = "rustls-tls")]
            tls: tls::rustls_client_config(config, identity.clone()).map_err(Error::RustlsTls)?,
            #[cfg(feature = "rustls-tls")]
            identity,
            #[cfg(feature = "rustls-tls")]
            route: ServerNameRoute::for_config(config, !no_proxy),
        };
        let client = settings.build()?;
        Ok(Self {
            current: Mutex::new((settings.generation(), client)),
            settings,
        })
    }

    /// The client to send the next request with.
    fn current(&self) -> Result<reqwest::Client> {
        let mut current = match self.current.lock() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        };
        let generation = self.settings.generation();
        if current.0 != generation {
            tracing::debug!("the client certificate changed; opening new connections");
            *current = (generation, self.settings.build()?);
        }
        Ok(current.1.clone())
    }
}

impl HttpSettings {
    /// Which client certificate connections would present.
    fn generation(&self) -> u64 {
        #[cfg(feature = "rustls-tls")]
        {
            self.identity.generation()
        }
        #[cfg(not(feature = "rustls-tls"))]
        {
            0
        }
    }

    fn build(&self) -> Result<reqwest::Client> {
        self.builder()?.build().map_err(|e| self.unusable(e))
    }

    /// An HTTP/1.1-only client with the same settings as the pool, for
    /// upgrades. Built per upgrade: upgrades are rare and take their
    /// connection out of any pool.
    fn upgrade_client(&self) -> Result<reqwest::Client> {
        let builder = self.builder()?.http1_only();
        #[cfg(feature = "rustls-tls")]
        let builder = {
            let mut tls = self.tls.clone();
            tls.alpn_protocols = vec![b"http/1.1".to_vec()];
            builder.tls_backend_preconfigured(tls)
        };
        builder.build().map_err(|e| self.unusable(e))
    }

    /// The error of a client that could not be built.
    fn unusable(&self, error: reqwest::Error) -> Error {
        Error::Service(Box::new(TransportError::Connect {
            server: self.server.clone(),
            source: Box::new(error),
        }))
    }

    /// A client builder with every setting but the HTTP version.
    fn builder(&self) -> Result<reqwest::ClientBuilder> {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            // A peer that vanished (no FIN, no RST) is noticed within about a
            // minute: 30 s idle, then three probes 10 s apart. HTTP/2 pings
            // (the apiserver speaks HTTP/2) notice it within 45 s.
            .tcp_keepalive(Duration::from_secs(30))
            .tcp_keepalive_interval(Duration::from_secs(10))
            .tcp_keepalive_retries(3)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .http2_keep_alive_timeout(Duration::from_secs(15))
            .http2_keep_alive_while_idle(true);
        if let Some(timeout) = self.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        #[cfg(feature = "rustls-tls")]
        {
            builder = builder.tls_backend_preconfigured(self.tls.clone());
            if let Some(route) = &self.route {
                builder = builder.dns_resolver(route.clone());
            }
        }
        builder = match &self.proxy {
            // An explicit proxy-url replaces the environment, as in kubectl.
            Some(proxy) => {
                let supported = matches!(
                    proxy.scheme_str(),
                    Some("http" | "https" | "socks5" | "socks5h")
                );
                let usable = reqwest::Proxy::all(proxy.to_string())
                    .ok()
                    .filter(|_| supported);
                let Some(usable) = usable else {
                    return Err(Error::ProxyProtocolUnsupported {
                        proxy_url: Box::new(crate::config::redact::uri_without_userinfo(proxy)),
                    });
                };
                builder.proxy(usable)
            }
            None if self.no_proxy => builder.no_proxy(),
            // Otherwise HTTPS_PROXY, HTTP_PROXY and NO_PROXY apply.
            None => builder,
        };
        Ok(builder)
    }
}

/// Whether the cluster URL names this machine.
fn is_loopback(uri: &http::Uri) -> bool {
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for (url, expected) in [
            ("https://127.0.0.1:6443", true),
            ("https://127.5.0.9", true),
            ("https://localhost:6443", true),
            ("https://[::1]:6443", true),
            ("https://10.0.0.1:6443", false),
            ("https://kubernetes.default.svc", false),
        ] {
            let uri: http::Uri = url.parse().expect("uri");
            assert_eq!(is_loopback(&uri), expected, "{url}");
        }
    }

    #[test]
    fn user_info_in_the_url_becomes_basic_auth_and_leaves_the_url() {
        let request = Request::get("https://admin:p%40ss:word@10.0.0.1:6443/api?limit=1")
            .body(Body::empty())
            .expect("request");
        let sent = to_reqwest(request, "https://10.0.0.1:6443").expect("valid");
        assert_eq!(sent.url().as_str(), "https://10.0.0.1:6443/api?limit=1");
        let authorization = sent
            .headers()
            .get(header::AUTHORIZATION)
            .expect("basic auth");
        // base64("admin:p@ss:word")
        assert_eq!(authorization, "Basic YWRtaW46cEBzczp3b3Jk");
        assert!(authorization.is_sensitive());

        // Credentials of the configured user win over the URL's.
        let request = Request::get("https://u:p@10.0.0.1/api")
            .header(header::AUTHORIZATION, "Bearer token")
            .body(Body::empty())
            .expect("request");
        let sent = to_reqwest(request, "https://10.0.0.1").expect("valid");
        assert_eq!(sent.url().as_str(), "https://10.0.0.1/api");
        assert_eq!(sent.headers()[header::AUTHORIZATION], "Bearer token");
        assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
    }

    /// What a TLS server on loopback saw of one connection.
    #[cfg(feature = "rustls-tls")]
    #[derive(Debug, Default, Clone)]
    struct Seen {
        sni: Option<String>,
        host: Option<String>,
    }

    /// A TLS server on loopback with the test certificate for
    /// `kubernetes.test` and `127.0.0.1`, answering every request with a
    /// version; returns its port and what it saw.
    #[cfg(feature = "rustls-tls")]
    async fn recording_tls_server() -> (u16, Arc<Mutex<Vec<Seen>>>) {
        use rustls::{
            ServerConfig,
            pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
            server::{ClientHello, ResolvesServerCert},
        };
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

        #[derive(Debug)]
        struct Recording {
            key: Arc<rustls::sign::CertifiedKey>,
            seen: Arc<Mutex<Vec<Seen>>>,
        }
        impl ResolvesServerCert for Recording {
            fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<rustls::sign::CertifiedKey>> {
                let sni = hello.server_name().map(str::to_string);
                self.seen.lock().ok()?.push(Seen { sni, host: None });
                Some(self.key.clone())
            }
        }

        let provider = tls::crypto_provider().expect("a provider");
        let chain =
            CertificateDer::pem_slice_iter(include_bytes!("../config/test_data/server.pem"))
                .collect::<Result<Vec<_>, _>>()
                .expect("certificate");
        let key =
            PrivateKeyDer::from_pem_slice(include_bytes!("../config/test_data/server-key.pem"))
                .expect("key");
        let key = rustls::sign::CertifiedKey::from_der(chain, key, &provider).expect("pair");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut server = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Recording {
                key: Arc::new(key),
                seen: seen.clone(),
            }));
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    continue;
                };
                let mut tls = tokio::io::BufReader::new(tls);
                let mut host = None;
                let mut line = String::new();
                while tls.read_line(&mut line).await.unwrap_or(0) > 2 {
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("host")
                    {
                        host = Some(value.trim().to_string());
                    }
                    line.clear();
                }
                if let Some(last) = log.lock().expect("lock").last_mut() {
                    last.host = host;
                }
                let body = r#"{"major":"1","minor":"36","gitVersion":"v1.36.0","gitCommit":"","gitTreeState":"","buildDate":"","goVersion":"","compiler":"","platform":""}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.get_mut().write_all(answer.as_bytes()).await;
                let _ = tls.get_mut().shutdown().await;
            }
        });
        (port, seen)
    }

    #[cfg(feature = "rustls-tls")]
    #[tokio::test]
    async fn tls_server_name_is_sent_as_sni() {
        let (port, seen) = recording_tls_server().await;
        let mut config = crate::client::test_config(&format!("https://127.0.0.1:{port}"));
        config.root_cert = Some(
            crate::config::data::pem_certificates(
                include_bytes!("../config/test_data/ca.pem"),
                "ca.pem",
            )
            .expect("CA"),
        );
        let plain = crate::Client::try_from(config.clone()).expect("client");
        plain.apiserver_version().await.expect("verified by IP");
        config.tls_server_name = Some("kubernetes.test".into());
        let named = crate::Client::try_from(config).expect("client");
        named
            .apiserver_version()
            .await
            .expect("verified as kubernetes.test");
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].sni, None, "no SNI for an IP address");
        assert_eq!(seen[1].sni.as_deref(), Some("kubernetes.test"));
        assert_eq!(
            seen[1].host,
            Some(format!("kubernetes.test:{port}")),
            "the request names the server it asked for by SNI"
        );
    }

    #[test]
    fn unsupported_proxies_are_refused_by_name() {
        let mut config = crate::client::test_config("https://10.0.0.1:6443");
        config.proxy_url = Some(
            "ftp://user:secret@proxy.example.com:21"
                .parse()
                .expect("uri"),
        );
        let err = match crate::Client::try_from(config) {
            Err(err) => err,
            Ok(_) => panic!("an ftp proxy is not usable"),
        };
        assert!(
            matches!(err, Error::ProxyProtocolUnsupported { .. }),
            "{err:?}"
        );
        let text = format!("{err} {err:?}");
        assert!(text.contains("ftp://proxy.example.com:21"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }
}
