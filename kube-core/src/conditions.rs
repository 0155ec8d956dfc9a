//! Status conditions: the `status.conditions` list of `meta.v1.Condition`s
//! that most Kubernetes objects report their state in.
//!
//! A condition says one thing about an object (`Ready`, `Degraded`, ...): its
//! `status` is `True`, `False` or `Unknown`, with a machine-readable `reason`, a
//! `message` for people, the `observedGeneration` of the spec it was worked
//! out from, and the `lastTransitionTime` of its last change of status. The
//! functions here keep such a list the way apimachinery's
//! `k8s.io/apimachinery/pkg/api/meta` helpers do:
//!
//! - [`set`] adds a condition or updates the one of the same type, moving
//!   `lastTransitionTime` only when the status changes;
//! - [`find`], [`remove`], and [`is_true`], [`is_false`], [`is_unknown`],
//!   [`has_status`] to read and prune the list.
//!
//! ```
//! use kube_core::conditions::{self, FALSE, TRUE};
//!
//! let mut list = Vec::new();
//! assert!(conditions::set(&mut list, conditions::new("Ready", FALSE, "Starting", "waiting for pods")));
//! let since = list[0].last_transition_time.clone();
//!
//! // A new message, same status: the transition time stays.
//! assert!(conditions::set(&mut list, conditions::new("Ready", FALSE, "Starting", "1 of 3 pods ready")));
//! assert_eq!(list[0].last_transition_time, since);
//!
//! assert!(conditions::set(&mut list, conditions::new("Ready", TRUE, "PodsReady", "3 of 3 pods ready")));
//! assert!(conditions::is_true(&list, "Ready"));
//! assert!(conditions::is_unknown(&list, "Degraded"), "an absent condition is unknown");
//! ```
//!
//! # Conditions under server-side apply
//!
//! Several controllers often report conditions on one object, each applying
//! its own with server-side apply. That works only when the schema declares
//! `conditions` a *list map* keyed by `type`: each field manager then owns its
//! own entries, and applying one condition leaves the others alone. (A
//! custom resource's lists are otherwise atomic: one apply replaces the whole
//! list, taking the other managers' conditions with it.) With the `schema`
//! feature, `conditions::schema` is that schema, for one attribute on the field:
//!
//! ```
//! # #[cfg(feature = "schema")] {
//! use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
//! pub struct WidgetStatus {
//!     /// What the controllers make of the widget.
//!     #[serde(default, skip_serializing_if = "Vec::is_empty")]
//!     #[schemars(schema_with = "kube_core::conditions::schema")]
//!     pub conditions: Vec<Condition>,
//! }
//!
//! let schema = kube_core::schema::structural_schema_for::<WidgetStatus>();
//! let conditions = &schema.as_value()["properties"]["conditions"];
//! assert_eq!(conditions["x-kubernetes-list-type"], "map");
//! assert_eq!(conditions["x-kubernetes-list-map-keys"], serde_json::json!(["type"]));
//! # }
//! ```
//!
//! (Through the `kube` facade, the path is `kube::core::conditions::schema`.)

use k8s_openapi::{
    apimachinery::pkg::apis::meta::v1::{Condition, Time},
    jiff::Timestamp,
};

/// The `status` of a condition that holds.
pub const TRUE: &str = "True";
/// The `status` of a condition that does not hold.
pub const FALSE: &str = "False";
/// The `status` of a condition that cannot be told.
pub const UNKNOWN: &str = "Unknown";

/// A condition of type `type_` with `status` ([`TRUE`], [`FALSE`] or
/// [`UNKNOWN`]), `reason` and `message`, stamped with the current time and no
/// `observedGeneration` (set the field to record one).
///
/// The time is only used when [`set`] adds the condition or changes its
/// status: an update that keeps the status keeps the old time.
#[must_use]
pub fn new(type_: &str, status: &str, reason: &str, message: &str) -> Condition {
    Condition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: reason.to_string(),
        message: message.to_string(),
        observed_generation: None,
        last_transition_time: Time(Timestamp::now()),
    }
}

/// Sets the condition of `new`'s type to `new`, and says whether `conditions`
/// changed (apimachinery's `meta.SetStatusCondition`).
///
/// - Without a condition of that type, `new` is appended as it is.
/// - Otherwise the existing condition takes `new`'s status, reason, message
///   and `observedGeneration`, and its `lastTransitionTime` becomes `new`'s
///   only when the status changes: the time says since when the status holds,
///   not when the condition was last written.
///
/// Apimachinery also stamps the current time on a condition whose time is
/// unset; a `Condition` here always has one, and [`new`] stamps the current
/// time.
pub fn set(conditions: &mut Vec<Condition>, new: Condition) -> bool {
    let Some(existing) = find_mut(conditions, &new.type_) else {
        conditions.push(new);
        return true;
    };
    let mut changed = false;
    if existing.status != new.status {
        existing.status = new.status;
        existing.last_transition_time = new.last_transition_time;
        changed = true;
    }
    if existing.reason != new.reason {
        existing.reason = new.reason;
        changed = true;
    }
    if existing.message != new.message {
        existing.message = new.message;
        changed = true;
    }
    if existing.observed_generation != new.observed_generation {
        existing.observed_generation = new.observed_generation;
        changed = true;
    }
    changed
}

/// Removes the condition of type `type_`, and says whether there was one
/// (apimachinery's `meta.RemoveStatusCondition`). The others keep their order.
pub fn remove(conditions: &mut Vec<Condition>, type_: &str) -> bool {
    let before = conditions.len();
    conditions.retain(|condition| condition.type_ != type_);
    conditions.len() != before
}

/// The condition of type `type_`, if any (apimachinery's
/// `meta.FindStatusCondition`).
#[must_use]
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|condition| condition.type_ == type_)
}

/// The condition of type `type_`, if any, to change in place.
#[must_use]
pub fn find_mut<'a>(conditions: &'a mut [Condition], type_: &str) -> Option<&'a mut Condition> {
    conditions
        .iter_mut()
        .find(|condition| condition.type_ == type_)
}

/// Whether the condition of type `type_` is present with status `status`
/// (apimachinery's `meta.IsStatusConditionPresentAndEqual`).
#[must_use]
pub fn has_status(conditions: &[Condition], type_: &str, status: &str) -> bool {
    find(conditions, type_).is_some_and(|condition| condition.status == status)
}

/// Whether the condition of type `type_` is present and `True`
/// (apimachinery's `meta.IsStatusConditionTrue`).
#[must_use]
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    has_status(conditions, type_, TRUE)
}

/// Whether the condition of type `type_` is present and `False`
/// (apimachinery's `meta.IsStatusConditionFalse`).
#[must_use]
pub fn is_false(conditions: &[Condition], type_: &str) -> bool {
    has_status(conditions, type_, FALSE)
}

/// Whether the condition of type `type_` is neither `True` nor `False`: it is
/// `Unknown`, has some other status, or is absent (Kubernetes' API conventions
/// read a missing condition as unknown). Exactly one of [`is_true`],
/// [`is_false`] and `is_unknown` holds for any list; [`has_status`] with
/// [`UNKNOWN`] asks for a present `Unknown` condition only.
#[must_use]
pub fn is_unknown(conditions: &[Condition], type_: &str) -> bool {
    !is_true(conditions, type_) && !is_false(conditions, type_)
}

/// The schema of a `Vec<Condition>` field that server-side apply merges by
/// condition type (`x-kubernetes-list-type: map`, keyed by `type`), so that
/// field managers each own their own conditions. Use it on the field with
/// `#[schemars(schema_with = "kube::core::conditions::schema")]`; see the
/// [module documentation](self).
#[cfg(feature = "schema")]
pub fn schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": generator.subschema_for::<Condition>(),
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
    })
}

#[cfg(test)]
mod tests;
