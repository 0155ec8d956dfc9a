//! [`ReconcileRequest`]: which object to reconcile, and why.

use std::{
    fmt::{self, Debug},
    hash::{Hash, Hasher},
};

use kube_client::core::{DynamicObject, Resource};

use crate::reflector::ObjectRef;

/// A request to reconcile an object, with the reason it was made.
///
/// Requests for the same object are equal whatever their reasons, so the
/// scheduler merges them.
pub struct ReconcileRequest<K: Resource> {
    /// The object to reconcile.
    pub obj_ref: ObjectRef<K>,
    /// Why.
    pub reason: ReconcileReason,
}

impl<K: Resource> Clone for ReconcileRequest<K>
where
    K::DynamicType: Clone,
{
    fn clone(&self) -> Self {
        Self {
            obj_ref: self.obj_ref.clone(),
            reason: self.reason.clone(),
        }
    }
}

impl<K: Resource> Debug for ReconcileRequest<K>
where
    K::DynamicType: Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconcileRequest")
            .field("obj_ref", &self.obj_ref)
            .field("reason", &self.reason)
            .finish()
    }
}

impl<K: Resource> PartialEq for ReconcileRequest<K>
where
    K::DynamicType: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.obj_ref == other.obj_ref
    }
}

impl<K: Resource> Eq for ReconcileRequest<K> where K::DynamicType: Eq {}

impl<K: Resource> Hash for ReconcileRequest<K>
where
    K::DynamicType: Hash,
{
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.obj_ref.hash(state);
    }
}

impl<K: Resource> From<ObjectRef<K>> for ReconcileRequest<K> {
    fn from(obj_ref: ObjectRef<K>) -> Self {
        Self {
            obj_ref,
            reason: ReconcileReason::Unknown,
        }
    }
}

/// Why a reconcile was requested.
#[derive(Debug, Clone)]
pub enum ReconcileReason {
    /// Not known (e.g. requested through
    /// [`Controller::reconcile_on`](super::Controller::reconcile_on)).
    Unknown,
    /// The object itself was created or changed.
    ObjectUpdated,
    /// A related object (a child or a watched object) changed.
    RelatedObjectUpdated {
        /// The related object.
        obj_ref: Box<ObjectRef<DynamicObject>>,
    },
    /// The previous reconcile asked to be requeued.
    ReconcilerRequestedRetry,
    /// The error policy asked to retry after a failure.
    ErrorPolicyRequestedRetry,
    /// Every object was requested at once
    /// ([`Controller::reconcile_all_on`](super::Controller::reconcile_all_on)).
    BulkReconcile,
    /// A custom reason.
    Custom {
        /// The reason.
        reason: String,
    },
}

impl fmt::Display for ReconcileReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReconcileReason::Unknown => f.write_str("unknown"),
            ReconcileReason::ObjectUpdated => f.write_str("object updated"),
            ReconcileReason::RelatedObjectUpdated { obj_ref } => {
                write!(f, "related object updated: {obj_ref}")
            }
            ReconcileReason::ReconcilerRequestedRetry => f.write_str("reconciler requested retry"),
            ReconcileReason::ErrorPolicyRequestedRetry => {
                f.write_str("error policy requested retry")
            }
            ReconcileReason::BulkReconcile => f.write_str("bulk reconcile requested"),
            ReconcileReason::Custom { reason } => f.write_str(reason),
        }
    }
}
