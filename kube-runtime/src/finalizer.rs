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
//!    go. The object is read afresh from the apiserver first, so a reconcile
//!    working from a cache that lags behind an earlier, successful cleanup
//!    does not clean up twice.
//!
//! Adding the finalizer is a patch guarded by the object's resource version;
//! removing it is a JSON patch that tests the entry it removes. Either way a
//! concurrent change of the finalizer list makes the patch fail (and the
//! object be read again) instead of clobbering another controller's
//! finalizer, and removal is not held up by changes elsewhere in the object.

use std::{error::Error as StdError, fmt::Debug, sync::Arc};

use futures::{TryFuture, TryFutureExt};
use json_patch::{
    PatchOperation, RemoveOperation, TestOperation,
    jsonptr::{PointerBuf, Token},
};
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
///
/// The variants are those of kube-rs, so an exhaustive `match` written for it
/// compiles here; the context that does not fit them is in the `Display` text.
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
    /// Letting a deleted object go failed: either reading it afresh before
    /// its cleanup, or removing the finalizer after it. Either way the
    /// finalizer stays, and the cleanup is attempted again.
    #[error("reading the deleted object or removing its finalizer failed: {0}")]
    RemoveFinalizer(#[source] kube_client::Error),
    /// The object has no name, so it cannot be patched.
    #[error("the object has no name")]
    UnnamedObject,
    /// The finalizer name cannot be stored in `metadata.finalizers`: it is
    /// empty or holds whitespace or control characters.
    #[error(
        "invalid finalizer name: it must be non-empty, without whitespace or control characters, e.g. \"example.com/cleanup\""
    )]
    InvalidFinalizer,
}

/// What the reconcile passed to [`finalizer`] is asked to do.
pub enum Event<K> {
    /// The object is live: bring the world in line with it.
    Apply(Arc<K>),
    /// The object is being deleted: undo what was done for it. The object goes
    /// once this succeeds. Carries the object as just read from the
    /// apiserver. It runs once, unless it fails or the finalizer cannot be
    /// removed afterwards (then it runs again), so it must be idempotent.
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
        // The error has no room for the name; the log says which one it was.
        tracing::error!(finalizer = finalizer_name, "invalid finalizer name");
        return Err(Error::InvalidFinalizer);
    }
    let name = obj.meta().name.clone().ok_or(Error::UnnamedObject)?;
    let has_finalizer = obj.finalizers().iter().any(|f| f == finalizer_name);
    let is_deleting = obj.meta().deletion_timestamp.is_some();

    match Step::of(has_finalizer, is_deleting) {
        Step::Apply => TryFutureExt::into_future(reconcile(Event::Apply(obj)))
            .await
            .map_err(Error::ApplyFailed),
        Step::Cleanup => {
            let Some(current) = cleanup_still_owed(api, &name, &obj, finalizer_name).await? else {
                return Ok(Action::await_change());
            };
            let current = Arc::new(current);
            let action = TryFutureExt::into_future(reconcile(Event::Cleanup(Arc::clone(&current))))
                .await
                .map_err(Error::CleanupFailed)?;
            remove_finalizer(api, &name, &current, finalizer_name).await?;
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

/// The object as the apiserver holds it now, if its cleanup is still owed:
/// it exists, is the same object (uid), and still carries the finalizer.
///
/// `obj` usually comes from a cache, which may not yet have seen the
/// finalizer removal of an earlier, successful cleanup (nor the deletion it
/// let through): a change that arrived while that cleanup ran triggers
/// another reconcile with the stale copy. Only a fresh read tells, so that a
/// cleanup runs once rather than once per trigger.
async fn cleanup_still_owed<K, E>(
    api: &Api<K>,
    name: &str,
    obj: &K,
    finalizer_name: &str,
) -> Result<Option<K>, Error<E>>
where
    K: Resource + Clone + DeserializeOwned + Debug,
    E: StdError + 'static,
{
    let current = api.get_opt(name).await.map_err(Error::RemoveFinalizer)?;
    Ok(current.filter(|current| {
        current.meta().uid == obj.meta().uid
            && current.finalizers().iter().any(|f| f == finalizer_name)
    }))
}

/// Removes the finalizer, re-reading the object and retrying when the
/// finalizer list changed in between, so a successful cleanup is not
/// repeated needlessly.
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
        let Some(index) = current
            .finalizers()
            .iter()
            .position(|f| f == finalizer_name)
        else {
            return Ok(());
        };
        let patch = Patch::Json::<()>(removal_patch(index, finalizer_name));
        match api.patch(name, &PatchParams::default(), &patch).await {
            Ok(_) => return Ok(()),
            // The object is already gone: the finalizer is as good as removed.
            Err(kube_client::Error::Api(status)) if status.is_not_found() => return Ok(()),
            // The finalizer list changed since it was read (the patch's test
            // failed): read it again.
            Err(kube_client::Error::Api(status))
                if attempt < REMOVAL_ATTEMPTS
                    && (status.is_conflict() || status.code == UNPROCESSABLE) =>
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

/// The status code of a JSON patch whose `test` operation failed.
const UNPROCESSABLE: u16 = 422;

/// A JSON patch removing the finalizer at `index`, applied only while that
/// entry still is `finalizer_name`.
///
/// Unlike a patch guarded by the object's resource version, it is not
/// refused because of changes elsewhere in the object (its labels, data or
/// status keep changing while a busy object is being deleted), yet it cannot
/// remove another controller's finalizer that moved into that place.
fn removal_patch(index: usize, finalizer_name: &str) -> json_patch::Patch {
    let path = PointerBuf::from_tokens([
        Token::from("metadata"),
        Token::from("finalizers"),
        Token::from(index),
    ]);
    json_patch::Patch(vec![
        PatchOperation::Test(TestOperation {
            path: path.clone(),
            value: finalizer_name.into(),
        }),
        PatchOperation::Remove(RemoveOperation { path }),
    ])
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
    fn removal_tests_the_entry_it_removes() {
        let patch = serde_json::to_value(removal_patch(1, "mine/cleanup")).expect("serializable");
        assert_eq!(
            patch,
            json!([
                { "op": "test", "path": "/metadata/finalizers/1", "value": "mine/cleanup" },
                { "op": "remove", "path": "/metadata/finalizers/1" },
            ])
        );
    }

    #[test]
    fn unusable_finalizer_names_are_refused() {
        assert!(is_usable_finalizer_name("example.com/cleanup"));
        for bad in ["", "has space", "tab\there", "new\nline"] {
            assert!(!is_usable_finalizer_name(bad), "{bad:?} accepted");
        }
    }
}
