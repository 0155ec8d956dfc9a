//! Ports of a pod, reached over a WebSocket: what `portforward` returns.
//!
//! Each forwarded port has two channels on the socket: data (`2 × index`) and
//! errors (`2 × index + 1`), in the order the ports were asked for. The first
//! message on every channel carries the port number (two bytes, little
//! endian), which is checked against the port asked for. After that, data
//! messages carry the bytes of one TCP connection to the port inside the pod,
//! and an error message says why that connection failed.

use std::{collections::HashMap, future::Future};

use bytes::{Bytes, BytesMut};
use futures::{
    FutureExt, SinkExt, StreamExt,
    channel::oneshot,
    stream::{BoxStream, SelectAll},
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, WriteHalf};
use tokio_tungstenite::{WebSocketStream, tungstenite as ws};

use super::remote_command::{ended_abruptly, finish_close};

/// How many bytes wait in each direction of a forwarded port.
const PIPE_SIZE: usize = 1024 * 1024;

/// What went wrong between the WebSocket and the forwarded ports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server used a channel that belongs to no port asked for.
    #[error("the server sent on channel {0}, which belongs to no forwarded port")]
    InvalidChannel(usize),

    /// The first message of a channel did not hold exactly a port number.
    #[error(
        "the first message of a port-forward channel holds {0} bytes instead of a 2-byte port number"
    )]
    InvalidInitialFrameSize(usize),

    /// The first message of a channel named another port than asked for.
    #[error("the server forwards port {actual} where port {expected} was asked for")]
    InvalidPortMapping {
        /// The port the server named.
        actual: u16,
        /// The port asked for on that channel.
        expected: u16,
    },

    /// Bytes from the pod could not be passed on.
    #[error("could not pass on bytes from port {port} of the pod: {source}")]
    WriteBytesFromPod {
        /// The pod's port.
        port: u16,
        /// What the pipe reported.
        #[source]
        source: std::io::Error,
    },

    /// Bytes for the pod could not be read from the caller's stream.
    #[error("could not read the bytes to send to port {port} of the pod: {source}")]
    ReadBytesToSend {
        /// The pod's port.
        port: u16,
        /// What the pipe reported.
        #[source]
        source: std::io::Error,
    },

    /// A message could not be sent.
    #[error("could not send over the WebSocket: {0}")]
    SendWebSocketMessage(#[source] ws::Error),

    /// The WebSocket failed.
    #[error("could not receive from the WebSocket: {0}")]
    ReceiveWebSocketMessage(#[source] ws::Error),

    /// The background task panicked or was cancelled.
    #[error("the task moving the forwarded bytes failed: {0}")]
    Spawn(#[source] tokio::task::JoinError),
}

/// Forwarded ports of a pod, from [`Api::portforward`](crate::Api::portforward).
///
/// Each port gives one byte stream to that port inside the pod; take it with
/// [`take_stream`](Self::take_stream), and the reason it failed, if it did,
/// with [`take_error`](Self::take_error).
///
/// ```no_run
/// # async fn run(pods: kube_client::Api<k8s_openapi::api::core::v1::Pod>) -> Result<(), Box<dyn std::error::Error>> {
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// let mut forwarder = pods.portforward("web", &[80]).await?;
/// let mut port = forwarder.take_stream(80).expect("port 80 was asked for");
/// port.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
/// let mut page = Vec::new();
/// port.read_to_end(&mut page).await?;
/// drop(port);
/// forwarder.join().await?;
/// # Ok(())
/// # }
/// ```
pub struct Portforwarder {
    ports: HashMap<u16, DuplexStream>,
    errors: HashMap<u16, oneshot::Receiver<String>>,
    task: tokio::task::JoinHandle<Result<(), Error>>,
}

impl std::fmt::Debug for Portforwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ports: Vec<u16> = self.ports.keys().copied().collect();
        ports.sort_unstable();
        f.debug_struct("Portforwarder")
            .field("untaken_ports", &ports)
            .finish_non_exhaustive()
    }
}

impl Portforwarder {
    /// Starts forwarding `ports` over `socket`.
    pub(crate) fn new<S>(socket: WebSocketStream<S>, ports: &[u16]) -> Self
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut user_ends = HashMap::with_capacity(ports.len());
        let mut errors = HashMap::with_capacity(ports.len());
        let mut forwarded = Vec::with_capacity(ports.len());
        let mut outgoing = SelectAll::new();
        for (index, &port) in ports.iter().enumerate() {
            let (user_end, task_end) = tokio::io::duplex(PIPE_SIZE);
            let (from_user, to_user) = tokio::io::split(task_end);
            user_ends.insert(port, user_end);
            let (error_tx, error_rx) = oneshot::channel();
            errors.insert(port, error_rx);
            forwarded.push(Forwarded {
                port,
                to_user: Some(to_user),
                data_ready: false,
                error_ready: false,
                error: Some(error_tx),
            });
            outgoing.push(reads(index, port, from_user));
        }
        let pump = Pump {
            socket,
            ports: forwarded,
            outgoing,
        };
        Self {
            ports: user_ends,
            errors,
            task: tokio::spawn(pump.run()),
        }
    }

    /// The byte stream to `port` in the pod, taken once. Dropping it (with
    /// every other port's) ends the forwarding.
    pub fn take_stream(&mut self, port: u16) -> Option<DuplexStream> {
        self.ports.remove(&port)
    }

    /// The server's message when forwarding to `port` fails, taken once.
    /// Resolves to `None` when the forwarding ends without one.
    pub fn take_error(
        &mut self,
        port: u16,
    ) -> Option<impl Future<Output = Option<String>> + use<>> {
        self.errors
            .remove(&port)
            .map(|error| error.map(|received| received.ok()))
    }

    /// Ends the forwarding now.
    pub fn abort(&self) {
        self.task.abort();
    }

    /// Waits until the forwarding ends: after every stream was dropped (those
    /// not taken are dropped here), or when the server closes the connection.
    pub async fn join(self) -> Result<(), Error> {
        let Self {
            ports,
            errors,
            task,
        } = self;
        drop(ports);
        drop(errors);
        task.await.unwrap_or_else(|e| Err(Error::Spawn(e)))
    }
}

/// One forwarded port, as the background task sees it.
struct Forwarded {
    port: u16,
    to_user: Option<WriteHalf<DuplexStream>>,
    /// Whether the data channel's port number arrived.
    data_ready: bool,
    /// Whether the error channel's port number arrived.
    error_ready: bool,
    error: Option<oneshot::Sender<String>>,
}

/// What the caller wrote to one port: `(channel index, bytes)` until the
/// caller closes its stream.
type Outgoing = BoxStream<'static, (usize, Result<Bytes, Error>)>;

fn reads(index: usize, port: u16, from_user: tokio::io::ReadHalf<DuplexStream>) -> Outgoing {
    futures::stream::unfold(Some(from_user), move |state| async move {
        let mut from_user = state?;
        let mut buffer = BytesMut::with_capacity(16 * 1024);
        match from_user.read_buf(&mut buffer).await {
            Ok(0) => None,
            Ok(_) => Some(((index, Ok(buffer.freeze())), Some(from_user))),
            Err(source) => Some(((index, Err(Error::ReadBytesToSend { port, source })), None)),
        }
    })
    .boxed()
}

struct Pump<S> {
    socket: WebSocketStream<S>,
    ports: Vec<Forwarded>,
    outgoing: SelectAll<Outgoing>,
}

impl<S> Pump<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    async fn run(mut self) -> Result<(), Error> {
        let result = self.pump().await;
        if result.is_err() {
            // Tell the server, if it still listens, that this end gives up.
            let _ = self.socket.close(None).await;
        }
        for forwarded in &mut self.ports {
            if let Some(mut to_user) = forwarded.to_user.take() {
                // A caller that is gone needs no end-of-file.
                let _ = to_user.shutdown().await;
            }
        }
        result
    }

    async fn pump(&mut self) -> Result<(), Error> {
        let mut closing = false;
        loop {
            tokio::select! {
                message = self.socket.next() => match message {
                    Some(Ok(ws::Message::Binary(data))) => self.received(&data).await?,
                    Some(Ok(ws::Message::Close(_))) => {
                        finish_close(&mut self.socket).await;
                        break;
                    }
                    None => break,
                    Some(Ok(_)) => {}
                    Some(Err(error)) if ended_abruptly(&error) => break,
                    Some(Err(error)) => return Err(Error::ReceiveWebSocketMessage(error)),
                },
                sent = self.outgoing.next(), if !closing => match sent {
                    Some((index, Ok(bytes))) => {
                        let channel = u8::try_from(index * 2).map_err(|_| Error::InvalidChannel(index * 2))?;
                        let mut message = Vec::with_capacity(bytes.len() + 1);
                        message.push(channel);
                        message.extend_from_slice(&bytes);
                        self.socket
                            .send(ws::Message::Binary(message.into()))
                            .await
                            .map_err(Error::SendWebSocketMessage)?;
                    }
                    Some((_, Err(error))) => return Err(error),
                    None => {
                        // Every caller closed its stream: say goodbye and let the
                        // server close the connection.
                        closing = true;
                        self.socket.close(None).await.map_err(Error::SendWebSocketMessage)?;
                    }
                },
            }
        }
        Ok(())
    }

    /// Handles one binary message from the server.
    async fn received(&mut self, data: &[u8]) -> Result<(), Error> {
        let Some((&channel, payload)) = data.split_first() else {
            return Ok(());
        };
        let channel = usize::from(channel);
        let forwarded = self
            .ports
            .get_mut(channel / 2)
            .ok_or(Error::InvalidChannel(channel))?;
        let is_error = channel % 2 == 1;
        let ready = if is_error {
            &mut forwarded.error_ready
        } else {
            &mut forwarded.data_ready
        };
        if !*ready {
            let actual = match payload {
                [low, high] => u16::from_le_bytes([*low, *high]),
                other => return Err(Error::InvalidInitialFrameSize(other.len())),
            };
            if actual != forwarded.port {
                return Err(Error::InvalidPortMapping {
                    actual,
                    expected: forwarded.port,
                });
            }
            *ready = true;
            return Ok(());
        }
        if is_error {
            let message = String::from_utf8_lossy(payload).into_owned();
            tracing::debug!(port = forwarded.port, %message, "port-forward error");
            if let Some(sender) = forwarded.error.take() {
                // Nobody waiting for the error is fine.
                let _ = sender.send(message);
            }
            return Ok(());
        }
        if let Some(to_user) = &mut forwarded.to_user {
            match to_user.write_all(payload).await {
                Ok(()) => {}
                // The caller dropped its stream: the bytes have nowhere to go.
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                    forwarded.to_user = None;
                }
                Err(source) => {
                    return Err(Error::WriteBytesFromPod {
                        port: forwarded.port,
                        source,
                    });
                }
            }
        }
        Ok(())
    }
}
