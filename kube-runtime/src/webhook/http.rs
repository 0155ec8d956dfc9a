//! One HTTP request to the webhook server: find the endpoint for its path,
//! check the method, content type and size, read the body in time, and let
//! the endpoint answer.

use std::{
    collections::HashMap, future::Future, panic::AssertUnwindSafe, pin::Pin, sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use futures::FutureExt;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body;
use kube_client::core::{Status, TypeMeta};

/// The largest review read: the apiserver's own limit on a request body is
/// 3 MiB, and a review can hold an object and its old version.
pub(crate) const MAX_BODY: usize = 7 * 1024 * 1024;

/// A JSON answer with its HTTP status.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// `value` as JSON with `status`; a value that does not encode becomes a
    /// 500 saying so (no review type here ever fails to).
    pub(crate) fn json(status: StatusCode, value: &impl serde::Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self { status, body },
            Err(error) => Self {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                body: format!("the webhook's answer could not be encoded: {error}").into_bytes(),
            },
        }
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from(self.body)));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// A future answer.
pub(crate) type Answer = Pin<Box<dyn Future<Output = Reply> + Send>>;

/// What serves one path: an admission or a conversion webhook.
pub(crate) trait Endpoint: Send + Sync + 'static {
    /// Answers the review in `body`, giving the handler `timeout`.
    fn answer(&self, body: Bytes, timeout: Duration) -> Answer;

    /// The answer to a request refused before its review was read, as a
    /// review of this endpoint's kind, so that the caller finds the reason
    /// where it looks for one.
    fn refuse(&self, status: StatusCode, message: String) -> Reply;
}

/// The endpoints by path, and how long requests may take.
pub(crate) struct Routes {
    pub(crate) endpoints: HashMap<String, Arc<dyn Endpoint>>,
    /// For reading a request body.
    pub(crate) read_timeout: Duration,
    /// For the handler to answer.
    pub(crate) handler_timeout: Duration,
}

impl Routes {
    /// Answers one request; never fails (every problem is an answer).
    pub(crate) async fn serve<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let path = request.uri().path();
        let Some(endpoint) = self.endpoints.get(path) else {
            let status = Status::failure(&format!("no webhook is served at {path}"), "NotFound")
                .with_code(404);
            return Reply::json(StatusCode::NOT_FOUND, &status).into_response();
        };
        if request.method() != Method::POST {
            let message = format!(
                "webhooks take POST requests, not {}",
                request.method().as_str()
            );
            let mut response = endpoint
                .refuse(StatusCode::METHOD_NOT_ALLOWED, message)
                .into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        if let Err(problem) = check_content_type(request.headers().get(header::CONTENT_TYPE)) {
            return endpoint
                .refuse(StatusCode::BAD_REQUEST, problem)
                .into_response();
        }
        let body = match self.read_body(request.into_body()).await {
            Ok(body) => body,
            Err((status, problem)) => return endpoint.refuse(status, problem).into_response(),
        };
        endpoint
            .answer(body, self.handler_timeout)
            .await
            .into_response()
    }

    async fn read_body<B>(&self, body: B) -> Result<Bytes, (StatusCode, String)>
    where
        B: Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let collected =
            tokio::time::timeout(self.read_timeout, Limited::new(body, MAX_BODY).collect())
                .await
                .map_err(|_| {
                    (
                        StatusCode::REQUEST_TIMEOUT,
                        format!(
                            "the request body did not arrive within {:?}",
                            self.read_timeout
                        ),
                    )
                })?;
        let body = match collected {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.is::<LengthLimitError>() => {
                return Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request body is larger than {MAX_BODY} bytes"),
                ));
            }
            Err(error) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!("the request body could not be read: {error}"),
                ));
            }
        };
        if body.is_empty() {
            return Err((StatusCode::BAD_REQUEST, "the request body is empty".into()));
        }
        Ok(body)
    }
}

/// Reviews are JSON: `application/json`, perhaps with parameters.
fn check_content_type(value: Option<&HeaderValue>) -> Result<(), String> {
    let Some(value) = value else {
        return Err("the request has no Content-Type; reviews are application/json".into());
    };
    let media_type = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    match media_type {
        Some(media_type) if media_type.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(format!(
            "the Content-Type is {}; reviews are application/json",
            String::from_utf8_lossy(value.as_bytes())
        )),
    }
}

/// How an endpoint answers a review it refuses: with HTTP `status`, `code` in
/// the review's status, the request's `uid` when known, and `message`.
pub(crate) type Refusal = fn(StatusCode, StatusCode, Option<String>, String) -> Reply;

/// The answer to a review that did not decode. With the uid it holds, if
/// any, the apiserver shows the answer's message to the user: a 200 carrying
/// a 400 in the review. Without one only an HTTP 400 can say what went wrong.
pub(crate) fn undecodable(body: &[u8], problem: String, refusal: Refusal) -> Reply {
    match uid_of(body) {
        Some(uid) => refusal(StatusCode::OK, StatusCode::BAD_REQUEST, Some(uid), problem),
        None => refusal(
            StatusCode::BAD_REQUEST,
            StatusCode::BAD_REQUEST,
            None,
            problem,
        ),
    }
}

/// Why a handler gave no answer: the code and message to answer with instead.
pub(crate) struct NoAnswer {
    pub(crate) code: u16,
    pub(crate) message: String,
}

/// Runs a handler's future, giving it `timeout` and catching a panic.
pub(crate) async fn call_handler<F: Future>(
    call: F,
    timeout: Duration,
) -> Result<F::Output, NoAnswer> {
    match tokio::time::timeout(timeout, AssertUnwindSafe(call).catch_unwind()).await {
        Err(_) => Err(NoAnswer {
            code: 504,
            message: format!("the webhook's handler did not answer within {timeout:?}"),
        }),
        Ok(Err(_)) => Err(NoAnswer {
            code: 500,
            message: "the webhook's handler panicked".into(),
        }),
        Ok(Ok(output)) => Ok(output),
    }
}

/// The `request.uid` of a review that did not decode whole, if it has one.
fn uid_of(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Review {
        request: Option<Request>,
    }
    #[derive(serde::Deserialize)]
    struct Request {
        uid: Option<String>,
    }
    let review: Review = serde_json::from_slice(body).ok()?;
    review.request?.uid.filter(|uid| !uid.is_empty())
}

/// Checks a review's `apiVersion` and `kind` against what the endpoint serves.
pub(crate) fn check_review_type(
    types: &TypeMeta,
    expected_api_version: &str,
    expected_kind: &str,
) -> Result<(), String> {
    let TypeMeta { api_version, kind } = types;
    if kind != expected_kind || api_version != expected_api_version {
        return Err(format!(
            "this webhook serves {expected_api_version} {expected_kind}, not {} {}",
            if api_version.is_empty() {
                "(no apiVersion)"
            } else {
                api_version
            },
            if kind.is_empty() { "(no kind)" } else { kind },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube_client::core::admission::{AdmissionRequest, AdmissionResponse};
    use serde_json::Value;

    use super::*;
    use crate::webhook::admission::Admission;

    fn routes() -> Routes {
        let allow_all =
            |request: AdmissionRequest<ConfigMap>| async move { AdmissionResponse::from(&request) };
        let endpoint: Arc<dyn Endpoint> =
            Arc::new(Admission::<ConfigMap, _, AdmissionResponse>::new(allow_all));
        Routes {
            endpoints: HashMap::from([("/validate".to_string(), endpoint)]),
            read_timeout: Duration::from_secs(5),
            handler_timeout: Duration::from_secs(5),
        }
    }

    /// The status of the answer, and the message in its body (of a review's
    /// response, or of a Status).
    async fn send(
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, String) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .expect("a request");
        let response = routes().serve(request).await;
        let status = response.status();
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        let message = body
            .pointer("/response/status/message")
            .or_else(|| body.pointer("/message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        (status, message)
    }

    #[tokio::test]
    async fn an_unknown_path_is_a_404_naming_it() {
        let (status, message) = send(
            Method::POST,
            "/nope",
            Some("application/json"),
            b"{}".to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(message.contains("/nope"), "{message}");
    }

    #[tokio::test]
    async fn only_post_is_served() {
        let request = Request::get("/validate")
            .body(Full::new(Bytes::new()))
            .expect("a request");
        let response = routes().serve(request).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "POST");
        let (_, message) = send(
            Method::PUT,
            "/validate",
            Some("application/json"),
            b"{}".to_vec(),
        )
        .await;
        assert!(message.contains("not PUT"), "{message}");
    }

    #[tokio::test]
    async fn a_body_that_is_not_json_is_a_400() {
        let (status, message) = send(
            Method::POST,
            "/validate",
            Some("text/plain"),
            b"{}".to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message.contains("text/plain"), "{message}");
        let (status, _) = send(Method::POST, "/validate", None, b"{}".to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn an_empty_body_is_a_400() {
        let (status, message) = send(
            Method::POST,
            "/validate",
            Some("application/json"),
            Vec::new(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message.contains("empty"), "{message}");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_a_413() {
        let body = vec![b' '; MAX_BODY + 1];
        let (status, message) =
            send(Method::POST, "/validate", Some("application/json"), body).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(message.contains("larger than"), "{message}");
    }

    #[tokio::test]
    async fn a_malformed_review_is_a_400_from_the_endpoint() {
        let (status, message) = send(
            Method::POST,
            "/validate",
            Some("application/json"),
            b"{\"kind\": 1}".to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message.contains("does not decode"), "{message}");
    }

    #[test]
    fn json_content_types_with_parameters_are_accepted() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
        ] {
            assert!(
                check_content_type(Some(&HeaderValue::from_static(ok))).is_ok(),
                "{ok}"
            );
        }
        let refused = check_content_type(Some(&HeaderValue::from_static("application/yaml")));
        assert!(refused.is_err_and(|problem| problem.contains("application/yaml")));
        assert!(check_content_type(None).is_err_and(|problem| problem.contains("no Content-Type")));
    }

    #[test]
    fn the_uid_of_a_partly_broken_review_is_found() {
        let body = br#"{"request": {"uid": "abc", "object": 5}}"#;
        assert_eq!(uid_of(body).as_deref(), Some("abc"));
        assert_eq!(uid_of(br#"{"request": {"uid": ""}}"#), None);
        assert_eq!(uid_of(b"not json"), None);
        assert_eq!(uid_of(br#"{"request": {"uid": 7}}"#), None);
    }

    #[test]
    fn a_review_of_another_type_is_named_in_the_problem() {
        let types = |api_version: &str, kind: &str| TypeMeta {
            api_version: api_version.into(),
            kind: kind.into(),
        };
        let conversion = types("apiextensions.k8s.io/v1", "ConversionReview");
        let problem = check_review_type(&conversion, "admission.k8s.io/v1", "AdmissionReview")
            .expect_err("the wrong kind");
        assert!(
            problem.contains("not apiextensions.k8s.io/v1 ConversionReview"),
            "{problem}"
        );
        let problem = check_review_type(&types("", ""), "admission.k8s.io/v1", "AdmissionReview")
            .expect_err("no type");
        assert!(problem.contains("(no apiVersion) (no kind)"), "{problem}");
        assert!(
            check_review_type(&conversion, "apiextensions.k8s.io/v1", "ConversionReview").is_ok()
        );
    }
}
