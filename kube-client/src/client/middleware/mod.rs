//! The tower layers a [`Client`](crate::Client) is made of.
//!
//! Every request a client sends passes through a stack of small layers, each
//! doing one job, down to the transport that owns the connections. The stack
//! that [`Client::try_from`](crate::Client::try_from) builds from a
//! [`Config`](crate::Config) is, in the order a request passes through it:
//!
//! | layer | job |
//! |---|---|
//! | [`BaseUriLayer`] | turns the request's path into a URL on the cluster (keeping a path prefix such as Rancher's `/k8s/clusters/c1`) |
//! | trace | one `tracing` span per request: method, path, and the status that came back |
//! | retry | sends a request again after `429`, `503` and failures that cannot have done anything (see [`retry`](super::retry)), reading bodies whole within an attempt where the caller wants them whole |
//! | [`ExtraHeadersLayer`] | the configured extra headers and the `Impersonate-*` headers |
//! | [`AuthLayer`] | the `Authorization` header: token, token file, basic auth, exec plugin or OIDC; a `401` makes it load fresh credentials, and the retry layer tries once more |
//! | gzip (feature `gzip`) | asks for compressed responses and decompresses them |
//! | timeout | limits the wait for response headers, and the silence within a body (a watch's is its `timeoutSeconds` plus a margin) |
//! | transport | reqwest over rustls: the connection pool, HTTP/2, proxies, the client certificate, HTTP/1.1 for WebSocket upgrades |
//!
//! Custom stacks are built from the public layers here and the pieces of
//! [`ConfigExt`](super::ConfigExt), or by adding layers on top of the default
//! stack with [`ClientBuilder::with_layer`](super::ClientBuilder::with_layer).

mod auth;
mod base_uri;
mod extra_headers;
#[cfg(feature = "gzip")]
pub(crate) mod gzip;
pub(crate) mod retry;
pub(crate) mod timeout;
pub(crate) mod trace;

pub use auth::{Auth, AuthLayer};
pub use base_uri::{BaseUri, BaseUriLayer};
pub use extra_headers::{ExtraHeaders, ExtraHeadersLayer};

use std::time::Duration;

use crate::error::TimeoutLimit;

/// How the caller of a request reads the response body: a request extension
/// that the client above the stack sets and the retry and timeout layers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyUse {
    /// Read whole: the retry layer reads it within the attempt, so that a body
    /// that breaks off can be retried, and every piece must arrive within the
    /// read timeout.
    Whole,
    /// Streamed to the caller, failing after this much silence (`None`: no
    /// limit, e.g. a followed log).
    Stream(Option<(Duration, TimeoutLimit)>),
}

/// Set on a `401` response by the auth layer when it dropped credentials that
/// can be loaded afresh (a token file, an exec plugin, an OIDC token): sending
/// the request once more may succeed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CredentialsRefreshed;
