//! Predicates: letting an object through only when a chosen property changed.
//!
//! Many objects change all the time in ways a controller does not care about —
//! a Node's heartbeat rewrites its status every few seconds, a Deployment's
//! status follows its pods. A predicate hashes the property that matters (the
//! spec's `generation`, the labels, ...) and
//! [`predicate_filter`](crate::WatchStreamExt::predicate_filter) drops every object
//! whose hash is the one last seen for it.

use std::{
    collections::{HashMap, hash_map::DefaultHasher},
    hash::{Hash, Hasher},
    pin::Pin,
    task::{Context, Poll, ready},
    time::Duration,
};

use futures::{Stream, TryStream};
use kube_client::core::Resource;
use pin_project::pin_project;
use tokio::time::Instant;

/// Hashes the property of an object a filter compares; `None` when the object
/// has no such property (it then always passes).
pub trait Predicate<K> {
    /// The hash of the property, if the object has it.
    fn hash_property(&self, obj: &K) -> Option<u64>;

    /// Uses `f` for objects on which this predicate finds nothing, e.g.
    /// `predicates::generation.fallback(predicates::resource_version)` for a
    /// policy shared by types with and without a generation.
    fn fallback<F: Predicate<K>>(self, f: F) -> Fallback<Self, F>
    where
        Self: Sized,
    {
        Fallback(self, f)
    }

    /// Lets an object through when either property changed, e.g.
    /// `predicates::generation.combine(predicates::labels)`.
    fn combine<F: Predicate<K>>(self, f: F) -> Combine<Self, F>
    where
        Self: Sized,
    {
        Combine(self, f)
    }
}

impl<K, F: Fn(&K) -> Option<u64>> Predicate<K> for F {
    fn hash_property(&self, obj: &K) -> Option<u64> {
        (self)(obj)
    }
}

/// A predicate with a fallback, see [`Predicate::fallback`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback<A, B>(A, B);

impl<A: Predicate<K>, B: Predicate<K>, K> Predicate<K> for Fallback<A, B> {
    fn hash_property(&self, obj: &K) -> Option<u64> {
        self.0
            .hash_property(obj)
            .or_else(|| self.1.hash_property(obj))
    }
}

/// Two predicates combined, see [`Predicate::combine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Combine<A, B>(A, B);

impl<A: Predicate<K>, B: Predicate<K>, K> Predicate<K> for Combine<A, B> {
    fn hash_property(&self, obj: &K) -> Option<u64> {
        match (self.0.hash_property(obj), self.1.hash_property(obj)) {
            (None, None) => None,
            (a, b) => Some(hash_of(&(a, b))),
        }
    }
}

/// How a predicate filter remembers objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    ttl: Duration,
}

impl Config {
    /// Forgets an object not seen for `ttl` (one hour by default), bounding the
    /// memory spent on objects that were deleted.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(3600),
        }
    }
}

/// Drops objects whose predicate hash did not change. Made by
/// [`predicate_filter`](crate::WatchStreamExt::predicate_filter).
#[pin_project]
#[must_use = "streams do nothing unless polled"]
pub struct PredicateFilter<St, K: Resource, P: Predicate<K>> {
    #[pin]
    stream: St,
    predicate: P,
    config: Config,
    /// The last hash and sighting of each object, by [`identity_of`].
    seen: HashMap<String, (u64, Instant)>,
    last_sweep: Instant,
    _object: std::marker::PhantomData<fn(K)>,
}

impl<St, K: Resource, P: Predicate<K>> PredicateFilter<St, K, P> {
    pub(crate) fn new(stream: St, predicate: P, config: Config) -> Self {
        Self {
            stream,
            predicate,
            config,
            seen: HashMap::new(),
            last_sweep: Instant::now(),
            _object: std::marker::PhantomData,
        }
    }
}

impl<St, K, P> Stream for PredicateFilter<St, K, P>
where
    St: TryStream<Ok = K>,
    K: Resource,
    P: Predicate<K>,
{
    type Item = Result<K, St::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            let obj = match ready!(this.stream.as_mut().try_poll_next(cx)) {
                Some(Ok(obj)) => obj,
                other => return Poll::Ready(other),
            };
            let now = Instant::now();
            if now.duration_since(*this.last_sweep) >= this.config.ttl {
                let ttl = this.config.ttl;
                this.seen.retain(|_, (_, at)| now.duration_since(*at) < ttl);
                *this.last_sweep = now;
            }
            let Some(hash) = this.predicate.hash_property(&obj) else {
                return Poll::Ready(Some(Ok(obj)));
            };
            let changed = remember(this.seen, &obj, hash, now);
            if changed {
                return Poll::Ready(Some(Ok(obj)));
            }
        }
    }
}

/// Records `hash` for `obj`, returning whether it differs from the last one.
///
/// Objects are told apart by uid: unique over the cluster's history, so an
/// object deleted and created again under the same name counts as new. Known
/// objects are looked up without allocating; only a first sighting copies the
/// key. Objects without a uid (not from the apiserver) go by namespace and name,
/// which cannot collide with a uid (they contain a `/`).
fn remember<K: Resource>(
    seen: &mut HashMap<String, (u64, Instant)>,
    obj: &K,
    hash: u64,
    now: Instant,
) -> bool {
    let meta = obj.meta();
    let fallback;
    let key = match meta.uid.as_deref() {
        Some(uid) => uid,
        None => {
            fallback = format!(
                "{}/{}",
                meta.namespace.as_deref().unwrap_or_default(),
                meta.name.as_deref().unwrap_or_default()
            );
            &fallback
        }
    };
    match seen.get_mut(key) {
        Some(last) => {
            let changed = last.0 != hash;
            *last = (hash, now);
            changed
        }
        None => {
            seen.insert(key.to_owned(), (hash, now));
            true
        }
    }
}

fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Ready-made predicates.
pub mod predicates {
    use kube_client::core::{Resource, ResourceExt};

    use super::hash_of;

    /// The spec's generation: changes only when the desired state does, not the
    /// status (objects without one always pass).
    pub fn generation<K: Resource>(obj: &K) -> Option<u64> {
        obj.meta().generation.map(|generation| hash_of(&generation))
    }

    /// The resource version: changes on every write.
    pub fn resource_version<K: Resource>(obj: &K) -> Option<u64> {
        obj.meta().resource_version.as_deref().map(hash_of)
    }

    /// The labels.
    pub fn labels<K: Resource>(obj: &K) -> Option<u64> {
        Some(hash_of(obj.labels()))
    }

    /// The annotations.
    pub fn annotations<K: Resource>(obj: &K) -> Option<u64> {
        Some(hash_of(obj.annotations()))
    }

    /// The finalizers.
    pub fn finalizers<K: Resource>(obj: &K) -> Option<u64> {
        Some(hash_of(obj.finalizers()))
    }
}

#[cfg(test)]
mod tests {
    use futures::{StreamExt, stream};
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube_client::core::ObjectMeta;

    use super::*;

    fn obj(name: &str, generation: Option<i64>, uid: &str, label: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                generation,
                uid: Some(uid.into()),
                labels: Some([("l".to_string(), label.to_string())].into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    async fn names_after<P: Predicate<ConfigMap>>(
        predicate: P,
        objects: Vec<ConfigMap>,
    ) -> Vec<String> {
        let items = stream::iter(objects.into_iter().map(Ok::<_, ()>));
        PredicateFilter::new(items, predicate, Config::default())
            .map(|item| {
                let cm = item.expect("no errors scripted");
                format!(
                    "{}@{}",
                    cm.metadata.name.unwrap_or_default(),
                    cm.metadata.generation.unwrap_or(0)
                )
            })
            .collect()
            .await
    }

    #[tokio::test]
    async fn generation_drops_status_only_changes() {
        let seen = names_after(
            predicates::generation,
            vec![
                obj("a", Some(1), "u1", "x"),
                obj("a", Some(1), "u1", "y"),
                obj("b", Some(1), "u2", "x"),
                obj("a", Some(2), "u1", "y"),
                obj("a", Some(2), "u1", "y"),
            ],
        )
        .await;
        assert_eq!(seen, ["a@1", "b@1", "a@2"]);
    }

    #[tokio::test]
    async fn recreated_objects_pass_again() {
        let seen = names_after(
            predicates::generation,
            vec![obj("a", Some(1), "old", "x"), obj("a", Some(1), "new", "x")],
        )
        .await;
        assert_eq!(seen, ["a@1", "a@1"]);
    }

    #[tokio::test]
    async fn objects_without_the_property_always_pass() {
        let seen = names_after(
            predicates::generation,
            vec![obj("a", None, "u", "x"), obj("a", None, "u", "x")],
        )
        .await;
        assert_eq!(seen, ["a@0", "a@0"]);
        let with_fallback = names_after(
            predicates::generation.fallback(predicates::labels),
            vec![
                obj("a", None, "u", "x"),
                obj("a", None, "u", "x"),
                obj("a", None, "u", "y"),
            ],
        )
        .await;
        assert_eq!(with_fallback, ["a@0", "a@0"]);
    }

    #[tokio::test]
    async fn combined_predicates_pass_on_either_change() {
        let seen = names_after(
            predicates::generation.combine(predicates::labels),
            vec![
                obj("a", Some(1), "u", "x"),
                obj("a", Some(1), "u", "y"),
                obj("a", Some(1), "u", "y"),
                obj("a", Some(2), "u", "y"),
            ],
        )
        .await;
        assert_eq!(seen, ["a@1", "a@1", "a@2"]);
    }

    #[tokio::test(start_paused = true)]
    async fn forgets_objects_after_the_ttl() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<ConfigMap, ()>>();
        let mut filtered = Box::pin(PredicateFilter::new(
            rx,
            predicates::generation,
            Config::default().ttl(Duration::from_secs(10)),
        ));
        tx.unbounded_send(Ok(obj("a", Some(1), "u", "x")))
            .expect("open");
        assert!(filtered.next().await.is_some());
        tokio::time::advance(Duration::from_secs(11)).await;
        tx.unbounded_send(Ok(obj("a", Some(1), "u", "x")))
            .expect("open");
        assert!(
            filtered.next().await.is_some(),
            "forgotten after the ttl, so it passes again"
        );
        tx.unbounded_send(Ok(obj("a", Some(1), "u", "x")))
            .expect("open");
        drop(tx);
        assert!(
            filtered.next().await.is_none(),
            "remembered again within the ttl"
        );
    }

    #[tokio::test]
    async fn objects_without_uid_are_told_apart_by_namespace_and_name() {
        let mut a = obj("a", Some(1), "x", "l");
        let mut b = obj("b", Some(1), "x", "l");
        a.metadata.uid = None;
        b.metadata.uid = None;
        let seen = names_after(predicates::generation, vec![a.clone(), b, a]).await;
        assert_eq!(seen, ["a@1", "b@1"]);
    }

    #[test]
    fn each_ready_made_predicate_tracks_its_own_property() {
        let base = obj("a", Some(1), "u", "x");
        let mut relabelled = base.clone();
        relabelled.metadata.labels = Some([("l".to_string(), "y".to_string())].into());
        let mut annotated = base.clone();
        annotated.metadata.annotations = Some([("note".to_string(), "1".to_string())].into());
        let mut finalized = base.clone();
        finalized.metadata.finalizers = Some(vec!["example.com/cleanup".into()]);
        let mut rewritten = base.clone();
        rewritten.metadata.resource_version = Some("2".into());

        let differs = |p: fn(&ConfigMap) -> Option<u64>, other: &ConfigMap| p(&base) != p(other);
        assert!(differs(predicates::labels, &relabelled));
        assert!(!differs(predicates::labels, &annotated));
        assert!(differs(predicates::annotations, &annotated));
        assert!(!differs(predicates::annotations, &finalized));
        assert!(differs(predicates::finalizers, &finalized));
        assert!(!differs(predicates::finalizers, &relabelled));
        assert!(differs(predicates::resource_version, &rewritten));
        assert!(!differs(predicates::generation, &relabelled));
        assert_eq!(
            predicates::resource_version(&base),
            None,
            "no version, no hash"
        );
    }
}
