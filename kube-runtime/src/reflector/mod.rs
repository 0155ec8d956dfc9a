//! Reflectors: keeping a [`Store`] in step with a watcher.
//!
//! A reflector sits on a watcher's event stream, applies every event to a
//! [`Writer`], and passes the events on unchanged. Readers of the [`Store`] see
//! the collection as of the latest event, without making any request.
//!
//! What readers can count on, relists included: each object goes through its
//! states in order, never back to an older one; a relist updates the objects
//! in place as its pages arrive (so the store never holds two copies of the
//! collection), and at its `InitDone` every object it did not list (deleted
//! while the watch was down) is gone.
//!
//! A store can also keep named indexes, to find objects by a key without
//! scanning it (say, every Deployment mounting a ConfigMap): see
//! [`Writer::with_index`] and [`Store::by_index`].
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

#[cfg(feature = "unstable-runtime-subscribe")]
mod dispatch;
mod index;
pub mod object_ref;
pub mod store;

use std::hash::Hash;

use futures::{Stream, TryStreamExt};

pub use object_ref::{Extra as ObjectRefExtra, Lookup, ObjectRef};
pub use store::{Store, Writer, store};
#[cfg(feature = "unstable-runtime-subscribe")]
pub use {dispatch::ReflectHandle, store::store_shared};

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

/// Applies every event of `stream` to a shared `writer` and announces what
/// it stored to the writer's subscribers, passing the events on.
#[cfg(feature = "unstable-runtime-subscribe")]
pub(crate) fn reflector_shared<K, W>(writer: Writer<K>, stream: W) -> impl Stream<Item = W::Item>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
    W: Stream<Item = watcher::Result<watcher::Event<K>>>,
{
    use futures::StreamExt;
    futures::stream::unfold(
        (Box::pin(stream), writer),
        |(mut stream, mut writer)| async move {
            let item = stream.next().await?;
            if let Ok(event) = &item {
                writer.apply_and_announce(event).await;
            }
            Some((item, (stream, writer)))
        },
    )
}

#[cfg(test)]
mod tests {
    use futures::{StreamExt, stream};
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube_client::core::ObjectMeta;

    use super::*;
    use crate::watcher::Event;

    fn cm(name: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    #[tokio::test]
    async fn reflector_stores_events_and_passes_them_on_unchanged() {
        let (reader, writer) = store::<ConfigMap>();
        let events = vec![
            Ok(Event::Init),
            Ok(Event::InitApply(cm("a"))),
            Err(watcher::Error::NoResourceVersion),
            Ok(Event::InitDone),
            Ok(Event::Apply(cm("b"))),
            Ok(Event::Delete(cm("a"))),
        ];
        let expected: Vec<_> = events.iter().map(|e| format!("{e:?}")).collect();
        let passed: Vec<_> = reflector(writer, stream::iter(events))
            .map(|e| format!("{e:?}"))
            .collect()
            .await;
        assert_eq!(passed, expected);
        assert_eq!(reader.len(), 1);
        assert!(reader.get(&ObjectRef::new("b")).is_some());
    }
}
