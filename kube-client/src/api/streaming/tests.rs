//! The channel framing of exec, attach and port-forward, against an
//! in-process WebSocket server on loopback that plays the far end (the part
//! of the apiserver and kubelet that a control plane without nodes lacks).

// The handshake callbacks return tungstenite's own, large, error response.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        Message,
        handshake::server::{ErrorResponse, Request, Response},
    },
};

use crate::{
    Api, Client, Config, Error,
    api::{AttachParams, TerminalSize},
    client::UpgradeConnectionError,
};

type Socket = WebSocketStream<TcpStream>;

/// What the server saw of the upgrade request.
#[derive(Debug, Default, Clone)]
struct Seen {
    uri: String,
    protocols: String,
    authorization: Option<String>,
}

/// Serves one WebSocket: `choose` picks the subprotocol (or refuses the
/// request), `session` then plays the far end. Returns pods in namespace `ns`
/// on that server, what it saw, and the server task (which fails the test by
/// panicking).
async fn serve<C, S, F>(
    config: impl FnOnce(Config) -> Config,
    choose: C,
    session: S,
) -> (Api<Pod>, Arc<Mutex<Seen>>, JoinHandle<()>)
where
    C: FnOnce(&Request) -> Result<&'static str, ErrorResponse> + Send + Unpin + 'static,
    S: FnOnce(Socket) -> F + Send + 'static,
    F: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let callback = move |request: &Request, mut response: Response| {
            let header = |name: &str| {
                request
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            *record.lock().expect("lock") = Seen {
                uri: request.uri().to_string(),
                protocols: header("sec-websocket-protocol").unwrap_or_default(),
                authorization: header("authorization"),
            };
            let protocol = choose(request)?;
            response.headers_mut().insert(
                "sec-websocket-protocol",
                protocol.parse().expect("header value"),
            );
            Ok(response)
        };
        // A refused handshake ends here, as the client sees.
        if let Ok(socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
            session(socket).await;
        }
    });
    let config = config(Config::new(
        format!("http://{address}").parse().expect("a URI"),
    ));
    let client = Client::try_from(config).expect("a client");
    (Api::namespaced(client, "ns"), seen, server)
}

fn v5(_: &Request) -> Result<&'static str, ErrorResponse> {
    Ok("v5.channel.k8s.io")
}

fn v4(_: &Request) -> Result<&'static str, ErrorResponse> {
    Ok("v4.channel.k8s.io")
}

fn binary(channel: u8, payload: &[u8]) -> Message {
    let mut data = vec![channel];
    data.extend_from_slice(payload);
    Message::Binary(data.into())
}

/// The next binary message, or `None` once the client closed (the close is
/// answered) or went away.
async fn next_binary(socket: &mut Socket) -> Option<Vec<u8>> {
    while let Some(Ok(message)) = socket.next().await {
        match message {
            Message::Binary(data) => return Some(data.to_vec()),
            Message::Close(_) => {
                while let Some(Ok(_)) = socket.next().await {}
                return None;
            }
            _ => {}
        }
    }
    None
}

const EXIT_CODE_STATUS: &str = r#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#;

#[tokio::test]
async fn exec_moves_the_streams_and_delivers_the_exit_status() {
    let (pods, seen, server) = serve(
        |c| c,
        v5,
        |mut socket| async move {
            socket.send(binary(1, b"out:")).await.expect("send");
            socket.send(binary(2, b"err")).await.expect("send");
            // Echo standard input on standard output until the client closes it.
            let mut input = Vec::new();
            loop {
                let data = next_binary(&mut socket).await.expect("stdin or its close");
                match data.split_first() {
                    Some((0, payload)) => input.extend_from_slice(payload),
                    Some((255, [0])) => break,
                    other => panic!("unexpected message {other:?}"),
                }
            }
            socket.send(binary(1, &input)).await.expect("send");
            socket
                .send(binary(3, EXIT_CODE_STATUS.as_bytes()))
                .await
                .expect("send");
            socket.close(None).await.expect("close");
        },
    )
    .await;

    let ap = AttachParams::default().stdin(true).container("main");
    let mut process = pods
        .exec("web", ["sh", "-c", "exit 3"], &ap)
        .await
        .expect("the socket opens");
    let mut stdin = process.stdin().expect("stdin");
    let mut stdout = process.stdout().expect("stdout");
    let mut stderr = process.stderr().expect("stderr");
    assert!(process.stdin().is_none(), "taken once");
    let status = process.take_status().expect("status");
    stdin.write_all(b"typed").await.expect("write");
    stdin.shutdown().await.expect("close stdin");
    let mut out = String::new();
    stdout.read_to_string(&mut out).await.expect("read");
    let mut err = String::new();
    stderr.read_to_string(&mut err).await.expect("read");
    assert_eq!(out, "out:typed");
    assert_eq!(err, "err");
    let status = status.await.expect("a status");
    assert_eq!(status.status.as_deref(), Some("Failure"));
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
    let causes = status.details.and_then(|d| d.causes).unwrap_or_default();
    assert_eq!(causes[0].message.as_deref(), Some("3"));
    process.join().await.expect("a clean end");
    server.await.expect("the server's checks");

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        seen.uri,
        "/api/v1/namespaces/ns/pods/web/exec?stdin=true&stdout=true&stderr=true&container=main&command=sh&command=-c&command=exit+3"
    );
    assert_eq!(seen.protocols, "v5.channel.k8s.io, v4.channel.k8s.io");
}

#[tokio::test]
async fn a_stream_the_server_closes_ends_for_its_reader_at_once() {
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (pods, _seen, server) = serve(
        |c| c,
        v5,
        |mut socket| async move {
            socket.send(binary(1, b"last words")).await.expect("send");
            socket.send(binary(255, &[1])).await.expect("send");
            socket.send(binary(2, b"still here")).await.expect("send");
            // The connection stays open until the test has read stdout.
            let _ = released.await;
            socket.close(None).await.expect("close");
        },
    )
    .await;
    let mut process = pods
        .exec("web", ["cat"], &AttachParams::default())
        .await
        .expect("the socket opens");
    let mut stdout = process.stdout().expect("stdout");
    let mut out = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stdout.read_to_string(&mut out),
    )
    .await
    .expect("stdout ends when the server closes it, not when the connection does")
    .expect("read");
    assert_eq!(out, "last words");
    let _ = release.send(());
    let mut err = String::new();
    let mut stderr = process.stderr().expect("stderr");
    stderr.read_to_string(&mut err).await.expect("read");
    assert_eq!(err, "still here");
    process.join().await.expect("a clean end");
    server.await.expect("the server's checks");
}

#[tokio::test]
async fn with_v4_closing_stdin_sends_no_close_message() {
    let (pods, _seen, server) = serve(
        |c| c,
        v4,
        |mut socket| async move {
            let data = next_binary(&mut socket).await.expect("stdin");
            assert_eq!(data, b"\0line\n");
            socket
                .send(binary(3, br#"{"metadata":{},"status":"Success"}"#))
                .await
                .expect("send");
            socket.close(None).await.expect("close");
            // Whatever else arrives before the close completes must not be a
            // stream close, which v4 does not know.
            while let Some(data) = next_binary(&mut socket).await {
                assert_ne!(data.first(), Some(&255), "v4 has no close channel");
            }
        },
    )
    .await;

    let ap = AttachParams::default().stdin(true).stderr(false);
    let mut process = pods.attach("web", &ap).await.expect("the socket opens");
    assert!(process.stderr().is_none(), "not asked for");
    let mut stdin = process.stdin().expect("stdin");
    stdin.write_all(b"line\n").await.expect("write");
    stdin.shutdown().await.expect("close stdin");
    let status = process.take_status().expect("status").await;
    assert_eq!(status.and_then(|s| s.status).as_deref(), Some("Success"));
    process.join().await.expect("a clean end");
    server.await.expect("the server's checks");
}

#[tokio::test]
async fn terminal_sizes_go_out_on_the_resize_channel_as_json() {
    let (pods, seen, server) = serve(
        |c| c,
        v5,
        |mut socket| async move {
            let data = next_binary(&mut socket).await.expect("a resize");
            assert_eq!(data.first(), Some(&4));
            let size: serde_json::Value = serde_json::from_slice(&data[1..]).expect("JSON");
            assert_eq!(size, serde_json::json!({"Width": 120, "Height": 40}));
            socket.send(binary(1, b"resized")).await.expect("send");
            socket.close(None).await.expect("close");
        },
    )
    .await;

    let mut process = pods
        .exec("web", ["sh"], &AttachParams::interactive_tty())
        .await
        .expect("the socket opens");
    let mut sizes = process.terminal_size().expect("a tty can be resized");
    sizes
        .send(TerminalSize {
            width: 120,
            height: 40,
        })
        .await
        .expect("queued");
    let mut stdout = process.stdout().expect("stdout");
    let mut out = String::new();
    stdout.read_to_string(&mut out).await.expect("read");
    assert_eq!(out, "resized");
    // The server ended without a status.
    assert_eq!(process.take_status().expect("status").await, None);
    process.join().await.expect("a clean end");
    server.await.expect("the server's checks");
    assert!(seen.lock().expect("lock").uri.contains("tty=true"));
}

#[tokio::test]
async fn join_discards_output_nobody_reads() {
    let (pods, _seen, server) = serve(
        |c| c,
        v5,
        |mut socket| async move {
            // Far more than the pipes hold.
            let chunk = vec![b'x'; 16 * 1024];
            for _ in 0..64 {
                socket.send(binary(1, &chunk)).await.expect("send");
                socket.send(binary(2, &chunk)).await.expect("send");
            }
            socket.close(None).await.expect("close");
        },
    )
    .await;
    let process = pods
        .exec("web", ["yes"], &AttachParams::default())
        .await
        .expect("the socket opens");
    process.join().await.expect("a clean end");
    server.await.expect("the server's checks");
}

#[tokio::test]
async fn a_refusal_before_the_upgrade_is_the_servers_status() {
    let refuse = |_: &Request| -> Result<&'static str, ErrorResponse> {
        let body = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pod web does not have a host assigned","reason":"BadRequest","code":400}"#;
        Err(http::Response::builder()
            .status(400)
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(Some(body.to_string()))
            .expect("a response"))
    };
    let (pods, _seen, server) = serve(|c| c, refuse, |_| async {}).await;
    let err = pods
        .exec("web", ["ls"], &AttachParams::default())
        .await
        .expect_err("refused");
    match &err {
        Error::Api(status) => {
            assert_eq!(status.code, 400);
            assert!(status.message.contains("pod web"), "{status:?}");
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    server.await.expect("the server");
}

#[tokio::test]
async fn a_subprotocol_that_was_not_offered_is_refused() {
    let odd = |_: &Request| -> Result<&'static str, ErrorResponse> { Ok("v3.channel.k8s.io") };
    let (pods, _seen, server) = serve(|c| c, odd, |_| async {}).await;
    let err = pods
        .exec("web", ["ls"], &AttachParams::default())
        .await
        .expect_err("not offered");
    assert!(
        matches!(
            err,
            Error::UpgradeConnection(UpgradeConnectionError::SecWebSocketProtocolMismatch)
        ),
        "{err:?}"
    );
    server.await.expect("the server");
}

#[tokio::test]
async fn the_upgrade_request_carries_the_configured_credentials() {
    let with_token = |mut config: Config| {
        config.auth_info.token = Some("s3cret-token".to_string().into());
        config
    };
    let (pods, seen, server) = serve(with_token, v5, |mut socket| async move {
        socket.close(None).await.expect("close");
    })
    .await;
    let process = pods
        .exec("web", ["true"], &AttachParams::default())
        .await
        .expect("the socket opens");
    process.join().await.expect("a clean end");
    server.await.expect("the server");
    assert_eq!(
        seen.lock().expect("lock").authorization.as_deref(),
        Some("Bearer s3cret-token")
    );
}

/// Sends the initial port frames of `ports` (data, then error channel each).
async fn announce(socket: &mut Socket, ports: &[u16]) {
    for (index, port) in ports.iter().enumerate() {
        let channel = u8::try_from(index * 2).expect("few ports");
        socket
            .send(binary(channel, &port.to_le_bytes()))
            .await
            .expect("send");
        socket
            .send(binary(channel + 1, &port.to_le_bytes()))
            .await
            .expect("send");
    }
}

#[tokio::test]
async fn portforward_moves_bytes_per_port_and_reports_errors() {
    let (pods, seen, server) = serve(
        |c| c,
        v4,
        |mut socket| async move {
            announce(&mut socket, &[80, 8443]).await;
            // Port 80 echoes in upper case; port 8443 fails.
            let data = next_binary(&mut socket).await.expect("data for port 80");
            assert_eq!(data[0], 0);
            socket
                .send(binary(0, &data[1..].to_ascii_uppercase()))
                .await
                .expect("send");
            socket
                .send(binary(3, b"connection refused"))
                .await
                .expect("send");
            // The client closes once it dropped both streams.
            assert_eq!(next_binary(&mut socket).await, None);
        },
    )
    .await;

    let mut forwarder = pods.portforward("web", &[80, 8443]).await.expect("opens");
    let mut http = forwarder.take_stream(80).expect("port 80");
    let https = forwarder.take_stream(8443).expect("port 8443");
    assert!(forwarder.take_stream(80).is_none(), "taken once");
    assert!(forwarder.take_stream(22).is_none(), "not forwarded");
    let error = forwarder.take_error(8443).expect("error of 8443");
    http.write_all(b"hello").await.expect("write");
    let mut echoed = [0_u8; 5];
    http.read_exact(&mut echoed).await.expect("read");
    assert_eq!(&echoed, b"HELLO");
    assert_eq!(error.await.as_deref(), Some("connection refused"));
    drop(http);
    drop(https);
    forwarder.join().await.expect("a clean end");
    server.await.expect("the server's checks");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.protocols, "v4.channel.k8s.io");
    assert_eq!(
        seen.uri,
        "/api/v1/namespaces/ns/pods/web/portforward?ports=80%2C8443"
    );
}

#[tokio::test]
async fn portforward_refuses_a_server_naming_another_port() {
    let (pods, _seen, server) = serve(
        |c| c,
        v4,
        |mut socket| async move {
            announce(&mut socket, &[81]).await;
            // The client gives up on its own.
            while next_binary(&mut socket).await.is_some() {}
        },
    )
    .await;
    let forwarder = pods.portforward("web", &[80]).await.expect("opens");
    let err = forwarder.join().await.expect_err("wrong port");
    assert!(
        matches!(
            err,
            crate::api::portforward::Error::InvalidPortMapping {
                actual: 81,
                expected: 80
            }
        ),
        "{err:?}"
    );
    server.await.expect("the server");
}

#[tokio::test]
async fn portforward_refuses_a_malformed_first_frame() {
    let (pods, _seen, server) = serve(
        |c| c,
        v4,
        |mut socket| async move {
            socket.send(binary(0, &[80])).await.expect("send");
            while next_binary(&mut socket).await.is_some() {}
        },
    )
    .await;
    let forwarder = pods.portforward("web", &[80]).await.expect("opens");
    let err = forwarder.join().await.expect_err("one byte is no port");
    assert!(
        matches!(
            err,
            crate::api::portforward::Error::InvalidInitialFrameSize(1)
        ),
        "{err:?}"
    );
    server.await.expect("the server");
}

#[cfg(feature = "kubelet-debug")]
#[tokio::test]
async fn kubelet_exec_uses_the_kubelets_paths_and_the_same_framing() {
    use kube_core::kubelet_debug::KubeletDebugParams;

    let (pods, seen, server) = serve(
        |c| c,
        v5,
        |mut socket| async move {
            socket
                .send(binary(1, b"from the node"))
                .await
                .expect("send");
            socket
                .send(binary(3, br#"{"metadata":{},"status":"Success"}"#))
                .await
                .expect("send");
            socket.close(None).await.expect("close");
        },
    )
    .await;
    let client = pods.into_client();
    let pod = KubeletDebugParams {
        name: "web",
        namespace: "shop",
        pod_uid: Some("1f2e"),
    };
    let mut process = client
        .kubelet_node_exec(&pod, "main", ["hostname"], &AttachParams::default())
        .await
        .expect("the socket opens");
    let mut out = String::new();
    process
        .stdout()
        .expect("stdout")
        .read_to_string(&mut out)
        .await
        .expect("read");
    assert_eq!(out, "from the node");
    let status = process.take_status().expect("status").await;
    assert_eq!(status.and_then(|s| s.status).as_deref(), Some("Success"));
    process.join().await.expect("a clean end");
    server.await.expect("the server");
    assert_eq!(
        seen.lock().expect("lock").uri,
        "/exec/shop/web/1f2e/main?output=1&error=1&command=hostname"
    );
}
