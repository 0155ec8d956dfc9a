//! One measurement in a process of its own: prepare the input, start the local
//! server, run one client (or the limit) once, print the results as one JSON
//! line on stdout.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, atomic::Ordering},
};

use anyhow::{Context, Result, bail, ensure};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};

use crate::{
    apiserver,
    clients::{self, ours, own, peer},
    cpu::Timing,
    heap, limits,
    scenarios::{
        self, APISERVER_OBJECTS, CONTROLLER_OBJECTS, DEADLINE, INDEX_LOOKUPS, MEMORY_DELETES,
        MEMORY_OBJECTS, MEMORY_PHASES, Progress, SYNC_PODS, Scenario, WATCH_EVENTS,
    },
    server,
};

/// Who is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// This repository's client.
    Ours,
    /// kube 5 from crates.io.
    Peer,
    /// The decoding work alone.
    Limit,
}

impl Who {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Who::Ours => "ours",
            Who::Peer => "peer",
            Who::Limit => "limit",
        }
    }

    /// The one named `name`.
    pub fn from_name(name: &str) -> Option<Who> {
        [Who::Ours, Who::Peer, Who::Limit]
            .into_iter()
            .find(|w| w.name() == name)
    }
}

/// Measured values by metric name.
pub type Values = BTreeMap<String, f64>;

const MIB: f64 = 1024.0 * 1024.0;

/// Runs `scenario` for `who` `repeat` times in this process (more than once
/// only to profile) and returns the values of the last run.
pub fn run(
    who: Who,
    scenario: Scenario,
    kubeconfig: Option<&Path>,
    repeat: usize,
) -> Result<Values> {
    // The client gets a runtime of its own on this thread; the local server runs
    // on another.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let input = Arc::new(Input::prepare(who, scenario, kubeconfig)?);
        let mut values = Values::new();
        for _ in 0..repeat.max(1) {
            // In a task, as programs run their watchers and controllers: a
            // runtime polls the future it blocks on only after checking for
            // I/O, a system call per wake-up that tasks do not pay.
            let input = Arc::clone(&input);
            let task = tokio::spawn(async move { measure(who, scenario, &input).await });
            values = tokio::time::timeout(DEADLINE, task)
                .await
                .with_context(|| {
                    format!("{} did not finish within {DEADLINE:?}", scenario.name())
                })???;
        }
        Ok(values)
    })
}

/// What a scenario works on, prepared before anything is measured: the bytes
/// the limit decodes, or the address of the server that serves them.
enum Input {
    LinesAndUrl(Vec<Vec<u8>>, String),
    Pages(Vec<Vec<u8>>),
    PagesAndLines(Vec<Vec<u8>>, Vec<Vec<u8>>),
    Url(String),
    Kubeconfig(PathBuf),
    Pods(Vec<Pod>),
}

impl Input {
    fn prepare(who: Who, scenario: Scenario, kubeconfig: Option<&Path>) -> Result<Input> {
        let local = who != Who::Limit;
        Ok(match scenario {
            Scenario::WatchDecode => {
                let lines = scenarios::watch_decode_lines();
                let url = local_server(scenarios::WatchOnce::new(&lines))?;
                if local {
                    Input::Url(url)
                } else {
                    Input::LinesAndUrl(lines, url)
                }
            }
            Scenario::InitialSync | Scenario::InitialSyncArc | Scenario::IndexedSync => {
                let pages = scenarios::initial_sync_pages();
                // Counting starts before the server copies the pages, so that
                // every later reading is relative to a live count that already
                // includes them.
                heap::start_counting();
                if local {
                    Input::Url(local_server(scenarios::ListThenWatch::new(&pages, &[]))?)
                } else {
                    Input::Pages(pages)
                }
            }
            Scenario::ControllerOnce | Scenario::ControllerUpdates => {
                let pages = scenarios::controller_pages();
                let lines = if scenario == Scenario::ControllerUpdates {
                    scenarios::controller_update_lines()
                } else {
                    Vec::new()
                };
                if local {
                    Input::Url(local_server(scenarios::ListThenWatch::new(&pages, &lines))?)
                } else {
                    Input::PagesAndLines(pages, lines)
                }
            }
            Scenario::ReflectorMemory | Scenario::ReflectorMemoryStripped => {
                let input = scenarios::memory_input();
                heap::start_counting();
                if local {
                    let routes =
                        scenarios::ListWatchRelist::new(&input.first, &input.lines, &input.relist);
                    Input::Url(local_server(routes)?)
                } else {
                    Input::Pages(input.first)
                }
            }
            Scenario::IndexLookup => Input::Pods(scenarios::indexed_pods()?),
            Scenario::RealApiserver | Scenario::RealApiserverArc => match kubeconfig {
                Some(path) => Input::Kubeconfig(path.to_path_buf()),
                None => bail!("the real_apiserver scenario needs --kubeconfig"),
            },
        })
    }
}

async fn measure(who: Who, scenario: Scenario, input: &Input) -> Result<Values> {
    let mut values = Values::new();
    let mut put = |name: &str, value: f64| values.insert(name.to_string(), value);
    let name = scenario.name();
    match (scenario, input, who) {
        (Scenario::WatchDecode, Input::LinesAndUrl(lines, url), _) => {
            let as_text = limits::decode_lines_as_text::<ConfigMap>(lines)?;
            let as_slices = limits::decode_lines::<ConfigMap>(lines)?;
            put_timing(&mut put, name, as_text);
            put("from_slice", as_slices.wall.as_secs_f64());
            put(
                "transport_floor",
                limits::read_watch_raw(url).await?.wall.as_secs_f64(),
            );
        }
        (Scenario::WatchDecode, Input::Url(url), _) => {
            let timing = match who {
                Who::Ours => ours::watch_decode(ours::local_client(url)?, WATCH_EVENTS).await?,
                _ => peer::watch_decode(peer::local_client(url)?, WATCH_EVENTS).await?,
            };
            put_timing(&mut put, name, timing);
        }
        (Scenario::InitialSync | Scenario::InitialSyncArc, Input::Pages(pages), _) => {
            let decoded = limits::decode_pages::<Pod>(pages, SYNC_PODS)?;
            put_timing(&mut put, name, decoded.elapsed);
            put(
                &format!("{name}_peak_heap"),
                decoded.compact_heap as f64 / MIB,
            );
            put(
                &format!("{name}_store_heap"),
                decoded.compact_heap as f64 / MIB,
            );
            put("decoded_heap", decoded.held_heap as f64 / MIB);
        }
        (Scenario::InitialSync | Scenario::InitialSyncArc, Input::Url(url), _) => {
            let arc = scenario == Scenario::InitialSyncArc;
            let sync = match who {
                Who::Ours if arc => ours::initial_sync_arc(ours::local_client(url)?).await?,
                Who::Ours => ours::initial_sync(ours::local_client(url)?).await?,
                _ => peer::initial_sync(peer::local_client(url)?).await?,
            };
            check_store(&sync, SYNC_PODS)?;
            put_timing(&mut put, name, sync.elapsed);
            put(&format!("{name}_peak_heap"), sync.peak_heap as f64 / MIB);
            put(&format!("{name}_store_heap"), sync.held_heap as f64 / MIB);
        }
        (
            Scenario::ControllerOnce | Scenario::ControllerUpdates,
            Input::PagesAndLines(pages, lines),
            _,
        ) => {
            let list = limits::decode_pages::<ConfigMap>(pages, CONTROLLER_OBJECTS)?.elapsed;
            let events = limits::decode_lines_as_text::<ConfigMap>(lines)?;
            put_timing(&mut put, name, list.plus(events));
        }
        (Scenario::ControllerOnce | Scenario::ControllerUpdates, Input::Url(url), _) => {
            let with_updates = scenario == Scenario::ControllerUpdates;
            let progress = Progress::new(scenarios::controller_targets(with_updates));
            let timing = match who {
                Who::Ours => ours::controller(ours::local_client(url)?, progress.clone()).await?,
                _ => peer::controller(peer::local_client(url)?, progress.clone()).await?,
            };
            put_timing(&mut put, name, timing);
            put("reconciles", progress.calls.load(Ordering::Relaxed) as f64);
        }
        (Scenario::RealApiserver | Scenario::RealApiserverArc, Input::Kubeconfig(path), _) => {
            let timing = match who {
                Who::Limit => apiserver::list_pages(ours::kubeconfig_client(path).await?).await?,
                Who::Ours => {
                    let client = ours::kubeconfig_client(path).await?;
                    let sync = if scenario == Scenario::RealApiserverArc {
                        ours::real_sync_arc(client).await?
                    } else {
                        ours::real_sync(client).await?
                    };
                    check_store(&sync, APISERVER_OBJECTS)?;
                    sync.elapsed
                }
                Who::Peer => {
                    let sync = peer::real_sync(peer::kubeconfig_client(path).await?).await?;
                    check_store(&sync, APISERVER_OBJECTS)?;
                    sync.elapsed
                }
            };
            put_timing(&mut put, name, timing);
        }
        (Scenario::ReflectorMemory | Scenario::ReflectorMemoryStripped, Input::Pages(pages), _) => {
            let strip = scenario == Scenario::ReflectorMemoryStripped;
            let decoded =
                limits::decode_pages_with(pages, MEMORY_OBJECTS, |cm: &mut ConfigMap| {
                    if strip {
                        cm.metadata.managed_fields = None;
                    }
                })?;
            let prefix = scenario.memory_prefix().unwrap_or(name);
            let store = decoded.compact_heap as f64 / MIB;
            put(&format!("{prefix}_list_peak_heap"), store);
            put(&format!("{prefix}_list_store_heap"), store);
            put(
                &format!("{prefix}_list_allocated"),
                decoded.allocated as f64 / MIB,
            );
            put(
                &format!("{prefix}_list_allocations"),
                decoded.allocations as f64 / 1000.0,
            );
        }
        (Scenario::ReflectorMemory | Scenario::ReflectorMemoryStripped, Input::Url(url), _) => {
            let strip = scenario == Scenario::ReflectorMemoryStripped;
            let phases = match who {
                Who::Ours => ours::reflector_memory(ours::local_client(url)?, strip).await?,
                _ => peer::reflector_memory(peer::local_client(url)?, strip).await?,
            };
            let left = MEMORY_OBJECTS - MEMORY_DELETES;
            let stored: Vec<usize> = phases.iter().map(|p| p.objects).collect();
            ensure!(
                stored == [MEMORY_OBJECTS, left, left],
                "the store held {stored:?} objects after the phases"
            );
            let prefix = scenario.memory_prefix().unwrap_or(name);
            for (phase, memory) in MEMORY_PHASES.iter().zip(&phases) {
                put(
                    &format!("{prefix}_{phase}_peak_heap"),
                    memory.peak_heap as f64 / MIB,
                );
                put(
                    &format!("{prefix}_{phase}_store_heap"),
                    memory.held_heap as f64 / MIB,
                );
                put(
                    &format!("{prefix}_{phase}_allocated"),
                    memory.allocated as f64 / MIB,
                );
                put(
                    &format!("{prefix}_{phase}_allocations"),
                    memory.allocations as f64 / 1000.0,
                );
            }
        }
        (Scenario::IndexLookup, Input::Pods(pods), Who::Ours) => {
            let found = own::lookups(pods.clone(), INDEX_LOOKUPS)?;
            put_timing(&mut put, "index_lookup", found.index);
            put_timing(&mut put, "scan_lookup", found.scan);
            put_timing(&mut put, "index_lookup_one", found.index_one);
            put_timing(&mut put, "scan_lookup_one", found.scan_one);
        }
        (Scenario::IndexedSync, Input::Url(url), Who::Ours) => {
            let sync = own::indexed_sync(ours::local_client(url)?).await?;
            check_store(&sync, SYNC_PODS)?;
            put_timing(&mut put, name, sync.elapsed);
            put("indexed_sync_peak_heap", sync.peak_heap as f64 / MIB);
            put("indexed_sync_store_heap", sync.held_heap as f64 / MIB);
        }
        _ => bail!("{name} was prepared for another client"),
    }
    Ok(values)
}

/// Records a timing as `name` (wall-clock seconds) and `name_cpu` (CPU seconds).
fn put_timing(put: &mut impl FnMut(&str, f64) -> Option<f64>, name: &str, timing: Timing) {
    put(name, timing.wall.as_secs_f64());
    if let Some(cpu) = timing.cpu {
        put(&format!("{name}_cpu"), cpu.as_secs_f64());
    }
}

fn local_server(routes: impl server::Routes) -> Result<String> {
    Ok(format!("http://{}", server::start(routes)?))
}

fn check_store(sync: &clients::Synced, expected: usize) -> Result<()> {
    ensure!(
        sync.objects == expected,
        "the store holds {} of {expected} objects",
        sync.objects
    );
    Ok(())
}
