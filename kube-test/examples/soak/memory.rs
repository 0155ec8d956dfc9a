//! Memory of this process over time, and whether it keeps growing.
//!
//! Two views are sampled side by side. The resident set size is what the
//! operating system charges the process, but it also moves with the
//! allocator's own policy: glibc keeps freed memory in per-thread arenas and
//! returns it only now and then, so RSS can climb in steps while nothing is
//! held. The live heap — bytes and blocks allocated through Rust's global
//! allocator and not yet freed — counts only what the program still holds;
//! a leak shows there first and unambiguously.

use std::{
    alloc::System,
    time::{Duration, Instant},
};

use stats_alloc::StatsAlloc;

/// The global allocator: the system's, counting every allocation and free.
/// The counting costs a few atomic additions per call.
#[global_allocator]
static ALLOCATOR: StatsAlloc<System> = StatsAlloc::system();

/// What the program holds on the heap right now.
#[derive(Debug, Clone, Copy)]
pub struct Heap {
    /// Bytes allocated and not yet freed.
    pub live_bytes: u64,
    /// Allocations not yet freed.
    pub live_blocks: u64,
}

/// The live heap, from the counting allocator.
pub fn heap() -> Heap {
    let stats = ALLOCATOR.stats();
    // A reallocation adds its growth to the allocated bytes and its shrinkage
    // to the freed ones, so the difference is what is held.
    let live_bytes = stats
        .bytes_allocated
        .saturating_sub(stats.bytes_deallocated);
    Heap {
        live_bytes: live_bytes as u64,
        live_blocks: stats.allocations.saturating_sub(stats.deallocations) as u64,
    }
}

/// One sample of both views.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Duration,
    pub rss_kib: u64,
    pub rss_anon_kib: u64,
    pub heap_kib: u64,
    pub heap_blocks: u64,
}

/// This process's resident set size in KiB, all of it and its anonymous part
/// (the heaps and stacks, without the mapped executable), from
/// `/proc/self/status`.
pub fn rss_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("RssAnon:")?))
}

/// Samples RSS and the live heap every `every` until the returned handle is
/// aborted, keeping the samples in `into`.
pub fn spawn_sampler(
    started: Instant,
    every: Duration,
    into: std::sync::Arc<std::sync::Mutex<Vec<Sample>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            if let Some((rss_kib, rss_anon_kib)) = rss_kib() {
                let heap = heap();
                let sample = Sample {
                    at: started.elapsed(),
                    rss_kib,
                    rss_anon_kib,
                    heap_kib: heap.live_bytes / 1024,
                    heap_blocks: heap.live_blocks,
                };
                if let Ok(mut samples) = into.lock() {
                    samples.push(sample);
                }
            }
        }
    })
}

/// How one quantity moved over a run.
#[derive(Debug)]
pub struct Trend {
    /// Least-squares slope, per minute.
    pub slope_per_min: f64,
    /// Mean of the first and last thirds of the samples.
    pub first_third: f64,
    pub last_third: f64,
    pub peak: u64,
}

impl Trend {
    /// The trend of `value` over `samples`; `None` with fewer than three.
    pub fn of(samples: &[Sample], value: impl Fn(&Sample) -> u64) -> Option<Trend> {
        if samples.len() < 3 {
            return None;
        }
        let n = samples.len() as f64;
        let xs: Vec<f64> = samples.iter().map(|s| s.at.as_secs_f64() / 60.0).collect();
        let ys: Vec<f64> = samples.iter().map(|s| value(s) as f64).collect();
        let mean_x = xs.iter().sum::<f64>() / n;
        let mean_y = ys.iter().sum::<f64>() / n;
        let covariance: f64 = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| (x - mean_x) * (y - mean_y))
            .sum();
        let variance: f64 = xs.iter().map(|x| (x - mean_x).powi(2)).sum();
        let third = samples.len() / 3;
        let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
        Some(Trend {
            slope_per_min: if variance > 0.0 {
                covariance / variance
            } else {
                0.0
            },
            first_third: mean(&ys[..third]),
            last_third: mean(&ys[ys.len() - third..]),
            peak: samples.iter().map(value).max().unwrap_or(0),
        })
    }

    /// Whether the last third is within `ratio` of the first, plus `slack` of
    /// noise: growth that would not stop goes well beyond that.
    pub fn is_bounded(&self, ratio: f64, slack: f64) -> bool {
        self.last_third <= self.first_third * ratio + slack
    }
}
