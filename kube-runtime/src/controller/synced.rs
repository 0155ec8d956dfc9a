//! [`Synced`]: whether a controller's watches have each listed once.

use std::sync::{
    Arc, Mutex, PoisonError, Weak,
    atomic::{AtomicBool, Ordering},
};

/// Whether a running controller has seen its whole world: its store holds the
/// first list of its objects, and each watch it runs for `owns` and `watches`
/// has completed its first list. What a readiness probe waits for.
///
/// Get one from [`Controller::synced`](crate::Controller::synced). It stops
/// being synced when the controller (or the stream its `run` returned) is
/// dropped. To follow controllers that are built again and again, say once
/// per term of leadership, make one `Synced` and give it to each with
/// [`Controller::with_synced`](crate::Controller::with_synced).
///
/// Sources of objects that are not watches the controller runs (streams given
/// to `owns_stream`, `watches_stream`, ...) are not waited for.
#[derive(Debug, Clone, Default)]
pub struct Synced {
    current: Arc<Mutex<Weak<Sources>>>,
}

impl Synced {
    /// A handle no controller reports to yet: not synced.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the controller reporting here is alive and has listed
    /// everything it watches.
    pub fn is_synced(&self) -> bool {
        self.lock()
            .upgrade()
            .is_some_and(|sources| sources.all_listed())
    }

    /// Makes `sources` the controller this handle follows.
    pub(crate) fn follow(&self, sources: &Arc<Sources>) {
        *self.lock() = Arc::downgrade(sources);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Weak<Sources>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sources of one controller, each set once it has listed. The
/// controller holds this; [`Synced`] handles only look at it.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    listed: Mutex<Vec<Arc<AtomicBool>>>,
}

impl Sources {
    /// A new source, not yet listed.
    pub(crate) fn add(&self) -> Listed {
        let flag = Arc::new(AtomicBool::new(false));
        self.listed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&flag));
        Listed(flag)
    }

    fn all_listed(&self) -> bool {
        self.listed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .all(|flag| flag.load(Ordering::Acquire))
    }
}

/// Set by one source once it has listed.
#[derive(Debug, Clone)]
pub(crate) struct Listed(Arc<AtomicBool>);

impl Listed {
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synced_once_every_source_listed_and_only_while_the_controller_lives() {
        let synced = Synced::new();
        assert!(!synced.is_synced(), "nobody reports yet");
        let sources = Arc::new(Sources::default());
        synced.follow(&sources);
        let (main, children) = (sources.add(), sources.add());
        main.set();
        assert!(!synced.is_synced(), "the children are not listed yet");
        children.set();
        assert!(synced.is_synced());
        drop(sources);
        assert!(!synced.is_synced(), "the controller is gone");
    }

    #[test]
    fn a_handle_follows_the_latest_controller() {
        let synced = Synced::new();
        let first = Arc::new(Sources::default());
        synced.follow(&first);
        first.add().set();
        assert!(synced.is_synced());
        let second = Arc::new(Sources::default());
        let pending = second.add();
        synced.follow(&second);
        assert!(!synced.is_synced(), "the new controller has not listed");
        pending.set();
        assert!(synced.is_synced());
    }
}
