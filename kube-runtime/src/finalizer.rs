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
    if finalizer_name.is_empty()
        || finalizer_name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::InvalidFinalizer(finalizer_name.to_string()));
    }
    let name = obj.meta().name.clone().ok_or(Error::UnnamedObject)?;
    let has_finalizer = obj.finalizers().iter().any(|f| f == finalizer_name);
    let is_deleting = obj.meta().deletion_timestamp.is_some();

    match (has_finalizer, is_deleting) {
        (true, false) => TryFutureExt::into_future(reconcile(Event::Apply(obj)))
            .await
            .map_err(Error::ApplyFailed),
        (true, true) => {
            let action = TryFutureExt::into_future(reconcile(Event::Cleanup(Arc::clone(&obj))))
                .await
                .map_err(Error::CleanupFailed)?;
            remove_finalizer(api, &name, &obj, finalizer_name).await?;
            Ok(action)
        }
        // Deleted before the finalizer was ever added: nothing was done for it.
        (false, true) => Ok(Action::await_change()),
        (false, false) => {
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
        let remaining: Vec<String> = current
            .finalizers()
            .iter()
            .filter(|f| *f != finalizer_name)
            .cloned()
            .collect();
        if remaining.len() == current.finalizers().len() {
            return Ok(());
        }
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
