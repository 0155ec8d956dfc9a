//! Conversion endpoints: decode a `ConversionReview`, ask the handler, and
//! check and encode its answer.

use std::{future::Future, sync::Arc, time::Duration};

use bytes::Bytes;
use http::StatusCode;
use kube_client::core::{
    Status,
    conversion::{
        ConversionRequest, ConversionResponse, ConversionReview, META_API_VERSION_V1, META_KIND,
    },
    response::StatusSummary,
};
use tracing::Instrument;

use super::http::{
    Answer, Endpoint, NoAnswer, Reply, call_handler, check_review_type, undecodable,
};

/// A conversion endpoint: `handler` converts the objects of each request.
pub(crate) struct Conversion<H> {
    handler: Arc<H>,
}

impl<H> Conversion<H> {
    pub(crate) fn new(handler: H) -> Self {
        Self {
            handler: Arc::new(handler),
        }
    }
}

impl<H, Fut> Endpoint for Conversion<H>
where
    H: Fn(ConversionRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ConversionResponse> + Send + 'static,
{
    fn answer(&self, body: Bytes, timeout: Duration) -> Answer {
        let handler = Arc::clone(&self.handler);
        Box::pin(async move { answer(&*handler, &body, timeout).await })
    }

    fn refuse(&self, status: StatusCode, message: String) -> Reply {
        refusal(status, status, None, message)
    }
}

async fn answer<H, Fut>(handler: &H, body: &[u8], timeout: Duration) -> Reply
where
    H: Fn(ConversionRequest) -> Fut,
    Fut: Future<Output = ConversionResponse>,
{
    let request = match decode(body) {
        Ok(request) => request,
        Err(problem) => return undecodable(body, problem, refusal),
    };
    let span = tracing::debug_span!(
        "conversion",
        uid = %request.uid,
        to = %request.desired_api_version,
        objects = request.objects.len(),
    );
    let uid = request.uid.clone();
    let sent = request.objects.len();
    let failed = |code: u16, message: String| {
        tracing::warn!(%message, "the conversion webhook failed to answer");
        ConversionResponse::invalid(Status::failure(&message, "InternalError").with_code(code))
    };
    let response = async move {
        match call_handler(handler(request), timeout).await {
            Err(NoAnswer { code, message }) => failed(code, message),
            Ok(response) => {
                let converted = response.converted_objects.len();
                let succeeded = response.result.status == Some(StatusSummary::Success);
                if succeeded && converted != sent {
                    failed(
                        500,
                        format!("the handler converted {converted} objects of {sent}"),
                    )
                } else {
                    response
                }
            }
        }
    }
    .instrument(span)
    .await;
    finish(response, uid)
}

/// The response as sent: carrying the request's `uid` whatever the handler
/// put there, in the review type it came in.
fn finish(mut response: ConversionResponse, uid: String) -> Reply {
    response.uid = uid;
    response.types = None;
    Reply::json(StatusCode::OK, &response.into_review())
}

/// Decodes an `apiextensions.k8s.io/v1` conversion review holding a request.
fn decode(body: &[u8]) -> Result<ConversionRequest, String> {
    let review: ConversionReview = serde_json::from_slice(body)
        .map_err(|error| format!("the ConversionReview does not decode: {error}"))?;
    check_review_type(&review.types, META_API_VERSION_V1, META_KIND)?;
    let request = ConversionRequest::from_review(review).map_err(|error| error.to_string())?;
    if request.uid.is_empty() {
        return Err("the ConversionReview's request has no uid".into());
    }
    Ok(request)
}

/// A review refused before its handler saw it: answered with HTTP `status`,
/// and `code` in the review.
fn refusal(status: StatusCode, code: StatusCode, uid: Option<String>, message: String) -> Reply {
    tracing::warn!(%message, "a conversion review was refused");
    let failure = Status::failure(&message, "BadRequest").with_code(code.as_u16());
    let mut response = ConversionResponse::invalid(failure);
    response.uid = uid.unwrap_or_default();
    Reply::json(status, &response.into_review())
}

#[cfg(test)]
mod tests;
