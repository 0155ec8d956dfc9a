//! Requests built by `kube-core`, sent through the stack, and their answers
//! decoded: objects, text, streams, `Status`es and watch events.

use either::{Either, Left, Right};
use futures::{AsyncBufRead, Stream, TryStreamExt};
use http::{Request, StatusCode};
use kube_core::{Status, WatchEvent};
use serde::{Deserialize, de::DeserializeOwned};

use super::{Body, Client, json, middleware::BodyUse, watch::EventStream};
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
    pub(crate) async fn request_bytes(&self, request: Request<Vec<u8>>) -> Result<bytes::Bytes> {
        let response = self.send_for(request, BodyUse::Whole).await?;
        let status = response.status();
        let body = response.into_body().collect_bytes().await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(api_error(status, &body))
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
        let status = response.status();
        if status.is_success() {
            return Ok(response.into_body());
        }
        let body = response.into_body().collect_bytes().await?;
        Err(api_error(status, &body))
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

/// The error of a failed response: its `Status`, or one made from its code.
pub(crate) fn api_error(status: StatusCode, body: &[u8]) -> Error {
    Error::Api(Box::new(crate::error::status_from_body(status, body)))
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
