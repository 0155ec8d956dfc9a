//! Subresources: `status`, `scale`, pod `log`, `eviction`, `ephemeralcontainers`,
//! `resize`, and the generic forms for any other.
//!
//! Which subresources a type has is a fact about the type, so the specific verbs
//! need a marker trait: [`Log`] and [`Evict`] for pods, for example. `status` and
//! `scale` exist for many types, including custom resources that enable them, so
//! their verbs are available on every `Api` (the server answers `404` when the
//! type has no such subresource).

use std::fmt::Debug;

use futures::AsyncBufRead;
use serde::{Serialize, de::DeserializeOwned};

pub use kube_core::subresource::{EvictParams, LogParams, Scale, ScaleSpec, ScaleStatus};

use super::{Api, core_methods::to_json};
use crate::{
    Error, Result,
    api::{Patch, PatchParams, PostParams, Status},
};

impl<K> Api<K>
where
    K: Clone + DeserializeOwned,
{
    /// Reads the `scale` subresource of the object called `name`: its desired and
    /// current replica counts.
    pub async fn get_scale(&self, name: &str) -> Result<Scale> {
        let request = self
            .requests()?
            .get_subresource("scale", name)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Patches the `scale` subresource, e.g. `{"spec": {"replicas": 3}}`.
    pub async fn patch_scale<P: Serialize + Debug>(
        &self,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<Scale> {
        let request = self
            .requests()?
            .patch_subresource("scale", name, pp, patch)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Replaces the `scale` subresource.
    pub async fn replace_scale(&self, name: &str, pp: &PostParams, data: &Scale) -> Result<Scale> {
        let request = self
            .requests()?
            .replace_subresource("scale", name, pp, to_json(data)?)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }
}

impl<K> Api<K>
where
    K: Clone + DeserializeOwned + Debug,
{
    /// Reads the subresource `subresource_name` of the object called `name`,
    /// decoded as `K`.
    pub async fn get_subresource(&self, subresource_name: &str, name: &str) -> Result<K> {
        let request = self
            .requests()?
            .get_subresource(subresource_name, name)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Posts `data` to the subresource `subresource_name` of the object called
    /// `name` and decodes the answer as `T` (e.g. a `TokenRequest` to a service
    /// account's `token`).
    pub async fn create_subresource<I, T>(
        &self,
        subresource_name: &str,
        name: &str,
        pp: &PostParams,
        data: &I,
    ) -> Result<T>
    where
        I: Serialize,
        T: DeserializeOwned,
    {
        let request = self
            .requests()?
            .create_subresource(subresource_name, name, pp, to_json(data)?)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Patches the subresource `subresource_name` of the object called `name`.
    pub async fn patch_subresource<P: Serialize + Debug>(
        &self,
        subresource_name: &str,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<K> {
        let request = self
            .requests()?
            .patch_subresource(subresource_name, name, pp, patch)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Replaces the subresource `subresource_name` of the object called `name`.
    pub async fn replace_subresource<I>(
        &self,
        subresource_name: &str,
        name: &str,
        pp: &PostParams,
        data: &I,
    ) -> Result<K>
    where
        I: Serialize,
    {
        let request = self
            .requests()?
            .replace_subresource(subresource_name, name, pp, to_json(data)?)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }
}

impl<K> Api<K>
where
    K: DeserializeOwned,
{
    /// Reads the object called `name` through its `status` subresource.
    pub async fn get_status(&self, name: &str) -> Result<K> {
        let request = self
            .requests()?
            .get_subresource("status", name)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Patches the `status` of the object called `name`. Only the status
    /// changes; changes to other fields in the patch are ignored by the server.
    pub async fn patch_status<P: Serialize + Debug>(
        &self,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<K> {
        let request = self
            .requests()?
            .patch_subresource("status", name, pp, patch)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Replaces the `status` of the object called `name` with that of `data`
    /// (which must carry the current `resourceVersion`).
    pub async fn replace_status(&self, name: &str, pp: &PostParams, data: &K) -> Result<K>
    where
        K: Serialize,
    {
        let request = self
            .requests()?
            .replace_subresource("status", name, pp, to_json(data)?)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }
}

/// Types with a `log` subresource.
pub trait Log {}

impl Log for k8s_openapi::api::core::v1::Pod {}

impl<K> Api<K>
where
    K: DeserializeOwned + Log,
{
    /// Reads the logs of a pod's container as text.
    ///
    /// The apiserver fetches logs from the kubelet of the pod's node: a pod not
    /// yet scheduled, or whose node is unreachable, gives an [`Error::Api`]
    /// saying so.
    pub async fn logs(&self, name: &str, lp: &LogParams) -> Result<String> {
        let request = self
            .requests()?
            .logs(name, lp)
            .map_err(Error::BuildRequest)?;
        self.client().request_text(request).await
    }

    /// Streams the logs of a pod's container, e.g. with [`LogParams::follow`]
    /// set. Read lines with `futures::AsyncBufReadExt::lines`.
    pub async fn log_stream(
        &self,
        name: &str,
        lp: &LogParams,
    ) -> Result<impl AsyncBufRead + Send + Unpin + use<K>> {
        let request = self
            .requests()?
            .logs(name, lp)
            .map_err(Error::BuildRequest)?;
        self.client().request_stream(request).await
    }
}

/// Types that can be evicted: a delete that respects PodDisruptionBudgets.
pub trait Evict {}

impl Evict for k8s_openapi::api::core::v1::Pod {}

impl<K> Api<K>
where
    K: DeserializeOwned + Evict,
{
    /// Evicts the pod called `name`. The server answers `429 TooManyRequests`
    /// while a PodDisruptionBudget forbids it.
    pub async fn evict(&self, name: &str, ep: &EvictParams) -> Result<Status> {
        let request = self
            .requests()?
            .evict(name, ep)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }
}

/// Types with an `ephemeralcontainers` subresource.
pub trait Ephemeral {}

impl Ephemeral for k8s_openapi::api::core::v1::Pod {}

impl<K> Api<K>
where
    K: Clone + DeserializeOwned + Ephemeral,
{
    /// Reads the pod called `name` through its `ephemeralcontainers` subresource.
    pub async fn get_ephemeral_containers(&self, name: &str) -> Result<K> {
        let request = self
            .requests()?
            .get_subresource("ephemeralcontainers", name)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Patches the ephemeral containers of the pod called `name`, e.g. to add a
    /// debug container.
    pub async fn patch_ephemeral_containers<P: Serialize>(
        &self,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<K> {
        let request = self
            .requests()?
            .patch_subresource("ephemeralcontainers", name, pp, patch)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Replaces the ephemeral containers of the pod called `name` with those of
    /// `data`.
    pub async fn replace_ephemeral_containers(
        &self,
        name: &str,
        pp: &PostParams,
        data: &K,
    ) -> Result<K>
    where
        K: Serialize,
    {
        let request = self
            .requests()?
            .replace_subresource("ephemeralcontainers", name, pp, to_json(data)?)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }
}

/// Types with a `resize` subresource (in-place changes of container resources).
pub trait Resize {}

impl Resize for k8s_openapi::api::core::v1::Pod {}

impl<K> Api<K>
where
    K: Clone + DeserializeOwned + Resize,
{
    /// Reads the pod called `name` through its `resize` subresource.
    pub async fn get_resize(&self, name: &str) -> Result<K> {
        let request = self
            .requests()?
            .get_subresource("resize", name)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Patches the container resources of the pod called `name` in place.
    pub async fn patch_resize<P: Serialize>(
        &self,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<K> {
        let request = self
            .requests()?
            .patch_subresource("resize", name, pp, patch)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Replaces the container resources of the pod called `name` with those of
    /// `data`.
    pub async fn replace_resize(&self, name: &str, pp: &PostParams, data: &K) -> Result<K>
    where
        K: Serialize,
    {
        let request = self
            .requests()?
            .replace_subresource("resize", name, pp, to_json(data)?)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }
}
