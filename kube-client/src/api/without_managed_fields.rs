//! LIST and WATCH without `metadata.managedFields`: the forms a cache that
//! never reads them (most controllers' stores) can ask for, to keep less and
//! allocate less.

use std::fmt::Debug;

use futures::{Stream, TryStreamExt};
use serde::de::DeserializeOwned;

use super::Api;
use crate::{
    Result,
    api::{ListParams, ObjectList, PartialObjectMeta, WatchEvent, WatchParams},
    client::managed_fields::WithoutManagedFields,
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
        let list = self.client().request(self.list_request(lp)?).await;
        list.map(unwrap_list)
    }

    /// [`list_metadata`](Self::list_metadata), with every object's
    /// `metadata.managedFields` dropped while decoding (see
    /// [`list_without_managed_fields`](Self::list_without_managed_fields)).
    pub async fn list_metadata_without_managed_fields(
        &self,
        lp: &ListParams,
    ) -> Result<ObjectList<PartialObjectMeta<K>>> {
        let list = self.client().request(self.list_metadata_request(lp)?).await;
        list.map(unwrap_list)
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
        let events = self
            .client()
            .request_events::<WithoutManagedFields<K>>(request)
            .await?;
        Ok(events.map_ok(unwrap_event))
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
        let events = self
            .client()
            .request_events::<WithoutManagedFields<PartialObjectMeta<K>>>(request)
            .await?;
        Ok(events.map_ok(unwrap_event))
    }
}

/// The list of the decoded objects themselves (the wrapper has the same
/// layout, so the items stay where they are).
fn unwrap_list<K>(list: ObjectList<WithoutManagedFields<K>>) -> ObjectList<K> {
    ObjectList {
        types: list.types,
        metadata: list.metadata,
        items: list.items.into_iter().map(|object| object.0).collect(),
    }
}

fn unwrap_event<K>(event: WatchEvent<WithoutManagedFields<K>>) -> WatchEvent<K> {
    match event {
        WatchEvent::Added(object) => WatchEvent::Added(object.0),
        WatchEvent::Modified(object) => WatchEvent::Modified(object.0),
        WatchEvent::Deleted(object) => WatchEvent::Deleted(object.0),
        WatchEvent::Bookmark(bookmark) => WatchEvent::Bookmark(bookmark),
        WatchEvent::Error(status) => WatchEvent::Error(status),
    }
}
