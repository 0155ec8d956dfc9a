//! Waiting for an object to reach a condition.
//!
//! ```no_run
//! use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
//! use kube_client::{Api, Client};
//! use kube_runtime::wait::{await_condition, conditions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let crds: Api<CustomResourceDefinition> = Api::all(Client::try_default().await?);
//! let established = await_condition(crds, "foos.example.com", conditions::is_crd_established());
//! tokio::time::timeout(std::time::Duration::from_secs(10), established).await??;
//! # Ok(())
//! # }
//! ```

use std::{fmt::Debug, pin::pin};

use futures::{TryStreamExt, future};
use kube_client::{Api, core::Resource};
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::watcher::{self, watch_object};

/// Why waiting failed.
#[derive(Debug, Error)]
pub enum Error {
    /// Watching the object failed.
    #[error("failed to watch the object while waiting for its condition: {0}")]
    ProbeFailed(#[source] watcher::Error),
}

/// Watches the object `name` until `cond` holds, and returns it then (`None`
/// when the condition holds for an absent object, e.g. [`conditions::is_deleted`]).
///
/// There is no timeout: wrap it in `tokio::time::timeout`.
pub async fn await_condition<K>(
    api: Api<K>,
    name: &str,
    cond: impl Condition<K>,
) -> Result<Option<K>, Error>
where
    K: Clone + Debug + Send + DeserializeOwned + Resource + 'static,
{
    let states = watch_object(api, name)
        .try_skip_while(|obj| future::ready(Ok(!cond.matches_object(obj.as_ref()))));
    let mut states = pin!(states);
    match states.try_next().await {
        Ok(Some(obj)) => Ok(obj),
        // A watcher never ends; were it to, nothing could ever show the condition
        // holds, which is what waiting forever means.
        Ok(None) => future::pending().await,
        Err(err) => Err(Error::ProbeFailed(err)),
    }
}

/// A condition on an object that may not exist.
pub trait Condition<K> {
    /// Whether the condition holds for `obj` (`None`: the object does not exist).
    fn matches_object(&self, obj: Option<&K>) -> bool;

    /// Holds when this does not.
    fn not(self) -> conditions::Not<Self>
    where
        Self: Sized,
    {
        conditions::Not(self)
    }

    /// Holds when both hold.
    fn and<Other: Condition<K>>(self, other: Other) -> conditions::And<Self, Other>
    where
        Self: Sized,
    {
        conditions::And(self, other)
    }

    /// Holds when either holds.
    fn or<Other: Condition<K>>(self, other: Other) -> conditions::Or<Self, Other>
    where
        Self: Sized,
    {
        conditions::Or(self, other)
    }
}

impl<K, F: Fn(Option<&K>) -> bool> Condition<K> for F {
    fn matches_object(&self, obj: Option<&K>) -> bool {
        self(obj)
    }
}

/// Common conditions.
pub mod conditions {
    /// The trait every condition implements, here too for code that imports
    /// it from this module.
    pub use super::Condition;

    use k8s_openapi::{
        api::{
            apps::v1::Deployment,
            batch::v1::Job,
            core::v1::{Pod, Service},
            networking::v1::Ingress,
        },
        apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    };
    use kube_client::core::Resource;

    /// The object with this uid is gone (absent, or replaced by a new object of
    /// the same name).
    #[must_use]
    pub fn is_deleted<K: Resource>(uid: &str) -> impl Condition<K> + '_ {
        move |obj: Option<&K>| obj.is_none_or(|obj| obj.meta().uid.as_deref() != Some(uid))
    }

    /// The object exists.
    #[must_use]
    pub fn is_created<K: Resource>() -> impl Condition<K> {
        |obj: Option<&K>| obj.is_some()
    }

    /// The custom resource definition is `Established`: its API is served.
    #[must_use]
    pub fn is_crd_established() -> impl Condition<CustomResourceDefinition> {
        |obj: Option<&CustomResourceDefinition>| {
            let conditions = obj.and_then(|crd| crd.status.as_ref()?.conditions.as_ref());
            conditions
                .into_iter()
                .flatten()
                .any(|c| c.type_ == "Established" && c.status == "True")
        }
    }

    /// The pod is in phase `Running`.
    #[must_use]
    pub fn is_pod_running() -> impl Condition<Pod> {
        |obj: Option<&Pod>| {
            obj.and_then(|pod| pod.status.as_ref()?.phase.as_deref()) == Some("Running")
        }
    }

    /// The job has the `Complete` condition.
    #[must_use]
    pub fn is_job_completed() -> impl Condition<Job> {
        |obj: Option<&Job>| {
            let conditions = obj.and_then(|job| job.status.as_ref()?.conditions.as_ref());
            conditions
                .into_iter()
                .flatten()
                .any(|c| c.type_ == "Complete" && c.status == "True")
        }
    }

    /// The deployment's rollout is complete: its `Progressing` condition reports
    /// `NewReplicaSetAvailable` for the current generation.
    #[must_use]
    pub fn is_deployment_completed() -> impl Condition<Deployment> {
        |obj: Option<&Deployment>| {
            let Some(deployment) = obj else { return false };
            let Some(status) = &deployment.status else {
                return false;
            };
            let observed_current = status.observed_generation.is_some()
                && status.observed_generation == deployment.metadata.generation;
            observed_current
                && status.conditions.iter().flatten().any(|c| {
                    c.type_.text() == Some("Progressing")
                        && c.status.text() == Some("True")
                        && c.reason.as_deref() == Some("NewReplicaSetAvailable")
                })
        }
    }

    /// Reads a text field whether the selected Kubernetes version declares it
    /// required (`String`) or optional (`Option<String>`): `DeploymentCondition`
    /// changed between versions, and this crate compiles against all of them.
    trait FieldText {
        fn text(&self) -> Option<&str>;
    }

    impl FieldText for String {
        fn text(&self) -> Option<&str> {
            Some(self)
        }
    }

    impl FieldText for Option<String> {
        fn text(&self) -> Option<&str> {
            self.as_deref()
        }
    }

    /// The service of type `LoadBalancer` has an ingress address.
    #[must_use]
    pub fn is_service_loadbalancer_provisioned() -> impl Condition<Service> {
        |obj: Option<&Service>| {
            let Some(service) = obj else { return false };
            let is_load_balancer =
                service.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer");
            if !is_load_balancer {
                return true;
            }
            let ingress = service
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref()?.ingress.as_ref());
            ingress.is_some_and(|ingress| !ingress.is_empty())
        }
    }

    /// The ingress has an address.
    #[must_use]
    pub fn is_ingress_provisioned() -> impl Condition<Ingress> {
        |obj: Option<&Ingress>| {
            let ingress =
                obj.and_then(|i| i.status.as_ref()?.load_balancer.as_ref()?.ingress.as_ref());
            ingress.is_some_and(|ingress| !ingress.is_empty())
        }
    }

    /// See [`Condition::not`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Not<A>(pub(super) A);

    impl<A: Condition<K>, K> Condition<K> for Not<A> {
        fn matches_object(&self, obj: Option<&K>) -> bool {
            !self.0.matches_object(obj)
        }
    }

    /// See [`Condition::and`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct And<A, B>(pub(super) A, pub(super) B);

    impl<A: Condition<K>, B: Condition<K>, K> Condition<K> for And<A, B> {
        fn matches_object(&self, obj: Option<&K>) -> bool {
            self.0.matches_object(obj) && self.1.matches_object(obj)
        }
    }

    /// See [`Condition::or`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Or<A, B>(pub(super) A, pub(super) B);

    impl<A: Condition<K>, B: Condition<K>, K> Condition<K> for Or<A, B> {
        fn matches_object(&self, obj: Option<&K>) -> bool {
            self.0.matches_object(obj) || self.1.matches_object(obj)
        }
    }
}

/// Deleting an object and waiting until it is really gone.
pub mod delete {
    use std::fmt::Debug;

    use kube_client::{
        Api,
        core::{Resource, params::DeleteParams},
    };
    use serde::de::DeserializeOwned;
    use thiserror::Error;

    use super::{await_condition, conditions};

    /// Why deleting and waiting failed.
    #[derive(Debug, Error)]
    pub enum Error {
        /// The apiserver's answer to the delete named no uid to wait for.
        #[error("the deleted object has no uid to wait for")]
        NoUid,
        /// The delete request failed.
        #[error("failed to delete the object: {0}")]
        Delete(#[source] kube_client::Error),
        /// Watching for the object to disappear failed.
        #[error("failed to wait for the object to be deleted: {0}")]
        Await(#[source] super::Error),
    }

    /// Deletes the object `name` and waits until it has disappeared from the
    /// API, finalizers included.
    ///
    /// The wait is for the object with the uid that was deleted: a new object
    /// created under the same name meanwhile does not hold it up. There is no
    /// timeout: wrap it in `tokio::time::timeout`.
    pub async fn delete_and_finalize<K>(
        api: Api<K>,
        name: &str,
        delete_params: &DeleteParams,
    ) -> Result<(), Error>
    where
        K: Clone + Debug + Send + DeserializeOwned + Resource + 'static,
    {
        let answer = api
            .delete(name, delete_params)
            .await
            .map_err(Error::Delete)?;
        // The object while its finalizers run, or the status of an immediate
        // deletion: either names the uid.
        let uid = answer
            .either(
                |mut obj| obj.meta_mut().uid.take(),
                |status| status.details.map(|details| details.uid),
            )
            .filter(|uid| !uid.is_empty())
            .ok_or(Error::NoUid)?;
        await_condition(api, name, conditions::is_deleted(&uid))
            .await
            .map_err(Error::Await)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::{
        api::{
            apps::v1::{Deployment, DeploymentCondition, DeploymentStatus},
            core::v1::{Pod, PodStatus},
        },
        apiextensions_apiserver::pkg::apis::apiextensions::v1::{
            CustomResourceDefinition, CustomResourceDefinitionCondition,
            CustomResourceDefinitionStatus,
        },
    };
    use kube_client::core::ObjectMeta;

    use super::{Condition, conditions::*};

    fn pod(uid: &str, phase: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                uid: Some(uid.into()),
                ..ObjectMeta::default()
            },
            status: Some(PodStatus {
                phase: Some(phase.into()),
                ..PodStatus::default()
            }),
            ..Pod::default()
        }
    }

    #[test]
    fn deletion_and_creation() {
        assert!(is_deleted::<Pod>("a").matches_object(None));
        assert!(
            is_deleted::<Pod>("a").matches_object(Some(&pod("b", "Running"))),
            "replaced by a new object"
        );
        assert!(!is_deleted::<Pod>("a").matches_object(Some(&pod("a", "Running"))));
        assert!(is_created::<Pod>().matches_object(Some(&pod("a", "Pending"))));
        assert!(!is_created::<Pod>().matches_object(None));
    }

    #[test]
    fn combinators() {
        let running = is_pod_running();
        assert!(running.matches_object(Some(&pod("a", "Running"))));
        assert!(!is_pod_running().matches_object(Some(&pod("a", "Pending"))));
        assert!(
            is_pod_running()
                .not()
                .matches_object(Some(&pod("a", "Pending")))
        );
        assert!(is_pod_running().or(is_deleted("a")).matches_object(None));
        assert!(!is_pod_running().and(is_created()).matches_object(None));
    }

    #[test]
    fn crd_established() {
        let crd = |status: &str| CustomResourceDefinition {
            status: Some(CustomResourceDefinitionStatus {
                conditions: Some(vec![CustomResourceDefinitionCondition {
                    type_: "Established".into(),
                    status: status.into(),
                    ..CustomResourceDefinitionCondition::default()
                }]),
                ..CustomResourceDefinitionStatus::default()
            }),
            ..CustomResourceDefinition::default()
        };
        assert!(is_crd_established().matches_object(Some(&crd("True"))));
        assert!(!is_crd_established().matches_object(Some(&crd("False"))));
        assert!(!is_crd_established().matches_object(None));
    }

    #[test]
    fn deployment_completed_needs_current_generation() {
        let deployment = |observed: i64| Deployment {
            metadata: ObjectMeta {
                generation: Some(2),
                ..ObjectMeta::default()
            },
            status: Some(DeploymentStatus {
                observed_generation: Some(observed),
                conditions: Some(vec![DeploymentCondition {
                    // `String::from(..).into()` fits the field whether it is a
                    // `String` or an `Option<String>` in the selected version.
                    type_: String::from("Progressing").into(),
                    status: String::from("True").into(),
                    reason: Some("NewReplicaSetAvailable".into()),
                    ..DeploymentCondition::default()
                }]),
                ..DeploymentStatus::default()
            }),
            ..Deployment::default()
        };
        assert!(is_deployment_completed().matches_object(Some(&deployment(2))));
        assert!(!is_deployment_completed().matches_object(Some(&deployment(1))));
    }
}
