//! A process in a container, reached over a WebSocket: what `exec` and
//! `attach` return.
//!
//! The WebSocket multiplexes the process's streams as binary messages whose
//! first byte names the channel. One background task moves bytes between the
//! socket and in-memory pipes handed to the caller, and delivers the `Status`
//! that the server sends on the error channel when the process ends.

use std::future::Future;

use bytes::Bytes;
use futures::{
    FutureExt, SinkExt, StreamExt,
    channel::{mpsc, oneshot},
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use serde::{Deserialize, Serialize};
use tokio::io::{
    AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, SimplexStream, WriteHalf,
};
use tokio_tungstenite::{WebSocketStream, tungstenite as ws};

use super::AttachParams;
use crate::client::Connection;

/// Standard input, from the client.
const STDIN: u8 = 0;
/// Standard output, from the server.
const STDOUT: u8 = 1;
/// Standard error, from the server.
const STDERR: u8 = 2;
/// The error channel: one `Status` when the process ends.
const ERROR: u8 = 3;
/// Terminal size changes, from the client, as JSON.
const RESIZE: u8 = 4;
/// Closes the stream named by the next byte (v5 subprotocol only).
const CLOSE: u8 = 255;

/// How many bytes wait in a pipe when the params set no size.
const DEFAULT_PIPE_SIZE: usize = 1024;

/// The size of a terminal, sent when it changes (with `tty` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TerminalSize {
    /// Columns.
    pub width: u16,
    /// Rows.
    pub height: u16,
}

/// What went wrong between the WebSocket and the process's streams.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Standard input could not be read from its pipe.
    #[error("could not read the standard input to send: {0}")]
    ReadStdin(#[source] std::io::Error),

    /// Standard input could not be sent.
    #[error("could not send standard input over the WebSocket: {0}")]
    SendStdin(#[source] ws::Error),

    /// Standard output could not be written to its pipe.
    #[error("could not pass on standard output: {0}")]
    WriteStdout(#[source] std::io::Error),

    /// Standard error could not be written to its pipe.
    #[error("could not pass on standard error: {0}")]
    WriteStderr(#[source] std::io::Error),

    /// The WebSocket failed.
    #[error("could not receive from the WebSocket: {0}")]
    ReceiveWebSocketMessage(#[source] ws::Error),

    /// The background task panicked or was cancelled.
    #[error("the task moving the process's streams failed: {0}")]
    Spawn(#[source] tokio::task::JoinError),

    /// Closing standard input (or the socket) could not be sent.
    #[error("could not send a close message over the WebSocket: {0}")]
    SendClose(#[source] ws::Error),

    /// The error channel held something other than a `Status`.
    #[error("the server's status message is not a Status object: {0}")]
    DeserializeStatus(#[source] serde_json::Error),

    /// A terminal size could not be encoded.
    #[error("could not encode the terminal size: {0}")]
    SerializeTerminalSize(#[source] serde_json::Error),

    /// A terminal size could not be sent.
    #[error("could not send the terminal size over the WebSocket: {0}")]
    SendTerminalSize(#[source] ws::Error),
}

/// A process in a container, from [`Api::exec`](crate::Api::exec) or
/// [`Api::attach`](crate::Api::attach).
///
/// Take the streams that were asked for in the [`AttachParams`], read and
/// write them, then [`join`](Self::join). Dropping it closes the connection.
///
/// ```no_run
/// # async fn run(pods: kube_client::Api<k8s_openapi::api::core::v1::Pod>) -> Result<(), Box<dyn std::error::Error>> {
/// use kube_client::api::AttachParams;
/// use tokio::io::AsyncReadExt;
///
/// let mut process = pods.exec("web", ["cat", "/etc/hostname"], &AttachParams::default()).await?;
/// let mut stdout = process.stdout().expect("stdout was asked for");
/// let status = process.take_status().expect("taken once");
/// let mut hostname = String::new();
/// stdout.read_to_string(&mut hostname).await?;
/// println!("{hostname} ({:?})", status.await.and_then(|s| s.status));
/// process.join().await?;
/// # Ok(())
/// # }
/// ```
pub struct AttachedProcess {
    stdin: Option<WriteHalf<SimplexStream>>,
    stdout: Option<ReadHalf<SimplexStream>>,
    stderr: Option<ReadHalf<SimplexStream>>,
    status: Option<oneshot::Receiver<Status>>,
    resize: Option<mpsc::Sender<TerminalSize>>,
    task: Option<tokio::task::JoinHandle<Result<(), Error>>>,
}

impl std::fmt::Debug for AttachedProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachedProcess")
            .field("stdin", &self.stdin.is_some())
            .field("stdout", &self.stdout.is_some())
            .field("stderr", &self.stderr.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for AttachedProcess {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl AttachedProcess {
    pub(crate) fn new(connection: Connection, ap: &AttachParams) -> Self {
        let closable = connection.supports_stream_close();
        Self::over(connection.into_stream(), closable, ap)
    }

    /// Starts moving the streams of a process over `socket`; `closable` says
    /// whether the subprotocol can close single streams.
    pub(crate) fn over<S>(socket: WebSocketStream<S>, closable: bool, ap: &AttachParams) -> Self
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let pipe = |wanted: bool, size: Option<usize>| {
            wanted.then(|| tokio::io::simplex(size.unwrap_or(DEFAULT_PIPE_SIZE).max(1)))
        };
        let (stdin_from_user, stdin) =
            pipe(ap.stdin, ap.max_stdin_buf_size).map_or((None, None), |(r, w)| (Some(r), Some(w)));
        let (stdout, stdout_to_user) = pipe(ap.stdout, ap.max_stdout_buf_size)
            .map_or((None, None), |(r, w)| (Some(r), Some(w)));
        let (stderr, stderr_to_user) = pipe(ap.stderr, ap.max_stderr_buf_size)
            .map_or((None, None), |(r, w)| (Some(r), Some(w)));
        let (status_tx, status) = oneshot::channel();
        let (resize, resize_rx) = if ap.tty {
            let (tx, rx) = mpsc::channel(8);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let pump = Pump {
            socket,
            closable,
            stdin: stdin_from_user,
            stdout: stdout_to_user,
            stderr: stderr_to_user,
            status: Some(status_tx),
            resize: resize_rx,
        };
        Self {
            stdin,
            stdout,
            stderr,
            status: Some(status),
            resize,
            task: Some(tokio::spawn(pump.run())),
        }
    }

    /// The process's standard input, if asked for and not taken yet. Shut it
    /// down (or drop it) to close standard input; the process only sees the
    /// end of its input with the `v5.channel.k8s.io` subprotocol.
    pub fn stdin(&mut self) -> Option<WriteHalf<SimplexStream>> {
        self.stdin.take()
    }

    /// The process's standard output, if asked for and not taken yet. It
    /// ends when the connection closes. Read it as it comes: once its pipe is
    /// full, nothing else moves over the connection.
    pub fn stdout(&mut self) -> Option<ReadHalf<SimplexStream>> {
        self.stdout.take()
    }

    /// The process's standard error, if asked for and not taken yet.
    pub fn stderr(&mut self) -> Option<ReadHalf<SimplexStream>> {
        self.stderr.take()
    }

    /// Closes the connection now, leaving the process to the server.
    pub fn abort(&self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }

    /// Waits until the server closes the connection. Standard input, if not
    /// taken, is closed; output streams not taken are read and discarded, so
    /// that output nobody reads cannot hold the connection open.
    pub async fn join(mut self) -> Result<(), Error> {
        if let Some(mut stdin) = self.stdin.take() {
            // The server may already be gone; there is nothing left to tell it.
            let _ = stdin.shutdown().await;
        }
        self.resize = None;
        let discard = |pipe: Option<ReadHalf<SimplexStream>>| async move {
            if let Some(mut pipe) = pipe {
                // Only the end of the stream matters here, not its bytes.
                let _ = tokio::io::copy(&mut pipe, &mut tokio::io::sink()).await;
            }
        };
        let task = self.task.take();
        let ended = async move {
            match task {
                Some(task) => task.await.unwrap_or_else(|e| Err(Error::Spawn(e))),
                None => Ok(()),
            }
        };
        let (result, (), ()) = futures::join!(
            ended,
            discard(self.stdout.take()),
            discard(self.stderr.take())
        );
        result
    }

    /// The `Status` the server sends when the process ends, taken once:
    /// `Success`, or `Failure` with reason `NonZeroExitCode` and the exit code
    /// as the cause `ExitCode`. `None` if the connection closed without one.
    pub fn take_status(&mut self) -> Option<impl Future<Output = Option<Status>> + use<>> {
        self.status
            .take()
            .map(|status| status.map(|received| received.ok()))
    }

    /// A sender of terminal size changes, taken once; only with `tty`.
    pub fn terminal_size(&mut self) -> Option<mpsc::Sender<TerminalSize>> {
        self.resize.take()
    }
}

/// The background task's state: the socket and the task's ends of the pipes.
struct Pump<S> {
    socket: WebSocketStream<S>,
    closable: bool,
    stdin: Option<ReadHalf<SimplexStream>>,
    stdout: Option<WriteHalf<SimplexStream>>,
    stderr: Option<WriteHalf<SimplexStream>>,
    status: Option<oneshot::Sender<Status>>,
    resize: Option<mpsc::Receiver<TerminalSize>>,
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
        // Readers see the end of output; an unread status resolves to None.
        self.shutdown_outputs().await;
        result
    }

    async fn pump(&mut self) -> Result<(), Error> {
        let mut buffer = vec![0_u8; 8 * 1024];
        loop {
            let stdin_open = self.stdin.is_some();
            let resize_open = self.resize.is_some();
            tokio::select! {
                message = self.socket.next() => match message {
                    Some(Ok(message)) => {
                        if !self.received(message).await? {
                            break;
                        }
                    }
                    Some(Err(error)) if ended_abruptly(&error) => break,
                    Some(Err(error)) => return Err(Error::ReceiveWebSocketMessage(error)),
                    None => break,
                },
                read = read_some(&mut self.stdin, &mut buffer), if stdin_open => {
                    let n = read.map_err(Error::ReadStdin)?;
                    if n == 0 {
                        self.stdin = None;
                        if self.closable {
                            self.send(Bytes::from_static(&[CLOSE, STDIN]))
                                .await
                                .map_err(Error::SendClose)?;
                        }
                    } else {
                        let chunk = buffer.get(..n).unwrap_or_default();
                        self.send(frame(STDIN, chunk)).await.map_err(Error::SendStdin)?;
                    }
                },
                size = next_size(&mut self.resize), if resize_open => match size {
                    Some(size) => {
                        let json = serde_json::to_vec(&size).map_err(Error::SerializeTerminalSize)?;
                        self.send(frame(RESIZE, &json)).await.map_err(Error::SendTerminalSize)?;
                    }
                    None => self.resize = None,
                },
            }
        }
        Ok(())
    }

    /// Handles one message from the server; `false` once the server closed.
    async fn received(&mut self, message: ws::Message) -> Result<bool, Error> {
        let data = match message {
            ws::Message::Binary(data) => data,
            ws::Message::Close(_) => {
                finish_close(&mut self.socket).await;
                return Ok(false);
            }
            // Pings are answered by the WebSocket layer; text is not part of
            // the binary channel protocols.
            _ => return Ok(true),
        };
        let Some((&channel, payload)) = data.split_first() else {
            return Ok(true);
        };
        match channel {
            STDOUT => {
                if let Err(error) = write_out(&mut self.stdout, payload).await {
                    return Err(Error::WriteStdout(error));
                }
            }
            STDERR => {
                if let Err(error) = write_out(&mut self.stderr, payload).await {
                    return Err(Error::WriteStderr(error));
                }
            }
            ERROR if !payload.is_empty() => {
                let status: Status =
                    serde_json::from_slice(payload).map_err(Error::DeserializeStatus)?;
                tracing::debug!(status = ?status.status, reason = ?status.reason, "process ended");
                if let Some(sender) = self.status.take() {
                    // Nobody waiting for the status is fine.
                    let _ = sender.send(status);
                }
            }
            CLOSE => match payload.first() {
                Some(&STDOUT) => close_pipe(&mut self.stdout).await,
                Some(&STDERR) => close_pipe(&mut self.stderr).await,
                _ => {}
            },
            _ => {}
        }
        Ok(true)
    }

    async fn send(&mut self, data: Bytes) -> Result<(), ws::Error> {
        self.socket.send(ws::Message::Binary(data)).await
    }

    async fn shutdown_outputs(&mut self) {
        close_pipe(&mut self.stdout).await;
        close_pipe(&mut self.stderr).await;
    }
}

/// Completes a close the server started: polling the socket sends the
/// queued reply, then the socket ends.
pub(crate) async fn finish_close<S>(socket: &mut WebSocketStream<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    while let Some(Ok(_)) = socket.next().await {}
}

/// Whether a WebSocket error only says the connection ended without the
/// closing handshake: after the process ended, nothing is lost by that.
pub(crate) fn ended_abruptly(error: &ws::Error) -> bool {
    matches!(
        error,
        ws::Error::ConnectionClosed
            | ws::Error::AlreadyClosed
            | ws::Error::Protocol(ws::error::ProtocolError::ResetWithoutClosingHandshake)
    )
}

/// Ends an output stream, so that its reader sees the end of it. Dropping
/// the writing half would not: the halves share one pipe.
async fn close_pipe(pipe: &mut Option<WriteHalf<SimplexStream>>) {
    if let Some(mut writer) = pipe.take() {
        // A reader that is gone needs no end-of-file.
        let _ = writer.shutdown().await;
    }
}

/// A message for `channel` carrying `payload`.
fn frame(channel: u8, payload: &[u8]) -> Bytes {
    let mut message = Vec::with_capacity(payload.len() + 1);
    message.push(channel);
    message.extend_from_slice(payload);
    Bytes::from(message)
}

/// Reads from standard input's pipe, if it is still open.
async fn read_some(
    pipe: &mut Option<ReadHalf<SimplexStream>>,
    buffer: &mut [u8],
) -> std::io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read(buffer).await,
        None => std::future::pending().await,
    }
}

async fn next_size(sizes: &mut Option<mpsc::Receiver<TerminalSize>>) -> Option<TerminalSize> {
    match sizes {
        Some(sizes) => sizes.next().await,
        None => std::future::pending().await,
    }
}

/// Passes output on, if it was asked for.
async fn write_out(
    pipe: &mut Option<WriteHalf<SimplexStream>>,
    payload: &[u8],
) -> std::io::Result<()> {
    match pipe {
        Some(writer) => writer.write_all(payload).await,
        None => Ok(()),
    }
}
