//! The one error type of this crate, [`Error`], and the discovery errors it wraps.
//!
//! Every variant says what failed and with what: the server's URL for transport
//! failures, the Rust type for decode failures, the group or kind for discovery
//! failures. When the apiserver itself refuses a request, its [`Status`] is kept
//! whole in [`Error::Api`], so callers can branch on the reason:
//!
//! ```no_run
//! # async fn run(pods: kube_client::Api<k8s_openapi::api::core::v1::Pod>) -> kube_client::Result<()> {
//! match pods.get("web").await {
//!     Ok(pod) => println!("found {:?}", pod.metadata.name),
//!     Err(kube_client::Error::Api(status)) if status.is_not_found() => println!("no such pod"),
//!     Err(other) => return Err(other),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! No variant ever carries a credential: request headers are never copied into
//! errors, and response bodies only appear as short snippets of bodies that were
//! not valid Kubernetes responses.

// The helpers below serve the client; a config-only build has no use for them.
#![cfg_attr(not(feature = "client"), allow(dead_code))]

use std::{error::Error as StdError, fmt, time::Duration};

use http::StatusCode;
use kube_core::response::StatusSummary;

#[allow(deprecated)]
pub use kube_core::ErrorResponse;
/// The apiserver's answer when it refuses a request, kept whole in
/// [`Error::Api`].
pub use kube_core::Status;

/// A boxed error from a tower service: the HTTP stack, TLS, or a layer.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything that can go wrong in this crate.
///
/// The variants are kube-rs 5's, so code that matches on them moves over
/// unchanged. What this client knows beyond them (the server, method and path
/// of a failed request, which time limit ran out) is carried by the error a
/// variant wraps and shows in its message: a request that failed below HTTP
/// (connecting, TLS, a broken connection, a timeout) is [`Error::Service`]
/// wrapping a [`TransportError`], which [`Error::transport`] finds.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The apiserver refused the request; its `Status` says why (`reason`, `code`,
    /// `message`, and the `details` such as invalid fields).
    ///
    /// Responses that were not a `Status` (say, an HTML page from a proxy in front
    /// of the apiserver) are reported here too, with a `Status` made from the HTTP
    /// code and the start of the body.
    #[error("the apiserver refused the request: {0}")]
    Api(Box<Status>),

    /// The HTTP stack of a custom service (hyper) failed.
    #[cfg(feature = "client")]
    #[error("the HTTP connection failed: {0}")]
    HyperError(#[source] hyper::Error),

    /// The service under the client failed: for the default stack a
    /// [`TransportError`] (connect, TLS, a broken connection, a time limit),
    /// otherwise whatever a custom layer or service reported.
    #[cfg(feature = "client")]
    #[error("{}", service_message(.0))]
    Service(#[source] BoxError),

    /// The configured proxy URL has a scheme no proxy is spoken with.
    #[error(
        "the proxy {} uses a protocol that is not supported; use http://, https://, socks5:// or socks5h://",
        redact_uri(proxy_url)
    )]
    ProxyProtocolUnsupported {
        /// The proxy's URL, without user info.
        proxy_url: Box<http::Uri>,
    },

    /// The configured proxy needs a feature of this crate that is off.
    #[error(
        "the proxy {} needs the {protocol_feature} feature of kube-client",
        redact_uri(proxy_url)
    )]
    ProxyProtocolDisabled {
        /// The proxy's URL.
        proxy_url: Box<http::Uri>,
        /// The feature it needs.
        protocol_feature: &'static str,
    },

    /// A response that had to be text was not UTF-8.
    #[error("the response is not valid UTF-8: {0}")]
    FromUtf8(#[source] std::string::FromUtf8Error),

    /// A line of a watch stream grew past the longest event the client reads
    /// ([`MAX_WATCH_LINE`](crate::client::MAX_WATCH_LINE), 64 MiB) without a
    /// newline; the watch ends with this error.
    #[error(
        "a watch event grew past 64 MiB without ending; the server or a proxy in between is sending something that is not a watch stream"
    )]
    LinesCodecMaxLineLengthExceeded,

    /// Reading a watch stream failed: the connection broke, went silent for
    /// longer than the watch allows, or ended in the middle of an event. The
    /// `io::Error` wraps a [`TransportError`] where the client knows more; the
    /// watch ends with this error, and a new one can resume from the last
    /// resource version seen.
    #[error("reading the watch stream failed: {}", io_message(.0))]
    ReadEvents(#[source] std::io::Error),

    /// A request or response passed through `http` was malformed.
    #[error("could not build an HTTP request: {0}")]
    HttpError(#[source] http::Error),

    /// A response body, or a line of a watch stream, did not decode as the
    /// Rust type expected. The message names the type and where the JSON went
    /// wrong, never the data.
    #[error("{0}")]
    SerdeError(#[source] serde_json::Error),

    /// The request could not be built from the given params or names.
    #[error("could not build the request: {0}")]
    BuildRequest(#[source] kube_core::request::Error),

    /// No cluster configuration was found: neither a kubeconfig nor an in-cluster
    /// service account.
    #[cfg(feature = "config")]
    #[error("could not find a cluster configuration: {0}")]
    InferConfig(#[source] crate::config::InferConfigError),

    /// Discovery could not find or understand an API group or resource.
    #[error("discovery failed: {0}")]
    Discovery(#[source] DiscoveryError),

    /// The OpenSSL TLS settings of a [`ConfigExt`](crate::client::ConfigExt)
    /// connector could not be made (feature `openssl-tls`).
    #[cfg(all(feature = "client", feature = "openssl-tls"))]
    #[error("the TLS settings could not be loaded: {0}")]
    OpensslTls(#[source] crate::client::OpensslTlsError),

    /// The TLS settings (certificate authority, client certificate and key) could
    /// not be loaded.
    #[cfg(all(feature = "client", feature = "rustls-tls"))]
    #[error("the TLS settings could not be loaded: {0}")]
    RustlsTls(#[source] crate::client::RustlsTlsError),

    /// The cluster URL is `https://` but this build has no TLS: turn on the
    /// `rustls-tls` feature.
    #[error("the cluster URL needs TLS, but kube-client was built without the rustls-tls feature")]
    TlsRequired,

    /// The server accepted a streaming request (`exec`, `attach`,
    /// `portforward`) but the answer was not a valid WebSocket upgrade.
    #[cfg(feature = "ws")]
    #[error("could not open a WebSocket to the apiserver: {0}")]
    UpgradeConnection(#[source] crate::client::UpgradeConnectionError),

    /// The credentials could not be loaded or refreshed (token file, exec
    /// plugin, basic auth, impersonation settings).
    #[cfg(feature = "client")]
    #[error("authentication failed: {0}")]
    Auth(#[source] crate::client::AuthError),

    /// A reference could not be followed (feature `unstable-client`).
    #[cfg(feature = "unstable-client")]
    #[error("could not follow the reference: {0}")]
    RefResolve(String),

    /// A kubeconfig given to [`Config::from_custom_kubeconfig`](crate::Config::from_custom_kubeconfig)
    /// or `Client::try_from(kubeconfig)` could not be turned into a
    /// configuration.
    #[cfg(feature = "config")]
    #[error("the kubeconfig is not usable: {0}")]
    InferKubeconfig(#[from] crate::config::KubeconfigError),
}

impl Error {
    /// The apiserver's `Status`, when the server refused the request.
    pub fn status(&self) -> Option<&Status> {
        match self {
            Error::Api(status) => Some(status),
            _ => None,
        }
    }

    /// What failed below HTTP, when a request could not connect, broke off or
    /// ran out of time: found in [`Error::Service`] and [`Error::ReadEvents`].
    pub fn transport(&self) -> Option<&TransportError> {
        match self {
            #[cfg(feature = "client")]
            Error::Service(source) => source.downcast_ref(),
            Error::ReadEvents(io) => io.get_ref()?.downcast_ref(),
            _ => None,
        }
    }

    /// The error a service reported, unwrapped where it is one of this crate's
    /// own errors (a layer that failed with, say, [`Error::Auth`]).
    #[cfg(feature = "client")]
    pub(crate) fn from_service(error: BoxError) -> Error {
        match error.downcast::<Error>() {
            Ok(error) => *error,
            Err(error) => match error.downcast::<hyper::Error>() {
                Ok(error) => Error::HyperError(*error),
                Err(error) => Error::Service(error),
            },
        }
    }
}

/// A request that failed below HTTP: it could not connect, the TLS handshake
/// failed, the connection broke, or a time limit ran out. Carried by
/// [`Error::Service`] (and by [`Error::ReadEvents`] for watches); find it with
/// [`Error::transport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No connection could be opened to the apiserver (DNS, TCP, or proxy):
    /// nothing was sent.
    #[error(
        "could not connect to the apiserver at {server}: {}; check the cluster's server URL and that the apiserver is reachable",
        chain(source)
    )]
    Connect {
        /// The apiserver's URL.
        server: String,
        /// What the network stack reported.
        #[source]
        source: BoxError,
    },

    /// The TLS handshake with the apiserver failed, e.g. its certificate is not
    /// signed by the configured certificate authority.
    #[error(
        "TLS with the apiserver at {server} failed: {}; check certificate-authority(-data) and tls-server-name for this cluster in the kubeconfig",
        chain(source)
    )]
    Tls {
        /// The apiserver's URL.
        server: String,
        /// What the TLS stack reported.
        #[source]
        source: BoxError,
    },

    /// The connection failed while the request was sent or the response read.
    #[error(
        "the connection to the apiserver at {server} failed during {method} {path}: {}",
        chain(source)
    )]
    Broken {
        /// The apiserver's URL.
        server: String,
        /// The request's method.
        method: http::Method,
        /// The request's path, without the query.
        path: String,
        /// What the HTTP stack reported.
        #[source]
        source: BoxError,
    },

    /// The apiserver sent nothing for longer than a time limit allows.
    #[error(
        "{method} {path} on the apiserver at {server} received nothing for {after:?}; the server may be overloaded or the connection dead (the limit is {limit})"
    )]
    Timeout {
        /// The apiserver's URL.
        server: String,
        /// The request's method.
        method: http::Method,
        /// The request's path, without the query.
        path: String,
        /// How long the client waited.
        after: Duration,
        /// Which limit ran out.
        limit: TimeoutLimit,
    },

    /// A response the client reads into memory grew past the most it reads
    /// ([`ResponseBodyLimit`](crate::client::ResponseBodyLimit)); the rest was
    /// not read.
    #[error(
        "the response to {method} {path} grew past {}, the most the client reads into memory (ResponseBodyLimit); ask for less, e.g. a list in pages with ListParams::limit, or raise the limit",
        human_bytes(*limit)
    )]
    ResponseTooLarge {
        /// The request's method.
        method: http::Method,
        /// The request's path, without the query.
        path: String,
        /// The limit, in bytes.
        limit: u64,
    },

    /// The configured cluster URL and a request path do not form a valid URL.
    #[error("the URL {url:?} is not valid: {reason}; check the cluster's server URL")]
    InvalidUrl {
        /// The URL that was rejected, without credentials.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
}

impl TransportError {
    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, TransportError::Timeout { .. })
    }
}

/// The message of [`Error::Service`]: the service's own error, with its causes.
#[cfg(feature = "client")]
fn service_message(error: &BoxError) -> String {
    if error.is::<TransportError>() {
        // Its message already names what failed and how to fix it.
        error.to_string()
    } else {
        format!("the HTTP service failed: {}", chain(error))
    }
}

/// The message of an I/O error, with the error it wraps.
fn io_message(error: &std::io::Error) -> String {
    match error.get_ref() {
        Some(inner) => inner.to_string(),
        None => error.to_string(),
    }
}

/// A URI without its user info, for messages.
fn redact_uri(uri: &http::Uri) -> String {
    let scheme = uri
        .scheme_str()
        .map(|s| format!("{s}://"))
        .unwrap_or_default();
    let authority = uri.authority().map_or("", |a| a.as_str());
    let host = authority.rsplit('@').next().unwrap_or(authority);
    format!("{scheme}{host}")
}

/// A size for messages: `1 GiB`, `64 MiB`, `1536 KiB`, `100 bytes`.
pub(crate) fn human_bytes(n: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{} {unit}", n >> shift);
        }
    }
    format!("{n} bytes")
}

/// Which limit a request ran out of, for [`TransportError::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutLimit {
    /// [`Config::read_timeout`](crate::Config::read_timeout): waiting for a
    /// response or for the next piece of its body.
    ReadTimeout,
    /// [`Config::read_timeout`](crate::Config::read_timeout) plus
    /// [`Config::write_timeout`](crate::Config::write_timeout): sending a
    /// request body and waiting for the response.
    ReadAndWriteTimeout,
    /// A watch's silence: its `timeoutSeconds` (or the apiserver's longest
    /// default) plus 30 s. A watch that outlives its own server-side timeout is
    /// taken for a dead connection.
    WatchIdle,
    /// [`Config::read_timeout`](crate::Config::read_timeout) plus 30 s as the
    /// time the whole body of a response read into memory may take to
    /// arrive: a body that trickles in a byte at a time never runs out of the
    /// idle limit.
    ResponseBody,
    /// A watch's duration: its `timeoutSeconds` (or the apiserver's longest
    /// default) plus 60 s, by when the apiserver has ended it.
    WatchDuration,
}

impl fmt::Display for TimeoutLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutLimit::ReadTimeout => "Config::read_timeout",
            TimeoutLimit::ReadAndWriteTimeout => {
                "Config::read_timeout plus Config::write_timeout, as the request had a body"
            }
            TimeoutLimit::WatchIdle => {
                "the watch's timeoutSeconds plus 30 s; the connection was taken for dead"
            }
            TimeoutLimit::ResponseBody => {
                "Config::read_timeout plus 30 s for the whole body of a response read into memory"
            }
            TimeoutLimit::WatchDuration => {
                "the watch's timeoutSeconds plus 60 s in all; the server kept the watch open past its own timeout"
            }
        })
    }
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// An `apiVersion` or group version was not of the form `group/version` or `version`.
    #[error(
        "{0:?} is not a valid group version (expected \"group/version\", or \"version\" for the core group)"
    )]
    InvalidGroupVersion(String),
    /// No resource of this kind exists in the group version.
    #[error(
        "the kind {0} is not served by the apiserver; check its spelling and apiVersion, and that its CRD is installed"
    )]
    MissingKind(String),
    /// The apiserver does not serve this API group.
    #[error(
        "the API group {0:?} is not served by the apiserver; check its spelling, and that its CRD or aggregated API is installed"
    )]
    MissingApiGroup(String),
    /// The apiserver does not serve this resource.
    #[error("the resource {0} is not served by the apiserver")]
    MissingResource(String),
    /// The apiserver listed the group without any version it could describe.
    #[error("the API group {0:?} has no versions the apiserver could describe")]
    EmptyApiGroup(String),
    /// The apiserver does not offer aggregated discovery (`apidiscovery.k8s.io/v2`,
    /// Kubernetes 1.30 and later) at this path.
    #[error(
        "the apiserver does not offer aggregated discovery at {0}; use Discovery::run, which falls back to the per-group documents"
    )]
    AggregatedDiscoveryUnavailable(String),
}

/// A decode failure as [`Error::SerdeError`], with a message that names the
/// Rust type and where the JSON went wrong but quotes none of the data (which
/// may be a Secret's).
pub(crate) fn decode_error(what: fmt::Arguments<'_>, error: &serde_json::Error) -> Error {
    let mut message = format!("could not decode {what}: {}", redacted_json_error(error));
    if error.line() > 0 {
        message.push_str(&format!(
            " at line {} column {}",
            error.line(),
            error.column()
        ));
    }
    if error.is_data() {
        message.push_str("; the type may not match the resource or version that was requested");
    }
    Error::SerdeError(<serde_json::Error as serde::de::Error>::custom(message))
}

/// A serde_json error with the same description and position, but none of
/// the values it quoted from the input (see [`decode_error`]).
#[cfg(feature = "oidc")]
pub(crate) fn without_quoted_values(error: &serde_json::Error) -> serde_json::Error {
    let mut message = redacted_json_error(error);
    if error.line() > 0 {
        message.push_str(&format!(
            " at line {} column {}",
            error.line(),
            error.column()
        ));
    }
    <serde_json::Error as serde::de::Error>::custom(message)
}

/// serde_json's description of an error without its position, with every
/// value it quotes from the input replaced: `invalid type: string "hunter2",
/// expected u32` becomes `invalid type: string (value hidden), expected u32`.
/// Names of fields the type expects (`missing field `spec``) are kept.
fn redacted_json_error(error: &serde_json::Error) -> String {
    let full = error.to_string();
    // serde_json appends " at line L column C"; the caller adds its own.
    let text = match full.rfind(" at line ") {
        Some(at) if error.line() > 0 => &full[..at],
        _ => full.as_str(),
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[start];
        let before = &rest[..start];
        out.push_str(before);
        let Some(len) = quoted_len(&rest[start + 1..], quote) else {
            out.push_str("(value hidden)");
            return out;
        };
        let quoted = &rest[start..start + 2 + len];
        if names_a_field(before) {
            out.push_str(quoted);
        } else {
            out.push_str("(value hidden)");
        }
        rest = &rest[start + 2 + len..];
    }
    out.push_str(rest);
    out
}

/// The length of a quoted span's content up to its closing quote, honouring
/// backslash escapes inside double quotes.
fn quoted_len(after_open: &str, quote: u8) -> Option<usize> {
    let bytes = after_open.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Whether the text before a quoted span says the span is a field name.
fn names_a_field(before: &str) -> bool {
    ["missing field ", "unknown field ", "duplicate field "]
        .iter()
        .any(|prefix| before.ends_with(prefix))
}

/// The name of `T` without module paths: `Object<Spec, Status>` rather than
/// `kube_core::object::Object<my_crate::Spec, my_crate::Status>`.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment_start = 0;
    for (i, c) in full.char_indices() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            continue;
        }
        push_last_segment(&mut out, &full[segment_start..i]);
        out.push(c);
        segment_start = i + c.len_utf8();
    }
    push_last_segment(&mut out, &full[segment_start..]);
    out
}

fn push_last_segment(out: &mut String, path: &str) {
    out.push_str(path.rsplit("::").next().unwrap_or(path));
}

/// Joins an error and its causes into one line, skipping causes whose text the
/// previous message already contains.
pub(crate) fn chain(error: &BoxError) -> String {
    let mut text = error.to_string();
    let mut current: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(cause) = current {
        let message = cause.to_string();
        if !message.is_empty() && !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        current = cause.source();
    }
    text
}

/// The `Status` of a failed response: the body itself when it is a `Status`, else
/// one made from the HTTP code and a trimmed snippet of the body.
pub(crate) fn status_from_body(code: StatusCode, body: &[u8]) -> Status {
    if let Ok(mut status) = serde_json::from_slice::<Status>(body)
        && looks_like_status(&status)
    {
        if status.code == 0 {
            status.code = code.as_u16();
        }
        if status.status.is_none() {
            status.status = Some(StatusSummary::Failure);
        }
        return status;
    }
    let snippet = snippet(body, 300);
    let reason_phrase = code.canonical_reason().unwrap_or("unknown status");
    let message = if snippet.is_empty() {
        format!(
            "the server answered {} {reason_phrase} with an empty body",
            code.as_u16()
        )
    } else {
        format!(
            "the server answered {} {reason_phrase} with a body that is not a Kubernetes Status: {snippet}",
            code.as_u16()
        )
    };
    Status::failure(&message, reason_for_code(code)).with_code(code.as_u16())
}

/// Any JSON object decodes as a `Status` (every field has a default); a real one
/// sets at least one of these.
fn looks_like_status(status: &Status) -> bool {
    status.status.is_some() || status.code != 0 || !status.reason.is_empty()
}

/// The reason the apiserver would have given for a bare HTTP code.
fn reason_for_code(code: StatusCode) -> &'static str {
    use kube_core::response::reason;
    match code.as_u16() {
        400 => reason::BAD_REQUEST,
        401 => reason::UNAUTHORIZED,
        403 => reason::FORBIDDEN,
        404 => reason::NOT_FOUND,
        405 => reason::METHOD_NOT_ALLOWED,
        406 => reason::NOT_ACCEPTABLE,
        409 => reason::CONFLICT,
        410 => reason::GONE,
        413 => reason::REQUEST_ENTITY_TOO_LARGE,
        415 => reason::UNSUPPORTED_MEDIA_TYPE,
        422 => reason::INVALID,
        429 => reason::TOO_MANY_REQUESTS,
        500 => reason::INTERNAL_ERROR,
        503 => reason::SERVICE_UNAVAILABLE,
        504 => reason::TIMEOUT,
        _ => reason::UNKNOWN,
    }
}

/// At most `max` characters of a body, as one trimmed line of text.
pub(crate) fn snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(max * 4)]);
    let mut out = String::new();
    let mut last_was_space = false;
    for c in text.trim().chars() {
        if out.chars().count() >= max {
            out.push('…');
            break;
        }
        if c.is_whitespace() || c.is_control() {
            if !last_was_space {
                out.push(' ');
            }
            last_was_space = true;
        } else {
            out.push(c);
            last_was_space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_body_is_kept_whole() {
        let body = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"configmaps"},"code":404}"#;
        let status = status_from_body(StatusCode::NOT_FOUND, body);
        assert!(status.is_not_found());
        assert_eq!(status.message, "configmaps \"x\" not found");
        assert_eq!(status.details.map(|d| d.name), Some("x".to_string()));
    }

    #[test]
    fn a_status_without_a_code_gets_the_http_code() {
        let status = status_from_body(
            StatusCode::CONFLICT,
            br#"{"status":"Failure","reason":"Conflict"}"#,
        );
        assert_eq!(status.code, 409);
        assert!(status.is_conflict());
    }

    #[test]
    fn a_proxy_page_becomes_a_status_with_a_snippet() {
        let body = b"<html>\n  <body>\n    <h1>502 Bad Gateway</h1>\n  </body>\n</html>\n";
        let status = status_from_body(StatusCode::BAD_GATEWAY, body);
        assert_eq!(status.code, 502);
        assert!(status.is_failure());
        assert!(
            status
                .message
                .contains("502 Bad Gateway with a body that is not a Kubernetes Status"),
            "{}",
            status.message
        );
        assert!(
            status
                .message
                .contains("<html> <body> <h1>502 Bad Gateway</h1>"),
            "{}",
            status.message
        );
    }

    #[test]
    fn a_json_object_that_is_not_a_status_is_not_taken_for_one() {
        let status = status_from_body(StatusCode::NOT_FOUND, br#"{"hello":"world"}"#);
        assert!(status.is_not_found());
        assert!(status.message.contains(r#"{"hello":"world"}"#));
    }

    #[test]
    fn empty_bodies_and_bare_codes_get_reasons() {
        let status = status_from_body(StatusCode::TOO_MANY_REQUESTS, b"");
        assert!(status.is_too_many_requests());
        assert!(status.message.contains("empty body"), "{}", status.message);
        assert!(status_from_body(StatusCode::FORBIDDEN, b"nope").is_forbidden());
        assert!(status_from_body(StatusCode::UNPROCESSABLE_ENTITY, b"bad").is_invalid());
        assert!(status_from_body(StatusCode::GONE, b"").is_gone());
    }

    #[test]
    fn snippets_are_bounded() {
        let long = "x".repeat(10_000);
        let s = snippet(long.as_bytes(), 300);
        assert_eq!(s.chars().count(), 301);
        assert!(s.ends_with('…'));
        assert_eq!(snippet(b"  a \r\n\t b  ", 300), "a b");
        assert_eq!(snippet(&[0xff, b'a'], 10), "\u{fffd}a");
    }

    #[test]
    fn error_messages_say_what_to_fix() {
        let err = Error::Service(Box::new(TransportError::Connect {
            server: "https://10.0.0.1:6443".into(),
            source: "tcp connect error: Connection refused".into(),
        }));
        let text = err.to_string();
        assert!(text.contains("https://10.0.0.1:6443"), "{text}");
        assert!(text.contains("Connection refused"), "{text}");
        assert!(matches!(
            err.transport(),
            Some(TransportError::Connect { .. })
        ));
        let err = Error::Api(
            Status::failure("x not found", "NotFound")
                .with_code(404)
                .boxed(),
        );
        assert_eq!(
            err.to_string(),
            "the apiserver refused the request: NotFound (404): x not found"
        );
        assert!(err.status().is_some_and(Status::is_not_found));
        assert!(err.transport().is_none());
    }

    #[test]
    fn transport_errors_are_found_inside_read_events() {
        let timeout = TransportError::Timeout {
            server: "https://k".into(),
            method: http::Method::GET,
            path: "/api/v1/pods".into(),
            after: Duration::from_secs(31),
            limit: TimeoutLimit::WatchIdle,
        };
        let err = Error::ReadEvents(std::io::Error::new(std::io::ErrorKind::TimedOut, timeout));
        assert!(err.transport().is_some_and(TransportError::is_timeout));
        assert!(err.to_string().contains("timeoutSeconds"), "{err}");
    }

    #[test]
    fn service_errors_unwrap_our_own_errors() {
        let boxed: BoxError = Box::new(Error::TlsRequired);
        assert!(matches!(Error::from_service(boxed), Error::TlsRequired));
        let other: BoxError = "a layer gave up".into();
        let err = Error::from_service(other);
        assert!(matches!(err, Error::Service(_)));
        assert!(err.to_string().contains("a layer gave up"), "{err}");
    }

    #[test]
    fn decode_errors_name_the_type_and_place_but_not_the_data() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Secretish {
            count: u32,
            name: String,
        }
        let source = serde_json::from_str::<Secretish>(r#"{"count":"hunter2","name":"x"}"#)
            .expect_err("a string is not a number");
        let err = decode_error(format_args!("the response as Secretish"), &source);
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("Secretish"), "{text}");
        assert!(
            text.contains("invalid type: string (value hidden)"),
            "{text}"
        );
        assert!(text.contains("line 1 column"), "{text}");
        assert!(matches!(err, Error::SerdeError(_)));

        let source = serde_json::from_str::<Secretish>(r#"{"count":1}"#).expect_err("no name");
        let text = decode_error(format_args!("it"), &source).to_string();
        assert!(text.contains("missing field `name`"), "{text}");

        let source = serde_json::from_str::<Secretish>("{\"count\":").expect_err("cut");
        let text = decode_error(format_args!("it"), &source).to_string();
        assert!(text.contains("EOF"), "{text}");
    }

    #[test]
    fn type_names_drop_module_paths() {
        assert_eq!(
            short_type_name::<k8s_openapi::api::core::v1::ConfigMap>(),
            "ConfigMap"
        );
        assert_eq!(
            short_type_name::<kube_core::Object<kube_core::NotUsed, Option<Vec<u8>>>>(),
            "Object<NotUsed, Option<Vec<u8>>>"
        );
        assert_eq!(short_type_name::<[&str]>(), "[&str]");
    }

    #[test]
    fn chains_skip_repeated_messages() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "client error")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err: BoxError = Box::new(Outer(inner));
        assert_eq!(chain(&err), "client error: refused");
    }
}
