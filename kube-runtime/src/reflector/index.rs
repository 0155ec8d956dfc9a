//! Store indexes: named functions from an object to the keys it can be found
//! under, and the maps from those keys back to the objects.
//!
//! An index answers "which objects have key X?" with one hash lookup instead
//! of a scan of the store, the way client-go's `Indexer` does. The natural
//! use is the reverse of a reference: Deployments indexed by the ConfigMaps
//! they mount find every Deployment to reconcile when a ConfigMap changes.
//!
//! The writer keeps every index in step with the objects: an object's keys are
//! worked out when it is stored, worked out again from the stored copy when it
//! is replaced or deleted, in the same step as the object (a relist's objects
//! included, as each arrives).

use std::{collections::HashMap, fmt, hash::Hash, sync::Arc};

use thiserror::Error;

use super::object_ref::{Lookup, ObjectRef};

/// The store has no index of this name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the store has no index named {0:?}: add it with Writer::with_index")]
pub struct UnknownIndex(pub String);

type KeysFn<K> = Arc<dyn Fn(&K) -> Vec<String> + Send + Sync>;

/// A named index function.
pub(crate) struct Indexer<K> {
    name: Arc<str>,
    keys: KeysFn<K>,
}

impl<K> Clone for Indexer<K> {
    fn clone(&self) -> Self {
        Self {
            name: Arc::clone(&self.name),
            keys: Arc::clone(&self.keys),
        }
    }
}

impl<K> Indexer<K> {
    pub(crate) fn new<F, I>(name: &str, keys: F) -> Self
    where
        F: Fn(&K) -> I + Send + Sync + 'static,
        I: IntoIterator<Item = String>,
    {
        Self {
            name: Arc::from(name),
            keys: Arc::new(move |obj| keys(obj).into_iter().collect()),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The keys of `obj`, sorted and without repeats (none for no object).
    fn sorted_keys(&self, obj: Option<&K>) -> Vec<String> {
        let Some(obj) = obj else {
            return Vec::new();
        };
        let mut keys = (self.keys)(obj);
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

/// How one object's keys change in one index.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyChange {
    removed: Vec<String>,
    added: Vec<String>,
    /// Keys the object keeps: their entries take its new version.
    kept: Vec<String>,
}

impl KeyChange {
    /// The difference between two sorted, repeat-free key lists.
    fn between(old: Vec<String>, new: Vec<String>) -> Self {
        let mut change = Self::default();
        let mut old = old.into_iter().peekable();
        let mut new = new.into_iter().peekable();
        loop {
            match (old.peek(), new.peek()) {
                (Some(o), Some(n)) if o == n => {
                    old.next();
                    change.kept.extend(new.next());
                }
                (Some(o), Some(n)) if o < n => change.removed.extend(old.next()),
                (Some(_), Some(_)) | (None, Some(_)) => change.added.extend(new.next()),
                (Some(_), None) => change.removed.extend(old.next()),
                (None, None) => return change,
            }
        }
    }
}

/// How the keys of one object change in every index (in `indexers` order)
/// when it goes from `old` to `new`. No index functions, no allocation.
pub(crate) fn key_changes<K>(
    indexers: &[Indexer<K>],
    old: Option<&K>,
    new: Option<&K>,
) -> Vec<KeyChange> {
    indexers
        .iter()
        .map(|indexer| KeyChange::between(indexer.sorted_keys(old), indexer.sorted_keys(new)))
        .collect()
}

/// One index: every key, with the objects found under it. The objects are
/// held here as well as in the store's map (one more pointer each), so that
/// a lookup hashes the key once rather than once more per object found.
pub(crate) struct Index<K: Lookup>
where
    K::DynamicType: Eq + Hash,
{
    name: Arc<str>,
    entries: HashMap<String, HashMap<ObjectRef<K>, Arc<K>>>,
}

impl<K: Lookup> Index<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    /// The index `indexer` makes of `objects`.
    pub(crate) fn build<'a>(
        indexer: &Indexer<K>,
        objects: impl Iterator<Item = (&'a ObjectRef<K>, &'a Arc<K>)>,
    ) -> Self
    where
        K: 'a,
    {
        let mut index = Self::empty(indexer);
        for (key, obj) in objects {
            index.put(key, obj, indexer.sorted_keys(Some(obj)));
        }
        index
    }

    fn empty(indexer: &Indexer<K>) -> Self {
        Self {
            name: Arc::clone(&indexer.name),
            entries: HashMap::new(),
        }
    }

    /// Files `obj` (the version under `at`) under `keys`, replacing the
    /// version filed there before.
    fn put(&mut self, at: &ObjectRef<K>, obj: &Arc<K>, keys: Vec<String>) {
        for key in keys {
            let objects = self.entries.entry(key).or_default();
            match objects.get_mut(at) {
                Some(filed) => *filed = Arc::clone(obj),
                None => {
                    objects.insert(at.clone(), Arc::clone(obj));
                }
            }
        }
    }

    fn remove(&mut self, obj: &ObjectRef<K>, keys: Vec<String>) {
        for key in keys {
            if let Some(objects) = self.entries.get_mut(&key) {
                objects.remove(obj);
                // An empty entry would keep its key listed among the index's values.
                if objects.is_empty() {
                    self.entries.remove(&key);
                }
            }
        }
    }
}

impl<K: Lookup> Index<K>
where
    K::DynamicType: Eq + Hash,
{
    /// The objects found under `key`, with their references.
    pub(crate) fn objects_under(
        &self,
        key: &str,
    ) -> impl Iterator<Item = (&ObjectRef<K>, &Arc<K>)> {
        self.entries.get(key).into_iter().flatten()
    }

    /// Every key some object is found under.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.keys()
    }
}

/// Every index of one copy of a store's content, in the writer's indexer
/// order. Without indexers this is an empty `Vec`: no allocation, and every
/// update loops over nothing.
pub(crate) struct Indexes<K: Lookup>(Vec<Index<K>>)
where
    K::DynamicType: Eq + Hash;

impl<K: Lookup> Default for Indexes<K>
where
    K::DynamicType: Eq + Hash,
{
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<K: Lookup> Indexes<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    /// Moves the object under `at` from its old keys to its new ones, filing
    /// `obj` as its version (none when it is deleted: it has no new keys).
    pub(crate) fn update(
        &mut self,
        at: &ObjectRef<K>,
        obj: Option<&Arc<K>>,
        changes: Vec<KeyChange>,
    ) {
        for (index, change) in self.0.iter_mut().zip(changes) {
            index.remove(at, change.removed);
            if let Some(obj) = obj {
                index.put(at, obj, change.added);
                index.put(at, obj, change.kept);
            }
        }
    }

    /// Puts `index` at `position`: replacing the one there, or appended when
    /// `position` is one past the end.
    pub(crate) fn put(&mut self, position: usize, index: Index<K>) {
        match self.0.get_mut(position) {
            Some(slot) => *slot = index,
            None => self.0.push(index),
        }
    }
}

impl<K: Lookup> Indexes<K>
where
    K::DynamicType: Eq + Hash,
{
    /// The index called `name`.
    pub(crate) fn named(&self, name: &str) -> Result<&Index<K>, UnknownIndex> {
        self.0
            .iter()
            .find(|index| &*index.name == name)
            .ok_or_else(|| UnknownIndex(name.to_string()))
    }

    /// The names of the indexes.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|index| &*index.name)
    }
}

impl<K: Lookup> fmt::Debug for Indexes<K>
where
    K::DynamicType: Eq + Hash,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn key_changes_name_only_the_keys_that_differ() {
        let change = KeyChange::between(keys(&["a", "b", "d"]), keys(&["b", "c", "d", "e"]));
        assert_eq!(change.removed, keys(&["a"]));
        assert_eq!(change.added, keys(&["c", "e"]));
        assert_eq!(change.kept, keys(&["b", "d"]));
        let same = KeyChange::between(keys(&["a"]), keys(&["a"]));
        assert!(same.removed.is_empty() && same.added.is_empty());
        assert_eq!(same.kept, keys(&["a"]));
        let gone = KeyChange::between(keys(&["a", "b"]), Vec::new());
        assert_eq!(gone.removed, keys(&["a", "b"]));
        assert!(gone.added.is_empty());
    }

    #[test]
    fn repeated_keys_count_once() {
        let indexer = Indexer::new("letters", |s: &String| {
            s.chars().map(String::from).collect::<Vec<_>>()
        });
        assert_eq!(
            indexer.sorted_keys(Some(&"banana".to_string())),
            keys(&["a", "b", "n"])
        );
        assert!(indexer.sorted_keys(None).is_empty());
    }
}
