//! Resident memory of this process over time, and whether it keeps growing.

use std::time::{Duration, Instant};

/// One RSS sample.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Duration,
    pub rss_kib: u64,
}

/// This process's resident set size in KiB, from `/proc/self/status`.
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples RSS every `every` until the returned handle is aborted, keeping the
/// samples in `into`.
pub fn spawn_sampler(
    started: Instant,
    every: Duration,
    into: std::sync::Arc<std::sync::Mutex<Vec<Sample>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            if let Some(rss_kib) = rss_kib() {
                let sample = Sample {
                    at: started.elapsed(),
                    rss_kib,
                };
                if let Ok(mut samples) = into.lock() {
                    samples.push(sample);
                }
            }
        }
    })
}

/// How memory moved over a run.
#[derive(Debug)]
pub struct Trend {
    /// Least-squares slope, KiB per minute.
    pub slope_kib_per_min: f64,
    /// Mean RSS of the first and last thirds of the samples, KiB.
    pub first_third_kib: f64,
    pub last_third_kib: f64,
    pub peak_kib: u64,
}

impl Trend {
    pub fn of(samples: &[Sample]) -> Option<Trend> {
        if samples.len() < 3 {
            return None;
        }
        let n = samples.len() as f64;
        let xs: Vec<f64> = samples.iter().map(|s| s.at.as_secs_f64() / 60.0).collect();
        let ys: Vec<f64> = samples.iter().map(|s| s.rss_kib as f64).collect();
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
            slope_kib_per_min: if variance > 0.0 {
                covariance / variance
            } else {
                0.0
            },
            first_third_kib: mean(&ys[..third]),
            last_third_kib: mean(&ys[ys.len() - third..]),
            peak_kib: samples.iter().map(|s| s.rss_kib).max().unwrap_or(0),
        })
    }

    /// Whether the last third is within 50 % (plus 4 MiB of allocator noise)
    /// of the first: growth that would not stop would be well beyond that.
    pub fn is_bounded(&self) -> bool {
        self.last_third_kib <= self.first_third_kib * 1.5 + 4096.0
    }
}
