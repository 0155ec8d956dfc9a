//! The verbs every resource answers: get, list, create, replace, patch, delete,
//! watch, and their metadata-only forms.

use std::fmt::Debug;

use either::Either;
use futures::Stream;
use serde::{Serialize, de::DeserializeOwned};

use super::Api;
use crate::{
    Error, Result,
    api::{
        DeleteParams, GetParams, ListParams, ObjectList, PartialObjectMeta, Patch, PatchParams,
        PostParams, Status, WatchEvent, WatchParams,
    },
};

impl<K> Api<K>
where
    K: Clone + DeserializeOwned + Debug,
{
    /// Reads the object called `name`.
    ///
    /// Fails with [`Error::Api`] and a `404 NotFound` status when it does not
    /// exist; [`get_opt`](Self::get_opt) answers `None` instead.
    pub async fn get(&self, name: &str) -> Result<K> {
        self.get_with(name, &GetParams::default()).await
    }

    /// Reads the object called `name`, at the resource version `gp` asks for
    /// (e.g. [`GetParams::any`] to allow a cached copy).
    pub async fn get_with(&self, name: &str, gp: &GetParams) -> Result<K> {
        let requests = self.requests()?;
        let request = if self.metadata_api {
            requests.get_metadata(name, gp)
        } else {
            requests.get(name, gp)
        }
        .map_err(Error::BuildRequest)?;
        self.client().request::<K>(request).await
    }

    /// Reads only the metadata of the object called `name`.
    pub async fn get_metadata(&self, name: &str) -> Result<PartialObjectMeta<K>> {
        self.get_metadata_with(name, &GetParams::default()).await
    }

    /// Reads only the metadata of the object called `name`, at the resource
    /// version `gp` asks for.
    pub async fn get_metadata_with(
        &self,
        name: &str,
        gp: &GetParams,
    ) -> Result<PartialObjectMeta<K>> {
        let request = self
            .requests()?
            .get_metadata(name, gp)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Reads the object called `name`, or `None` when it does not exist.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>> {
        not_found_as_none(self.get(name).await)
    }

    /// Reads only the metadata of the object called `name`, or `None` when it
    /// does not exist.
    pub async fn get_metadata_opt(&self, name: &str) -> Result<Option<PartialObjectMeta<K>>> {
        not_found_as_none(self.get_metadata(name).await)
    }

    /// Reads only the metadata of the object called `name` at the resource version
    /// `gp` asks for, or `None` when it does not exist.
    pub async fn get_metadata_opt_with(
        &self,
        name: &str,
        gp: &GetParams,
    ) -> Result<Option<PartialObjectMeta<K>>> {
        not_found_as_none(self.get_metadata_with(name, gp).await)
    }

    /// Lists the objects matching `lp`: one page when `lp` sets a `limit`, with
    /// the `continue` token of the next page in the list's metadata.
    pub async fn list(&self, lp: &ListParams) -> Result<ObjectList<K>> {
        self.client().request(self.list_request(lp)?).await
    }

    /// Lists only the metadata of the objects matching `lp`.
    pub async fn list_metadata(&self, lp: &ListParams) -> Result<ObjectList<PartialObjectMeta<K>>> {
        self.client().request(self.list_metadata_request(lp)?).await
    }

    /// Creates an object and returns it as the server stored it.
    ///
    /// Fails with a `409 AlreadyExists` status when the name is taken, and with
    /// `422 Invalid` when the object does not validate.
    pub async fn create(&self, pp: &PostParams, data: &K) -> Result<K>
    where
        K: Serialize,
    {
        let request = self
            .requests()?
            .create(pp, to_json(data)?)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Deletes the object called `name`.
    ///
    /// Answers `Left(object)` while the object still exists (finalizers or
    /// graceful deletion hold it, with `deletionTimestamp` set), and `Right(status)`
    /// once it is gone.
    pub async fn delete(&self, name: &str, dp: &DeleteParams) -> Result<Either<K, Status>> {
        let request = self
            .requests()?
            .delete(name, dp)
            .map_err(Error::BuildRequest)?;
        self.client().request_status(request).await
    }

    /// Deletes every object matching `lp`'s selectors.
    ///
    /// Answers `Left(list)` with the deleted objects (as they were when deleted),
    /// or `Right(status)` when the server answers with a status.
    pub async fn delete_collection(
        &self,
        dp: &DeleteParams,
        lp: &ListParams,
    ) -> Result<Either<ObjectList<K>, Status>> {
        let request = self
            .requests()?
            .delete_collection(dp, lp)
            .map_err(Error::BuildRequest)?;
        self.client().request_status(request).await
    }

    /// Patches the object called `name` and returns the result.
    ///
    /// The [`Patch`] variant chooses the semantics: server-side apply, JSON merge,
    /// strategic merge or (feature `jsonpatch`) JSON patch.
    pub async fn patch<P: Serialize + Debug>(
        &self,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<K> {
        let request = self
            .requests()?
            .patch(name, pp, patch)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Patches the object called `name` and returns only its metadata.
    pub async fn patch_metadata<P: Serialize + Debug>(
        &self,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<PartialObjectMeta<K>> {
        let request = self
            .requests()?
            .patch_metadata(name, pp, patch)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Replaces the object called `name` with `data`.
    ///
    /// `data` should carry the `resourceVersion` it was read at: if the object
    /// changed since, the server refuses with a `409 Conflict` status instead of
    /// overwriting the other change.
    pub async fn replace(&self, name: &str, pp: &PostParams, data: &K) -> Result<K>
    where
        K: Serialize,
    {
        let request = self
            .requests()?
            .replace(name, pp, to_json(data)?)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Watches the objects matching `wp` from resource version `version` (`"0"`
    /// for any recent state, or the version of a list or of the last event seen).
    ///
    /// The stream ends when the server closes the watch, after `wp`'s timeout.
    /// A too-old version is reported as an `ERROR` event with a `410 Gone` status:
    /// list again and watch from the list's version. Most programs want the
    /// `watcher` of `kube-runtime`, which does all that.
    pub async fn watch(
        &self,
        wp: &WatchParams,
        version: &str,
    ) -> Result<impl Stream<Item = Result<WatchEvent<K>>> + Send + Unpin + use<K>> {
        let request = self.watch_request(wp, version)?;
        self.client().request_events::<K>(request).await
    }

    /// Watches only the metadata of the objects matching `wp`.
    pub async fn watch_metadata(
        &self,
        wp: &WatchParams,
        version: &str,
    ) -> Result<impl Stream<Item = Result<WatchEvent<PartialObjectMeta<K>>>> + Send + Unpin + use<K>>
    {
        let request = self.watch_metadata_request(wp, version)?;
        self.client()
            .request_events::<PartialObjectMeta<K>>(request)
            .await
    }
}

impl<K> Api<K> {
    /// The LIST request of [`list`](Api::list): the metadata-only form when
    /// `K` holds only metadata.
    pub(super) fn list_request(&self, lp: &ListParams) -> Result<http::Request<Vec<u8>>> {
        let requests = self.requests()?;
        if self.metadata_api {
            requests.list_metadata(lp)
        } else {
            requests.list(lp)
        }
        .map_err(Error::BuildRequest)
    }

    /// The LIST request of [`list_metadata`](Api::list_metadata).
    pub(super) fn list_metadata_request(&self, lp: &ListParams) -> Result<http::Request<Vec<u8>>> {
        self.requests()?
            .list_metadata(lp)
            .map_err(Error::BuildRequest)
    }

    /// The WATCH request of [`watch`](Api::watch): the metadata-only form when
    /// `K` holds only metadata.
    pub(super) fn watch_request(
        &self,
        wp: &WatchParams,
        version: &str,
    ) -> Result<http::Request<Vec<u8>>> {
        let requests = self.requests()?;
        if self.metadata_api {
            requests.watch_metadata(wp, version)
        } else {
            requests.watch(wp, version)
        }
        .map_err(Error::BuildRequest)
    }

    /// The WATCH request of [`watch_metadata`](Api::watch_metadata).
    pub(super) fn watch_metadata_request(
        &self,
        wp: &WatchParams,
        version: &str,
    ) -> Result<http::Request<Vec<u8>>> {
        self.requests()?
            .watch_metadata(wp, version)
            .map_err(Error::BuildRequest)
    }
}

/// Serializes a request body.
pub(crate) fn to_json<T: Serialize>(data: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(data)
        .map_err(|e| Error::BuildRequest(kube_core::request::Error::SerializeBody(e)))
}

/// Turns a `404 NotFound` into `None`.
fn not_found_as_none<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(object) => Ok(Some(object)),
        Err(Error::Api(status)) if status.is_not_found() => Ok(None),
        Err(other) => Err(other),
    }
}
