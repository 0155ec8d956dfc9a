//! Get-or-create, then modify and save: [`Api::entry`].
//!
//! Like `HashMap::entry`, an [`Entry`] is either [`Occupied`](Entry::Occupied)
//! (the object exists, or was inserted locally) or [`Vacant`](Entry::Vacant).
//! Changes are made locally and sent by [`OccupiedEntry::commit`], which creates
//! the object if it is new and replaces it if it changed.
//!
//! A replace carries the `resourceVersion` the object was read at. If someone else
//! changed the object in between, the server refuses with `409 Conflict` and the
//! commit fails with [`CommitError::Save`]: nothing is overwritten and nothing is
//! retried. Read a fresh entry and apply the change again.
//!
//! ```no_run
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube_client::{Api, api::PostParams};
//!
//! # async fn run(maps: Api<ConfigMap>) -> Result<(), Box<dyn std::error::Error>> {
//! let mut entry = maps
//!     .entry("settings")
//!     .await?
//!     .or_insert(ConfigMap::default)
//!     .and_modify(|cm| {
//!         cm.data.get_or_insert_default().insert("mode".into(), "fast".into());
//!     });
//! entry.commit(&PostParams::default()).await?;
//! # Ok(())
//! # }
//! ```

use std::fmt::Debug;

use serde::{Serialize, de::DeserializeOwned};

use super::Api;
use crate::{Error, Result, api::PostParams};
use kube_core::Resource;

impl<K: Resource + Clone + DeserializeOwned + Debug> Api<K> {
    /// Reads the object called `name` into an [`Entry`]: occupied when it exists,
    /// vacant when the server answers `404`.
    pub async fn entry<'a>(&'a self, name: &'a str) -> Result<Entry<'a, K>> {
        Ok(match self.get_opt(name).await? {
            Some(object) => Entry::Occupied(OccupiedEntry {
                api: self,
                name,
                state: State::Clean,
                object,
            }),
            None => Entry::Vacant(VacantEntry { api: self, name }),
        })
    }
}

/// One object by name, existing or not. See [`Api::entry`].
#[derive(Debug)]
pub enum Entry<'a, K> {
    /// The object exists on the server, or was inserted locally and awaits
    /// [`commit`](OccupiedEntry::commit).
    Occupied(OccupiedEntry<'a, K>),
    /// The object does not exist.
    Vacant(VacantEntry<'a, K>),
}

impl<'a, K> Entry<'a, K> {
    /// The object, when occupied.
    pub fn get(&self) -> Option<&K> {
        match self {
            Entry::Occupied(entry) => Some(entry.get()),
            Entry::Vacant(_) => None,
        }
    }

    /// The object for changing, when occupied. Marks it as modified.
    pub fn get_mut(&mut self) -> Option<&mut K> {
        match self {
            Entry::Occupied(entry) => Some(entry.get_mut()),
            Entry::Vacant(_) => None,
        }
    }

    /// Changes the object with `f` when occupied; does nothing when vacant.
    #[must_use]
    pub fn and_modify(self, f: impl FnOnce(&mut K)) -> Self {
        match self {
            Entry::Occupied(entry) => Entry::Occupied(entry.and_modify(f)),
            vacant @ Entry::Vacant(_) => vacant,
        }
    }

    /// The occupied entry, or a new one holding `default()` (with the entry's name
    /// and the `Api`'s namespace filled in when unset), to be created on commit.
    pub fn or_insert(self, default: impl FnOnce() -> K) -> OccupiedEntry<'a, K>
    where
        K: Resource,
    {
        match self {
            Entry::Occupied(entry) => entry,
            Entry::Vacant(entry) => entry.insert(default()),
        }
    }
}

/// Whether an occupied entry differs from the server's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not on the server yet: commit creates it.
    New,
    /// As read from (or last saved to) the server.
    Clean,
    /// Changed locally: commit replaces it.
    Modified,
}

/// An object that exists, or that was inserted locally. See [`Api::entry`].
#[derive(Debug)]
pub struct OccupiedEntry<'a, K> {
    api: &'a Api<K>,
    name: &'a str,
    state: State,
    object: K,
}

impl<K> OccupiedEntry<'_, K> {
    /// The object.
    pub fn get(&self) -> &K {
        &self.object
    }

    /// The object for changing. Marks it as modified, so the next commit
    /// replaces it on the server.
    pub fn get_mut(&mut self) -> &mut K {
        if self.state == State::Clean {
            self.state = State::Modified;
        }
        &mut self.object
    }

    /// Changes the object with `f`, marking it as modified.
    #[must_use]
    pub fn and_modify(mut self, f: impl FnOnce(&mut K)) -> Self {
        f(self.get_mut());
        self
    }

    /// The object, giving up the entry (uncommitted changes are dropped).
    pub fn into_object(self) -> K {
        self.object
    }

    /// Saves the object: creates it when it was inserted locally, replaces it
    /// when it was modified, and does nothing when it is unchanged. Afterwards
    /// the entry holds the object as the server stored it.
    ///
    /// With [`PostParams::dry_run`] the server only checks the change: the
    /// entry then holds the object as the server would have stored it, and
    /// the change stays pending, so a later commit without `dry_run` still
    /// creates or replaces the object.
    ///
    /// A replace that lost a race with another writer fails with
    /// [`CommitError::Save`] holding a `409 Conflict` [`Error::Api`]; it is not
    /// retried.
    pub async fn commit(&mut self, pp: &PostParams) -> Result<(), CommitError>
    where
        K: Resource + DeserializeOwned + Serialize + Clone + Debug,
    {
        self.validate()?;
        let saved = match self.state {
            State::Clean => return Ok(()),
            State::New => self.api.create(pp, &self.object).await,
            State::Modified => self.api.replace(self.name, pp, &self.object).await,
        };
        self.object = saved.map_err(CommitError::Save)?;
        if !pp.dry_run {
            self.state = State::Clean;
        }
        Ok(())
    }

    /// Checks that the object still belongs to this entry.
    fn validate(&self) -> Result<(), CommitValidationError>
    where
        K: Resource,
    {
        let meta = self.object.meta();
        if meta.name.as_deref() != Some(self.name) {
            return Err(CommitValidationError::NameMismatch {
                object_name: meta.name.clone().unwrap_or_default(),
                expected: self.name.to_string(),
            });
        }
        if let Some(expected) = self.api.namespace()
            && meta.namespace.as_deref() != Some(expected)
        {
            return Err(CommitValidationError::NamespaceMismatch {
                object_namespace: meta.namespace.clone(),
                expected: Some(expected.to_string()),
            });
        }
        if let Some(generate_name) = &meta.generate_name {
            return Err(CommitValidationError::GenerateName {
                object_generate_name: generate_name.clone(),
            });
        }
        Ok(())
    }
}

/// Why [`OccupiedEntry::commit`] failed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The object no longer matches the entry; nothing was sent.
    #[error("the object was not saved: {0}")]
    Validate(#[from] CommitValidationError),
    /// The server refused or could not be reached, e.g. a `409 Conflict` when the
    /// object changed since it was read.
    #[error("saving the object failed: {0}")]
    Save(#[source] Error),
}

/// How an entry's object stopped matching the entry.
#[derive(Debug, thiserror::Error)]
pub enum CommitValidationError {
    /// `metadata.name` differs from the name the entry was opened with.
    #[error(
        "its metadata.name is {object_name:?} but the entry is for {expected:?}; keep the name the entry was opened with"
    )]
    NameMismatch {
        /// The object's name (empty when unset).
        object_name: String,
        /// The entry's name.
        expected: String,
    },
    /// `metadata.namespace` differs from the `Api`'s namespace.
    #[error(
        "its metadata.namespace is {object_namespace:?} but the Api works in {expected:?}; leave the namespace as the entry set it"
    )]
    NamespaceMismatch {
        /// The object's namespace.
        object_namespace: Option<String>,
        /// The `Api`'s namespace.
        expected: Option<String>,
    },
    /// `metadata.generateName` is set, which would create an object under another
    /// name than the entry's.
    #[error(
        "its metadata.generateName is {object_generate_name:?}; an entry has a fixed name, so remove generateName"
    )]
    GenerateName {
        /// The object's `generateName`.
        object_generate_name: String,
    },
}

/// A name with no object behind it. See [`Api::entry`].
#[derive(Debug)]
pub struct VacantEntry<'a, K> {
    api: &'a Api<K>,
    name: &'a str,
}

impl<'a, K> VacantEntry<'a, K> {
    /// Inserts `object` locally, filling in the entry's name and the `Api`'s
    /// namespace when unset; [`OccupiedEntry::commit`] creates it.
    pub fn insert(self, mut object: K) -> OccupiedEntry<'a, K>
    where
        K: Resource,
    {
        let meta = object.meta_mut();
        if meta.name.is_none() {
            meta.name = Some(self.name.to_string());
        }
        if meta.namespace.is_none() {
            meta.namespace = self.api.namespace().map(str::to_string);
        }
        OccupiedEntry {
            api: self.api,
            name: self.name,
            state: State::New,
            object,
        }
    }
}
