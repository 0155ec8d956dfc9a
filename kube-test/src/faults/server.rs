//! The proxy's HTTP/1.1 server: decides each request's fault, forwards it to
//! the apiserver when the fault calls for that, and records what it did.

use std::{
    convert::Infallible,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use bytes::Bytes;
use futures::TryStreamExt;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
};

use super::{
    SeenRequest,
    cut::{self, ChunkStream, Ending, Limit},
    rules::{Fault, Rules, Verb},
};

/// Errors inside the proxy; hyper closes the connection when it sees one.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// What the proxy's connections share with the [`FaultProxy`](super::FaultProxy).
pub(crate) struct Shared {
    pub(crate) rules: Mutex<Rules>,
    pub(crate) seen: Mutex<Vec<SeenRequest>>,
    /// Bumped to release every stalled connection.
    pub(crate) release: watch::Sender<u64>,
    /// Bumped to close every connection with a response in progress.
    pub(crate) disconnect: watch::Sender<u64>,
}

impl Shared {
    pub(crate) fn new() -> Self {
        Self {
            rules: Mutex::new(Rules::default()),
            seen: Mutex::new(Vec::new()),
            release: watch::Sender::new(0),
            disconnect: watch::Sender::new(0),
        }
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where requests go.
pub(crate) struct Upstream {
    pub(crate) http: reqwest::Client,
    /// `https://127.0.0.1:PORT`, without a trailing slash.
    pub(crate) server: String,
}

/// Accepts connections until `shutdown` fires or its sender is dropped.
pub(crate) async fn serve(
    listener: TcpListener,
    upstream: Arc<Upstream>,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "the fault proxy could not accept a connection");
                continue;
            }
        };
        let upstream = upstream.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let service =
                service_fn(move |request| handle(request, upstream.clone(), shared.clone()));
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "fault proxy connection closed");
            }
        });
    }
}

/// One request: decide, record, and answer or forward.
async fn handle(
    request: Request<Incoming>,
    upstream: Arc<Upstream>,
    shared: Arc<Shared>,
) -> Result<Response<ProxyBody>, BoxError> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let verb = Verb::of(&parts.method, &path, query.as_deref());
    let fault = lock(&shared.rules).decide(verb, &path, query.as_deref());
    let index = {
        let mut seen = lock(&shared.seen);
        seen.push(SeenRequest {
            method: parts.method.clone(),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| path.clone(), |pq| pq.as_str().to_string()),
            verb,
            status: None,
            fault: fault.clone(),
        });
        seen.len() - 1
    };
    let record = |status: StatusCode| {
        if let Some(entry) = lock(&shared.seen).get_mut(index) {
            entry.status = Some(status.as_u16());
        }
    };
    let fault = fault.unwrap_or(Fault::PassThrough);
    tracing::debug!(method = %parts.method, %path, ?verb, ?fault, "fault proxy request");

    let mut disconnect = shared.disconnect.subscribe();
    let body = body.collect().await?.to_bytes();
    let limit_and_ending = match &fault {
        Fault::Status { code, retry_after } => {
            let response = status_response(*code, *retry_after);
            record(response.status());
            return Ok(response);
        }
        Fault::CloseBeforeForwarding => return Err("closed by the fault proxy".into()),
        Fault::StallResponse => {
            let mut release = shared.release.subscribe();
            tokio::select! {
                _ = cut::wait_for_release(&mut release) => {}
                _ = disconnect.changed() => {}
            }
            return Err("stalled request released by the fault proxy".into());
        }
        Fault::Delay(delay) => {
            tokio::time::sleep(cut::bounded_delay(*delay)).await;
            None
        }
        Fault::DropAfterBytes(n) => Some((Limit::Bytes(*n), Ending::Drop)),
        Fault::DropAfterEvents(n) => Some((Limit::Lines(*n), Ending::Drop)),
        Fault::EndAfterEvents(n) => Some((Limit::Lines(*n), Ending::End)),
        Fault::StallAfterBytes(n) => Some((Limit::Bytes(*n), Ending::Stall)),
        Fault::StallAfterEvents(n) => Some((Limit::Lines(*n), Ending::Stall)),
        Fault::WatchGone { after_events } => Some((Limit::Lines(*after_events), Ending::Gone)),
        Fault::PassThrough | Fault::CloseAfterForwarding => None,
    };

    // Events can only be counted in a body the apiserver did not compress.
    let uncompressed = matches!(limit_and_ending, Some((Limit::Lines(_), _)));
    let forwarded = match forward(&upstream, &parts, body, uncompressed).await {
        Ok(response) => response,
        Err(error) => {
            let error = error.without_url();
            tracing::warn!(
                server = %upstream.server,
                %error,
                "the fault proxy could not reach the apiserver"
            );
            let response = unreachable_response(&upstream.server, &error);
            record(response.status());
            return Ok(response);
        }
    };
    if fault == Fault::CloseAfterForwarding {
        // Let the apiserver finish, then lose its answer.
        let _ = forwarded.bytes().await;
        return Err("closed by the fault proxy after forwarding".into());
    }

    let status = forwarded.status();
    let mut headers = forwarded.headers().clone();
    strip_hop_by_hop(&mut headers);
    let chunks: ChunkStream = Box::pin(forwarded.bytes_stream().map_err(BoxError::from));
    let frames: cut::FrameStream = match limit_and_ending {
        None => Box::pin(chunks.map_ok(hyper::body::Frame::data)),
        Some((limit, ending)) => {
            // The body no longer has the length the apiserver announced.
            headers.remove(header::CONTENT_LENGTH);
            let resource_version = query
                .as_deref()
                .and_then(resource_version_of)
                .unwrap_or_else(|| "0".to_string());
            cut::cut(
                chunks,
                limit,
                ending,
                cut::gone_event(&resource_version),
                shared.release.subscribe(),
            )
        }
    };
    let body = BodyExt::boxed_unsync(StreamBody::new(cut::interruptible(frames, disconnect)));
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    record(status);
    Ok(response)
}

/// Sends the request to the apiserver and returns its response once the
/// headers arrived; `uncompressed` asks the apiserver not to compress it.
async fn forward(
    upstream: &Upstream,
    parts: &http::request::Parts,
    body: Bytes,
    uncompressed: bool,
) -> Result<reqwest::Response, reqwest::Error> {
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut headers = parts.headers.clone();
    strip_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    if uncompressed {
        headers.remove(header::ACCEPT_ENCODING);
    }
    upstream
        .http
        .request(
            parts.method.clone(),
            format!("{}{path_and_query}", upstream.server),
        )
        .headers(headers)
        .body(body)
        .send()
        .await
}

/// Headers that describe one connection, not the message.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
        header::PROXY_AUTHENTICATE,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
}

/// The `resourceVersion` a watch asked for.
fn resource_version_of(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "resourceVersion")
        .map(|(_, value)| value.into_owned())
}

fn json_response(code: StatusCode, body: serde_json::Value) -> Response<ProxyBody> {
    let body = Full::new(Bytes::from(body.to_string()))
        .map_err(|never: Infallible| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The answer of a `Status` fault: a Kubernetes `Status` like the apiserver's.
fn status_response(code: u16, retry_after: Option<u64>) -> Response<ProxyBody> {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = match code.as_u16() {
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "",
    };
    let mut status = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": format!("injected by the fault proxy: {code}"),
        "reason": reason,
        "code": code.as_u16(),
    });
    if let Some(seconds) = retry_after {
        status["details"] = serde_json::json!({ "retryAfterSeconds": seconds });
    }
    let mut response = json_response(code, status);
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// What a load balancer in front of a stopped apiserver answers.
fn unreachable_response(server: &str, error: &reqwest::Error) -> Response<ProxyBody> {
    let message = format!(
        "the fault proxy could not reach the apiserver at {server}: {}",
        crate::faults::error_chain(error)
    );
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        serde_json::json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": "ServiceUnavailable",
            "code": 503,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_versions_come_from_the_query() {
        assert_eq!(
            resource_version_of("watch=1&resourceVersion=123&x=y").as_deref(),
            Some("123")
        );
        assert_eq!(resource_version_of("watch=1"), None);
    }

    #[test]
    fn status_faults_answer_a_kubernetes_status() {
        let response = status_response(429, Some(2));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from_static("2"))
        );
        let response = status_response(503, None);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn hop_by_hop_headers_are_removed() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key(header::ACCEPT));
    }
}
