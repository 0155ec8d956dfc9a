//! Controllers fed by shared reflectors (feature `unstable-runtime-subscribe`):
//! the triggers are [`ReflectHandle`](crate::reflector::ReflectHandle)s (or
//! any stream of `Arc`s), so several controllers can share one watch per
//! kind.

use std::{fmt::Debug, hash::Hash, sync::Arc};

use futures::{Stream, StreamExt};
use kube_client::Resource;
use serde::de::DeserializeOwned;

use super::{
    Controller, ReconcileReason, ReconcileRequest,
    trigger::{trigger_self, trigger_with},
};
use crate::{
    reflector::{ObjectRef, Store},
    watcher,
};

impl<K> Controller<K>
where
    K: Clone + Resource + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    /// A controller for the objects a shared reflector announces on
    /// `trigger`, read from `reader` (usually the handle's
    /// [`reader`](crate::reflector::ReflectHandle::reader)).
    #[must_use]
    pub fn for_shared_stream(
        trigger: impl Stream<Item = Arc<K>> + Send + 'static,
        reader: Store<K>,
    ) -> Self
    where
        K::DynamicType: Default,
    {
        Self::for_shared_stream_with(trigger, reader, Default::default())
    }

    /// [`Controller::for_shared_stream`] for a type known at runtime.
    #[must_use]
    pub fn for_shared_stream_with(
        trigger: impl Stream<Item = Arc<K>> + Send + 'static,
        reader: Store<K>,
        dyntype: K::DynamicType,
    ) -> Self {
        let main = trigger_self(trigger.map(Ok::<_, watcher::Error>), dyntype.clone());
        Self::with_trigger(main.boxed(), reader, dyntype)
    }

    /// Also reconciles an object when a child it owns, announced on
    /// `trigger`, changes.
    #[must_use]
    pub fn owns_shared_stream<Child: Resource<DynamicType = ()> + Send + 'static>(
        self,
        trigger: impl Stream<Item = Arc<Child>> + Send + 'static,
    ) -> Self {
        self.owns_shared_stream_with(trigger, ())
    }

    /// [`Controller::owns_shared_stream`] for a child type known at runtime.
    #[must_use]
    pub fn owns_shared_stream_with<Child: Resource + Send + 'static>(
        mut self,
        trigger: impl Stream<Item = Arc<Child>> + Send + 'static,
        dyntype: Child::DynamicType,
    ) -> Self
    where
        Child::DynamicType: Debug + Eq + Hash + Clone + Send + 'static,
    {
        let owner_type = self.dyntype.clone();
        let owners = trigger_with(
            trigger.map(Ok::<_, watcher::Error>),
            move |child: Arc<Child>| {
                let child_ref = ObjectRef::key_of(&*child, dyntype.clone()).erase();
                let meta = child.meta();
                let namespace = meta.namespace.as_deref();
                meta.owner_references
                    .iter()
                    .flatten()
                    .filter_map(|owner| {
                        ObjectRef::from_owner_ref(namespace, owner, owner_type.clone())
                    })
                    .map(|obj_ref| ReconcileRequest {
                        obj_ref,
                        reason: ReconcileReason::RelatedObjectUpdated {
                            obj_ref: Box::new(child_ref.clone()),
                        },
                    })
                    .collect::<Vec<_>>()
            },
        );
        self.push_trigger(owners);
        self
    }

    /// Also reconciles the objects `mapper` names for each object announced
    /// on `trigger`.
    #[must_use]
    pub fn watches_shared_stream<Other, I>(
        self,
        trigger: impl Stream<Item = Arc<Other>> + Send + 'static,
        mapper: impl Fn(Arc<Other>) -> I + Sync + Send + 'static,
    ) -> Self
    where
        Other: Clone + Resource + DeserializeOwned + Debug + Send + 'static,
        Other::DynamicType: Default + Debug + Clone + Send,
        I: 'static + IntoIterator<Item = ObjectRef<K>>,
        I::IntoIter: Send,
    {
        self.watches_shared_stream_with(trigger, mapper, Default::default())
    }

    /// [`Controller::watches_shared_stream`] for a type known at runtime.
    #[must_use]
    pub fn watches_shared_stream_with<Other, I>(
        mut self,
        trigger: impl Stream<Item = Arc<Other>> + Send + 'static,
        mapper: impl Fn(Arc<Other>) -> I + Sync + Send + 'static,
        dyntype: Other::DynamicType,
    ) -> Self
    where
        Other: Clone + Resource + DeserializeOwned + Debug + Send + 'static,
        Other::DynamicType: Debug + Clone + Send,
        I: 'static + IntoIterator<Item = ObjectRef<K>>,
        I::IntoIter: Send,
    {
        let related = trigger_with(
            trigger.map(Ok::<_, watcher::Error>),
            move |other: Arc<Other>| {
                let other_ref = ObjectRef::key_of(&*other, dyntype.clone()).erase();
                mapper(other)
                    .into_iter()
                    .map(move |obj_ref| ReconcileRequest {
                        obj_ref,
                        reason: ReconcileReason::RelatedObjectUpdated {
                            obj_ref: Box::new(other_ref.clone()),
                        },
                    })
            },
        );
        self.push_trigger(related);
        self
    }
}
