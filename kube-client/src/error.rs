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
use kube_core::{Status, response::StatusSummary};

/// A boxed error from the HTTP or TLS stack.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything that can go wrong in this crate.
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

    /// No connection could be opened to the apiserver (DNS, TCP, or proxy).
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
    Transport {
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

    /// The apiserver sent nothing for longer than a timeout allows.
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

    /// The configured cluster URL and a request path do not form a valid URL.
    #[error("the URL {url:?} is not valid: {reason}; check the cluster's server URL")]
    InvalidUrl {
        /// The URL that was rejected.
        url: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A request or response passed through `http` was malformed.
    #[error("could not build an HTTP request: {0}")]
    HttpError(#[source] http::Error),

    /// The request could not be built from the given params or names.
    #[error("could not build the request: {0}")]
    BuildRequest(#[source] kube_core::request::Error),

    /// A response body did not decode as the Rust type expected.
    #[error(
        "could not decode the apiserver's response as {expected}: {source}; the type may not match the resource or version that was requested"
    )]
    Decode {
        /// The Rust type the body was decoded into, without module paths.
        expected: String,
        /// The JSON error, with the line and column of the problem.
        #[source]
        source: serde_json::Error,
    },

    /// A line of a watch stream did not decode as a watch event of the expected
    /// type. The watch ends with this error.
    #[error(
        "could not decode a watch event as WatchEvent<{expected}>: {source}; the line began {line_start}"
    )]
    WatchDecode {
        /// The Rust type of the watched objects, without module paths.
        expected: String,
        /// At most the first 200 bytes of the line, for recognising it.
        line_start: LineStart,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },

    /// A watch stream ended in the middle of an event (the last line had no
    /// newline and was not a complete event).
    #[error(
        "the watch stream ended in the middle of an event ({len} bytes without a final newline, beginning {line_start}); start a new watch from the last resource version seen"
    )]
    WatchTruncated {
        /// How many bytes the unfinished line had.
        len: usize,
        /// At most the first 200 bytes of the unfinished line.
        line_start: LineStart,
    },

    /// Discovery could not find or understand an API group or resource.
    #[error("discovery failed: {0}")]
    Discovery(#[source] DiscoveryError),

    /// The credentials could not be loaded or refreshed (token file, exec
    /// plugin, basic auth, impersonation settings).
    #[cfg(feature = "client")]
    #[error("authentication failed: {0}")]
    Auth(#[source] crate::client::AuthError),

    /// A reference could not be followed (feature `unstable-client`).
    #[cfg(feature = "unstable-client")]
    #[error("could not follow the reference: {0}")]
    RefResolve(String),

    /// The server accepted a streaming request (`exec`, `attach`,
    /// `portforward`) but the answer was not a valid WebSocket upgrade.
    #[cfg(feature = "ws")]
    #[error("could not open a WebSocket to the apiserver: {0}")]
    UpgradeConnection(#[source] crate::client::UpgradeConnectionError),

    /// No cluster configuration was found: neither a kubeconfig nor an in-cluster
    /// service account.
    #[cfg(feature = "config")]
    #[error("could not find a cluster configuration: {0}")]
    InferConfig(#[source] crate::config::InferConfigError),

    /// The TLS settings (certificate authority, client certificate and key) could
    /// not be loaded.
    #[cfg(all(feature = "client", feature = "rustls-tls"))]
    #[error("the TLS settings could not be loaded: {0}")]
    RustlsTls(#[source] crate::client::RustlsTlsError),
}

impl Error {
    /// The apiserver's `Status`, when the server refused the request.
    pub fn status(&self) -> Option<&Status> {
        match self {
            Error::Api(status) => Some(status),
            _ => None,
        }
    }
}

/// Which limit a request ran out of, for [`Error::Timeout`].
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

/// The beginning of a line, kept for error messages: at most 200 bytes, shown as
/// text with the invalid UTF-8 replaced, and noting how much was cut.
#[derive(Clone, PartialEq, Eq)]
pub struct LineStart {
    text: String,
    cut: usize,
}

impl LineStart {
    /// The most bytes of a line kept.
    pub const MAX: usize = 200;

    /// Keeps at most [`MAX`](Self::MAX) bytes of `line`.
    pub fn new(line: &[u8]) -> Self {
        let kept = &line[..line.len().min(Self::MAX)];
        Self {
            text: String::from_utf8_lossy(kept).into_owned(),
            cut: line.len() - kept.len(),
        }
    }

    /// The kept beginning of the line, as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for LineStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)?;
        if self.cut > 0 {
            write!(f, " (and {} more bytes)", self.cut)?;
        }
        Ok(())
    }
}

impl fmt::Debug for LineStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
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
    fn line_starts_keep_200_bytes() {
        let line = vec![b'y'; 1000];
        let start = LineStart::new(&line);
        assert_eq!(start.as_str().len(), 200);
        assert!(start.to_string().ends_with("(and 800 more bytes)"));
        assert_eq!(LineStart::new(b"abc").to_string(), "\"abc\"");
    }

    #[test]
    fn error_messages_say_what_to_fix() {
        let err = Error::Connect {
            server: "https://10.0.0.1:6443".into(),
            source: "tcp connect error: Connection refused".into(),
        };
        let text = err.to_string();
        assert!(text.contains("https://10.0.0.1:6443"), "{text}");
        assert!(text.contains("Connection refused"), "{text}");
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
