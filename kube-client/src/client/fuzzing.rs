//! Entry points for the fuzz targets in `fuzz/`: the parsers of what the
//! client reads from files, programs and servers, which are otherwise only
//! reachable through a live cluster, and the decoders of responses with and
//! without `managedFields`. Not a stable API; only built with the
//! `fuzzing` feature (some entry points also need `rustls-tls`, `oidc` or
//! `ws`).

use bytes::Bytes;
use futures::{StreamExt, stream};
use kube_core::{ObjectList, Status, WatchEvent};
use serde::de::DeserializeOwned;

use super::{
    Body,
    managed_fields::WithoutManagedFields,
    watch::{EventStream, LineSplitter},
};
use crate::{Config, Result, config::Kubeconfig};
use http_body::Frame;

/// The lines [`LineSplitter`] finds in a body that arrives as `chunks`: every
/// complete non-blank line, then the unterminated rest if it is not blank.
pub fn split_lines(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut splitter = LineSplitter::default();
    let mut lines = Vec::new();
    for chunk in chunks {
        splitter.push(Bytes::copy_from_slice(chunk));
        while let Some(line) = splitter.next_line() {
            lines.push(line.to_vec());
        }
    }
    if let Some(rest) = splitter.finish() {
        lines.push(rest.to_vec());
    }
    lines
}

/// Every item the client's watch stream yields for a body that arrives as
/// `chunks`, decoding events as `K`.
pub fn decode_watch_body<K: DeserializeOwned>(chunks: &[&[u8]]) -> Vec<Result<WatchEvent<K>>> {
    let frames = stream::iter(
        chunks
            .iter()
            .map(|chunk| {
                Ok::<_, crate::error::BoxError>(Frame::data(Bytes::copy_from_slice(chunk)))
            })
            .collect::<Vec<_>>(),
    );
    let body = Body::wrap(http_body_util::StreamBody::new(frames));
    block_on(EventStream::<K>::new(body).collect::<Vec<_>>())
}

/// Runs a future that never waits on anything outside itself.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Decodes a response body as `T`, as [`Client::request`](crate::Client::request) does.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    super::requests::decode(body)
}

/// Decodes a watch event line, as [`Client::request_events`](crate::Client::request_events) does.
pub fn decode_event<K: DeserializeOwned>(line: &[u8]) -> Result<WatchEvent<K>> {
    super::watch::decode_event(line)
}

/// Decodes an object without its `managedFields`, falling back to the plain
/// decode on failure as the reads without them do.
pub fn decode_object_without_managed_fields<K: DeserializeOwned>(body: &[u8]) -> Result<K> {
    match super::json::from_bytes::<WithoutManagedFields<K>>(body) {
        Ok(object) => Ok(object.0),
        Err(_) => super::requests::decode(body),
    }
}

/// Decodes a list as [`Api::list_without_managed_fields`](crate::Api::list_without_managed_fields) does.
pub fn decode_list_without_managed_fields<K: DeserializeOwned>(
    body: &[u8],
) -> Result<ObjectList<K>> {
    super::managed_fields::decode_list(body)
}

/// Decodes a watch event line as [`Api::watch_without_managed_fields`](crate::Api::watch_without_managed_fields) does.
pub fn decode_event_without_managed_fields<K: DeserializeOwned>(
    line: &[u8],
) -> Result<WatchEvent<K>> {
    super::managed_fields::decode_event(line)
}

/// The configuration of the current context of a kubeconfig file's bytes
/// (UTF-8 or UTF-16), as [`Config::from_custom_kubeconfig`] makes it, with the
/// TLS settings it names loaded as a client would load them; or why it is
/// not usable.
///
/// File paths in the kubeconfig (certificate authority, client certificate
/// and key, token file) are dropped first: a fuzz target must not read the
/// machine's files. Their inline `-data` forms are kept.
pub fn config_from_kubeconfig(bytes: &[u8]) -> std::result::Result<Config, String> {
    let mut kubeconfig = Kubeconfig::from_file_bytes(bytes, None).map_err(|e| e.to_string())?;
    for cluster in kubeconfig
        .clusters
        .iter_mut()
        .filter_map(|c| c.cluster.as_mut())
    {
        cluster.certificate_authority = None;
    }
    for user in kubeconfig
        .auth_infos
        .iter_mut()
        .filter_map(|u| u.auth_info.as_mut())
    {
        user.client_certificate = None;
        user.client_key = None;
        user.token_file = None;
    }
    let config = block_on(Config::from_custom_kubeconfig(
        kubeconfig,
        &Default::default(),
    ))
    .map_err(|e| e.to_string())?;
    #[cfg(feature = "rustls-tls")]
    {
        let identity =
            super::tls::ClientIdentity::from_config(&config).map_err(|e| e.to_string())?;
        // Without certificates of its own, a cluster trusts the system's
        // store, which is slow to load and not the kubeconfig's doing.
        if config.root_cert.is_some() || config.accept_invalid_certs {
            let provider = super::tls::crypto_provider().map_err(|e| e.to_string())?;
            super::tls::server_verifier(&config, &provider).map_err(|e| e.to_string())?;
        }
        drop(identity);
    }
    Ok(config)
}

/// What a client makes of an exec credential plugin's output: `true` for a
/// token, `false` for a client certificate (which is loaded), or why the
/// output is refused.
pub fn exec_credential(output: &[u8]) -> std::result::Result<bool, String> {
    super::auth::fuzz::exec_credential(output)
}

/// The token endpoint an OIDC issuer's discovery document names, or why
/// there is none.
#[cfg(feature = "oidc")]
pub fn oidc_discovery(document: &[u8]) -> std::result::Result<String, String> {
    super::auth::fuzz::oidc::discovery(document)
}

/// Whether an OIDC token endpoint's answer is usable (`true` when it
/// rotates the refresh token), or why not.
#[cfg(feature = "oidc")]
pub fn oidc_token_response(body: &[u8]) -> std::result::Result<bool, String> {
    super::auth::fuzz::oidc::token_response(body)
}

/// Whether an OIDC ID token expires within the refresh margin of `now`
/// (seconds since the epoch), or why its expiry cannot be read.
#[cfg(feature = "oidc")]
pub fn oidc_expires_soon(token: &str, now: i64) -> std::result::Result<bool, String> {
    super::auth::fuzz::oidc::expires_soon(token, now)
}

/// The `Status` the client makes of a failed response with HTTP status
/// `code` and `body`; `None` when `code` is not an HTTP status.
pub fn status_from_body(code: u16, body: &[u8]) -> Option<Status> {
    let code = http::StatusCode::from_u16(code).ok()?;
    Some(crate::error::status_from_body(code, body))
}

/// A summary of discovered groups: for each, its name, versions and the
/// resources a client would pick, exercising the lookups `Discovery` offers.
pub type DiscoveredGroups = Vec<(String, Vec<String>, Vec<String>)>;

/// The group a per-version discovery document (`/api/v1`,
/// `/apis/apps/v1`) describes, or why it is not valid.
pub fn discovery_v1(document: &[u8]) -> std::result::Result<DiscoveredGroups, String> {
    let list: k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList =
        serde_json::from_slice(document).map_err(|e| e.to_string())?;
    let data =
        crate::discovery::parse::GroupVersionData::from_legacy(&list).map_err(|e| e.to_string())?;
    let name = list
        .group_version
        .split_once('/')
        .map_or("", |(group, _)| group)
        .to_string();
    let group = crate::discovery::ApiGroup::new(name, vec![data], None);
    Ok(summarize(&[group]))
}

/// The groups of an aggregated discovery document
/// (`apidiscovery.k8s.io/v2`), read as the named groups of `/apis` or, with
/// `core`, as the core group of `/api`; or why it is not valid.
pub fn discovery_v2(document: &[u8], core: bool) -> std::result::Result<DiscoveredGroups, String> {
    let list: kube_core::discovery::v2::APIGroupDiscoveryList =
        serde_json::from_slice(document).map_err(|e| e.to_string())?;
    let groups = crate::discovery::aggregated_groups(list, core, |_| true);
    Ok(summarize(&groups))
}

fn summarize(groups: &[crate::discovery::ApiGroup]) -> DiscoveredGroups {
    groups
        .iter()
        .map(|group| {
            let versions: Vec<String> = group.versions().map(str::to_string).collect();
            let mut picked: Vec<String> = group
                .recommended_resources()
                .into_iter()
                .chain(group.resources_by_stability())
                .map(|(resource, _)| format!("{}/{}", resource.api_version, resource.plural))
                .collect();
            for (resource, _) in group.resources_by_stability() {
                if let Some((found, _)) = group.recommended_kind(&resource.kind) {
                    picked.push(found.kind);
                }
            }
            let _ = group.preferred_version_or_latest();
            (group.name().to_string(), versions, picked)
        })
        .collect()
}

#[cfg(feature = "ws")]
pub use frames::{ExecOutcome, PortforwardOutcome, exec_frames, portforward_frames};

/// The channel protocols of `exec`, `attach` and `portforward`, driven over
/// an in-memory WebSocket whose far end sends the fuzz target's messages.
#[cfg(feature = "ws")]
mod frames {
    use futures::{SinkExt, StreamExt};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
    use kube_core::subresource::AttachParams;
    use tokio::io::AsyncReadExt;
    use tokio_tungstenite::{
        WebSocketStream,
        tungstenite::{Message, protocol::Role},
    };

    use crate::api::{AttachedProcess, Portforwarder};

    /// What a process attached over a WebSocket passed on.
    #[derive(Debug, Default)]
    pub struct ExecOutcome {
        /// Standard output.
        pub stdout: Vec<u8>,
        /// Standard error.
        pub stderr: Vec<u8>,
        /// The status from the error channel.
        pub status: Option<Status>,
        /// Whether the connection ended in an error.
        pub failed: bool,
    }

    /// What the forwarded ports passed on.
    #[derive(Debug, Default)]
    pub struct PortforwardOutcome {
        /// The bytes of each port, in the order given.
        pub data: Vec<Vec<u8>>,
        /// The error message of each port.
        pub errors: Vec<Option<String>>,
        /// Whether the connection ended in an error.
        pub failed: bool,
    }

    /// A client's socket, and the far end sending `messages` (binary) then
    /// closing.
    async fn sockets(
        messages: Vec<Vec<u8>>,
    ) -> (
        WebSocketStream<tokio::io::DuplexStream>,
        impl std::future::Future<Output = ()>,
    ) {
        let (near, far) = tokio::io::duplex(64 << 10);
        let client = WebSocketStream::from_raw_socket(near, Role::Client, None).await;
        let mut server = WebSocketStream::from_raw_socket(far, Role::Server, None).await;
        let far_end = async move {
            for message in messages {
                if server.send(Message::Binary(message.into())).await.is_err() {
                    return;
                }
            }
            let _ = server.close(None).await;
            // Reads until the client has closed too.
            while let Some(Ok(_)) = server.next().await {}
        };
        (client, far_end)
    }

    /// Runs `work` on a runtime of its own; `None` when there is none.
    fn run<F: std::future::Future>(work: F) -> Option<F::Output> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .ok()?;
        Some(runtime.block_on(work))
    }

    /// What `exec` passes on when the server sends `messages`; `closable`
    /// for the `v5.channel.k8s.io` subprotocol.
    pub fn exec_frames(messages: &[Vec<u8>], closable: bool) -> ExecOutcome {
        let messages = messages.to_vec();
        run(async move {
            let (socket, far_end) = sockets(messages).await;
            let params = AttachParams::default().stdout(true).stderr(true);
            let mut process = AttachedProcess::over(socket, closable, &params);
            let status = process.take_status();
            let read = |pipe: Option<tokio::io::ReadHalf<tokio::io::SimplexStream>>| async move {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes).await;
                }
                bytes
            };
            let (stdout, stderr, ()) =
                futures::join!(read(process.stdout()), read(process.stderr()), far_end);
            let failed = process.join().await.is_err();
            let status = match status {
                Some(status) => status.await,
                None => None,
            };
            ExecOutcome {
                stdout,
                stderr,
                status,
                failed,
            }
        })
        .unwrap_or(ExecOutcome {
            failed: true,
            ..ExecOutcome::default()
        })
    }

    /// What `portforward` of `ports` passes on when the server sends
    /// `messages`.
    pub fn portforward_frames(ports: &[u16], messages: &[Vec<u8>]) -> PortforwardOutcome {
        let messages = messages.to_vec();
        let ports = ports.to_vec();
        run(async move {
            let (socket, far_end) = sockets(messages).await;
            let mut forwarder = Portforwarder::new(socket, &ports);
            let streams: Vec<_> = ports.iter().map(|&p| forwarder.take_stream(p)).collect();
            let errors: Vec<_> = ports.iter().map(|&p| forwarder.take_error(p)).collect();
            let reads = futures::future::join_all(streams.into_iter().map(|stream| async move {
                let mut bytes = Vec::new();
                if let Some(mut stream) = stream {
                    let _ = stream.read_to_end(&mut bytes).await;
                }
                bytes
            }));
            let (data, ()) = futures::join!(reads, far_end);
            let failed = forwarder.join().await.is_err();
            let errors = futures::future::join_all(errors.into_iter().map(|error| async move {
                match error {
                    Some(error) => error.await,
                    None => None,
                }
            }))
            .await;
            PortforwardOutcome {
                data,
                errors,
                failed,
            }
        })
        .unwrap_or(PortforwardOutcome {
            failed: true,
            ..PortforwardOutcome::default()
        })
    }
}

#[cfg(all(test, feature = "ws"))]
mod tests {
    use super::*;

    #[test]
    fn exec_frames_pass_on_what_the_channels_carry() {
        let messages = vec![
            b"\x01hello".to_vec(),
            b"\x02oops".to_vec(),
            [&[3][..], br#"{"metadata":{},"status":"Success"}"#].concat(),
            b"\xff\x01".to_vec(),
            b"\x01dropped".to_vec(),
        ];
        let outcome = exec_frames(&messages, false);
        assert_eq!(outcome.stdout, b"hello");
        assert_eq!(outcome.stderr, b"oops");
        assert!(outcome.status.is_some());
        assert!(!outcome.failed);
    }
}
