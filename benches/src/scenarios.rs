//! The scenarios: what the local server serves for each, and what the clients
//! are asked to do with it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::Notify;

use crate::{
    fixtures::{self, LIST_VERSION},
    server::{self, Reply, Routes},
};

/// Events in the watch decode scenario.
pub const WATCH_EVENTS: usize = 100_000;
/// Pods in the initial sync scenario.
pub const SYNC_PODS: usize = 20_000;
/// Objects in the controller scenarios.
pub const CONTROLLER_OBJECTS: usize = 10_000;
/// Updates per object streamed during the second controller scenario.
pub const UPDATES_PER_OBJECT: usize = 10;
/// Config maps created in the real apiserver.
pub const APISERVER_OBJECTS: usize = 5_000;
/// The page size of every list (the watchers' default).
pub const PAGE_SIZE: usize = 500;
/// Config maps in the reflector memory scenarios.
pub const MEMORY_OBJECTS: usize = 10_000;
/// Updates streamed after their initial list.
pub const MEMORY_UPDATES: usize = 5_000;
/// Deletions streamed after the updates.
pub const MEMORY_DELETES: usize = 1_000;
/// Pods in the store of the index lookup scenario.
pub const INDEXED_PODS: usize = 10_000;
/// Lookups in the index lookup scenario, of each kind and each way: enough
/// for the fastest to run for milliseconds, which the CPU clock can resolve.
pub const INDEX_LOOKUPS: usize = 10_000;

/// A scenario a client process runs; several report more than one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `Api::watch` over a long chunked body of config map events.
    WatchDecode,
    /// A reflector's paginated initial list of pods, to `Store::wait_until_ready`.
    InitialSync,
    /// The same with our `reflect_arc`, which moves objects into the store
    /// instead of copying them; kube 5 runs its (only) reflector.
    InitialSyncArc,
    /// A controller reconciling every object of a list once.
    ControllerOnce,
    /// A controller reconciling every object up to its last of several updates.
    ControllerUpdates,
    /// A reflector's initial sync against the real kube-apiserver.
    RealApiserver,
    /// The same with our `reflect_arc`; kube 5 runs its reflector.
    RealApiserverArc,
    /// A reflector's heap through an initial list, a steady stream of updates
    /// and deletions, and a full relist.
    ReflectorMemory,
    /// The same with `managedFields` dropped: while decoding (ours) or by
    /// `WatchStreamExt::modify` after decoding (kube 5, which has no other way).
    ReflectorMemoryStripped,
    /// Finding the pods of one node in a store of pods: by index, and by scan.
    IndexLookup,
    /// The initial sync scenario, with a store keeping an index of the pods by node.
    IndexedSync,
}

impl Scenario {
    /// Every scenario, in the order they run.
    pub const ALL: [Scenario; 11] = [
        Scenario::WatchDecode,
        Scenario::InitialSync,
        Scenario::InitialSyncArc,
        Scenario::ControllerOnce,
        Scenario::ControllerUpdates,
        Scenario::RealApiserver,
        Scenario::RealApiserverArc,
        Scenario::ReflectorMemory,
        Scenario::ReflectorMemoryStripped,
        Scenario::IndexLookup,
        Scenario::IndexedSync,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::WatchDecode => "watch_decode",
            Scenario::InitialSync => "initial_sync",
            Scenario::InitialSyncArc => "initial_sync_arc",
            Scenario::ControllerOnce => "controller_once",
            Scenario::ControllerUpdates => "controller_updates",
            Scenario::RealApiserver => "real_apiserver",
            Scenario::RealApiserverArc => "real_apiserver_arc",
            Scenario::ReflectorMemory => "reflector_memory",
            Scenario::ReflectorMemoryStripped => "reflector_memory_stripped",
            Scenario::IndexLookup => "index_lookup",
            Scenario::IndexedSync => "indexed_sync",
        }
    }

    /// Whether kube 5 and the limit run this scenario too. Store indexes are
    /// this toolkit's alone: their scenarios measure our store against itself
    /// (an index against a scan; a sync with an index against one without).
    pub fn compared(self) -> bool {
        !matches!(self, Scenario::IndexLookup | Scenario::IndexedSync)
    }

    /// Whether this scenario runs against the real kube-apiserver.
    pub fn needs_apiserver(self) -> bool {
        matches!(self, Scenario::RealApiserver | Scenario::RealApiserverArc)
    }

    /// The scenario named `name`.
    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The measurements this scenario reports, in table order. Every time is
    /// reported twice: wall-clock (`name`) and CPU time of the client's thread
    /// (`name_cpu`), which a busy machine disturbs far less.
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            Scenario::WatchDecode => {
                const METRICS: &[Metric] = &[
                    Metric::time(
                        "watch_decode",
                        "Api::watch yields 100k ConfigMap events (~1 KiB)",
                        "UTF-8 check + serde_json::from_str::<WatchEvent<ConfigMap>> per line",
                    ),
                    Metric::cpu("watch_decode_cpu"),
                ];
                METRICS
            }
            Scenario::InitialSync => {
                const METRICS: &[Metric] = &[
                    Metric::time(
                        "initial_sync",
                        "reflector: 20k Pods (~4 KiB), pages of 500, to Store ready",
                        "UTF-8 check + serde_json::from_str::<ObjectList<Pod>> per page",
                    ),
                    Metric::cpu("initial_sync_cpu"),
                    Metric {
                        name: "initial_sync_peak_heap",
                        unit: "MiB",
                        what: "peak heap during that sync",
                        limit: "heap of a Vec of the 20k Pods (decoded, then cloned to exact capacity)",
                    },
                    Metric {
                        name: "initial_sync_store_heap",
                        unit: "MiB",
                        what: "heap held once the store is ready",
                        limit: "heap of a Vec of the 20k Pods (decoded, then cloned to exact capacity)",
                    },
                ];
                METRICS
            }
            Scenario::InitialSyncArc => {
                const METRICS: &[Metric] = &[
                    Metric::time(
                        "initial_sync_arc",
                        "initial_sync with our reflect_arc (objects moved into the store); kube 5: reflector",
                        "UTF-8 check + serde_json::from_str::<ObjectList<Pod>> per page",
                    ),
                    Metric::cpu("initial_sync_arc_cpu"),
                    Metric::mib(
                        "initial_sync_arc_peak_heap",
                        "peak heap during that sync",
                        "heap of a Vec of the 20k Pods (decoded, then cloned to exact capacity)",
                    ),
                    Metric::mib(
                        "initial_sync_arc_store_heap",
                        "heap held once the store is ready",
                        "heap of a Vec of the 20k Pods (decoded, then cloned to exact capacity)",
                    ),
                ];
                METRICS
            }
            Scenario::ControllerOnce => {
                const METRICS: &[Metric] = &[
                    Metric::time(
                        "controller_once",
                        "Controller: 10k ConfigMaps each reconciled once",
                        "decoding the list pages (as text)",
                    ),
                    Metric::cpu("controller_once_cpu"),
                ];
                METRICS
            }
            Scenario::ControllerUpdates => {
                const METRICS: &[Metric] = &[
                    Metric::time(
                        "controller_updates",
                        "Controller: 10k ConfigMaps + 100k MODIFIED events, each reconciled at its last version",
                        "decoding the list pages and the events (as text)",
                    ),
                    Metric::cpu("controller_updates_cpu"),
                ];
                METRICS
            }
            Scenario::RealApiserver => {
                const METRICS: &[Metric] = &[
                    Metric::time(
                        "real_apiserver",
                        "reflector: 5k ConfigMaps from kube-apiserver (kube-test), to Store ready",
                        "the same paginated LIST, decoded, without watcher or store",
                    ),
                    Metric::cpu("real_apiserver_cpu"),
                ];
                METRICS
            }
            Scenario::RealApiserverArc => {
                const METRICS: &[Metric] = &[
                    Metric::time(
                        "real_apiserver_arc",
                        "real_apiserver with our reflect_arc; kube 5: reflector",
                        "the same paginated LIST, decoded, without watcher or store",
                    ),
                    Metric::cpu("real_apiserver_arc_cpu"),
                ];
                METRICS
            }
            Scenario::IndexLookup => {
                const METRICS: &[Metric] = &[
                    Metric::time(
                        "index_lookup",
                        "Store::by_index: 10k lookups of the 200 pods of one node among 10k Pods",
                        "scan_lookup",
                    ),
                    Metric::cpu("index_lookup_cpu"),
                    Metric::time(
                        "scan_lookup",
                        "Store::state_filter: the same 10k lookups, scanning the 10k Pods",
                        "none",
                    ),
                    Metric::cpu("scan_lookup_cpu"),
                    Metric::time(
                        "index_lookup_one",
                        "Store::by_index: 10k lookups of the one pod with an IP among 10k Pods",
                        "scan_lookup_one",
                    ),
                    Metric::cpu("index_lookup_one_cpu"),
                    Metric::time(
                        "scan_lookup_one",
                        "Store::state_filter: the same 10k lookups by IP, scanning the 10k Pods",
                        "none",
                    ),
                    Metric::cpu("scan_lookup_one_cpu"),
                ];
                METRICS
            }
            Scenario::IndexedSync => {
                const METRICS: &[Metric] = &[
                    Metric::time(
                        "indexed_sync",
                        "initial_sync with the store indexing the 20k Pods by node",
                        "initial_sync",
                    ),
                    Metric::cpu("indexed_sync_cpu"),
                    Metric {
                        name: "indexed_sync_peak_heap",
                        unit: "MiB",
                        what: "peak heap during that sync",
                        limit: "initial_sync_peak_heap",
                    },
                    Metric {
                        name: "indexed_sync_store_heap",
                        unit: "MiB",
                        what: "heap held once the indexed store is ready",
                        limit: "initial_sync_store_heap",
                    },
                ];
                METRICS
            }
            Scenario::ReflectorMemory => MEMORY_METRICS,
            Scenario::ReflectorMemoryStripped => STRIPPED_MEMORY_METRICS,
        }
    }

    /// The prefix of this memory scenario's metric names.
    pub fn memory_prefix(self) -> Option<&'static str> {
        match self {
            Scenario::ReflectorMemory => Some("memory"),
            Scenario::ReflectorMemoryStripped => Some("stripped"),
            _ => None,
        }
    }

    /// For an own scenario's metric, the metric it is set against: its
    /// counterpart measured the other way.
    pub fn baseline(metric: &str) -> Option<&'static str> {
        Some(match metric {
            "index_lookup" => "scan_lookup",
            "index_lookup_cpu" => "scan_lookup_cpu",
            "index_lookup_one" => "scan_lookup_one",
            "index_lookup_one_cpu" => "scan_lookup_one_cpu",
            "indexed_sync" => "initial_sync",
            "indexed_sync_cpu" => "initial_sync_cpu",
            "indexed_sync_peak_heap" => "initial_sync_peak_heap",
            "indexed_sync_store_heap" => "initial_sync_store_heap",
            _ => return None,
        })
    }
}

/// The phases of the memory scenarios, in order.
pub const MEMORY_PHASES: [&str; 3] = ["list", "steady", "relist"];

/// What the limit of a memory metric is: only the initial list has one.
const LIST_LIMIT: &str =
    "decoding the list pages into a Vec, cloned to exact capacity (what any store must hold)";
const STRIPPED_LIST_LIMIT: &str =
    "decoding the list pages into a Vec, managedFields removed, cloned to exact capacity";

/// Expands to the metrics of one memory scenario.
macro_rules! memory_metrics {
    ($prefix:literal, $objects:literal, $list_limit:expr) => {
        &[
            Metric::mib(
                concat!($prefix, "_list_peak_heap"),
                concat!(
                    "reflector over 10k ConfigMaps (~1 KiB)",
                    $objects,
                    ": peak heap during the initial list"
                ),
                $list_limit,
            ),
            Metric::mib(
                concat!($prefix, "_list_store_heap"),
                "heap held once the store is ready",
                $list_limit,
            ),
            Metric::mib(
                concat!($prefix, "_list_allocated"),
                "bytes allocated during the initial list",
                "bytes allocated by that decoding",
            ),
            Metric::thousands(
                concat!($prefix, "_list_allocations"),
                "allocations during the initial list",
                "allocations of that decoding",
            ),
            Metric::mib(
                concat!($prefix, "_steady_store_heap"),
                "heap held after 5k MODIFIED and 1k DELETED events",
                "-",
            ),
            Metric::mib(
                concat!($prefix, "_steady_allocated"),
                "bytes allocated by those events",
                "-",
            ),
            Metric::thousands(
                concat!($prefix, "_steady_allocations"),
                "allocations for those events",
                "-",
            ),
            Metric::mib(
                concat!($prefix, "_relist_peak_heap"),
                "peak heap during a full relist (410 Gone) of the 9k left",
                "-",
            ),
            Metric::mib(
                concat!($prefix, "_relist_allocated"),
                "bytes allocated by that relist",
                "-",
            ),
            Metric::thousands(
                concat!($prefix, "_relist_allocations"),
                "allocations of that relist",
                "-",
            ),
        ]
    };
}

const MEMORY_METRICS: &[Metric] = memory_metrics!("memory", ", managedFields kept", LIST_LIMIT);
const STRIPPED_MEMORY_METRICS: &[Metric] =
    memory_metrics!("stripped", ", managedFields dropped", STRIPPED_LIST_LIMIT);

/// One reported measurement.
pub struct Metric {
    /// Its key in `results.json`.
    pub name: &'static str,
    /// `s` or `MiB`.
    pub unit: &'static str,
    /// What is measured.
    pub what: &'static str,
    /// What its limit is.
    pub limit: &'static str,
}

impl Metric {
    /// A wall-clock time in seconds.
    const fn time(name: &'static str, what: &'static str, limit: &'static str) -> Metric {
        Metric {
            name,
            unit: "s",
            what,
            limit,
        }
    }

    /// Heap bytes, reported in MiB.
    const fn mib(name: &'static str, what: &'static str, limit: &'static str) -> Metric {
        Metric {
            name,
            unit: "MiB",
            what,
            limit,
        }
    }

    /// A count, reported in thousands.
    const fn thousands(name: &'static str, what: &'static str, limit: &'static str) -> Metric {
        Metric {
            name,
            unit: "k",
            what,
            limit,
        }
    }

    /// The CPU time of the client's thread during the time before it.
    const fn cpu(name: &'static str) -> Metric {
        Metric {
            name,
            unit: "cpu-s",
            what: "CPU time of the client's (single) runtime thread during that",
            limit: "CPU time of the same decoding",
        }
    }
}

/// The lines of the watch decode scenario: `ADDED` config maps.
pub fn watch_decode_lines() -> Vec<Vec<u8>> {
    (0..WATCH_EVENTS)
        .map(|i| {
            fixtures::watch_line(
                "ADDED",
                &fixtures::config_map(i, LIST_VERSION + 1 + i as u64),
            )
        })
        .collect()
}

/// Serves `lines` as the body of every watch, then ends it.
pub struct WatchOnce {
    body: Bytes,
}

impl WatchOnce {
    /// A server for `lines`.
    pub fn new(lines: &[Vec<u8>]) -> Self {
        Self {
            body: server::chunked(lines.iter().map(Vec::as_slice)),
        }
    }
}

impl Routes for WatchOnce {
    fn reply(&self, target: &str) -> Reply {
        if server::query_param(target, "watch") == Some("true") {
            Reply::Chunked {
                encoded: self.body.clone(),
                end: true,
            }
        } else {
            Reply::NotFound
        }
    }
}

/// A paginated list, then a watch that streams prepared events and stays open.
pub struct ListThenWatch {
    pages: Vec<Bytes>,
    watch: Bytes,
}

impl ListThenWatch {
    /// A server for list `pages` (chained by `page-N` continue tokens) and the
    /// watch event `lines` that follow.
    pub fn new(pages: &[Vec<u8>], lines: &[Vec<u8>]) -> Self {
        Self {
            pages: pages.iter().map(|p| Bytes::from(p.clone())).collect(),
            watch: server::chunked(lines.iter().map(Vec::as_slice)),
        }
    }
}

impl Routes for ListThenWatch {
    fn reply(&self, target: &str) -> Reply {
        if server::query_param(target, "watch") == Some("true") {
            return Reply::Chunked {
                encoded: self.watch.clone(),
                end: false,
            };
        }
        let page = match server::query_param(target, "continue") {
            None => Some(0),
            Some(token) => token
                .strip_prefix("page-")
                .and_then(|n| n.parse::<usize>().ok()),
        };
        match page.and_then(|n| self.pages.get(n)) {
            Some(body) => Reply::Full(body.clone()),
            None => Reply::NotFound,
        }
    }
}

/// A paginated list, a watch that streams prepared events and then ends with
/// `410 Gone`, and for every later list (the relist) other pages, then quiet
/// watches.
pub struct ListWatchRelist {
    first: Vec<Bytes>,
    relist: Vec<Bytes>,
    watch: Bytes,
    lists: AtomicUsize,
    watches: AtomicUsize,
}

impl ListWatchRelist {
    /// A server for the `first` list's pages, the watch event `lines` that
    /// follow it, and the pages of every `relist`.
    pub fn new(first: &[Vec<u8>], lines: &[Vec<u8>], relist: &[Vec<u8>]) -> Self {
        let gone = br#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version","reason":"Expired","code":410}}"#;
        let lines = lines.iter().map(Vec::as_slice).chain([&gone[..]]);
        let bytes = |pages: &[Vec<u8>]| pages.iter().map(|p| Bytes::from(p.clone())).collect();
        Self {
            first: bytes(first),
            relist: bytes(relist),
            watch: server::chunked(lines),
            lists: AtomicUsize::new(0),
            watches: AtomicUsize::new(0),
        }
    }
}

impl Routes for ListWatchRelist {
    fn reply(&self, target: &str) -> Reply {
        if server::query_param(target, "watch") == Some("true") {
            return match self.watches.fetch_add(1, Ordering::Relaxed) {
                0 => Reply::Chunked {
                    encoded: self.watch.clone(),
                    end: true,
                },
                _ => Reply::Chunked {
                    encoded: Bytes::new(),
                    end: false,
                },
            };
        }
        // Pages continue the list started last.
        let page = match server::query_param(target, "continue") {
            None => {
                self.lists.fetch_add(1, Ordering::Relaxed);
                Some(0)
            }
            Some(token) => token
                .strip_prefix("page-")
                .and_then(|n| n.parse::<usize>().ok()),
        };
        let pages = match self.lists.load(Ordering::Relaxed) {
            0 | 1 => &self.first,
            _ => &self.relist,
        };
        match page.and_then(|n| pages.get(n)) {
            Some(body) => Reply::Full(body.clone()),
            None => Reply::NotFound,
        }
    }
}

/// The resource version of config map `i` in the memory scenarios' first list.
fn memory_listed_version(i: usize) -> u64 {
    LIST_VERSION - MEMORY_OBJECTS as u64 + i as u64
}

/// What the memory scenarios' server serves.
pub struct MemoryInput {
    /// The first list's pages.
    pub first: Vec<Vec<u8>>,
    /// The watch events: updates of the first `MEMORY_UPDATES` objects, then
    /// deletions of the last `MEMORY_DELETES`.
    pub lines: Vec<Vec<u8>>,
    /// The relist's pages: the state those events leave.
    pub relist: Vec<Vec<u8>>,
}

/// The memory scenarios' input.
pub fn memory_input() -> MemoryInput {
    let updated = |i: usize| LIST_VERSION + 1 + i as u64;
    let deleted = MEMORY_OBJECTS - MEMORY_DELETES..MEMORY_OBJECTS;
    let first: Vec<Value> = (0..MEMORY_OBJECTS)
        .map(|i| fixtures::config_map(i, memory_listed_version(i)))
        .collect();
    let updates = (0..MEMORY_UPDATES)
        .map(|i| fixtures::watch_line("MODIFIED", &fixtures::config_map(i, updated(i))));
    let deletions = deleted.clone().enumerate().map(|(n, i)| {
        let version = updated(MEMORY_UPDATES + n);
        fixtures::watch_line("DELETED", &fixtures::config_map(i, version))
    });
    let lines = updates.chain(deletions).collect();
    let relist: Vec<Value> = (0..MEMORY_OBJECTS)
        .filter(|i| !deleted.contains(i))
        .map(|i| {
            let version = if i < MEMORY_UPDATES {
                updated(i)
            } else {
                memory_listed_version(i)
            };
            fixtures::config_map(i, version)
        })
        .collect();
    MemoryInput {
        first: fixtures::list_pages("ConfigMap", &first, PAGE_SIZE),
        lines,
        relist: fixtures::list_pages("ConfigMap", &relist, PAGE_SIZE),
    }
}

/// The pods of the index lookup scenario, decoded.
pub fn indexed_pods() -> anyhow::Result<Vec<k8s_openapi::api::core::v1::Pod>> {
    (0..INDEXED_PODS)
        .map(|i| {
            Ok(serde_json::from_value(fixtures::pod(
                i,
                LIST_VERSION + i as u64,
            ))?)
        })
        .collect()
}

/// The node of pod `i`, as the fixtures place it.
pub fn node_of(i: usize) -> String {
    fixtures::node_name(i)
}

/// The IP of pod `i`, as the fixtures give it.
pub fn ip_of(i: usize) -> String {
    fixtures::pod_ip(i)
}

/// The list pages of the initial sync scenario.
pub fn initial_sync_pages() -> Vec<Vec<u8>> {
    let pods: Vec<Value> = (0..SYNC_PODS)
        .map(|i| fixtures::pod(i, LIST_VERSION - SYNC_PODS as u64 + i as u64))
        .collect();
    fixtures::list_pages("Pod", &pods, PAGE_SIZE)
}

/// The resource version of config map `i` in the controller scenarios' list.
fn listed_version(i: usize) -> u64 {
    LIST_VERSION - CONTROLLER_OBJECTS as u64 + i as u64
}

/// The resource version of the `round`th update (from 1) of config map `i`.
fn updated_version(round: usize, i: usize) -> u64 {
    LIST_VERSION + ((round - 1) * CONTROLLER_OBJECTS + i + 1) as u64
}

/// The list pages of the controller scenarios.
pub fn controller_pages() -> Vec<Vec<u8>> {
    let maps: Vec<Value> = (0..CONTROLLER_OBJECTS)
        .map(|i| fixtures::config_map(i, listed_version(i)))
        .collect();
    fixtures::list_pages("ConfigMap", &maps, PAGE_SIZE)
}

/// The watch events of the controller scenario with updates: every object
/// modified `UPDATES_PER_OBJECT` times, round after round.
pub fn controller_update_lines() -> Vec<Vec<u8>> {
    (1..=UPDATES_PER_OBJECT)
        .flat_map(|round| (0..CONTROLLER_OBJECTS).map(move |i| (round, i)))
        .map(|(round, i)| {
            fixtures::watch_line(
                "MODIFIED",
                &fixtures::config_map(i, updated_version(round, i)),
            )
        })
        .collect()
}

/// The version each object must be reconciled at for the controller scenario to
/// be complete.
pub fn controller_targets(with_updates: bool) -> Vec<u64> {
    (0..CONTROLLER_OBJECTS)
        .map(|i| {
            if with_updates {
                updated_version(UPDATES_PER_OBJECT, i)
            } else {
                listed_version(i)
            }
        })
        .collect()
}

/// Which objects a controller has reconciled at their target version. Shared
/// by both clients' reconcilers, so they do identical work per call.
pub struct Progress {
    targets: Vec<u64>,
    seen: Vec<AtomicU64>,
    remaining: AtomicUsize,
    done: Notify,
    /// Every reconcile call, for the report.
    pub calls: AtomicUsize,
}

impl Progress {
    /// Waits for every object to reach the version in `targets`.
    pub fn new(targets: Vec<u64>) -> Arc<Self> {
        Arc::new(Self {
            seen: targets.iter().map(|_| AtomicU64::new(0)).collect(),
            remaining: AtomicUsize::new(targets.len()),
            targets,
            done: Notify::new(),
            calls: AtomicUsize::new(0),
        })
    }

    /// Records a reconcile of config map `name` at resource version `version`.
    pub fn reconciled(&self, name: Option<&str>, version: Option<&str>) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let index = name
            .and_then(|n| n.rsplit('-').next())
            .and_then(|n| n.parse::<usize>().ok());
        let version = version.and_then(|v| v.parse::<u64>().ok());
        let (Some(index), Some(version)) = (index, version) else {
            return;
        };
        let (Some(target), Some(seen)) = (self.targets.get(index), self.seen.get(index)) else {
            return;
        };
        let before = seen.fetch_max(version, Ordering::Relaxed);
        if before < *target
            && version >= *target
            && self.remaining.fetch_sub(1, Ordering::Relaxed) == 1
        {
            self.done.notify_one();
        }
    }

    /// Completes once every object was reconciled at its target version.
    pub async fn finished(&self) {
        while self.remaining.load(Ordering::Relaxed) > 0 {
            self.done.notified().await;
        }
    }
}

/// How long to wait for any one scenario before calling it stuck.
pub const DEADLINE: Duration = Duration::from_secs(600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_completes_when_every_object_reached_its_target() {
        let progress = Progress::new(vec![5, 7]);
        progress.reconciled(Some("app-config-000000"), Some("5"));
        progress.reconciled(Some("app-config-000001"), Some("6"));
        assert_eq!(progress.remaining.load(Ordering::Relaxed), 1);
        progress.reconciled(Some("app-config-000000"), Some("9"));
        assert_eq!(
            progress.remaining.load(Ordering::Relaxed),
            1,
            "counted once"
        );
        progress.reconciled(Some("app-config-000001"), Some("7"));
        assert_eq!(progress.remaining.load(Ordering::Relaxed), 0);
        assert_eq!(progress.calls.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn update_versions_follow_the_list_and_increase() {
        assert!(updated_version(1, 0) > listed_version(CONTROLLER_OBJECTS - 1));
        assert!(updated_version(2, 0) > updated_version(1, CONTROLLER_OBJECTS - 1));
    }

    #[test]
    fn the_relist_route_serves_the_second_list_after_a_gone_watch() {
        let routes = ListWatchRelist::new(
            &[b"a0".to_vec(), b"a1".to_vec()],
            &[b"event".to_vec()],
            &[b"b0".to_vec()],
        );
        let body = |target: &str| match routes.reply(target) {
            Reply::Full(body) => String::from_utf8_lossy(&body).into_owned(),
            Reply::Chunked { encoded, end } => {
                format!("{end} {}", String::from_utf8_lossy(&encoded))
            }
            Reply::NotFound => "404".into(),
        };
        assert_eq!(body("/api/v1/configmaps?limit=500"), "a0");
        assert_eq!(body("/api/v1/configmaps?continue=page-1"), "a1");
        let watch = body("/api/v1/configmaps?watch=true");
        assert!(watch.starts_with("true 6\r\nevent\n"), "{watch}");
        assert!(watch.contains(r#""code":410"#), "{watch}");
        assert_eq!(body("/api/v1/configmaps?limit=500"), "b0");
        assert_eq!(body("/api/v1/configmaps?continue=page-1"), "404");
        assert_eq!(body("/api/v1/configmaps?watch=true"), "false ");
    }

    #[test]
    fn the_list_route_follows_continue_tokens() {
        let routes = ListThenWatch::new(&[b"one".to_vec(), b"two".to_vec()], &[]);
        let body = |target: &str| match routes.reply(target) {
            Reply::Full(body) => String::from_utf8_lossy(&body).into_owned(),
            Reply::Chunked { .. } => "watch".into(),
            Reply::NotFound => "404".into(),
        };
        assert_eq!(body("/api/v1/namespaces/bench/pods?limit=500"), "one");
        assert_eq!(body("/api/v1/pods?limit=500&continue=page-1"), "two");
        assert_eq!(body("/api/v1/pods?continue=page-2"), "404");
        assert_eq!(body("/api/v1/pods?watch=true&resourceVersion=1"), "watch");
    }
}
