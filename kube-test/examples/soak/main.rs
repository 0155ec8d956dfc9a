//! Soak test: a controller managing hundreds of objects keeps converging while
//! the apiserver restarts again and again and a fault proxy sits between them,
//! and its memory stays flat.
//!
//! ```text
//! cargo run --release -p kube-test --example soak -- [--objects 500] [--restarts 10] [--interval 45]
//! ```
//!
//! Each parent ConfigMap must own a child ConfigMap carrying its `value`. A
//! driver (talking to the apiserver directly) keeps changing parents' values
//! and deleting children; the controller (a kube-runtime `Controller`, talking
//! through a `FaultProxy`) must put things right. Every `--interval` seconds
//! the proxy's faults change and the apiserver restarts. At the end the faults
//! stop and a fresh list must show every child present, owned and up to date.
//!
//! The memory of this process (controller, its caches and the proxy) is
//! sampled every five seconds, both as resident set size and as live heap
//! (what the program still holds, counted by the global allocator); the
//! samples and their trends are printed. Exits non-zero when the cluster does
//! not converge, anything panicked, or memory kept growing.
//!
//! RSS may climb in steps while the live heap stays flat: glibc's malloc keeps
//! freed memory in its arenas (one per thread that allocated, up to eight per
//! core) rather than returning it. `MALLOC_ARENA_MAX=2` caps the arenas.

mod memory;
mod operator;

use std::{
    process::ExitCode,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube_client::{
    Api,
    api::{DeleteParams, ObjectMeta, Patch, PatchParams, PostParams},
};
use kube_test::{
    TestEnv,
    faults::{Fault, FaultProxy, FaultRule, Match, Verb},
};

use crate::{
    memory::{Sample, Trend},
    operator::{Counters, PARENT_LABEL, child_name},
};

const NAMESPACE: &str = "soak";
/// How long the cluster may take to converge once the faults stop.
const SETTLE: Duration = Duration::from_secs(300);
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

struct Options {
    objects: usize,
    restarts: usize,
    interval: Duration,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        objects: 500,
        restarts: 10,
        interval: Duration::from_secs(45),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag} {value}: not a number"))?;
        match flag.as_str() {
            "--objects" => options.objects = number as usize,
            "--restarts" => options.restarts = number as usize,
            "--interval" => options.interval = Duration::from_secs(number),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(options)
}

/// A small xorshift generator: which objects to change need not be secure.
struct Random(u64);

impl Random {
    fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        Random(seed)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The faults of cycle `n`: each cycle stresses another path.
fn faults_for(cycle: usize) -> (&'static str, Vec<FaultRule>) {
    let patches = || Match::verb(Verb::Patch);
    match cycle % 8 {
        0 => (
            "410 Gone on watches",
            vec![FaultRule::new(Match::watches(), Fault::WatchGone { after_events: 5 }).times(4)],
        ),
        1 => (
            "watches dropped after events and mid-event",
            vec![
                FaultRule::new(Match::watches(), Fault::DropAfterEvents(10)).times(3),
                FaultRule::new(Match::watches(), Fault::DropAfterBytes(3000)).times(2),
            ],
        ),
        2 => (
            "500 on applies",
            vec![FaultRule::new(patches(), Fault::internal_error()).times(30)],
        ),
        3 => (
            "429 on lists and applies",
            vec![
                FaultRule::new(Match::lists(), Fault::too_many_requests(1)).times(4),
                FaultRule::new(patches(), Fault::too_many_requests(1)).times(20),
            ],
        ),
        4 => (
            "answers to applies lost",
            vec![FaultRule::new(patches(), Fault::CloseAfterForwarding).times(20)],
        ),
        5 => (
            "503 and 500 on lists, watches stalled",
            vec![
                FaultRule::new(Match::lists(), Fault::service_unavailable()).times(6),
                FaultRule::new(Match::lists(), Fault::internal_error()).times(2),
                FaultRule::new(Match::watches(), Fault::StallAfterEvents(3)).times(2),
            ],
        ),
        6 => (
            "every request delayed",
            vec![FaultRule::new(
                Match::any(),
                Fault::Delay(Duration::from_millis(30)),
            )],
        ),
        _ => (
            "connections closed before forwarding",
            vec![FaultRule::new(Match::any(), Fault::CloseBeforeForwarding).times(40)],
        ),
    }
}

/// Retries a driver operation until it succeeds (the apiserver may be
/// restarting).
async fn persist<T, F, Fut>(what: &str, mut op: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = kube_client::Result<T>>,
{
    let mut attempts = 0;
    loop {
        match op().await {
            Ok(value) => return value,
            Err(error) => {
                attempts += 1;
                if attempts % 10 == 0 {
                    eprintln!("  driver: {what} still failing: {error}");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

fn parent(name: &str, value: u64) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some([(PARENT_LABEL.to_string(), "true".to_string())].into()),
            ..ObjectMeta::default()
        },
        data: Some([("value".to_string(), value.to_string())].into()),
        ..ConfigMap::default()
    }
}

static PANICS: AtomicU64 = AtomicU64::new(0);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::Relaxed);
        default_hook(info);
    }));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .init();
    match run(options).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<bool, Box<dyn std::error::Error>> {
    let started = Instant::now();
    println!(
        "soak: {} objects, {} apiserver restarts, {:?} apart",
        options.objects, options.restarts, options.interval
    );
    let env = TestEnv::start_owned().await?;
    let proxy = FaultProxy::start(&env).await?;
    let direct = env.client().await?;
    let namespaces: Api<Namespace> = Api::all(direct.clone());
    let mut ns = Namespace::default();
    ns.metadata.name = Some(NAMESPACE.into());
    namespaces.create(&PostParams::default(), &ns).await?;
    let config_maps: Api<ConfigMap> = Api::namespaced(direct.clone(), NAMESPACE);

    let names: Vec<String> = (0..options.objects).map(|i| format!("p{i:04}")).collect();
    let post = PostParams::default();
    for name in &names {
        let object = parent(name, 0);
        persist("creating a parent", || async {
            match config_maps.create(&post, &object).await {
                // A create retried after a lost answer finds its own object.
                Err(error) if error.status().is_some_and(|s| s.is_already_exists()) => Ok(()),
                other => other.map(drop),
            }
        })
        .await;
    }
    println!("created {} parents in {:?}", names.len(), started.elapsed());

    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let sampler = memory::spawn_sampler(started, SAMPLE_EVERY, samples.clone());
    let counters = Arc::new(Counters::default());
    let controller = operator::spawn(proxy.client()?, NAMESPACE, counters.clone());

    let converged_in = await_convergence(&config_maps, SETTLE).await;
    println!("initial convergence: {converged_in:?}");
    let warm_at = started.elapsed();

    let mut random = Random::new();
    let mut next_value = 1u64;
    let mut requests_seen = 0usize;
    let mut requests_faulted = 0usize;
    let mut restart_times = Vec::new();
    for cycle in 0..options.restarts {
        let (faults, rules) = faults_for(cycle);
        println!(
            "[{:>6.1}s] cycle {}/{}: {faults}",
            started.elapsed().as_secs_f64(),
            cycle + 1,
            options.restarts
        );
        for rule in rules {
            proxy.inject(rule);
        }
        let cycle_end = Instant::now() + options.interval;
        let mut round = 0;
        while Instant::now() < cycle_end {
            round += 1;
            for _ in 0..20 {
                let name = &names[random.below(names.len())];
                let patch =
                    Patch::Merge(serde_json::json!({"data": {"value": next_value.to_string()}}));
                next_value += 1;
                let params = PatchParams::default();
                persist("updating a parent", || {
                    config_maps.patch(name, &params, &patch)
                })
                .await;
            }
            for _ in 0..5 {
                let child = child_name(&names[random.below(names.len())]);
                match config_maps.delete(&child, &DeleteParams::default()).await {
                    Ok(_) => {}
                    Err(error) if error.status().is_some_and(|s| s.is_not_found()) => {}
                    Err(error) => eprintln!("  driver: deleting {child}: {error}"),
                }
            }
            if round == 3 {
                proxy.disconnect_all();
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        proxy.clear();
        let seen = proxy.requests();
        requests_seen += seen.len();
        requests_faulted += seen.iter().filter(|r| r.faulted()).count();
        proxy.forget_requests();
        let restart_started = Instant::now();
        env.restart().await?;
        restart_times.push(restart_started.elapsed());
        println!(
            "[{:>6.1}s] apiserver restarted in {:?}; reconciles {}, reconcile errors {}, controller stream errors {}",
            started.elapsed().as_secs_f64(),
            restart_started.elapsed(),
            counters.reconciles.load(Ordering::Relaxed),
            counters.reconcile_errors.load(Ordering::Relaxed),
            counters.stream_errors.load(Ordering::Relaxed),
        );
    }

    println!("faults stopped; waiting for convergence");
    let final_convergence = await_convergence(&config_maps, SETTLE).await;
    let divergence = persist("listing", || operator::divergence(&config_maps)).await;
    let seen = proxy.requests();
    requests_seen += seen.len();
    requests_faulted += seen.iter().filter(|r| r.faulted()).count();
    controller.abort();
    sampler.abort();

    let samples = samples.lock().map(|s| s.clone()).unwrap_or_default();
    println!(
        "\nmemory samples, KiB: resident (RSS), its anonymous part (anon: heap arenas and \
         stacks, not the mapped executable), live heap, and live heap blocks"
    );
    println!(
        "  {}",
        ["     t      RSS     anon     heap  blocks"; 3].join("  |")
    );
    for chunk in samples.chunks(3) {
        let line: Vec<String> = chunk
            .iter()
            .map(|s| {
                format!(
                    "{:>5.0}s {:>8} {:>8} {:>8} {:>7}",
                    s.at.as_secs_f64(),
                    s.rss_kib,
                    s.rss_anon_kib,
                    s.heap_kib,
                    s.heap_blocks
                )
            })
            .collect();
        println!("  {}", line.join("  |"));
    }
    let after_warmup: Vec<Sample> = samples
        .iter()
        .copied()
        .filter(|s| s.at >= warm_at)
        .collect();
    let panics = PANICS.load(Ordering::Relaxed);
    println!("\nsummary after {:?}:", started.elapsed());
    println!("  parents: {}", divergence.parents);
    println!(
        "  converged: {} (in {final_convergence:?} after the faults stopped); missing children {}, stale {}, orphans {}",
        divergence.is_empty(),
        divergence.missing_children.len(),
        divergence.stale_children.len(),
        divergence.orphans.len()
    );
    println!(
        "  apiserver restarts: {} (each took {:?} to {:?})",
        restart_times.len(),
        restart_times.iter().min().copied().unwrap_or_default(),
        restart_times.iter().max().copied().unwrap_or_default()
    );
    println!("  proxy: {requests_seen} requests, {requests_faulted} with a fault");
    println!(
        "  controller: {} reconciles, {} reconcile errors, {} stream errors",
        counters.reconciles.load(Ordering::Relaxed),
        counters.reconcile_errors.load(Ordering::Relaxed),
        counters.stream_errors.load(Ordering::Relaxed)
    );
    println!("  panics: {panics}");
    let rss = Trend::of(&after_warmup, |s| s.rss_kib);
    let anon = Trend::of(&after_warmup, |s| s.rss_anon_kib);
    let heap = Trend::of(&after_warmup, |s| s.heap_kib);
    let blocks = Trend::of(&after_warmup, |s| s.heap_blocks);
    let bounded = match (&rss, &anon, &heap, &blocks) {
        (Some(rss), Some(anon), Some(heap), Some(blocks)) => {
            // RSS also moves with the allocator's arenas and with how much of
            // the executable has been paged in: it gets the loose bound. The
            // live heap is what the program holds, and a leak there would grow
            // with every cycle: it gets the tight one.
            let rss_bounded = rss.is_bounded(1.5, 4096.0);
            let heap_bounded = heap.is_bounded(1.2, 4096.0);
            let verdict = |bounded| if bounded { "bounded" } else { "GROWING" };
            println!("  memory after warm-up (means of the first and last thirds, slope):");
            println!(
                "    RSS        {:>8.0} KiB -> {:>8.0} KiB, peak {:>8} KiB, {:+8.1} KiB/min -> {}",
                rss.first_third,
                rss.last_third,
                rss.peak,
                rss.slope_per_min,
                verdict(rss_bounded)
            );
            println!(
                "    RSS anon   {:>8.0} KiB -> {:>8.0} KiB, peak {:>8} KiB, {:+8.1} KiB/min",
                anon.first_third, anon.last_third, anon.peak, anon.slope_per_min
            );
            println!(
                "    live heap  {:>8.0} KiB -> {:>8.0} KiB, peak {:>8} KiB, {:+8.1} KiB/min -> {} (peak as sampled)",
                heap.first_third,
                heap.last_third,
                heap.peak,
                heap.slope_per_min,
                verdict(heap_bounded)
            );
            println!(
                "    heap blocks {:>8.0}     -> {:>8.0},     peak {:>8},     {:+8.1}/min",
                blocks.first_third, blocks.last_third, blocks.peak, blocks.slope_per_min
            );
            rss_bounded && heap_bounded
        }
        _ => {
            println!("  memory: too few samples for a trend");
            true
        }
    };
    Ok(divergence.is_empty() && panics == 0 && bounded)
}

/// Polls fresh lists until the desired state holds; returns how long it took.
async fn await_convergence(api: &Api<ConfigMap>, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut last_report = Instant::now();
    loop {
        match operator::divergence(api).await {
            Ok(divergence) if divergence.is_empty() => return started.elapsed(),
            Ok(divergence) if last_report.elapsed() >= Duration::from_secs(15) => {
                last_report = Instant::now();
                println!(
                    "  still converging after {:?}: missing children {}, stale {}, orphans {}",
                    started.elapsed(),
                    divergence.missing_children.len(),
                    divergence.stale_children.len(),
                    divergence.orphans.len()
                );
            }
            _ => {}
        }
        if started.elapsed() > limit {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
