//! How much of a response the client reads into memory, and for how long.
//!
//! A server that misbehaves (or something in between that does) must not make
//! the client hang or run out of memory. Every read is bounded:
//!
//! | what | bound |
//! |---|---|
//! | a response read whole (objects, lists, text) | [`ResponseBodyLimit`], 1 GiB by default; and the whole body within [`Config::read_timeout`](crate::Config::read_timeout) plus 30 s of its headers |
//! | the body of an error response | its first 4 MiB, read for at most 30 s; what arrived becomes the error's `Status` |
//! | a line of a watch | [`MAX_WATCH_LINE`](super::MAX_WATCH_LINE), 64 MiB |
//! | a watch | its `timeoutSeconds` plus 60 s in all (one hour and a minute without), by when the apiserver has ended it; 30 s less of silence ends it too |
//! | an exec credential plugin | 4 MiB of output; without a terminal, 2 minutes |
//! | an OIDC issuer's answer | 1 MiB, within 30 s |
//!
//! Streams the caller reads as they arrive (followed logs, `exec`, `attach`,
//! `portforward`) are not bounded: the caller decides how much to read.
//!
//! A list of every object of a large cluster can be hundreds of MiB in one
//! answer; client-go and kubectl read any size. 1 GiB leaves room for such
//! lists while a body that never ends fails instead of exhausting memory. Ask
//! for less with paginated lists (`ListParams::limit`), or change the limit
//! with [`ResponseBodyLimit`].
//!
//! A body that trickles in (a byte at a time, each just within the read
//! timeout) would otherwise never time out, so bodies read whole and watches
//! have a deadline besides their idle limit. client-go relies on the
//! apiserver to end requests (it has no client-side deadline unless
//! `Timeout` is set); these deadlines are longer than any the apiserver keeps
//! to, so they only end answers that a working apiserver would have finished.

use std::fmt;

use bytes::{Bytes, BytesMut};
use http::Method;
use http_body::Body as _;
use tokio::time::Instant;

use super::Body;
use crate::error::{BoxError, TransportError, human_bytes};

/// The most bytes of one response the client reads into memory: 1 GiB unless
/// a request says otherwise.
///
/// The default stack reads a body that the caller wants whole under the
/// limit found in the request's extensions, and fails with
/// [`TransportError::ResponseTooLarge`] (inside
/// [`Error::Service`](crate::Error::Service)) when the body grows past it. Set
/// it for every request of a client with a layer:
///
/// ```no_run
/// use kube_client::{Config, client::{Body, ClientBuilder, ResponseBodyLimit}};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config::infer().await?;
/// let client = ClientBuilder::try_from(config)?
///     .with_layer(&tower::util::MapRequestLayer::new(
///         |mut request: http::Request<Body>| {
///             request.extensions_mut().insert(ResponseBodyLimit::bytes(4 << 30));
///             request
///         },
///     ))
///     .build();
/// # Ok(())
/// # }
/// ```
///
/// Over a service of your own that hands back bodies still streaming, the
/// client reads them under the limit the response's extensions carry, else
/// under the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResponseBodyLimit(u64);

impl ResponseBodyLimit {
    /// 1 GiB.
    pub const DEFAULT: Self = Self(1 << 30);

    /// A limit of `limit` bytes.
    pub const fn bytes(limit: u64) -> Self {
        Self(limit)
    }

    /// The limit in bytes.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl Default for ResponseBodyLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for ResponseBodyLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_bytes(self.0))
    }
}

/// The most bytes of an error response read to make its `Status`.
const ERROR_BODY_LIMIT: usize = 4 << 20;

/// How long the body of an error response is waited for.
const ERROR_BODY_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads `body` whole, failing with [`TransportError::ResponseTooLarge`]
/// once it grows past `limit` (the rest is not read), or with the body's own
/// error.
pub(crate) async fn read_whole(
    mut body: Body,
    limit: ResponseBodyLimit,
    method: &Method,
    path: &str,
) -> Result<Bytes, BoxError> {
    let too_large = || -> BoxError {
        Box::new(TransportError::ResponseTooLarge {
            method: method.clone(),
            path: path.to_string(),
            limit: limit.get(),
        })
    };
    // A length announced up front saves reading what will not be kept.
    if body.size_hint().lower() > limit.get() {
        return Err(too_large());
    }
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total: u64 = 0;
    while let Some(frame) = std::future::poll_fn(|cx| body.poll_raw_frame(cx)).await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len() as u64);
        if total > limit.get() {
            return Err(too_large());
        }
        chunks.push(data);
    }
    Ok(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => {
            let mut whole = BytesMut::with_capacity(usize::try_from(total).unwrap_or(0));
            for chunk in chunks {
                whole.extend_from_slice(&chunk);
            }
            whole.freeze()
        }
    })
}

/// The body of an error response, as much of it as was read.
#[derive(Debug)]
pub(crate) struct ErrorBody {
    /// What was read.
    pub(crate) bytes: Bytes,
    /// Why reading stopped before the end, if it did.
    pub(crate) cut: Option<String>,
}

/// Reads the body of an error response to make its `Status`: its first
/// 4 MiB, for at most 30 s. Fails only when the body itself fails.
pub(crate) async fn read_error_body(mut body: Body) -> Result<ErrorBody, BoxError> {
    let deadline = Instant::now() + ERROR_BODY_WAIT;
    let mut read = BytesMut::new();
    loop {
        let next = std::future::poll_fn(|cx| body.poll_raw_frame(cx));
        let frame = match tokio::time::timeout_at(deadline, next).await {
            Err(_) => {
                return Ok(ErrorBody {
                    bytes: read.freeze(),
                    cut: Some(format!(
                        "the rest of the body did not arrive within {ERROR_BODY_WAIT:?}"
                    )),
                });
            }
            Ok(None) => {
                return Ok(ErrorBody {
                    bytes: read.freeze(),
                    cut: None,
                });
            }
            Ok(Some(frame)) => frame?,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let room = ERROR_BODY_LIMIT - read.len();
        if data.len() > room {
            read.extend_from_slice(data.get(..room).unwrap_or_default());
            return Ok(ErrorBody {
                bytes: read.freeze(),
                cut: Some(format!(
                    "only its first {} were read",
                    human_bytes(ERROR_BODY_LIMIT as u64)
                )),
            });
        }
        read.extend_from_slice(&data);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::StreamExt;
    use http::{Request, Response};
    use http_body::Frame;
    use http_body_util::StreamBody;
    use tower::{Layer, ServiceExt};

    use super::*;
    use crate::client::{
        middleware::{BodyUse, retry::RetryLayer},
        retry::RetryLimits,
    };

    /// A body of `chunks` chunks of 64 KiB, or without end.
    fn zeros(chunks: Option<usize>) -> Body {
        let chunk = Bytes::from(vec![0; 64 << 10]);
        let frames = futures::stream::repeat(chunk)
            .take(chunks.unwrap_or(usize::MAX))
            .map(|c| Ok::<_, BoxError>(Frame::data(c)));
        Body::wrap(StreamBody::new(frames))
    }

    /// Sends a request read whole, with `limit`, through the retry layer
    /// over a service answering with `body`.
    async fn read_through_the_stack(
        body: impl Fn() -> Body + Send + Sync + Clone + 'static,
        limit: Option<ResponseBodyLimit>,
    ) -> Result<Bytes, BoxError> {
        let service = RetryLayer::new(RetryLimits::single_attempt()).layer(tower::service_fn(
            move |_: Request<Body>| {
                let body = body.clone();
                async move { Ok::<_, BoxError>(Response::new(body())) }
            },
        ));
        let mut request = Request::get("https://k/api/v1/configmaps")
            .body(Body::empty())
            .expect("request");
        request.extensions_mut().insert(BodyUse::Whole);
        if let Some(limit) = limit {
            request.extensions_mut().insert(limit);
        }
        let response = service.oneshot(request).await?;
        response.into_body().collect_raw().await
    }

    fn too_large(error: &BoxError) -> Option<u64> {
        match error.downcast_ref::<TransportError>() {
            Some(TransportError::ResponseTooLarge { limit, .. }) => Some(*limit),
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_an_error_naming_it() {
        let err = match read_through_the_stack(
            || zeros(Some(48)), // 3 MiB
            Some(ResponseBodyLimit::bytes(1 << 20)),
        )
        .await
        {
            Ok(body) => panic!("read {} bytes, over the 1 MiB limit", body.len()),
            Err(err) => err,
        };
        assert_eq!(too_large(&err), Some(1 << 20), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("1 MiB"), "{text}");
        assert!(text.contains("GET /api/v1/configmaps"), "{text}");
        assert!(text.contains("ResponseBodyLimit"), "{text}");

        let within =
            read_through_the_stack(|| zeros(Some(16)), Some(ResponseBodyLimit::bytes(1 << 20)))
                .await
                .expect("exactly 1 MiB is within the limit");
        assert_eq!(within.len(), 1 << 20);
    }

    #[tokio::test]
    async fn a_body_without_end_stops_at_the_default_limit() {
        let read = tokio::time::timeout(
            Duration::from_secs(120),
            read_through_the_stack(|| zeros(None), None),
        )
        .await
        .expect("reading stops");
        let err = match read {
            Ok(body) => panic!("read {} bytes of an endless body", body.len()),
            Err(err) => err,
        };
        assert_eq!(too_large(&err), Some(ResponseBodyLimit::DEFAULT.get()));
        assert!(err.to_string().contains("1 GiB"), "{err}");
    }

    #[cfg(feature = "gzip")]
    #[tokio::test]
    async fn the_limit_applies_to_decompressed_bytes() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![0; 8 << 20]).expect("compress");
        let member = Bytes::from(encoder.finish().expect("compress"));
        assert!(member.len() < 64 << 10, "8 MiB of zeros compress well");
        // Members without end, each 8 MiB once decompressed.
        let service = crate::client::middleware::gzip::GzipLayer.layer(tower::service_fn(
            move |_: Request<Body>| {
                let member = member.clone();
                async move {
                    let frames =
                        futures::stream::repeat(member).map(|m| Ok::<_, BoxError>(Frame::data(m)));
                    let mut response = Response::new(Body::wrap(StreamBody::new(frames)));
                    response.headers_mut().insert(
                        http::header::CONTENT_ENCODING,
                        http::HeaderValue::from_static("gzip"),
                    );
                    Ok::<_, BoxError>(response)
                }
            },
        ));
        let service = RetryLayer::new(RetryLimits::single_attempt()).layer(service);
        let mut request = Request::get("https://k/api/v1/pods")
            .body(Body::empty())
            .expect("request");
        request.extensions_mut().insert(BodyUse::Whole);
        request
            .extensions_mut()
            .insert(ResponseBodyLimit::bytes(32 << 20));
        let read = tokio::time::timeout(Duration::from_secs(120), service.oneshot(request))
            .await
            .expect("reading stops");
        let err = match read {
            Ok(_) => panic!("a gzip bomb was read whole"),
            Err(err) => err,
        };
        assert_eq!(too_large(&err), Some(32 << 20), "{err:?}");
    }

    /// A client over a service answering every request with `status` and
    /// the body `body` makes.
    fn client_answering(
        status: http::StatusCode,
        body: impl Fn() -> Body + Send + Sync + Clone + 'static,
    ) -> crate::Client {
        let service = tower::service_fn(move |_: Request<Body>| {
            let body = body.clone();
            async move {
                let mut response = Response::new(body());
                *response.status_mut() = status;
                Ok::<_, BoxError>(response)
            }
        });
        crate::Client::new(service, "default")
    }

    #[tokio::test]
    async fn an_endless_error_body_becomes_a_status_from_its_beginning() {
        let client = client_answering(http::StatusCode::BAD_GATEWAY, || zeros(None));
        let err = tokio::time::timeout(Duration::from_secs(60), client.apiserver_version())
            .await
            .expect("reading stops")
            .expect_err("502");
        let status = err.status().expect("an API error");
        assert_eq!(status.code, 502);
        assert!(
            status.message.contains("only its first 4 MiB were read"),
            "{}",
            status.message
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_body_that_stalls_becomes_a_status_after_30_s() {
        // Part of a Status, then nothing, with no time limit on the stream
        // (as for a followed log).
        let client = client_answering(http::StatusCode::FORBIDDEN, || {
            let start = futures::stream::iter([Ok::<_, BoxError>(Frame::data(
                Bytes::from_static(br#"{"kind":"Status","code":403,"mess"#),
            ))]);
            Body::wrap(StreamBody::new(start.chain(futures::stream::pending())))
        });
        let started = Instant::now();
        let request = crate::core::Request::new("/api/v1/namespaces/ns/pods")
            .logs("web", &Default::default())
            .expect("request");
        let err = match client.request_stream(request).await {
            Ok(_) => panic!("a 403 is an error"),
            Err(err) => err,
        };
        assert_eq!(started.elapsed(), ERROR_BODY_WAIT);
        let status = err.status().expect("an API error");
        assert_eq!(status.code, 403);
        assert!(status.is_forbidden());
        assert!(
            status.message.contains("did not arrive within 30s"),
            "{}",
            status.message
        );
    }

    #[tokio::test]
    async fn a_service_of_your_own_is_read_within_the_default_limit() {
        let client = client_answering(http::StatusCode::OK, || zeros(None));
        let read = tokio::time::timeout(Duration::from_secs(120), client.apiserver_version())
            .await
            .expect("reading stops");
        let err = match read {
            Ok(_) => panic!("an endless body is no version"),
            Err(err) => err,
        };
        assert!(
            matches!(
                err.transport(),
                Some(TransportError::ResponseTooLarge { limit, .. }) if *limit == 1 << 30
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_service_of_your_own_can_set_the_limit_on_its_responses() {
        let service = tower::service_fn(|_: Request<Body>| async {
            let mut response = Response::new(zeros(Some(2)));
            response
                .extensions_mut()
                .insert(ResponseBodyLimit::bytes(64 << 10));
            Ok::<_, BoxError>(response)
        });
        let client = crate::Client::new(service, "default");
        let err = match client.apiserver_version().await {
            Ok(_) => panic!("128 KiB is over the limit of 64 KiB"),
            Err(err) => err,
        };
        assert!(err.to_string().contains("64 KiB"), "{err}");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(1 << 30), "1 GiB");
        assert_eq!(human_bytes(64 << 20), "64 MiB");
        assert_eq!(human_bytes(1536 << 10), "1536 KiB");
        assert_eq!(human_bytes(100), "100 bytes");
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(ResponseBodyLimit::default().to_string(), "1 GiB");
    }
}
