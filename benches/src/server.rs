//! A minimal HTTP/1.1 server on 127.0.0.1 that answers from prepared bytes.
//!
//! It runs on a thread of its own with its own runtime, so the client under
//! test has the benchmark's runtime to itself. Every answer is rendered before
//! the measurement starts: serving costs one `write` of ready bytes, the same
//! for every client. Connections are kept alive, as the apiserver's are.

use std::{net::SocketAddr, sync::Arc};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// An answer to one request.
pub enum Reply {
    /// `200 OK` with a `Content-Length` body (a list page).
    Full(Bytes),
    /// `200 OK` with a chunked body, already encoded by [`chunked`] (a watch).
    /// With `end`, the terminating chunk follows; otherwise the response stays
    /// open and idle until the client goes away, as a quiet watch does.
    Chunked { encoded: Bytes, end: bool },
    /// `404 Not Found`.
    NotFound,
}

/// Decides the answer to a request from its target (path and query).
pub trait Routes: Send + Sync + 'static {
    /// The answer to `GET target`.
    fn reply(&self, target: &str) -> Reply;
}

/// Encodes `lines` as a chunked body, one chunk per newline-terminated line,
/// as the apiserver flushes each watch event. The terminating chunk is not
/// included.
pub fn chunked<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Bytes {
    let mut body = Vec::new();
    for line in lines {
        body.extend_from_slice(format!("{:x}\r\n", line.len() + 1).as_bytes());
        body.extend_from_slice(line);
        body.extend_from_slice(b"\n\r\n");
    }
    Bytes::from(body)
}

/// The value of query parameter `name` in `target`, if present.
pub fn query_param<'a>(target: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = target.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Starts serving `routes` on a free port of 127.0.0.1; the server lives as long
/// as the process.
pub fn start(routes: impl Routes) -> Result<SocketAddr> {
    let routes: Arc<dyn Routes> = Arc::new(routes);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    std::thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let Ok(runtime) = runtime else {
                eprintln!("bench server: no runtime");
                return;
            };
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    eprintln!("bench server: cannot listen");
                    return;
                };
                while let Ok((socket, _)) = listener.accept().await {
                    let routes = Arc::clone(&routes);
                    tokio::spawn(async move {
                        if let Err(error) = serve(socket, routes.as_ref()).await {
                            eprintln!("bench server: {error:#}");
                        }
                    });
                }
            });
        })
        .context("spawning the server thread")?;
    Ok(addr)
}

/// Answers the requests of one connection until the client closes it.
async fn serve(mut socket: TcpStream, routes: &dyn Routes) -> Result<()> {
    socket.set_nodelay(true)?;
    let mut pending = Vec::with_capacity(4096);
    loop {
        let Some(head) = read_head(&mut socket, &mut pending).await? else {
            return Ok(());
        };
        let target = request_target(&head)?;
        match routes.reply(&target) {
            Reply::Full(body) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                socket.write_all(head.as_bytes()).await?;
                socket.write_all(&body).await?;
            }
            Reply::Chunked { encoded, end } => {
                socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                    )
                    .await?;
                socket.write_all(&encoded).await?;
                if !end {
                    // An idle watch: hold the response open until the client
                    // leaves (by closing or resetting the connection).
                    let mut sink = [0u8; 1024];
                    while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
                    return Ok(());
                }
                socket.write_all(b"0\r\n\r\n").await?;
            }
            Reply::NotFound => {
                let body = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#;
                let head = format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                socket.write_all(head.as_bytes()).await?;
                socket.write_all(body).await?;
            }
        }
    }
}

/// Reads one request head (requests here carry no body); `None` when the
/// client closed the connection between requests.
async fn read_head(socket: &mut TcpStream, pending: &mut Vec<u8>) -> Result<Option<Vec<u8>>> {
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = pending[..end].to_vec();
            pending.drain(..end + 4);
            return Ok(Some(head));
        }
        let mut buf = [0u8; 4096];
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            if pending.is_empty() {
                return Ok(None);
            }
            bail!("connection closed in the middle of a request head");
        }
        pending.extend_from_slice(&buf[..n]);
    }
}

/// The target of a `GET` request line.
fn request_target(head: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(head).context("request head is not UTF-8")?;
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Ok(target.to_string()),
        _ => bail!("unexpected request line {line:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_carry_their_line_and_newline() {
        let body = chunked([&b"abc"[..], &b"0123456789abcdef"[..]]);
        assert_eq!(&body[..], b"4\r\nabc\n\r\n11\r\n0123456789abcdef\n\r\n");
    }

    #[test]
    fn query_params_are_found_by_name() {
        let target = "/api/v1/pods?limit=500&continue=page-3&watch=false";
        assert_eq!(query_param(target, "continue"), Some("page-3"));
        assert_eq!(query_param(target, "watch"), Some("false"));
        assert_eq!(query_param(target, "resourceVersion"), None);
        assert_eq!(query_param("/api/v1/pods", "limit"), None);
    }
}
