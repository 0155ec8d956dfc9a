//! A tiny HTTP/1.1 server on loopback for the tests of credential providers
//! that ask an HTTP endpoint for tokens (OIDC issuers, Google's token
//! endpoint).

use std::sync::{Arc, Mutex};

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

/// A request the provider received.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) path: String,
    pub(crate) authorization: Option<String>,
    pub(crate) body: String,
}

pub(crate) type Handler = Arc<dyn Fn(&Seen, &str) -> (u16, String) + Send + Sync>;

/// Serves HTTP/1.1 on loopback, one request per connection; `handler` gets
/// each request and the server's base URL.
pub(crate) async fn serve(handler: Handler) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let url = base.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let mut stream = BufReader::new(tcp);
            let mut line = String::new();
            if stream.read_line(&mut line).await.is_err() {
                continue;
            }
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            let (mut length, mut authorization) = (0, None);
            loop {
                let mut header = String::new();
                if stream.read_line(&mut header).await.unwrap_or(0) == 0 {
                    break;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    if name.eq_ignore_ascii_case("authorization") {
                        authorization = Some(value.trim().to_string());
                    }
                }
            }
            let mut body = vec![0; length];
            if stream.read_exact(&mut body).await.is_err() {
                continue;
            }
            let request = Seen {
                path,
                authorization,
                body: String::from_utf8_lossy(&body).into_owned(),
            };
            log.lock().expect("lock").push(request.clone());
            let (status, reply) = handler(&request, &url);
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                reply.len()
            );
            let tcp = stream.get_mut();
            let _ = tcp.write_all(head.as_bytes()).await;
            let _ = tcp.write_all(reply.as_bytes()).await;
            let _ = tcp.shutdown().await;
        }
    });
    (base, seen)
}
