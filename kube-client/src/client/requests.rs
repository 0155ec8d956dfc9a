//! Requests built by `kube-core`, sent through the stack, and their answers
//! decoded: objects, text, streams, `Status`es and watch events.

use either::{Either, Left, Right};
use futures::{AsyncBufRead, Stream, TryStreamExt};
use http::Request;
use kube_core::{Status, WatchEvent};
use serde::{Deserialize, de::DeserializeOwned};

use super::{
    Body, Client, ResponseBodyLimit, json, limits, middleware::BodyUse, watch::EventStream,
};
use crate::{Error, Result, error::TimeoutLimit};

impl Client {
    /// Sends a request and decodes the response body as `T`.
    ///
    /// A non-success response becomes [`Error::Api`] with the server's `Status`.
    pub async fn request<T>(&self, request: Request<Vec<u8>>) -> Result<T>
    where
        T: DeserializeOwned,
    {
        let body = self.request_bytes(request).await?;
        decode(&body)
    }

    /// Sends a request and returns the response body as text (invalid UTF-8 is
    /// replaced).
    pub async fn request_text(&self, request: Request<Vec<u8>>) -> Result<String> {
        let body = self.request_bytes(request).await?;
        Ok(match String::from_utf8(body.into()) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Sends a request and returns the response body as it arrives, e.g. a
    /// followed log. No time limit applies to the body.
    pub async fn request_stream(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<impl AsyncBufRead + Send + Unpin + use<>> {
        let body = self.open_stream(request, None).await?;
        let chunks = http_body_util::BodyDataStream::new(body);
        Ok(chunks.map_err(std::io::Error::other).into_async_read())
    }

    /// Sends a request whose success is answered either with an object `T` or with
    /// a `Status` (as deletes are: the object while finalizers or graceful deletion
    /// keep it, a `Status` once it is gone).
    pub async fn request_status<T>(&self, request: Request<Vec<u8>>) -> Result<Either<T, Status>>
    where
        T: DeserializeOwned,
    {
        let body = self.request_bytes(request).await?;
        if kind_of(&body).as_deref() == Some("Status") {
            decode(&body).map(Right)
        } else {
            decode(&body).map(Left)
        }
    }

    /// Sends a watch request and streams its events.
    ///
    /// The stream yields each [`WatchEvent`] as its line arrives, including
    /// `ERROR` events (`410 Gone` when the resource version is too old). It ends
    /// when the server closes the watch (after `timeoutSeconds`). It yields an
    /// error and then ends when the connection fails or nothing arrives for 30 s
    /// longer than the requested `timeoutSeconds` ([`Error::ReadEvents`]; 60
    /// minutes and 30 s without it: the longest watch the apiserver grants by
    /// default), when a line is not a valid event ([`Error::SerdeError`]), or
    /// when a line grows past [`MAX_WATCH_LINE`](super::MAX_WATCH_LINE)
    /// ([`Error::LinesCodecMaxLineLengthExceeded`]).
    pub async fn request_events<T>(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<impl Stream<Item = Result<WatchEvent<T>>> + Send + Unpin + use<T>>
    where
        T: Clone + DeserializeOwned,
    {
        let body = self.open_watch(request).await?;
        Ok(EventStream::new(body))
    }

    /// [`request_events`](Self::request_events), decoding each line with
    /// `decode`.
    pub(crate) async fn request_events_with<T>(
        &self,
        request: Request<Vec<u8>>,
        decode: fn(&[u8]) -> Result<WatchEvent<T>>,
    ) -> Result<impl Stream<Item = Result<WatchEvent<T>>> + Send + Unpin + use<T>> {
        let body = self.open_watch(request).await?;
        Ok(EventStream::decoding_with(body, decode))
    }

    /// Sends a watch request and returns the body of a successful response,
    /// bounded in how long it may stay silent.
    async fn open_watch(&self, request: Request<Vec<u8>>) -> Result<Body> {
        let idle = super::middleware::timeout::watch_idle_limit(request.uri());
        self.open_stream(request, Some((idle, TimeoutLimit::WatchIdle)))
            .await
    }

    /// Sends a request and reads the whole body of a successful response.
    ///
    /// The default stack hands the body over read already, within its
    /// [`ResponseBodyLimit`]; a body still streaming (from a service of your
    /// own) is read here, within the limit the response carries or the
    /// default.
    pub(crate) async fn request_bytes(&self, request: Request<Vec<u8>>) -> Result<bytes::Bytes> {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let response = self.send_for(request, BodyUse::Whole).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(error_response(response).await);
        }
        let limit = response
            .extensions()
            .get::<ResponseBodyLimit>()
            .copied()
            .unwrap_or_default();
        match response.into_body().into_bytes() {
            // Read by the stack already, under the request's own limit.
            Ok(bytes) => Ok(bytes),
            Err(body) => limits::read_whole(body, limit, &method, &path)
                .await
                .map_err(Error::from_service),
        }
    }

    /// Sends a request and returns the body of a successful response as it
    /// streams in, failing after `idle_limit` of silence.
    async fn open_stream(
        &self,
        request: Request<Vec<u8>>,
        idle_limit: Option<(std::time::Duration, TimeoutLimit)>,
    ) -> Result<Body> {
        let response = self.send_for(request, BodyUse::Stream(idle_limit)).await?;
        if response.status().is_success() {
            return Ok(response.into_body());
        }
        Err(error_response(response).await)
    }
}

/// The error of a response with a failure status, from what of its body
/// arrives within the limits on error bodies.
pub(crate) async fn error_response(response: http::Response<Body>) -> Error {
    let status = response.status();
    match limits::read_error_body(response.into_body()).await {
        Ok(body) => {
            let mut error = crate::error::status_from_body(status, &body.bytes);
            if let Some(cut) = body.cut {
                error.message.push_str(&format!(" ({cut})"));
            }
            Error::Api(Box::new(error))
        }
        Err(error) => Error::from_service(error),
    }
}

/// Decodes a response body, naming the expected type on failure.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    json::from_bytes(body).map_err(|source| {
        crate::error::decode_error(
            format_args!(
                "the apiserver's response as {}",
                crate::error::short_type_name::<T>()
            ),
            &source,
        )
    })
}

/// The `kind` of a JSON object, without decoding the rest.
pub(crate) fn kind_of(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Kind {
        kind: Option<String>,
    }
    serde_json::from_slice::<Kind>(body).ok()?.kind
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

    #[test]
    fn kinds_are_read_without_the_rest() {
        assert_eq!(
            kind_of(br#"{"kind":"Status","code":200}"#).as_deref(),
            Some("Status")
        );
        assert_eq!(kind_of(br#"{"metadata":{}}"#), None);
        assert_eq!(kind_of(b"not json"), None);
    }

    #[test]
    fn decode_errors_name_the_type() {
        let err = decode::<meta::APIGroupList>(b"{\"groups\": 5}").expect_err("bad body");
        let text = err.to_string();
        assert!(text.contains("APIGroupList"), "{text}");
        assert!(text.contains("line 1 column"), "{text}");
        assert!(matches!(err, Error::SerdeError(_)), "{err:?}");
    }
}
