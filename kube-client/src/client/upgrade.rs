//! WebSockets to the apiserver: the transport of `exec`, `attach` and
//! `portforward`.
//!
//! A streaming subresource is asked for with an ordinary `GET` carrying the
//! WebSocket upgrade headers (RFC 6455). The apiserver checks credentials and
//! the pod as for any request: when something is wrong it answers with a
//! `Status` and an error code, which becomes [`Error::Api`]; otherwise it
//! answers `101 Switching Protocols` and the connection becomes a WebSocket
//! speaking one of the subprotocols the client offered:
//!
//! - `v5.channel.k8s.io`: binary messages whose first byte names the channel
//!   (0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 terminal resize), plus
//!   channel 255 to close a single stream, such as stdin.
//! - `v4.channel.k8s.io`: the same without closing single streams; also the
//!   framing of port-forwarding.
//!
//! The upgrade goes through the client's service stack like every other
//! request: the same TLS settings, client certificate, credentials, extra
//! headers and proxy. The default transport sends it over HTTP/1.1
//! (WebSockets cannot be opened over the HTTP/2 connections used for other
//! requests); a custom service must speak HTTP/1.1 and hand on hyper's upgrade.

use std::fmt;

use http::{HeaderMap, HeaderValue, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        handshake::{client::generate_key, derive_accept_key},
        protocol::Role,
    },
};
use tracing::Instrument;

use super::{Client, middleware::BodyUse, requests::error_response};
use crate::{Error, Result};

/// The names of the WebSocket subprotocols.
pub(crate) mod protocols {
    /// The exec and attach subprotocol that can close single streams.
    pub(crate) const V5_CHANNEL: &str = "v5.channel.k8s.io";
    /// The exec, attach and port-forward subprotocol with binary channels.
    pub(crate) const V4_CHANNEL: &str = "v4.channel.k8s.io";
}
#[cfg(test)]
use protocols::V4_CHANNEL;
use protocols::V5_CHANNEL;

/// Why a WebSocket could not be opened although the server did not refuse the
/// request with an error status.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeConnectionError {
    /// The server answered with a status other than `101 Switching Protocols`.
    #[error(
        "the server answered {0} instead of 101 Switching Protocols; a proxy in between may not pass WebSocket upgrades"
    )]
    ProtocolSwitch(StatusCode),

    /// The answer's `Upgrade` header is not `websocket`.
    #[error("the server switched protocols without `Upgrade: websocket`")]
    MissingUpgradeWebSocketHeader,

    /// The answer's `Connection` header does not say `Upgrade`.
    #[error("the server switched protocols without `Connection: Upgrade`")]
    MissingConnectionUpgradeHeader,

    /// The answer's `Sec-WebSocket-Accept` does not match the key sent, so the
    /// answer is not for this request.
    #[error("the server's Sec-WebSocket-Accept does not match the key that was sent")]
    SecWebSocketAcceptKeyMismatch,

    /// The server chose no subprotocol, or one that was not offered.
    #[error("the server chose no WebSocket subprotocol, or one that was not offered")]
    SecWebSocketProtocolMismatch,

    /// The switched connection could not be taken over: the service under the
    /// client did not hand it on (a custom service must be hyper's, or pass
    /// hyper's upgrade on), or it failed.
    #[error("could not take over the upgraded connection: {0}")]
    GetPendingUpgrade(#[source] hyper::Error),
}

/// A WebSocket to the apiserver, opened by [`Client::connect`].
pub struct Connection {
    stream: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
    protocol: String,
}

impl Connection {
    /// Whether the subprotocol can close single streams (`v5.channel.k8s.io`),
    /// so that a process sees the end of its standard input.
    pub fn supports_stream_close(&self) -> bool {
        self.protocol == V5_CHANNEL
    }

    /// The subprotocol the server chose, e.g. `v5.channel.k8s.io`.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// The WebSocket itself.
    pub fn into_stream(self) -> WebSocketStream<TokioIo<hyper::upgrade::Upgraded>> {
        self.stream
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Opens a WebSocket for `request`, a `GET` of a streaming subresource
    /// such as `exec`, `attach` or `portforward`.
    ///
    /// The request goes through the client's service stack like any other
    /// (credentials, headers, a fresh attempt after a `401`); the default
    /// transport opens it on an HTTP/1.1 connection of its own. The
    /// subprotocols offered are the request's own `Sec-WebSocket-Protocol`
    /// header, or else `v5.channel.k8s.io` then `v4.channel.k8s.io`. An error
    /// status from the server (the pod does not exist, is not scheduled, the
    /// user may not exec) is [`Error::Api`] with the server's `Status`.
    pub async fn connect(&self, request: http::Request<Vec<u8>>) -> Result<Connection> {
        let (mut parts, body) = request.into_parts();
        let key = generate_key();
        let offered = upgrade_headers(&mut parts.headers, &key)?;
        let span = tracing::debug_span!(
            "WebSocket",
            http.method = %parts.method,
            url.path = %parts.uri.path(),
            http.status_code = tracing::field::Empty,
        );
        let request = http::Request::from_parts(parts, body);
        async {
            let mut response = self.send_for(request, BodyUse::Stream(None)).await?;
            let status = response.status();
            tracing::Span::current().record("http.status_code", status.as_u16());
            if status.is_client_error() || status.is_server_error() {
                return Err(error_response(response).await);
            }
            let protocol = check_switch(status, response.headers(), &key, &offered)
                .map_err(Error::UpgradeConnection)?;
            let upgraded = hyper::upgrade::on(&mut response).await.map_err(|e| {
                Error::UpgradeConnection(UpgradeConnectionError::GetPendingUpgrade(e))
            })?;
            tracing::debug!(%protocol, "WebSocket open");
            let stream =
                WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, None).await;
            Ok(Connection { stream, protocol })
        }
        .instrument(span)
        .await
    }
}

/// Adds the WebSocket upgrade headers and returns the subprotocols offered.
fn upgrade_headers(headers: &mut HeaderMap, key: &str) -> Result<Vec<String>> {
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(
        header::SEC_WEBSOCKET_VERSION,
        HeaderValue::from_static("13"),
    );
    let key = HeaderValue::from_str(key).map_err(|e| Error::HttpError(e.into()))?;
    headers.insert(header::SEC_WEBSOCKET_KEY, key);
    if !headers.contains_key(header::SEC_WEBSOCKET_PROTOCOL) {
        // One comma-separated header: the apiserver reads only the first.
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("v5.channel.k8s.io, v4.channel.k8s.io"),
        );
    }
    Ok(headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect())
}

/// Checks a `101` answer against RFC 6455 and the offered subprotocols, and
/// returns the chosen one.
fn check_switch(
    status: StatusCode,
    headers: &HeaderMap,
    key: &str,
    offered: &[String],
) -> std::result::Result<String, UpgradeConnectionError> {
    if status != StatusCode::SWITCHING_PROTOCOLS {
        return Err(UpgradeConnectionError::ProtocolSwitch(status));
    }
    let says = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    if !says(header::UPGRADE, "websocket") {
        return Err(UpgradeConnectionError::MissingUpgradeWebSocketHeader);
    }
    if !says(header::CONNECTION, "upgrade") {
        return Err(UpgradeConnectionError::MissingConnectionUpgradeHeader);
    }
    let expected = derive_accept_key(key.as_bytes());
    if headers
        .get(header::SEC_WEBSOCKET_ACCEPT)
        .is_none_or(|accept| accept.as_bytes() != expected.as_bytes())
    {
        return Err(UpgradeConnectionError::SecWebSocketAcceptKeyMismatch);
    }
    let chosen = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or(UpgradeConnectionError::SecWebSocketProtocolMismatch)?;
    if offered.iter().any(|p| p == chosen) {
        Ok(chosen.to_string())
    } else {
        Err(UpgradeConnectionError::SecWebSocketProtocolMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn switched(key: &str, protocol: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        headers.insert(
            header::SEC_WEBSOCKET_ACCEPT,
            HeaderValue::from_str(&derive_accept_key(key.as_bytes())).expect("header"),
        );
        if let Some(protocol) = protocol {
            headers.insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_str(protocol).expect("header"),
            );
        }
        headers
    }

    fn offered() -> Vec<String> {
        let mut headers = HeaderMap::new();
        upgrade_headers(&mut headers, "dGhlIHNhbXBsZSBub25jZQ==").expect("headers")
    }

    #[test]
    fn v5_then_v4_are_offered_unless_the_request_names_its_own() {
        assert_eq!(offered(), [V5_CHANNEL, V4_CHANNEL]);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(V4_CHANNEL),
        );
        let own = upgrade_headers(&mut headers, "k").expect("headers");
        assert_eq!(own, [V4_CHANNEL]);
        assert_eq!(headers[header::UPGRADE], "websocket");
        assert_eq!(headers[header::SEC_WEBSOCKET_VERSION], "13");
        assert_eq!(headers[header::SEC_WEBSOCKET_KEY], "k");
    }

    #[test]
    fn a_proper_switch_yields_the_chosen_subprotocol() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let chosen = check_switch(
            StatusCode::SWITCHING_PROTOCOLS,
            &switched(key, Some(V4_CHANNEL)),
            key,
            &offered(),
        )
        .expect("valid");
        assert_eq!(chosen, V4_CHANNEL);
    }

    #[test]
    fn improper_switches_are_refused_with_the_reason() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let ok = |headers: &HeaderMap| {
            check_switch(StatusCode::SWITCHING_PROTOCOLS, headers, key, &offered())
        };
        assert!(matches!(
            check_switch(
                StatusCode::OK,
                &switched(key, Some(V5_CHANNEL)),
                key,
                &offered()
            ),
            Err(UpgradeConnectionError::ProtocolSwitch(StatusCode::OK))
        ));
        let mut no_upgrade = switched(key, Some(V5_CHANNEL));
        no_upgrade.remove(header::UPGRADE);
        assert!(matches!(
            ok(&no_upgrade),
            Err(UpgradeConnectionError::MissingUpgradeWebSocketHeader)
        ));
        let mut no_connection = switched(key, Some(V5_CHANNEL));
        no_connection.insert(header::CONNECTION, HeaderValue::from_static("close"));
        assert!(matches!(
            ok(&no_connection),
            Err(UpgradeConnectionError::MissingConnectionUpgradeHeader)
        ));
        assert!(matches!(
            check_switch(
                StatusCode::SWITCHING_PROTOCOLS,
                &switched("another key", Some(V5_CHANNEL)),
                key,
                &offered()
            ),
            Err(UpgradeConnectionError::SecWebSocketAcceptKeyMismatch)
        ));
        for protocol in [None, Some("v3.channel.k8s.io")] {
            assert!(matches!(
                ok(&switched(key, protocol)),
                Err(UpgradeConnectionError::SecWebSocketProtocolMismatch)
            ));
        }
    }
}
