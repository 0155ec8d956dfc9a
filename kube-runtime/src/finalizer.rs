//! Finalizers: running cleanup before an object is allowed to disappear.
//!
//! A finalizer is a name in an object's `metadata.finalizers`. While it is there,
//! deleting the object only marks it (`deletionTimestamp`); the object stays
//! until every finalizer is removed. [`finalizer`] manages one for a reconcile:
//!
//! 1. An object without the finalizer gets it added, before any other work, so
//!    nothing created for the object can outlive it unnoticed.
//! 2. A live object with the finalizer is handed to your reconcile as
//!    [`Event::Apply`].
//! 3. A deleted object with the finalizer is handed over as [`Event::Cleanup`];
//!    only when the cleanup succeeds is the finalizer removed, letting the object
//!    go.
//!
//! Every change to the finalizer list is a patch guarded by the object's
//! resource version, so a concurrent change makes it fail (and the reconcile
//! retry) instead of clobbering another controller's finalizer.

use std::{error::Error as StdError, fmt::Debug, sync::Arc};

use futures::{TryFuture, TryFutureExt};
use kube_client::{
    Api,
    core::{
        Resource, ResourceExt,
        params::{Patch, PatchParams},
    },
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::json;
use thiserror::Error;

use crate::controller::Action;

/// What went wrong while managing a finalizer.
#[derive(Debug, Error)]
pub enum Error<ReconcileErr>
where
    ReconcileErr: StdError + 'static,
{
    /// The reconcile of a live object failed.
    #[error("reconciling the object failed: {0}")]
    ApplyFailed(#[source] ReconcileErr),
    /// The cleanup of a deleted object failed; the finalizer stays.
    #[error("cleaning up the object failed: {0}")]
    CleanupFailed(#[source] ReconcileErr),
    /// Adding the finalizer failed.
    #[error("adding the finalizer failed: {0}")]
    AddFinalizer(#[source] kube_client::Error),
    /// Removing the finalizer failed; the cleanup will run again.
    #[error("removing the finalizer failed: {0}")]
    RemoveFinalizer(#[source] kube_client::Error),
    /// The object has no name, so it cannot be patched.
    #[error("the object has no name")]
    UnnamedObject,
    /// The finalizer name is not usable.
    #[error("invalid finalizer name {0:?}: use a qualified name such as \"example.com/cleanup\"")]
    InvalidFinalizer(String),
}

/// What the reconcile passed to [`finalizer`] is asked to do.
pub enum Event<K> {
    /// The object is live: bring the world in line with it.
    Apply(Arc<K>),
    /// The object is being deleted: undo what was done for it. The object goes
    /// once this succeeds. It may run again if the finalizer cannot be removed
    /// afterwards, so it must be idempotent.
    Cleanup(Arc<K>),
}

/// How many times a finalizer removal is retried after losing a race with
/// another writer, before giving up (and running the cleanup again later).
const REMOVAL_ATTEMPTS: usize = 3;

/// Runs `reconcile` for `obj` with the finalizer `finalizer_name` managed as
/// described in the [module docs](self).
pub async fn finalizer<K, ReconcileFut>(
    api: &Api<K>,
    finalizer_name: &str,
    obj: Arc<K>,
    reconcile: impl FnOnce(Event<K>) -> ReconcileFut,
) -> Result<Action, Error<ReconcileFut::Error>>
where
    K: Resource + Clone + DeserializeOwned + Serialize + Debug,
    ReconcileFut: TryFuture<Ok = Action>,
    ReconcileFut::Error: StdError + 'static,
{
    if !is_usable_finalizer_name(finalizer_name) {
        return Err(Error::InvalidFinalizer(finalizer_name.to_string()));
    }
    let name = obj.meta().name.clone().ok_or(Error::UnnamedObject)?;
    let has_finalizer = obj.finalizers().iter().any(|f| f == finalizer_name);
    let is_deleting = obj.meta().deletion_timestamp.is_some();

    match Step::of(has_finalizer, is_deleting) {
        Step::Apply => TryFutureExt::into_future(reconcile(Event::Apply(obj)))
            .await
            .map_err(Error::ApplyFailed),
        Step::Cleanup => {
            let action = TryFutureExt::into_future(reconcile(Event::Cleanup(Arc::clone(&obj))))
                .await
                .map_err(Error::CleanupFailed)?;
            remove_finalizer(api, &name, &obj, finalizer_name).await?;
            Ok(action)
        }
        Step::Nothing => Ok(Action::await_change()),
        Step::AddFinalizer => {
            let mut finalizers = obj.finalizers().to_vec();
            finalizers.push(finalizer_name.to_string());
            patch_finalizers(api, &name, obj.resource_version(), finalizers)
                .await
                .map_err(Error::AddFinalizer)?;
            // The patch triggers a watch event, which reconciles the object again.
            Ok(Action::await_change())
        }
    }
}

/// What [`finalizer`] does with an object.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Live, not yet protected: add the finalizer before any work.
    AddFinalizer,
    /// Live and protected: reconcile.
    Apply,
    /// Being deleted and still protected: clean up, then let it go.
    Cleanup,
    /// Deleted before the finalizer was ever added: nothing was done for it.
    Nothing,
}

impl Step {
    fn of(has_finalizer: bool, is_deleting: bool) -> Self {
        match (has_finalizer, is_deleting) {
            (false, false) => Step::AddFinalizer,
            (true, false) => Step::Apply,
            (true, true) => Step::Cleanup,
            (false, true) => Step::Nothing,
        }
    }
}

/// Whether the apiserver can store `name` as a finalizer: not empty, and no
/// whitespace or control characters.
fn is_usable_finalizer_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The finalizers left once `finalizer_name` is removed; `None` when it is
/// not there (nothing to patch).
fn without(finalizers: &[String], finalizer_name: &str) -> Option<Vec<String>> {
    let remaining: Vec<String> = finalizers
        .iter()
        .filter(|f| *f != finalizer_name)
        .cloned()
        .collect();
    (remaining.len() != finalizers.len()).then_some(remaining)
}

/// Removes the finalizer, re-reading the object and retrying when another writer
/// changed it in between, so a successful cleanup is not repeated needlessly.
async fn remove_finalizer<K, E>(
    api: &Api<K>,
    name: &str,
    obj: &K,
    finalizer_name: &str,
) -> Result<(), Error<E>>
where
    K: Resource + Clone + DeserializeOwned + Debug,
    E: StdError + 'static,
{
    let mut current = obj.clone();
    for attempt in 1..=REMOVAL_ATTEMPTS {
        let Some(remaining) = without(current.finalizers(), finalizer_name) else {
            return Ok(());
        };
        match patch_finalizers(api, name, current.resource_version(), remaining).await {
            Ok(()) => return Ok(()),
            // The object is already gone: the finalizer is as good as removed.
            Err(kube_client::Error::Api(status)) if status.is_not_found() => return Ok(()),
            Err(kube_client::Error::Api(status))
                if status.is_conflict() && attempt < REMOVAL_ATTEMPTS =>
            {
                match api.get_opt(name).await.map_err(Error::RemoveFinalizer)? {
                    Some(fresh) => current = fresh,
                    None => return Ok(()),
                }
            }
            Err(err) => return Err(Error::RemoveFinalizer(err)),
        }
    }
    Ok(())
}

/// Replaces the finalizer list, only if the object is still at
/// `resource_version` (the server answers 409 Conflict otherwise).
async fn patch_finalizers<K>(
    api: &Api<K>,
    name: &str,
    resource_version: Option<String>,
    finalizers: Vec<String>,
) -> Result<(), kube_client::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let patch = json!({
        "metadata": {
            "resourceVersion": resource_version,
            "finalizers": finalizers,
        }
    });
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_the_finalizer_and_the_deletion_mark() {
        assert_eq!(Step::of(false, false), Step::AddFinalizer);
        assert_eq!(Step::of(true, false), Step::Apply);
        assert_eq!(Step::of(true, true), Step::Cleanup);
        assert_eq!(Step::of(false, true), Step::Nothing);
    }

    #[test]
    fn removal_keeps_other_controllers_finalizers() {
        let finalizers = [
            "a/x".to_string(),
            "mine/cleanup".to_string(),
            "b/y".to_string(),
        ];
        assert_eq!(
            without(&finalizers, "mine/cleanup"),
            Some(vec!["a/x".to_string(), "b/y".to_string()])
        );
        assert_eq!(without(&finalizers, "absent/one"), None);
    }

    #[test]
    fn unusable_finalizer_names_are_refused() {
        assert!(is_usable_finalizer_name("example.com/cleanup"));
        for bad in ["", "has space", "tab\there", "new\nline"] {
            assert!(!is_usable_finalizer_name(bad), "{bad:?} accepted");
        }
    }
}
