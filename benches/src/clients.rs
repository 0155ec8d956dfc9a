//! What each client does in each scenario.
//!
//! The code is written once and expanded twice, for our `kube` facade and for
//! kube 5 from crates.io, so both clients run exactly the same program: the
//! public API is the same name for name.

use crate::{cpu::Timing, heap};

/// What an initial sync measured.
pub struct Synced {
    /// From starting the watcher to `Store::wait_until_ready`.
    pub elapsed: Timing,
    /// The highest heap use above the starting point during the sync (bytes).
    pub peak_heap: isize,
    /// The heap held above the starting point once the store is ready (bytes).
    pub held_heap: isize,
    /// Objects in the store.
    pub objects: usize,
}

/// What one phase of a memory scenario measured.
pub struct PhaseMemory {
    /// The highest heap use above the scenario's starting point during the
    /// phase (bytes).
    pub peak_heap: isize,
    /// The heap held above the starting point at the end of the phase (bytes).
    pub held_heap: isize,
    /// Bytes allocated during the phase, freed since or not.
    pub allocated: u64,
    /// Allocations made during the phase.
    pub allocations: u64,
    /// Objects in the store at the end of the phase.
    pub objects: usize,
}

/// Cuts a run into phases and measures each.
pub struct PhaseMeter {
    base: isize,
    totals: (u64, u64),
}

impl PhaseMeter {
    /// Starts the first phase: heap readings are relative to now.
    pub fn start() -> Self {
        heap::reset_peak();
        Self {
            base: heap::live(),
            totals: heap::allocated_so_far(),
        }
    }

    /// Ends a phase with `objects` stored, and starts the next.
    pub fn phase(&mut self, objects: usize) -> PhaseMemory {
        let totals = heap::allocated_so_far();
        let phase = PhaseMemory {
            peak_heap: heap::peak() - self.base,
            held_heap: heap::live() - self.base,
            allocated: totals.0 - self.totals.0,
            allocations: totals.1 - self.totals.1,
            objects,
        };
        self.totals = totals;
        heap::reset_peak();
        phase
    }
}

/// A reconcile error neither client ever returns; both want a
/// `std::error::Error`.
#[derive(Debug)]
pub struct Never;

impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("never")
    }
}

impl std::error::Error for Never {}

macro_rules! client_scenarios {
    ($kube:ident) => {
        use std::{hint::black_box, path::Path, pin::pin, sync::Arc};

        use anyhow::{Context, Result, ensure};
        use futures::{StreamExt, TryStreamExt, future};
        use k8s_openapi::api::core::v1::{ConfigMap, Pod};
        use serde::de::DeserializeOwned;

        use ::$kube::{
            Api, Client, Config, Resource,
            api::WatchParams,
            config::{KubeConfigOptions, Kubeconfig},
            runtime::{
                Controller, WatchStreamExt,
                controller::Action,
                reflector::{self, Lookup},
                watcher,
            },
        };

        use crate::{
            clients::{Never, PhaseMemory, PhaseMeter, Synced},
            cpu::{Stopwatch, Timing},
            fixtures::{BENCH_SELECTOR, NAMESPACE},
            heap,
            scenarios::{MEMORY_DELETES, MEMORY_UPDATES, Progress},
        };

        /// A client of the plain-HTTP server at `url`, without credentials.
        pub fn local_client(url: &str) -> Result<Client> {
            let config = Config::new(url.parse().context("server url")?);
            Client::try_from(config).context("building the client")
        }

        /// A client from a kubeconfig file's current context.
        pub async fn kubeconfig_client(path: &Path) -> Result<Client> {
            let kubeconfig = Kubeconfig::read_from(path).context("reading the kubeconfig")?;
            let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .context("loading the kubeconfig")?;
            Client::try_from(config).context("building the client")
        }

        /// Runs one watch to its end and counts its events.
        pub async fn watch_decode(client: Client, expected: usize) -> Result<Timing> {
            let api: Api<ConfigMap> = Api::namespaced(client, NAMESPACE);
            let started = Stopwatch::start();
            let mut events = pin!(api.watch(&WatchParams::default(), "0").await?);
            let mut seen = 0;
            while let Some(event) = events.try_next().await? {
                black_box(&event);
                seen += 1;
            }
            let elapsed = started.stop();
            ensure!(seen == expected, "saw {seen} of {expected} events");
            Ok(elapsed)
        }

        /// Starts a reflector on `api` feeding `writer`, and waits until its
        /// store is ready.
        pub async fn sync_store<K>(
            api: Api<K>,
            config: watcher::Config,
            writer: reflector::store::Writer<K>,
        ) -> Result<Synced>
        where
            K: Resource<DynamicType = ()>
                + Lookup<DynamicType = ()>
                + Clone
                + DeserializeOwned
                + std::fmt::Debug
                + Send
                + Sync
                + 'static,
        {
            sync_driven(writer, |writer| {
                watcher(api, config)
                    .reflect(writer)
                    .for_each(|_| future::ready(()))
            })
            .await
        }

        /// Spawns what `drive` makes of `writer` (a watcher feeding it), and
        /// waits until the store is ready.
        pub async fn sync_driven<K, D, F>(
            writer: reflector::store::Writer<K>,
            drive: D,
        ) -> Result<Synced>
        where
            K: Lookup<DynamicType = ()> + Clone + Send + Sync + 'static,
            D: FnOnce(reflector::store::Writer<K>) -> F,
            F: Future<Output = ()> + Send + 'static,
        {
            let store = writer.as_reader();
            let base = heap::live();
            heap::reset_peak();
            let started = Stopwatch::start();
            let task = tokio::spawn(drive(writer));
            store.wait_until_ready().await?;
            let elapsed = started.stop();
            let peak_heap = heap::peak() - base;
            let held_heap = heap::live() - base;
            let objects = store.len();
            task.abort();
            Ok(Synced {
                elapsed,
                peak_heap,
                held_heap,
                objects,
            })
        }

        /// The initial sync of the local server's pods.
        pub async fn initial_sync(client: Client) -> Result<Synced> {
            sync_store(
                Api::<Pod>::namespaced(client, NAMESPACE),
                watcher::Config::default(),
                reflector::store::Writer::default(),
            )
            .await
        }

        /// The initial sync of the real apiserver's config maps (those the
        /// benchmark created: the namespace holds one more of its own).
        pub async fn real_sync(client: Client) -> Result<Synced> {
            let config = watcher::Config::default().labels(BENCH_SELECTOR);
            let writer = reflector::store::Writer::default();
            sync_store(
                Api::<ConfigMap>::namespaced(client, NAMESPACE),
                config,
                writer,
            )
            .await
        }

        /// A reflector over the local server's config maps through the
        /// memory scenario: its initial list, the updates and deletions that
        /// follow, and the relist after `410 Gone`. With `strip`, without
        /// managedFields, as well as each client can.
        pub async fn reflector_memory(client: Client, strip: bool) -> Result<Vec<PhaseMemory>> {
            let api: Api<ConfigMap> = Api::namespaced(client, NAMESPACE);
            let (store, writer) = reflector::store::<ConfigMap>();
            let meter = PhaseMeter::start();
            let config = watcher::Config::default();
            if strip {
                let events = stripped_watcher(api, config).reflect(writer);
                memory_phases(events, &store, meter).await
            } else {
                memory_phases(watcher(api, config).reflect(writer), &store, meter).await
            }
        }

        async fn memory_phases<S>(
            events: S,
            store: &reflector::Store<ConfigMap>,
            mut meter: PhaseMeter,
        ) -> Result<Vec<PhaseMemory>>
        where
            S: futures::Stream<Item = Result<watcher::Event<ConfigMap>, watcher::Error>>,
        {
            let mut events = pin!(events);
            let mut phases = Vec::with_capacity(3);
            let mut changes = 0;
            while let Some(event) = events.next().await {
                let init_done = matches!(event, Ok(watcher::Event::InitDone));
                let change = matches!(
                    event,
                    Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_))
                );
                drop(event);
                let phase_done = match phases.len() {
                    0 | 2 => init_done,
                    _ => {
                        changes += usize::from(change);
                        change && changes == MEMORY_UPDATES + MEMORY_DELETES
                    }
                };
                if phase_done {
                    phases.push(meter.phase(store.len()));
                    if phases.len() == 3 {
                        return Ok(phases);
                    }
                }
            }
            anyhow::bail!("the watcher ended after {} phases", phases.len())
        }

        async fn reconcile(
            object: Arc<ConfigMap>,
            progress: Arc<Progress>,
        ) -> Result<Action, Never> {
            let meta = object.meta();
            progress.reconciled(meta.name.as_deref(), meta.resource_version.as_deref());
            Ok(Action::await_change())
        }

        fn error_policy(_: Arc<ConfigMap>, _: &Never, _: Arc<Progress>) -> Action {
            Action::await_change()
        }

        /// Runs a controller on the config maps until `progress` is complete.
        pub async fn controller(client: Client, progress: Arc<Progress>) -> Result<Timing> {
            let api: Api<ConfigMap> = Api::namespaced(client, NAMESPACE);
            let started = Stopwatch::start();
            let run = Controller::new(api, watcher::Config::default())
                .run(reconcile, error_policy, Arc::clone(&progress))
                .for_each(|_| future::ready(()));
            let mut run = std::pin::pin!(run);
            tokio::select! {
                () = &mut run => anyhow::bail!("the controller stopped"),
                () = progress.finished() => {}
            }
            // The clock stops at the last reconcile, as the syncs stop at
            // `Store` ready: the controller and its store are torn down on
            // return, untimed.
            Ok(started.stop())
        }
    };
}

/// Our client: the `kube` facade of this repository.
pub mod ours {
    client_scenarios!(kube);

    /// The initial sync of the local server's pods, with objects moved into
    /// the store rather than copied.
    pub async fn initial_sync_arc(client: Client) -> Result<Synced> {
        let api = Api::<Pod>::namespaced(client, NAMESPACE);
        let config = watcher::Config::default();
        sync_driven(reflector::store::Writer::default(), |writer| {
            let events = watcher(api, config).reflect_arc(writer);
            events.for_each(|_| future::ready(()))
        })
        .await
    }

    /// The initial sync of the real apiserver's config maps, with objects
    /// moved into the store rather than copied.
    pub async fn real_sync_arc(client: Client) -> Result<Synced> {
        let api = Api::<ConfigMap>::namespaced(client, NAMESPACE);
        let config = watcher::Config::default().labels(BENCH_SELECTOR);
        sync_driven(reflector::store::Writer::default(), |writer| {
            let events = watcher(api, config).reflect_arc(writer);
            events.for_each(|_| future::ready(()))
        })
        .await
    }

    /// A watcher that drops managedFields while decoding.
    fn stripped_watcher(
        api: Api<ConfigMap>,
        config: watcher::Config,
    ) -> impl futures::Stream<Item = watcher::Result<watcher::Event<ConfigMap>>> {
        watcher(api, config.strip_managed_fields())
    }
}

/// The peer: kube 5.0.0 from crates.io.
pub mod peer {
    client_scenarios!(kube_peer);

    /// A watcher whose objects lose their managedFields once decoded: the way
    /// kube 5 offers (and controller-runtime's TransformStripManagedFields).
    fn stripped_watcher(
        api: Api<ConfigMap>,
        config: watcher::Config,
    ) -> impl futures::Stream<Item = watcher::Result<watcher::Event<ConfigMap>>> {
        watcher(api, config).modify(|cm| cm.metadata.managed_fields = None)
    }
}

/// Scenarios of what only this toolkit has: store indexes.
pub mod own {
    use std::hint::black_box;

    use anyhow::{Result, ensure};
    use k8s_openapi::api::core::v1::Pod;
    use kube::{
        Api, Client,
        runtime::{
            reflector::{Store, store::Writer},
            watcher,
        },
    };

    use super::{Synced, ours};
    use crate::{
        cpu::{Stopwatch, Timing},
        fixtures::NAMESPACE,
        scenarios::{ip_of, node_of},
    };

    /// The index of the pods by the node they run on.
    const BY_NODE: &str = "node";
    /// The index of the pods by their IP.
    const BY_IP: &str = "ip";

    fn node(pod: &Pod) -> Option<&str> {
        pod.spec.as_ref()?.node_name.as_deref()
    }

    fn ip(pod: &Pod) -> Option<&str> {
        pod.status.as_ref()?.pod_ip.as_deref()
    }

    fn indexed_writer() -> Writer<Pod> {
        Writer::default().with_index(BY_NODE, |pod: &Pod| node(pod).map(String::from))
    }

    /// What finding pods took, `lookups` times each way.
    pub struct Lookups {
        /// The pods of one node, by the index.
        pub index: Timing,
        /// The same, by scanning the store.
        pub scan: Timing,
        /// The one pod with an IP, by the index.
        pub index_one: Timing,
        /// The same, by scanning the store.
        pub scan_one: Timing,
    }

    /// Finds `keys` one after the other in `store`: by `index`, then by
    /// scanning with `key_of`; both ways must find the same pods.
    fn both_ways(
        store: &Store<Pod>,
        index: &str,
        keys: &[String],
        key_of: fn(&Pod) -> Option<&str>,
    ) -> Result<(Timing, Timing)> {
        let started = Stopwatch::start();
        let mut by_index = 0;
        for key in keys {
            by_index += black_box(store.by_index(index, key)?).len();
        }
        let indexed = started.stop();
        let started = Stopwatch::start();
        let mut by_scan = 0;
        for key in keys {
            let found = store.state_filter(|pod| key_of(pod) == Some(key.as_str()));
            by_scan += black_box(found).len();
        }
        let scanned = started.stop();
        ensure!(
            by_index == by_scan && by_index >= keys.len(),
            "the index found {by_index} pods, the scan {by_scan}"
        );
        Ok((indexed, scanned))
    }

    /// Stores `pods` in a store indexed by node and by IP, then finds the
    /// pods of one node after another and one pod by IP after another,
    /// `lookups` times each, by index and by scan.
    pub fn lookups(pods: Vec<Pod>, lookups: usize) -> Result<Lookups> {
        let mut writer = indexed_writer().with_index(BY_IP, |pod: &Pod| ip(pod).map(String::from));
        let store = writer.as_reader();
        let count = pods.len();
        for pod in pods {
            writer.apply_watcher_event_owned(watcher::Event::Apply(pod));
        }
        let nodes: Vec<String> = (0..lookups).map(node_of).collect();
        let ips: Vec<String> = (0..lookups).map(|i| ip_of(i * 7919 % count)).collect();
        let (index, scan) = both_ways(&store, BY_NODE, &nodes, node)?;
        let (index_one, scan_one) = both_ways(&store, BY_IP, &ips, ip)?;
        Ok(Lookups {
            index,
            scan,
            index_one,
            scan_one,
        })
    }

    /// The initial sync of the local server's pods into a store indexing
    /// them by node.
    pub async fn indexed_sync(client: Client) -> Result<Synced> {
        let api = Api::<Pod>::namespaced(client, NAMESPACE);
        ours::sync_store(api, watcher::Config::default(), indexed_writer()).await
    }
}
