//! Stream adapters for watcher output: backoff, object extraction, predicates.

mod backoff;
mod cancelable;
mod event_decode;
mod event_modify;
mod predicate;
mod reflect;
mod stream_backoff;
mod watch_ext;

pub use backoff::{Backoff, ResetTimerBackoff};
pub use cancelable::CancelableJoinHandle;
pub use event_decode::EventDecode;
pub use event_modify::EventModify;
pub use predicate::{Config as PredicateConfig, Predicate, PredicateFilter, predicates};
pub use reflect::{Reflect, ReflectArc};
pub use stream_backoff::StreamBackoff;
pub use watch_ext::WatchStreamExt;
