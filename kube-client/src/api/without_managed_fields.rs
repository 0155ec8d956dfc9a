//! LIST and WATCH without `metadata.managedFields`: the forms a cache that
//! never reads them (most controllers' stores) can ask for, to keep less and
//! allocate less.

use std::fmt::Debug;

use futures::Stream;
use serde::de::DeserializeOwned;

use super::Api;
use crate::{
    Result,
    api::{ListParams, ObjectList, PartialObjectMeta, WatchEvent, WatchParams},
    client::managed_fields::{decode_event, decode_list},
};

impl<K> Api<K>
where
    K: Clone + DeserializeOwned + Debug,
{
    /// [`list`](Self::list), with every object's `metadata.managedFields`
    /// dropped while the answer is decoded (left `None`).
    ///
    /// The decoder steps over the field without allocating anything for it,
    /// so a cache of objects that never reads the field keeps less and costs
    /// less to fill than one that removes it after decoding. Everything else,
    /// errors included, is as `list` gives it.
    pub async fn list_without_managed_fields(&self, lp: &ListParams) -> Result<ObjectList<K>> {
        let body = self.client().request_bytes(self.list_request(lp)?).await?;
        decode_list(&body)
    }

    /// [`list_metadata`](Self::list_metadata), with every object's
    /// `metadata.managedFields` dropped while decoding (see
    /// [`list_without_managed_fields`](Self::list_without_managed_fields)).
    pub async fn list_metadata_without_managed_fields(
        &self,
        lp: &ListParams,
    ) -> Result<ObjectList<PartialObjectMeta<K>>> {
        let request = self.list_metadata_request(lp)?;
        decode_list(&self.client().request_bytes(request).await?)
    }

    /// [`watch`](Self::watch), with the `metadata.managedFields` of every
    /// event's object dropped while decoding (see
    /// [`list_without_managed_fields`](Self::list_without_managed_fields)).
    pub async fn watch_without_managed_fields(
        &self,
        wp: &WatchParams,
        version: &str,
    ) -> Result<impl Stream<Item = Result<WatchEvent<K>>> + Send + Unpin + use<K>> {
        let request = self.watch_request(wp, version)?;
        self.client()
            .request_events_with(request, decode_event::<K>)
            .await
    }

    /// [`watch_metadata`](Self::watch_metadata), with the
    /// `metadata.managedFields` of every event's object dropped while decoding
    /// (see [`list_without_managed_fields`](Self::list_without_managed_fields)).
    pub async fn watch_metadata_without_managed_fields(
        &self,
        wp: &WatchParams,
        version: &str,
    ) -> Result<impl Stream<Item = Result<WatchEvent<PartialObjectMeta<K>>>> + Send + Unpin + use<K>>
    {
        let request = self.watch_metadata_request(wp, version)?;
        self.client()
            .request_events_with(request, decode_event::<PartialObjectMeta<K>>)
            .await
    }
}
