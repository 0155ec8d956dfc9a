//! Wall-clock and CPU time of a measured section.
//!
//! Each client runs on a runtime with a single thread, so that thread's CPU
//! time is all the work the client did. On a shared machine it varies far less
//! than the wall clock, which also counts time spent waiting for a core.

use std::time::{Duration, Instant};

/// CPU time the calling thread has run so far, from `/proc/thread-self/schedstat`;
/// `None` where that file does not exist.
fn thread_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// How long a section took.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Wall-clock time.
    pub wall: Duration,
    /// CPU time of the measuring thread, if the platform tells it.
    pub cpu: Option<Duration>,
}

impl Timing {
    /// Two sections measured one after the other, as one.
    pub fn plus(self, other: Timing) -> Timing {
        Timing {
            wall: self.wall + other.wall,
            cpu: self.cpu.zip(other.cpu).map(|(a, b)| a + b),
        }
    }
}

/// Measures from its start to [`Stopwatch::stop`], on one thread.
pub struct Stopwatch {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Stopwatch {
    /// Starts measuring.
    pub fn start() -> Self {
        Self {
            cpu: thread_time(),
            wall: Instant::now(),
        }
    }

    /// The time since the start.
    pub fn stop(&self) -> Timing {
        let wall = self.wall.elapsed();
        let cpu = match (self.cpu, thread_time()) {
            (Some(before), Some(after)) => after.checked_sub(before),
            _ => None,
        };
        Timing { wall, cpu }
    }
}
