//! The types of admission webhooks: the `AdmissionReview` the apiserver sends
//! to a webhook, and the one the webhook answers with.
//!
//! When an object is created, updated, deleted or connected to, the apiserver
//! can ask webhooks whether to allow it (validating webhooks) and how to
//! change it first (mutating webhooks). It `POST`s an [`AdmissionReview`]
//! holding an [`AdmissionRequest`]; the webhook answers with an
//! `AdmissionReview` holding an [`AdmissionResponse`] carrying the request's
//! `uid`, whether the operation is allowed, and for mutating webhooks a JSON
//! patch.
//!
//! ```
//! use kube_core::{
//!     DynamicObject, ResourceExt,
//!     admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation},
//! };
//!
//! fn review(body: &[u8]) -> Result<AdmissionReview<DynamicObject>, Box<dyn std::error::Error>> {
//!     let review: AdmissionReview<DynamicObject> = serde_json::from_slice(body)?;
//!     let request: AdmissionRequest<DynamicObject> = match review.try_into() {
//!         Ok(request) => request,
//!         Err(error) => return Ok(AdmissionResponse::invalid(error).into_review()),
//!     };
//!     let mut response = AdmissionResponse::from(&request);
//!     if request.operation == Operation::Create
//!         && request.object.as_ref().is_some_and(|o| o.labels().get("team").is_none())
//!     {
//!         response = response.deny("every object needs a team label");
//!     }
//!     Ok(response.into_review())
//! }
//! ```

use std::collections::HashMap;

use k8s_openapi::{api::authentication::v1::UserInfo, apimachinery::pkg::runtime::RawExtension};
use serde::{Deserialize, Serialize};

use crate::{
    DynamicObject, Resource, Status,
    gvk::{GroupVersionKind, GroupVersionResource},
    metadata::TypeMeta,
};

#[cfg(feature = "cel")]
mod cel_request;

/// The `kind` of an admission review.
pub const META_KIND: &str = "AdmissionReview";
/// The `apiVersion` of admission reviews this module speaks.
pub const META_API_VERSION_V1: &str = "admission.k8s.io/v1";

/// A JSON patch could not be encoded into a response.
#[derive(Debug, thiserror::Error)]
#[error("could not encode the JSON patch of the admission response: {0}")]
pub struct SerializePatchError(#[source] serde_json::Error);

/// An admission review held no request to answer.
#[derive(Debug, thiserror::Error)]
#[error("the AdmissionReview holds no request")]
pub struct ConvertAdmissionReviewError;

/// What the apiserver sends to a webhook (with a `request`) and what the
/// webhook answers (with a `response`).
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReview<T: Resource> {
    /// `admission.k8s.io/v1` `AdmissionReview`.
    #[serde(flatten)]
    pub types: TypeMeta,
    /// The question, in what the apiserver sends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<AdmissionRequest<T>>,
    /// The answer, in what the webhook sends back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<AdmissionResponse>,
}

impl<T: Resource> TryInto<AdmissionRequest<T>> for AdmissionReview<T> {
    type Error = ConvertAdmissionReviewError;

    /// The review's request, which keeps the review's type metadata so that
    /// the response can answer in the same version.
    fn try_into(self) -> Result<AdmissionRequest<T>, Self::Error> {
        let mut request = self.request.ok_or(ConvertAdmissionReviewError)?;
        request.types = self.types;
        Ok(request)
    }
}

/// The question the apiserver asks a webhook: may this operation on this
/// object happen (and, for mutating webhooks, how should it be changed)?
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest<T: Resource> {
    /// The type metadata of the review this request came in; not sent.
    #[serde(skip)]
    pub types: TypeMeta,
    /// Identifies this request; the response must carry it back.
    pub uid: String,
    /// The kind of `object`, as the webhook registered for it.
    pub kind: GroupVersionKind,
    /// The resource being acted on, as the webhook registered for it.
    pub resource: GroupVersionResource,
    /// The subresource being acted on, e.g. `status` or `exec`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_resource: Option<String>,
    /// The kind the client sent, when the apiserver converted it to `kind`
    /// for this webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_kind: Option<GroupVersionKind>,
    /// The resource the client addressed, when it differs from `resource`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_resource: Option<GroupVersionResource>,
    /// The subresource the client addressed, when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_sub_resource: Option<String>,
    /// The object's name; empty on creates that let the server pick it.
    #[serde(default)]
    pub name: String,
    /// The object's namespace, for namespaced resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// What is being done.
    pub operation: Operation,
    /// Who is doing it.
    pub user_info: UserInfo,
    /// The object as it would be stored (absent on deletes and connects).
    pub object: Option<T>,
    /// The object as it is stored now (on updates and deletes).
    pub old_object: Option<T>,
    /// Whether nothing will be persisted: webhooks with side effects must not
    /// act on dry runs.
    #[serde(default)]
    pub dry_run: bool,
    /// The options of the operation, e.g. `CreateOptions` or `PodExecOptions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<RawExtension>,
}

/// The operation of an [`AdmissionRequest`].
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operation {
    /// The object is created.
    Create,
    /// The object is changed.
    Update,
    /// The object is deleted.
    Delete,
    /// A connection is made to the object, e.g. `exec` into a pod.
    Connect,
}

/// The kind of patch in an [`AdmissionResponse`].
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// An RFC 6902 JSON patch, the only kind the apiserver takes.
    #[serde(rename = "JSONPatch")]
    JsonPatch,
}

/// A webhook's answer to an [`AdmissionRequest`].
///
/// Start from the request ([`AdmissionResponse::from`]), which allows it;
/// then [`deny`](Self::deny) it, or [`with_patch`](Self::with_patch) change
/// it; then wrap it with [`into_review`](Self::into_review).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AdmissionResponse {
    /// The type metadata of the review to answer in; not sent here.
    #[serde(skip)]
    pub types: TypeMeta,
    /// The `uid` of the request this answers.
    pub uid: String,
    /// Whether the operation may go ahead.
    pub allowed: bool,
    /// Why not, when not allowed: its `message` is shown to the user, its
    /// `code` becomes the HTTP status of the refused request.
    #[serde(rename = "status", default)]
    pub result: Status,
    /// The JSON patch to apply to the object (mutating webhooks only), as
    /// JSON bytes; sent base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "patch_bytes")]
    pub patch: Option<Vec<u8>>,
    /// The kind of `patch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    patch_type: Option<PatchType>,
    /// Annotations for the audit log, keys prefixed by the webhook's name.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub audit_annotations: HashMap<String, String>,
    /// Warnings shown to the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
}

impl<T: Resource> From<&AdmissionRequest<T>> for AdmissionResponse {
    /// A response allowing `request`, unchanged.
    fn from(request: &AdmissionRequest<T>) -> Self {
        Self {
            types: request.types.clone(),
            uid: request.uid.clone(),
            allowed: true,
            result: Status::default(),
            patch: None,
            patch_type: None,
            audit_annotations: HashMap::new(),
            warnings: None,
        }
    }
}

impl AdmissionResponse {
    /// A refusal of a review that could not be understood (it held no
    /// request, or not of the expected type); it carries no `uid`.
    pub fn invalid<T: ToString>(reason: T) -> Self {
        Self {
            types: TypeMeta {
                api_version: META_API_VERSION_V1.to_string(),
                kind: META_KIND.to_string(),
            },
            uid: String::new(),
            allowed: false,
            result: Status::failure(&reason.to_string(), "InvalidRequest"),
            patch: None,
            patch_type: None,
            audit_annotations: HashMap::new(),
            warnings: None,
        }
    }

    /// Refuses the operation; `reason` is shown to the user.
    #[must_use]
    pub fn deny<T: ToString>(mut self, reason: T) -> Self {
        self.allowed = false;
        self.result.message = reason.to_string();
        self
    }

    /// Changes the object with a JSON patch before it is stored (mutating
    /// webhooks only).
    pub fn with_patch(mut self, patch: json_patch::Patch) -> Result<Self, SerializePatchError> {
        self.patch = Some(serde_json::to_vec(&patch).map_err(SerializePatchError)?);
        self.patch_type = Some(PatchType::JsonPatch);
        Ok(self)
    }

    /// The kind of the patch, if there is one.
    pub fn patch_type(&self) -> Option<PatchType> {
        self.patch_type
    }

    /// Wraps the response in the review to send back.
    pub fn into_review(self) -> AdmissionReview<DynamicObject> {
        AdmissionReview {
            types: self.types.clone(),
            request: None,
            response: Some(self),
        }
    }
}

/// `[]byte` as Kubernetes sends it in JSON: a base64 string.
mod patch_bytes {
    use k8s_openapi::ByteString;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(
        patch: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        patch
            .as_ref()
            .map(|bytes| ByteString(bytes.clone()))
            .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        Ok(Option::<ByteString>::deserialize(deserializer)?.map(|bytes| bytes.0))
    }
}

#[cfg(test)]
mod tests;
