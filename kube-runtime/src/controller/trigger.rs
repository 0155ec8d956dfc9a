//! Triggers: turning watched objects into reconcile requests.

use std::{
    borrow::Borrow,
    collections::VecDeque,
    hash::Hash,
    pin::Pin,
    task::{Context, Poll, ready},
};

use futures::{Stream, TryStream, TryStreamExt, stream};
use kube_client::core::Resource;
use pin_project::pin_project;

use super::{ReconcileReason, ReconcileRequest};
use crate::{
    reflector::{ObjectRef, Writer},
    watcher,
};

/// Maps each object of `stream` to the reconcile requests `mapper` returns.
pub fn trigger_with<T, K, I, S>(
    stream: S,
    mapper: impl Fn(T) -> I,
) -> impl Stream<Item = Result<ReconcileRequest<K>, S::Error>>
where
    S: TryStream<Ok = T>,
    I: IntoIterator,
    I::Item: Into<ReconcileRequest<K>>,
    K: Resource,
{
    stream
        .map_ok(move |obj| stream::iter(mapper(obj).into_iter().map(|request| Ok(request.into()))))
        .try_flatten()
}

/// Requests a reconcile of each object of `stream` itself.
pub fn trigger_self<K, S>(
    stream: S,
    dyntype: K::DynamicType,
) -> impl Stream<Item = Result<ReconcileRequest<K>, S::Error>>
where
    S: TryStream,
    S::Ok: Borrow<K>,
    K: Resource,
    K::DynamicType: Clone,
{
    trigger_with(stream, move |obj: S::Ok| {
        Some(ReconcileRequest {
            obj_ref: ObjectRef::from_obj_with(obj.borrow(), dyntype.clone()),
            reason: ReconcileReason::ObjectUpdated,
        })
    })
}

/// Requests a reconcile of every owner of type `KOwner` named in the owner
/// references of each object of `stream`.
///
/// Owners are looked for in their dependent's namespace, where Kubernetes
/// requires them to be (or cluster-scoped).
pub fn trigger_owners<KOwner, S>(
    stream: S,
    owner_type: KOwner::DynamicType,
    child_type: <S::Ok as Resource>::DynamicType,
) -> impl Stream<Item = Result<ReconcileRequest<KOwner>, S::Error>>
where
    S: TryStream,
    S::Ok: Resource,
    <S::Ok as Resource>::DynamicType: Clone,
    KOwner: Resource,
    KOwner::DynamicType: Clone,
{
    let mapper = move |mut child: S::Ok| {
        // The child is owned here: take its metadata rather than cloning the
        // owner references out of it.
        let meta = std::mem::take(child.meta_mut());
        let namespace = meta.namespace;
        let owner_type = owner_type.clone();
        meta.owner_references
            .into_iter()
            .flatten()
            .filter_map(move |owner| {
                ObjectRef::from_owner_ref(namespace.as_deref(), &owner, owner_type.clone())
            })
    };
    related_by(stream, mapper, child_type)
}

/// Requests a reconcile of the objects `mapper` names for each object of
/// `stream`, recording the related object as the reason.
pub(crate) fn related_by<S, I, K>(
    stream: S,
    mapper: impl Fn(S::Ok) -> I,
    related_type: <S::Ok as Resource>::DynamicType,
) -> impl Stream<Item = Result<ReconcileRequest<K>, S::Error>>
where
    S: TryStream,
    S::Ok: Resource,
    <S::Ok as Resource>::DynamicType: Clone,
    I: IntoIterator<Item = ObjectRef<K>>,
    K: Resource,
{
    trigger_with(stream, move |related: S::Ok| {
        let related_ref = ObjectRef::key_of(&related, related_type.clone()).erase();
        mapper(related)
            .into_iter()
            .map(move |obj_ref| ReconcileRequest {
                obj_ref,
                reason: ReconcileReason::RelatedObjectUpdated {
                    obj_ref: Box::new(related_ref.clone()),
                },
            })
    })
}

/// Applies a watcher's events to the controller's own store and requests a
/// reconcile of each object that changed — once the store holds the change.
///
/// This is the main trigger of a [`Controller`](super::Controller) built from an
/// `Api`. Doing both in one step moves each object into the store instead of
/// cloning it, and orders triggers after the store is updated: the objects of a
/// relist are only requested at `InitDone`, when the store holds the whole
/// relist, so a reconcile never reads the state from before the relist (or
/// misses an object created during the gap).
#[pin_project]
#[must_use = "streams do nothing unless polled"]
pub(crate) struct ReflectAndTrigger<St, K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    #[pin]
    events: St,
    writer: Writer<K>,
    /// Requests made by one event and not emitted yet (a relist makes many).
    pending: VecDeque<ObjectRef<K>>,
}

impl<St, K> ReflectAndTrigger<St, K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    pub(crate) fn new(events: St, writer: Writer<K>) -> Self {
        Self {
            events,
            writer,
            pending: VecDeque::new(),
        }
    }
}

impl<St, K> Stream for ReflectAndTrigger<St, K>
where
    St: Stream<Item = watcher::Result<watcher::Event<K>>>,
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    type Item = watcher::Result<ReconcileRequest<K>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(obj_ref) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(ReconcileRequest {
                    obj_ref,
                    reason: ReconcileReason::ObjectUpdated,
                })));
            }
            match ready!(this.events.as_mut().poll_next(cx)) {
                None => return Poll::Ready(None),
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                Some(Ok(event)) => {
                    let pending = &mut *this.pending;
                    this.writer
                        .apply_owned(event, |changed| pending.push_back(changed.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::{StreamExt, TryStreamExt, stream};
    use k8s_openapi::{
        api::{apps::v1::Deployment, core::v1::ConfigMap},
        apimachinery::pkg::apis::meta::v1::OwnerReference,
    };
    use kube_client::core::ObjectMeta;

    use super::*;
    use crate::{reflector::store, watcher::Event};

    fn cm(name: &str, owners: Vec<OwnerReference>) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                owner_references: Some(owners),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    fn owner(api_version: &str, kind: &str, name: &str) -> OwnerReference {
        OwnerReference {
            api_version: api_version.into(),
            kind: kind.into(),
            name: name.into(),
            uid: format!("uid-{name}"),
            ..OwnerReference::default()
        }
    }

    #[tokio::test]
    async fn owners_of_the_right_type_are_requested_in_the_child_namespace() {
        let child = cm(
            "child",
            vec![
                owner("apps/v1", "Deployment", "web"),
                owner("v1", "ConfigMap", "not-a-deployment"),
                owner("apps/v1", "Deployment", "db"),
            ],
        );
        let requests: Vec<ReconcileRequest<Deployment>> =
            trigger_owners(stream::iter([Ok::<_, ()>(child)]), (), ())
                .try_collect()
                .await
                .expect("no errors");
        let refs: Vec<_> = requests.iter().map(|r| r.obj_ref.to_string()).collect();
        assert_eq!(
            refs,
            ["Deployment.v1.apps/web.ns", "Deployment.v1.apps/db.ns"]
        );
        assert!(matches!(
            &requests[0].reason,
            ReconcileReason::RelatedObjectUpdated { obj_ref } if obj_ref.name == "child"
        ));
    }

    #[tokio::test]
    async fn errors_pass_through_triggers() {
        let items = stream::iter([Err("watch failed"), Ok(cm("a", vec![]))]);
        let requests: Vec<_> = trigger_self::<ConfigMap, _>(items, ()).collect().await;
        assert!(matches!(requests[0], Err("watch failed")));
        assert!(matches!(&requests[1], Ok(r) if r.obj_ref.name == "a"));
    }

    #[tokio::test]
    async fn relisted_objects_are_requested_only_once_the_store_holds_them() {
        let (reader, writer) = store::<ConfigMap>();
        let (events_tx, events_rx) = futures::channel::mpsc::unbounded();
        let mut triggers = Box::pin(ReflectAndTrigger::new(events_rx, writer));
        for event in [
            Event::Init,
            Event::InitApply(cm("a", vec![])),
            Event::InitApply(cm("b", vec![])),
        ] {
            events_tx.unbounded_send(Ok(event)).expect("open");
        }
        assert!(
            futures::poll!(triggers.next()).is_pending(),
            "no request before InitDone"
        );
        events_tx.unbounded_send(Ok(Event::InitDone)).expect("open");
        let mut requested = Vec::new();
        for _ in 0..2 {
            let request = triggers.next().await.expect("a request").expect("no error");
            assert!(
                reader.get(&request.obj_ref).is_some(),
                "requested before it was stored"
            );
            requested.push(request.obj_ref.name);
        }
        requested.sort();
        assert_eq!(requested, ["a", "b"]);

        events_tx
            .unbounded_send(Ok(Event::Apply(cm("c", vec![]))))
            .expect("open");
        let request = triggers.next().await.expect("a request").expect("no error");
        assert_eq!(request.obj_ref.name, "c");
        assert!(reader.get(&request.obj_ref).is_some());

        events_tx
            .unbounded_send(Ok(Event::Delete(cm("c", vec![]))))
            .expect("open");
        drop(events_tx);
        assert!(triggers.next().await.is_none(), "deletions request nothing");
        assert!(reader.get(&ObjectRef::new("c").within("ns")).is_none());
    }
}
