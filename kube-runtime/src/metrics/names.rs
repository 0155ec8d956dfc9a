//! The controller names in use, so that two controllers running at once
//! never write to the same series.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, PoisonError},
};

/// The names held by running controllers.
#[derive(Debug, Default, Clone)]
pub(crate) struct Names(Arc<Mutex<HashSet<String>>>);

impl Names {
    /// Takes `wanted`, or when a running controller holds it, the first free
    /// of `wanted-2`, `wanted-3`, ... The name is free again once the claim
    /// is dropped.
    pub(crate) fn claim(&self, wanted: &str) -> NameClaim {
        let mut taken = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let name = (1..)
            .map(|n| match n {
                1 => wanted.to_string(),
                n => format!("{wanted}-{n}"),
            })
            .find(|candidate| !taken.contains(candidate))
            .unwrap_or_else(|| wanted.to_string());
        if name != wanted {
            tracing::warn!(
                controller = wanted,
                metrics_name = %name,
                "another running controller already writes metrics as {wanted:?}; this one uses {name:?} (name them apart with Controller::named)"
            );
        }
        taken.insert(name.clone());
        NameClaim {
            names: self.clone(),
            name,
        }
    }
}

/// A name held by one running controller.
#[derive(Debug)]
pub(crate) struct NameClaim {
    names: Names,
    name: String,
}

impl NameClaim {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for NameClaim {
    fn drop(&mut self) {
        self.names
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_in_use_gets_the_first_free_suffix_and_is_free_again_once_dropped() {
        let names = Names::default();
        let first = names.claim("pods");
        let second = names.claim("pods");
        let third = names.claim("pods");
        assert_eq!(
            [first.name(), second.name(), third.name()],
            ["pods", "pods-2", "pods-3"]
        );
        drop(second);
        assert_eq!(names.claim("pods").name(), "pods-2");
        drop(first);
        assert_eq!(
            names.claim("pods").name(),
            "pods",
            "a restart keeps its name"
        );
    }
}
