//! Reflectors: keeping a [`Store`] in step with a watcher.
//!
//! A reflector sits on a watcher's event stream, applies every event to a
//! [`Writer`], and passes the events on unchanged. Readers of the [`Store`] see
//! the collection as of the latest event, without making any request.
//!
//! ```no_run
//! use futures::StreamExt;
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube_client::{Api, Client};
//! use kube_runtime::{WatchStreamExt, reflector, watcher};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let api: Api<ConfigMap> = Api::default_namespaced(Client::try_default().await?);
//! let (store, writer) = reflector::store();
//! let events = watcher(api, watcher::Config::default()).default_backoff().reflect(writer);
//! tokio::spawn(events.for_each(|_| futures::future::ready(())));
//! store.wait_until_ready().await?;
//! println!("{} config maps", store.len());
//! # Ok(())
//! # }
//! ```

pub mod object_ref;
pub mod store;

use std::hash::Hash;

use futures::{Stream, TryStreamExt};

pub use object_ref::{Extra as ObjectRefExtra, Lookup, ObjectRef};
pub use store::{Store, Writer, store};

use crate::watcher;

/// Applies every event of `stream` to `writer`, passing the events on.
pub fn reflector<K, W>(mut writer: Writer<K>, stream: W) -> impl Stream<Item = W::Item>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
    W: Stream<Item = watcher::Result<watcher::Event<K>>>,
{
    stream.inspect_ok(move |event| writer.apply_watcher_event(event))
}
