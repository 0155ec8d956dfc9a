//! The types of conversion webhooks: the `ConversionReview` the apiserver
//! sends when a custom resource must be served in another version than it is
//! stored in, and the one the webhook answers with.
//!
//! A CustomResourceDefinition with `spec.conversion.strategy: Webhook` names
//! a webhook. The apiserver `POST`s a [`ConversionReview`] whose
//! [`ConversionRequest`] holds objects and the `apiVersion` they must be
//! converted to; the webhook answers with a [`ConversionResponse`] holding
//! the converted objects, in the same order, or a failure.
//!
//! ```
//! use kube_core::{
//!     Status,
//!     conversion::{ConversionRequest, ConversionResponse, ConversionReview},
//! };
//!
//! fn convert(review: ConversionReview) -> ConversionReview {
//!     let request = match ConversionRequest::from_review(review) {
//!         Ok(request) => request,
//!         Err(error) => {
//!             return ConversionResponse::invalid(Status::failure(&error.to_string(), "InvalidRequest"))
//!                 .into_review();
//!         }
//!     };
//!     let desired = request.desired_api_version.clone();
//!     let converted = request
//!         .objects
//!         .iter()
//!         .cloned()
//!         .map(|mut object| {
//!             object["apiVersion"] = desired.clone().into();
//!             object
//!         })
//!         .collect();
//!     ConversionResponse::for_request(request).success(converted).into_review()
//! }
//! ```

use serde::{Deserialize, Deserializer, Serialize};

use crate::{Status, metadata::TypeMeta};

/// The `kind` of a conversion review.
pub const META_KIND: &str = "ConversionReview";
/// The `apiVersion` of conversion reviews this module speaks.
pub const META_API_VERSION_V1: &str = "apiextensions.k8s.io/v1";

/// A conversion review held no request to answer.
#[derive(Debug, thiserror::Error)]
#[error("the ConversionReview holds no request")]
pub struct ConvertConversionReviewError;

/// What the apiserver sends to a conversion webhook (with a `request`) and
/// what the webhook answers (with a `response`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ConversionReview {
    /// `apiextensions.k8s.io/v1` `ConversionReview`.
    #[serde(flatten)]
    pub types: TypeMeta,
    /// The objects to convert, in what the apiserver sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<ConversionRequest>,
    /// The converted objects, in what the webhook sends back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ConversionResponse>,
}

/// Objects to convert to another version of their custom resource.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ConversionRequest {
    /// The type metadata of the review this request came in; not sent.
    #[serde(skip)]
    pub types: Option<TypeMeta>,
    /// Identifies this request; the response must carry it back.
    pub uid: String,
    /// The `apiVersion` to convert to, e.g. `example.com/v2`.
    #[serde(rename = "desiredAPIVersion")]
    pub desired_api_version: String,
    /// The objects, each in some version of the resource.
    pub objects: Vec<serde_json::Value>,
}

impl ConversionRequest {
    /// The review's request, keeping the review's type metadata so that the
    /// response answers in the same version.
    pub fn from_review(review: ConversionReview) -> Result<Self, ConvertConversionReviewError> {
        Self::try_from(review)
    }
}

impl TryFrom<ConversionReview> for ConversionRequest {
    type Error = ConvertConversionReviewError;

    fn try_from(review: ConversionReview) -> Result<Self, Self::Error> {
        let mut request = review.request.ok_or(ConvertConversionReviewError)?;
        request.types = Some(review.types);
        Ok(request)
    }
}

/// A conversion webhook's answer.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ConversionResponse {
    /// The type metadata of the review to answer in; not sent here.
    #[serde(skip)]
    pub types: Option<TypeMeta>,
    /// The `uid` of the request this answers.
    pub uid: String,
    /// `Success`, or `Failure` with a message saying why.
    #[serde(rename = "result")]
    pub result: Status,
    /// The converted objects, in the order of the request's, each with the
    /// desired `apiVersion` and otherwise unchanged metadata (except labels
    /// and annotations).
    #[serde(
        rename = "convertedObjects",
        default,
        deserialize_with = "null_as_empty"
    )]
    pub converted_objects: Vec<serde_json::Value>,
}

/// `convertedObjects` may be `null` in failed responses.
fn null_as_empty<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<serde_json::Value>, D::Error> {
    Ok(Option::<Vec<serde_json::Value>>::deserialize(deserializer)?.unwrap_or_default())
}

impl ConversionResponse {
    /// An answer to `request`, to be completed with
    /// [`success`](Self::success) or [`failure`](Self::failure).
    pub fn for_request(request: ConversionRequest) -> Self {
        Self::from(request)
    }

    /// Succeeds with the converted objects.
    #[must_use]
    pub fn success(mut self, converted_objects: Vec<serde_json::Value>) -> Self {
        self.result = Status::success();
        self.converted_objects = converted_objects;
        self
    }

    /// Fails with `status` (its `message` says why).
    #[must_use]
    pub fn failure(mut self, status: Status) -> Self {
        self.result = status;
        self
    }

    /// A failure answering a review that could not be understood; it carries
    /// no `uid`.
    pub fn invalid(status: Status) -> Self {
        Self {
            types: None,
            uid: String::new(),
            result: status,
            converted_objects: Vec::new(),
        }
    }

    /// Wraps the response in the review to send back.
    pub fn into_review(self) -> ConversionReview {
        self.into()
    }
}

impl From<ConversionRequest> for ConversionResponse {
    fn from(request: ConversionRequest) -> Self {
        Self {
            types: request.types,
            uid: request.uid,
            result: Status::default(),
            converted_objects: Vec::new(),
        }
    }
}

impl From<ConversionResponse> for ConversionReview {
    fn from(mut response: ConversionResponse) -> Self {
        let types = response.types.take().unwrap_or_else(|| TypeMeta {
            api_version: META_API_VERSION_V1.to_string(),
            kind: META_KIND.to_string(),
        });
        Self {
            types,
            request: None,
            response: Some(response),
        }
    }
}

#[cfg(test)]
mod tests;
