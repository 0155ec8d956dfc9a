//! Admission endpoints: decode an `AdmissionReview`, ask the handler, and
//! encode its answer, with the JSON Patch of a mutation worked out here.

use std::{future::Future, marker::PhantomData, sync::Arc, time::Duration};

use bytes::Bytes;
use http::StatusCode;
use kube_client::core::{
    DynamicObject, Resource,
    admission::{
        AdmissionRequest, AdmissionResponse, AdmissionReview, ConvertAdmissionReviewError,
        META_API_VERSION_V1, META_KIND,
    },
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use tracing::Instrument;

use super::http::{
    Answer, Endpoint, NoAnswer, Reply, call_handler, check_review_type, undecodable,
};

/// What a mutating webhook's handler answers.
///
/// ```
/// use k8s_openapi::api::core::v1::ConfigMap;
/// use kube_client::core::{ResourceExt, admission::AdmissionRequest};
/// use kube_runtime::webhook::Mutation;
///
/// async fn label(request: AdmissionRequest<ConfigMap>) -> Mutation<ConfigMap> {
///     let Some(mut config_map) = request.object else {
///         return Mutation::Unchanged;
///     };
///     config_map.labels_mut().insert("checked".into(), "yes".into());
///     Mutation::Object(config_map)
/// }
/// ```
#[derive(Debug, Clone)]
pub enum Mutation<K> {
    /// Let the object through as it is.
    Unchanged,
    /// Store the object like this: the server answers with the JSON Patch
    /// from the request's object to this one. Both are compared as `K`
    /// serializes them, so fields `K` does not know are left alone.
    Object(K),
    /// Change the object with this JSON Patch.
    Patch(json_patch::Patch),
    /// Refuse the operation; the message is shown to whoever asked for it.
    Deny(String),
    /// Answer with this response (the server fills in its `uid`): for
    /// warnings, audit annotations, or a status code of your choosing.
    Response(Box<AdmissionResponse>),
}

/// How a handler's output becomes a response: the two kinds of admission
/// webhook differ only here.
pub(crate) trait Outcome<K>: Send + Sized + 'static {
    /// What the response needs from the request, taken before the handler
    /// gets the request.
    type Before: Send;

    fn before(request: &AdmissionRequest<K>) -> Result<Self::Before, String>
    where
        K: Resource;

    fn into_response(
        self,
        allowed: AdmissionResponse,
        before: Self::Before,
    ) -> Result<AdmissionResponse, String>;
}

/// A validating webhook answers with the response itself.
impl<K> Outcome<K> for AdmissionResponse {
    type Before = ();

    fn before(_: &AdmissionRequest<K>) -> Result<(), String>
    where
        K: Resource,
    {
        Ok(())
    }

    fn into_response(self, _: AdmissionResponse, (): ()) -> Result<AdmissionResponse, String> {
        Ok(self)
    }
}

impl<K: Serialize + Send + 'static> Outcome<K> for Mutation<K> {
    /// The request's object as JSON, to work out the patch from.
    type Before = Option<Value>;

    fn before(request: &AdmissionRequest<K>) -> Result<Option<Value>, String>
    where
        K: Resource,
    {
        request
            .object
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(|error| format!("the request's object could not be encoded: {error}"))
    }

    fn into_response(
        self,
        allowed: AdmissionResponse,
        original: Option<Value>,
    ) -> Result<AdmissionResponse, String> {
        let patch = match self {
            Mutation::Unchanged => return Ok(allowed),
            Mutation::Deny(message) => return Ok(allowed.deny(message)),
            Mutation::Response(response) => return Ok(*response),
            Mutation::Patch(patch) => patch,
            Mutation::Object(mutated) => {
                let Some(original) = original else {
                    return Err(
                        "the handler returned an object for a request without one (a DELETE or \
                         CONNECT), so there is nothing to patch"
                            .into(),
                    );
                };
                let mutated = serde_json::to_value(&mutated).map_err(|error| {
                    format!("the handler's object could not be encoded: {error}")
                })?;
                json_patch::diff(&original, &mutated)
            }
        };
        if patch.0.is_empty() {
            return Ok(allowed);
        }
        allowed.with_patch(patch).map_err(|error| error.to_string())
    }
}

/// An admission endpoint: `handler` answers requests about objects of type
/// `K`, with an output `O` (a response, or a [`Mutation`]).
pub(crate) struct Admission<K, H, O> {
    handler: Arc<H>,
    _types: PhantomData<fn(K) -> O>,
}

impl<K, H, O> Admission<K, H, O> {
    pub(crate) fn new(handler: H) -> Self {
        Self {
            handler: Arc::new(handler),
            _types: PhantomData,
        }
    }
}

impl<K, H, Fut, O> Endpoint for Admission<K, H, O>
where
    K: Resource + DeserializeOwned + Send + 'static,
    H: Fn(AdmissionRequest<K>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = O> + Send + 'static,
    O: Outcome<K>,
{
    fn answer(&self, body: Bytes, timeout: Duration) -> Answer {
        let handler = Arc::clone(&self.handler);
        Box::pin(async move { answer::<K, H, Fut, O>(&handler, &body, timeout).await })
    }

    fn refuse(&self, status: StatusCode, message: String) -> Reply {
        refusal(status, status, None, message)
    }
}

async fn answer<K, H, Fut, O>(handler: &H, body: &[u8], timeout: Duration) -> Reply
where
    K: Resource + DeserializeOwned,
    H: Fn(AdmissionRequest<K>) -> Fut,
    Fut: Future<Output = O>,
    O: Outcome<K>,
{
    let request = match decode::<K>(body) {
        Ok(request) => request,
        Err(problem) => return undecodable(body, problem, refusal),
    };
    let span = tracing::debug_span!(
        "admission",
        uid = %request.uid,
        operation = ?request.operation,
        kind = %request.kind.kind,
        namespace = request.namespace.as_deref().unwrap_or_default(),
        name = %request.name,
    );
    let allowed = AdmissionResponse::from(&request);
    let failed = {
        let allowed = allowed.clone();
        move |code: u16, message: String| {
            tracing::warn!(%message, "the admission webhook failed to answer");
            let mut response = allowed.deny(message);
            response.result.code = code;
            response
        }
    };
    let uid = request.uid.clone();
    let response = async move {
        let before = match O::before(&request) {
            Ok(before) => before,
            Err(problem) => return failed(500, problem),
        };
        match call_handler(handler(request), timeout).await {
            Err(NoAnswer { code, message }) => failed(code, message),
            Ok(outcome) => outcome
                .into_response(allowed, before)
                .unwrap_or_else(|problem| failed(500, problem)),
        }
    }
    .instrument(span)
    .await;
    finish(response, uid)
}

/// The response as sent: carrying the request's `uid` whatever the handler
/// put there, in the review type it came in.
fn finish(mut response: AdmissionResponse, uid: String) -> Reply {
    response.uid = uid;
    response.types.api_version = META_API_VERSION_V1.to_string();
    response.types.kind = META_KIND.to_string();
    if !response.allowed {
        tracing::debug!(message = %response.result.message, "admission denied");
    }
    Reply::json(StatusCode::OK, &response.into_review())
}

/// Decodes an `admission.k8s.io/v1` review holding a request about a `K`.
fn decode<K: Resource + DeserializeOwned>(body: &[u8]) -> Result<AdmissionRequest<K>, String> {
    let review: AdmissionReview<K> = serde_json::from_slice(body).map_err(|error| {
        format!(
            "the AdmissionReview does not decode (with its object as {}): {error}",
            std::any::type_name::<K>()
        )
    })?;
    check_review_type(&review.types, META_API_VERSION_V1, META_KIND)?;
    let request: AdmissionRequest<K> = review
        .try_into()
        .map_err(|error: ConvertAdmissionReviewError| error.to_string())?;
    if request.uid.is_empty() {
        return Err("the AdmissionReview's request has no uid".into());
    }
    Ok(request)
}

/// A review refused before its handler saw it: answered with HTTP `status`,
/// and `code` in the review.
fn refusal(status: StatusCode, code: StatusCode, uid: Option<String>, message: String) -> Reply {
    tracing::warn!(%message, "an admission review was refused");
    let mut response = AdmissionResponse::invalid(message);
    response.result.code = code.as_u16();
    response.uid = uid.unwrap_or_default();
    let review: AdmissionReview<DynamicObject> = response.into_review();
    Reply::json(status, &review)
}

#[cfg(test)]
mod tests;
