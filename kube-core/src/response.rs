//! The apiserver's `Status`: how it reports failures (and some successes).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::metadata::ListMeta;

/// A `v1` `Status` object, kept whole: what the server said went wrong.
///
/// The server answers every failed request with one, and sends one as the object
/// of a watch `ERROR` event (e.g. `410 Gone` when a resource version is too old).
/// The `is_*` helpers classify it by `reason` and `code`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, Error)]
#[serde(rename_all = "camelCase")]
#[error("{}", self.describe())]
pub struct Status {
    /// `Success` or `Failure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusSummary>,
    /// The HTTP status code (0 when the server did not set one).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub code: u16,
    /// A human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// List metadata (rarely set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ListMeta>,
    /// A machine-readable reason, see [`reason`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Which object the status is about, and the causes (e.g. invalid fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
}

fn is_zero(code: &u16) -> bool {
    *code == 0
}

impl Status {
    /// Boxes the status (as `Error::Api` holds it).
    pub fn boxed(self) -> Box<Self> {
        Box::new(self)
    }

    /// A success status.
    pub fn success() -> Self {
        Self {
            status: Some(StatusSummary::Success),
            ..Self::default()
        }
    }

    /// A failure status with a message and reason.
    pub fn failure(message: &str, reason: &str) -> Self {
        Self {
            status: Some(StatusSummary::Failure),
            message: message.to_string(),
            reason: reason.to_string(),
            ..Self::default()
        }
    }

    /// Sets the HTTP code.
    #[must_use]
    pub fn with_code(mut self, code: u16) -> Self {
        self.code = code;
        self
    }

    /// Sets the details.
    #[must_use]
    pub fn with_details(mut self, details: StatusDetails) -> Self {
        self.details = Some(details);
        self
    }

    /// Whether the status reports success.
    pub fn is_success(&self) -> bool {
        self.status == Some(StatusSummary::Success)
    }

    /// Whether the status reports failure.
    pub fn is_failure(&self) -> bool {
        self.status == Some(StatusSummary::Failure)
    }

    /// The reason says so, or, when the reason is none the apiserver
    /// documents (empty or from a newer server), the status code does: the
    /// rule client-go's `IsNotFound` and friends follow.
    fn is(&self, reason: &str, code: u16) -> bool {
        self.reason == reason || (!reason::is_known(&self.reason) && self.code == code)
    }

    /// `404 NotFound`: the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.is(reason::NOT_FOUND, 404)
    }

    /// `409 AlreadyExists`: a create collided with an existing name.
    pub fn is_already_exists(&self) -> bool {
        self.reason == reason::ALREADY_EXISTS
    }

    /// `409 Conflict`: a write lost a race (stale resource version, or a field
    /// manager conflict in server-side apply).
    pub fn is_conflict(&self) -> bool {
        self.is(reason::CONFLICT, 409)
    }

    /// `403 Forbidden`: authorization denied the request.
    pub fn is_forbidden(&self) -> bool {
        self.is(reason::FORBIDDEN, 403)
    }

    /// `422 Invalid`: the object failed validation.
    pub fn is_invalid(&self) -> bool {
        self.is(reason::INVALID, 422)
    }

    /// `410 Gone` or `Expired`: a resource version or continue token is too old;
    /// the client must list again from scratch.
    pub fn is_gone(&self) -> bool {
        self.reason == reason::GONE || self.reason == reason::EXPIRED || self.code == 410
    }

    /// `401 Unauthorized`: the credentials were missing or rejected.
    pub fn is_unauthorized(&self) -> bool {
        self.is(reason::UNAUTHORIZED, 401)
    }

    /// `429 TooManyRequests`: the server asks the client to slow down.
    pub fn is_too_many_requests(&self) -> bool {
        self.is(reason::TOO_MANY_REQUESTS, 429)
    }

    fn describe(&self) -> String {
        let mut text = String::new();
        if !self.reason.is_empty() {
            text.push_str(&self.reason);
        } else {
            text.push_str("Failure");
        }
        if self.code != 0 {
            text.push_str(&format!(" ({})", self.code));
        }
        if !self.message.is_empty() {
            text.push_str(": ");
            text.push_str(&self.message);
        }
        text
    }
}

/// Whether a [`Status`] reports success or failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusSummary {
    /// The operation succeeded.
    Success,
    /// The operation failed.
    Failure,
}

/// Which object a [`Status`] is about, and why.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    /// The object's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The object's group.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// The object's kind (or resource).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The object's uid.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// The individual causes, e.g. one per invalid field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    /// How long to wait before retrying, in seconds (0 when not set).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub retry_after_seconds: u32,
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

/// One cause of a failure, e.g. a field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCause {
    /// A machine-readable reason, e.g. `FieldValueInvalid`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// A human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The field at fault, e.g. `spec.replicas`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// The reasons the apiserver puts in [`Status::reason`].
pub mod reason {
    /// No reason was given.
    pub const UNKNOWN: &str = "";
    /// The credentials were missing or rejected (401).
    pub const UNAUTHORIZED: &str = "Unauthorized";
    /// Authorization denied the request (403).
    pub const FORBIDDEN: &str = "Forbidden";
    /// The object does not exist (404).
    pub const NOT_FOUND: &str = "NotFound";
    /// An object with that name exists already (409).
    pub const ALREADY_EXISTS: &str = "AlreadyExists";
    /// A write lost a race or conflicts with another field manager (409).
    pub const CONFLICT: &str = "Conflict";
    /// The requested resource version is no longer available (410).
    pub const GONE: &str = "Gone";
    /// The object failed validation (422).
    pub const INVALID: &str = "Invalid";
    /// The server could not finish in time; retrying may help (500 or 504).
    pub const SERVER_TIMEOUT: &str = "ServerTimeout";
    /// The object could not be read from storage, e.g. it is corrupt or
    /// cannot be decrypted (500).
    pub const STORAGE_READ_ERROR: &str = "StorageReadError";
    /// The request timed out before the server could finish (504).
    pub const TIMEOUT: &str = "Timeout";
    /// The client is sending too many requests (429).
    pub const TOO_MANY_REQUESTS: &str = "TooManyRequests";
    /// The request was malformed (400).
    pub const BAD_REQUEST: &str = "BadRequest";
    /// The verb is not supported for the resource (405).
    pub const METHOD_NOT_ALLOWED: &str = "MethodNotAllowed";
    /// None of the accepted media types can be served (406).
    pub const NOT_ACCEPTABLE: &str = "NotAcceptable";
    /// The request body is too large (413).
    pub const REQUEST_ENTITY_TOO_LARGE: &str = "RequestEntityTooLarge";
    /// The content type of the body is not supported (415).
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UnsupportedMediaType";
    /// The server failed (500).
    pub const INTERNAL_ERROR: &str = "InternalError";
    /// The content (e.g. a continue token) has expired (410).
    pub const EXPIRED: &str = "Expired";
    /// The server is unavailable (503).
    pub const SERVICE_UNAVAILABLE: &str = "ServiceUnavailable";

    /// Every reason above but [`UNKNOWN`].
    const KNOWN: &[&str] = &[
        UNAUTHORIZED,
        FORBIDDEN,
        NOT_FOUND,
        ALREADY_EXISTS,
        CONFLICT,
        GONE,
        INVALID,
        SERVER_TIMEOUT,
        STORAGE_READ_ERROR,
        TIMEOUT,
        TOO_MANY_REQUESTS,
        BAD_REQUEST,
        METHOD_NOT_ALLOWED,
        NOT_ACCEPTABLE,
        REQUEST_ENTITY_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        INTERNAL_ERROR,
        EXPIRED,
        SERVICE_UNAVAILABLE,
    ];

    /// Whether `reason` is one of the reasons listed here; the empty
    /// [`UNKNOWN`] reason is not.
    ///
    /// ```
    /// use kube_core::response::reason;
    ///
    /// assert!(reason::is_known("NotFound"));
    /// assert!(!reason::is_known(reason::UNKNOWN));
    /// assert!(!reason::is_known("SomethingNewer"));
    /// ```
    pub fn is_known(reason: &str) -> bool {
        KNOWN.contains(&reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_not_found_status_whole() {
        let json = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
            "message":"pods \"x\" not found","reason":"NotFound",
            "details":{"name":"x","kind":"pods"},"code":404}"#;
        let status: Status = serde_json::from_str(json).expect("valid status");
        assert!(status.is_failure());
        assert!(status.is_not_found());
        assert!(!status.is_conflict());
        assert_eq!(status.code, 404);
        assert_eq!(status.details.as_ref().map(|d| d.name.as_str()), Some("x"));
        assert_eq!(status.to_string(), "NotFound (404): pods \"x\" not found");
    }

    #[test]
    fn classifies_by_reason_or_code() {
        assert!(Status::failure("too old", reason::EXPIRED).is_gone());
        assert!(Status::default().with_code(410).is_gone());
        assert!(Status::failure("x", "").with_code(422).is_invalid());
        assert!(
            Status::failure("exists", reason::ALREADY_EXISTS)
                .with_code(409)
                .is_already_exists()
        );
        assert!(
            !Status::failure("exists", reason::ALREADY_EXISTS)
                .with_code(409)
                .is_conflict()
        );
        assert!(
            Status::failure("conflict", reason::CONFLICT)
                .with_code(409)
                .is_conflict()
        );
        assert!(Status::failure("nope", reason::FORBIDDEN).is_forbidden());
        assert!(Status::success().is_success());
    }

    #[test]
    fn the_code_decides_only_when_the_reason_is_unknown() {
        // A reason no release documents (empty, or from a newer server): the code decides.
        assert!(Status::failure("gone", "").with_code(404).is_not_found());
        assert!(
            Status::failure("gone", "Vanished")
                .with_code(404)
                .is_not_found()
        );
        assert!(Status::failure("busy", "").with_code(409).is_conflict());
        // A known reason speaks for itself, whatever the code.
        assert!(
            !Status::failure("no", reason::FORBIDDEN)
                .with_code(404)
                .is_not_found()
        );
        assert!(
            !Status::failure("unreadable", reason::STORAGE_READ_ERROR)
                .with_code(500)
                .is_invalid()
        );
    }

    #[test]
    fn invalid_status_keeps_its_causes() {
        let json = r#"{"status":"Failure","reason":"Invalid","code":422,
            "details":{"causes":[{"reason":"FieldValueInvalid","message":"bad","field":"spec.replicas"}]}}"#;
        let status: Status = serde_json::from_str(json).expect("valid status");
        let causes = status.details.map(|d| d.causes).unwrap_or_default();
        assert_eq!(causes[0].field, "spec.replicas");
    }
}
