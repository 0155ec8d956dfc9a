//! A reflector's store never loses an object: after bursts of concurrent
//! creates, updates and deletes, after the apiserver stops and starts again
//! mid-watch, and after forced `410 Gone`s, the store ends up holding exactly
//! what a fresh list holds, at the same resource versions.
//!
//! Two kinds of divergence are counted: *lost* objects (listed, but missing
//! from the store or stored at another version) and *ghosts* (stored, but no
//! longer listed: deleted without the store noticing).

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
};
use kube_runtime::{
    WatchStreamExt,
    reflector::{self, Store},
    watcher::{self, Event},
};
use kube_test::faults::{Fault, FaultRule, Match};
use tokio::{task::JoinHandle, time::Instant};

use crate::common::{OURS, client_in_fresh_namespace, config_map, within};

/// How long a store may take to catch up with a list. Generous: after the
/// apiserver comes back, the watcher's backoff may have grown to many seconds.
const CONVERGENCE: Duration = Duration::from_secs(120);

/// How long a single write keeps being retried while the apiserver is away.
const WRITE_PATIENCE: Duration = Duration::from_secs(120);

/// A store kept by a reflector on a backed-off watcher, driven by a task.
pub struct Mirror {
    pub store: Store<ConfigMap>,
    /// How many (re)lists the watcher started: one, plus one per relist.
    pub lists: Arc<AtomicUsize>,
    /// How many errors the watcher yielded (each one retried).
    pub errors: Arc<AtomicUsize>,
    driver: JoinHandle<()>,
}

impl Mirror {
    /// Starts mirroring the objects labelled [`OURS`] that `api` sees, and
    /// waits until the first list is in the store.
    pub async fn start(api: &Api<ConfigMap>, config: watcher::Config) -> Self {
        let (store, writer) = reflector::store::<ConfigMap>();
        let lists = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(AtomicUsize::new(0));
        let events = watcher::watcher(api.clone(), config.labels(OURS))
            .default_backoff()
            .reflect(writer);
        let driver = tokio::spawn({
            let (lists, errors) = (lists.clone(), errors.clone());
            events.for_each(move |event| {
                if let Ok(Event::Init) = event {
                    lists.fetch_add(1, Ordering::SeqCst);
                }
                if event.is_err() {
                    errors.fetch_add(1, Ordering::SeqCst);
                }
                futures::future::ready(())
            })
        });
        within("the store's first list", store.wait_until_ready())
            .await
            .expect("the reflector is running");
        Self {
            store,
            lists,
            errors,
            driver,
        }
    }

    /// How many relists the watcher made after its first list.
    pub fn relists(&self) -> usize {
        self.lists.load(Ordering::SeqCst).saturating_sub(1)
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// How a store differs from a list.
#[derive(Debug, Default)]
pub struct Divergence {
    /// Listed, but missing from the store or stored at another version.
    pub lost: Vec<String>,
    /// Stored, but not listed.
    pub ghosts: Vec<String>,
}

impl Divergence {
    fn between(listed: &BTreeMap<String, String>, stored: &BTreeMap<String, String>) -> Self {
        let lost = listed
            .iter()
            .filter(|(name, version)| stored.get(*name) != Some(version))
            .map(|(name, version)| {
                let had = stored.get(name).map_or("nothing", String::as_str);
                format!("{name} (listed at {version}, stored {had})")
            })
            .collect();
        let ghosts = stored
            .keys()
            .filter(|name| !listed.contains_key(*name))
            .cloned()
            .collect();
        Self { lost, ghosts }
    }

    fn is_empty(&self) -> bool {
        self.lost.is_empty() && self.ghosts.is_empty()
    }
}

/// The name and resource version of every object labelled [`OURS`], read
/// consistently from the apiserver (retrying while it is unreachable).
async fn listed_versions(api: &Api<ConfigMap>) -> BTreeMap<String, String> {
    let params = ListParams::default().labels(OURS);
    let list = retrying("listing", || api.list(&params), |_| false)
        .await
        .expect("listed");
    list.items.iter().map(name_and_version).collect()
}

fn stored_versions(store: &Store<ConfigMap>) -> BTreeMap<String, String> {
    store
        .state()
        .iter()
        .map(|cm| name_and_version(cm))
        .collect()
}

fn name_and_version(cm: &ConfigMap) -> (String, String) {
    (
        cm.metadata.name.clone().unwrap_or_default(),
        cm.metadata.resource_version.clone().unwrap_or_default(),
    )
}

/// Lists the collection once the writes are over, waits (boundedly) until the
/// store equals the list, prints the lost and ghost counts under `phase`, and
/// returns the divergence left when the store converged or time ran out.
pub async fn converge(phase: &str, api: &Api<ConfigMap>, mirror: &Mirror) -> Divergence {
    let listed = listed_versions(api).await;
    let deadline = Instant::now() + CONVERGENCE;
    let divergence = loop {
        let divergence = Divergence::between(&listed, &stored_versions(&mirror.store));
        if divergence.is_empty() || Instant::now() >= deadline {
            break divergence;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!(
        "{phase}: {} objects listed, {} lost, {} ghosts ({} relists, {} watcher errors so far)",
        listed.len(),
        divergence.lost.len(),
        divergence.ghosts.len(),
        mirror.relists(),
        mirror.errors.load(Ordering::SeqCst),
    );
    divergence
}

/// Fails the test unless nothing was lost and no ghost remains.
pub fn assert_converged(phase: &str, divergence: &Divergence) {
    assert!(
        divergence.is_empty(),
        "{phase}: the store did not converge to the list: {} lost {:?}, {} ghosts {:?}",
        divergence.lost.len(),
        divergence.lost,
        divergence.ghosts.len(),
        divergence.ghosts,
    );
}

/// Runs `attempt` until it succeeds (`Some`) or `done_anyway` says its error
/// means the goal is already reached (`None`). Any other error — the apiserver
/// being away, a connection cut mid-request — is retried for
/// [`WRITE_PATIENCE`], each attempt bounded so a hung connection cannot stall
/// the test.
async fn retrying<T, F, Fut>(
    what: &str,
    mut attempt: F,
    done_anyway: impl Fn(&kube_client::Error) -> bool,
) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = kube_client::Result<T>>,
{
    let deadline = Instant::now() + WRITE_PATIENCE;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), attempt()).await {
            Ok(Ok(value)) => return Some(value),
            Ok(Err(err)) if done_anyway(&err) => return None,
            Ok(Err(err)) if Instant::now() >= deadline => panic!("{what}: {err}"),
            Err(_) if Instant::now() >= deadline => panic!("{what}: timed out"),
            Ok(Err(_)) | Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn is_status(err: &kube_client::Error, code: u16) -> bool {
    matches!(err, kube_client::Error::Api(status) if status.code == code)
}

/// Creates `name`; an earlier attempt may have landed before its connection
/// broke, so `409 AlreadyExists` counts as done.
async fn create_ours(api: &Api<ConfigMap>, name: &str, value: &str) {
    let cm = config_map(name, value);
    let (what, params) = (format!("creating {name}"), PostParams::default());
    retrying(
        &what,
        || api.create(&params, &cm),
        |err| is_status(err, 409),
    )
    .await;
}

async fn update_ours(api: &Api<ConfigMap>, name: &str, value: &str) {
    let patch = Patch::Merge(serde_json::json!({ "data": { "v": value } }));
    let (what, params) = (format!("updating {name}"), PatchParams::default());
    retrying(&what, || api.patch(name, &params, &patch), |_| false).await;
}

/// Deletes `name`; `404` means an earlier attempt already did.
async fn delete_ours(api: &Api<ConfigMap>, name: &str) {
    let (what, params) = (format!("deleting {name}"), DeleteParams::default());
    retrying(
        &what,
        || api.delete(name, &params),
        |err| is_status(err, 404),
    )
    .await;
}

/// The objects that exist as far as the writers know.
#[derive(Default)]
pub struct Population {
    live: Vec<String>,
    round: usize,
}

/// What a burst does.
#[derive(Clone, Copy)]
pub struct Burst {
    /// Writers working at the same time.
    pub writers: usize,
    /// Objects each writer creates.
    pub creates_per_writer: usize,
}

impl Population {
    /// Starts a burst on its own task: `burst.writers` concurrent writers each
    /// create new objects and, between creations, update two of every three
    /// existing objects they are given and delete the third.
    pub fn burst(&mut self, api: &Api<ConfigMap>, burst: Burst) -> JoinHandle<()> {
        let round = self.round;
        self.round += 1;
        let existing = std::mem::take(&mut self.live);
        let mut assigned: Vec<Vec<String>> = vec![Vec::new(); burst.writers];
        for (i, name) in existing.into_iter().enumerate() {
            assigned[i % burst.writers].push(name);
        }
        let mut writers = Vec::new();
        for (writer, mine) in assigned.into_iter().enumerate() {
            let created: Vec<String> = (0..burst.creates_per_writer)
                .map(|i| format!("r{round}-w{writer}-{i}"))
                .collect();
            let survivors: Vec<String> = mine
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 3 != 2)
                .map(|(_, name)| name.clone())
                .collect();
            self.live.extend(created.iter().cloned());
            self.live.extend(survivors);
            let api = api.clone();
            writers.push(async move {
                let value = format!("round-{round}");
                let mut existing = mine.into_iter().enumerate();
                for name in &created {
                    create_ours(&api, name, &value).await;
                    if let Some((i, old)) = existing.next() {
                        if i % 3 == 2 {
                            delete_ours(&api, &old).await;
                        } else {
                            update_ours(&api, &old, &value).await;
                        }
                    }
                }
                for (i, old) in existing {
                    if i % 3 == 2 {
                        delete_ours(&api, &old).await;
                    } else {
                        update_ours(&api, &old, &value).await;
                    }
                }
            });
        }
        tokio::spawn(async move {
            futures::future::join_all(writers).await;
        })
    }

    /// How many objects the writers believe exist.
    pub fn len(&self) -> usize {
        self.live.len()
    }
}

/// Waits for a burst's writers to finish.
pub async fn finished(burst: JoinHandle<()>) {
    burst.await.expect("the writers did not panic");
}

const BURST: Burst = Burst {
    writers: 8,
    creates_per_writer: 15,
};

async fn converges_after_bursts(config: watcher::Config, mode: &str) {
    let (client, ns) = client_in_fresh_namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let mut population = Population::default();
    finished(population.burst(&api, BURST)).await;
    let mirror = Mirror::start(&api, config).await;
    for round in 1..=3 {
        finished(population.burst(&api, BURST)).await;
        let phase = format!("{mode}, after burst {round}");
        let divergence = converge(&phase, &api, &mirror).await;
        assert_converged(&phase, &divergence);
    }
    assert_eq!(mirror.store.len(), population.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_equals_a_fresh_list_after_bursts_of_concurrent_writes() {
    converges_after_bursts(watcher::Config::default(), "list and watch").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_fed_by_streaming_lists_equals_a_fresh_list_after_bursts() {
    converges_after_bursts(
        watcher::Config::default().streaming_lists(),
        "streaming list",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_equals_a_fresh_list_after_the_apiserver_stops_and_restarts_mid_watch() {
    let env = kube_test::TestEnv::start_owned()
        .await
        .expect("an owned control plane");
    let client = env.client().await.expect("a client");
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut population = Population::default();
    let burst = Burst {
        writers: 4,
        creates_per_writer: 15,
    };

    finished(population.burst(&api, burst)).await;
    let mirror = Mirror::start(&api, watcher::Config::default()).await;
    finished(population.burst(&api, burst)).await;
    let before = converge("before the stop", &api, &mirror).await;
    assert_converged("before the stop", &before);

    // Writes made while the apiserver is down wait, retrying, and land as
    // soon as it is back.
    within("stopping the control plane", env.stop())
        .await
        .expect("stopped");
    let queued = population.burst(&api, burst);
    within("resuming the control plane", env.resume())
        .await
        .expect("resumed");
    finished(queued).await;
    finished(population.burst(&api, burst)).await;
    let resumed = converge("after stop and resume", &api, &mirror).await;

    // Writes made all through a restart.
    let during = population.burst(&api, burst);
    within("restarting the control plane", env.restart())
        .await
        .expect("restarted");
    finished(during).await;
    finished(population.burst(&api, burst)).await;
    let restarted = converge("after a restart", &api, &mirror).await;

    assert_converged("after stop and resume", &resumed);
    assert_converged("after a restart", &restarted);
    assert_eq!(mirror.store.len(), population.len());
}

/// How many watches the proxy ends with `410 Gone`.
const FORCED_GONE: usize = 4;

async fn converges_across_forced_410s(config: watcher::Config, mode: &str) {
    // The writers and the fresh lists bypass the proxy; the watcher goes
    // through it.
    let (proxy, direct, namespace) = crate::common::proxy_and_fresh_namespace().await;
    let direct: Api<ConfigMap> = Api::namespaced(direct, &namespace);
    let faulty: Api<ConfigMap> =
        Api::namespaced(proxy.client().expect("a proxy client"), &namespace);
    let mut population = Population::default();
    finished(population.burst(&direct, BURST)).await;
    let mirror = Mirror::start(&faulty, config).await;
    let before = converge(&format!("{mode}, before the 410s"), &direct, &mirror).await;
    assert_converged("before the 410s", &before);

    // The next watches each pass some events, then end with 410 Gone; the
    // open one is cut so that its successor meets the rule.
    proxy.inject(
        FaultRule::new(
            Match::watches().path_contains("configmaps"),
            Fault::WatchGone { after_events: 25 },
        )
        .times(FORCED_GONE as u64),
    );
    proxy.disconnect_all();
    // Bursts go on until every forced 410 has made the watcher list again.
    within("the forced 410s to make the watcher relist", async {
        while mirror.relists() < FORCED_GONE {
            finished(population.burst(&direct, BURST)).await;
        }
    })
    .await;
    finished(population.burst(&direct, BURST)).await;
    let phase = format!("{mode}, after {FORCED_GONE} forced 410s");
    let after = converge(&phase, &direct, &mirror).await;
    assert_converged(&phase, &after);
    assert_eq!(mirror.store.len(), population.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_equals_a_fresh_list_after_forced_410_gone_mid_watch() {
    converges_across_forced_410s(watcher::Config::default(), "list and watch").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_fed_by_streaming_lists_equals_a_fresh_list_after_forced_410_gone() {
    converges_across_forced_410s(
        watcher::Config::default().streaming_lists(),
        "streaming list",
    )
    .await;
}
