//! The scripted tour behind `just demo`: install the ConfigMapGenerator
//! resource, run its operator, create, change and delete generators, and show
//! what the cluster looks like after each step.

use std::{
    collections::BTreeMap,
    fmt::Display,
    io::Write,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use k8s_openapi::{
    api::{
        core::v1::{ConfigMap, Namespace},
        events::v1::Event,
    },
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client, CustomResourceExt, Resource, ResourceExt,
    api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams},
    runtime::{
        metrics::Metrics,
        wait::{await_condition, conditions},
    },
};
use prometheus_client::registry::Registry;

use crate::{
    cluster::{Cluster, install_crd},
    configmapgen::{
        self, ConfigMapGenerator, ConfigMapGeneratorSpec, GENERATOR_LABEL, MANAGER, Stats,
    },
    output::{Style, Table},
};

/// How long the operator may take to act on a change before the demo fails.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long kube-apiserver delays creates of a custom resource whose
/// definition was established less than two seconds ago (so that other
/// apiservers of a highly available cluster see the definition first).
const NEW_CRD_CREATE_DELAY: Duration = Duration::from_secs(2);

/// How long the operator may take to finish its running reconciles at the end.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Writes the demo's text, styled.
pub struct Printer<W> {
    out: W,
    style: Style,
}

impl<W: Write> Printer<W> {
    /// A printer writing to `out` in `style`.
    pub fn new(out: W, style: Style) -> Self {
        Self { out, style }
    }

    /// The style in use.
    pub fn style(&self) -> Style {
        self.style
    }

    /// The writer, back.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The title line, bold.
    pub fn title(&mut self, text: &str) -> std::io::Result<()> {
        writeln!(self.out, "{}", self.style.bold(text))
    }

    /// A section heading.
    pub fn section(&mut self, title: &str) -> std::io::Result<()> {
        writeln!(self.out, "{}", self.style.section(title))
    }

    /// An indented line of text.
    pub fn line(&mut self, text: impl Display) -> std::io::Result<()> {
        writeln!(self.out, "  {text}")?;
        self.out.flush()
    }

    /// A table, followed by nothing (sections and lines add their own spacing).
    pub fn table(&mut self, table: &Table) -> std::io::Result<()> {
        writeln!(self.out, "{}", table.render(self.style))
    }

    /// An empty line.
    pub fn blank(&mut self) -> std::io::Result<()> {
        writeln!(self.out)
    }
}

/// What the demo observed, for checking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The ConfigMaps after each step: after creating, changing and deleting.
    pub config_maps: [Vec<String>; 3],
    /// The events the operator published: `(generator, reason, note)`.
    pub events: Vec<(String, String, String)>,
    /// Reconciles by generator name.
    pub reconciles: BTreeMap<String, u64>,
}

/// The opening section: which cluster the demo talks to.
pub fn print_cluster<W: Write>(out: &mut Printer<W>, cluster: &Cluster) -> anyhow::Result<()> {
    let style = out.style();
    out.section("Cluster")?;
    let (what, timing) = match &cluster.local {
        Some(_) => (
            "local control plane (kube-test: etcd, kube-apiserver, garbage collector; no nodes)",
            format!("started in {}", seconds(cluster.startup)),
        ),
        None => (
            "the current context of your kubeconfig",
            format!("connected in {}", seconds(cluster.startup)),
        ),
    };
    out.line(what)?;
    out.line(format!(
        "kube-apiserver {} at {}  {}",
        style.name(&cluster.version),
        cluster.server,
        style.dim(&timing)
    ))?;
    Ok(())
}

/// Runs the tour in a namespace of its own, removed at the end.
pub async fn run<W: Write>(client: &Client, out: &mut Printer<W>) -> anyhow::Result<Report> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let template = Namespace {
        metadata: ObjectMeta {
            generate_name: Some("configmapgen-demo-".into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let namespace = namespaces
        .create(&PostParams::default(), &template)
        .await
        .context("creating the demo's namespace")?
        .name_any();
    out.line(format!("namespace {}", out.style().name(&namespace)))?;

    let outcome = tour(client, &namespace, out).await;

    out.section("Cleaning up")?;
    match namespaces
        .delete(&namespace, &DeleteParams::default())
        .await
    {
        Ok(_) => out.line(format!("deleted namespace {namespace}"))?,
        Err(error) => out.line(
            out.style()
                .warn(&format!("could not delete namespace {namespace}: {error}")),
        )?,
    }
    outcome
}

async fn tour<W: Write>(
    client: &Client,
    namespace: &str,
    out: &mut Printer<W>,
) -> anyhow::Result<Report> {
    let style = out.style();
    let mut report = Report::default();

    out.section("A custom resource, derived from a Rust struct")?;
    for line in [
        "#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]",
        "#[kube(group = \"example.com\", version = \"v1\", kind = \"ConfigMapGenerator\",",
        "       namespaced, status = \"ConfigMapGeneratorStatus\", shortname = \"cmg\")]",
        "pub struct ConfigMapGeneratorSpec { content: String, count: Option<u32> }",
    ] {
        out.line(style.dim(line))?;
    }
    let crd = ConfigMapGenerator::crd();
    let started = Instant::now();
    install_crd(client, &crd, MANAGER).await?;
    out.blank()?;
    out.line(format!(
        "installed CustomResourceDefinition {} {}",
        style.name(ConfigMapGenerator::crd_name()),
        style.dim(&format!("(established in {})", seconds(started.elapsed())))
    ))?;
    let hold = create_hold(client).await?;
    if !hold.is_zero() {
        out.line(style.dim(&format!(
            "waiting {}: kube-apiserver holds creates of a new custom resource for 2s",
            seconds(hold)
        )))?;
        tokio::time::sleep(hold).await;
    }

    out.section("The operator")?;
    out.line(format!(
        "Controller<ConfigMapGenerator> in namespace {namespace}, owning the ConfigMaps it generates;"
    ))?;
    out.line(format!(
        "it publishes events as {} and counts reconciles with controller metrics",
        style.name(MANAGER)
    ))?;
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let operator = tokio::spawn({
        let client = client.clone();
        let namespace = namespace.to_string();
        async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            configmapgen::run_with_metrics(client, Some(&namespace), Some(metrics), shutdown).await
        }
    });

    let steps = steps(client, namespace, out, &mut report).await;

    // Stop the operator whether or not the steps worked.
    let _ = stop.send(());
    let stats = tokio::time::timeout(SHUTDOWN_TIMEOUT, operator)
        .await
        .context("the operator did not stop in time")??;
    steps?;

    report.events = print_events(client, namespace, out).await?;
    report.reconciles = print_reconciles(out, &stats, &registry)?;
    Ok(report)
}

async fn steps<W: Write>(
    client: &Client,
    namespace: &str,
    out: &mut Printer<W>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let style = out.style();
    let generators: Api<ConfigMapGenerator> = Api::namespaced(client.clone(), namespace);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);

    out.section("1. Create three generators")?;
    let wanted = [
        ("greeting", "hello, world", None),
        ("fanout", "one of many", Some(3)),
        ("settings", "log-level=debug", Some(2)),
    ];
    out.line(style.dim(
        "generators.create(&PostParams::default(), &ConfigMapGenerator::new(\"fanout\", spec))",
    ))?;
    let started = Instant::now();
    for (name, content, count) in wanted {
        let spec = ConfigMapGeneratorSpec {
            content: content.into(),
            count,
        };
        generators
            .create(&PostParams::default(), &ConfigMapGenerator::new(name, spec))
            .await
            .with_context(|| format!("creating generator {name}"))?;
    }
    for (name, ..) in wanted {
        converged(&generators, name).await?;
    }
    out.line(format!(
        "created greeting, fanout and settings; the operator generated their ConfigMaps in {}",
        style.good(&seconds(started.elapsed()))
    ))?;
    out.blank()?;
    out.table(&generator_table(&generators).await?)?;
    out.blank()?;
    let (table, names) = config_map_table(&config_maps).await?;
    out.table(&table)?;
    report.config_maps[0] = names;

    out.section("2. Change one: fanout wants a single ConfigMap with new content")?;
    out.line(style.dim(
        "generators.patch(\"fanout\", &PatchParams::default(), &Patch::Merge(json!({\"spec\": {\"content\": \"just one\", \"count\": 1}})))",
    ))?;
    let before = config_map_data(&config_maps).await?;
    let started = Instant::now();
    let patch = serde_json::json!({ "spec": { "content": "just one", "count": 1 } });
    generators
        .patch("fanout", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .context("changing generator fanout")?;
    converged(&generators, "fanout").await?;
    let after = config_map_data(&config_maps).await?;
    out.line(format!(
        "the operator {} in {}",
        describe_changes(&before, &after),
        style.good(&seconds(started.elapsed()))
    ))?;
    out.blank()?;
    let (table, names) = config_map_table(&config_maps).await?;
    out.table(&table)?;
    report.config_maps[1] = names;

    out.section("3. Delete one: settings")?;
    out.line(style.dim("generators.delete(\"settings\", &DeleteParams::default())"))?;
    let settings = generators.get("settings").await?;
    let owned: Vec<ConfigMap> = config_maps
        .list(&ListParams::default().labels(&format!("{GENERATOR_LABEL}=settings")))
        .await?
        .items;
    let started = Instant::now();
    generators
        .delete("settings", &DeleteParams::default())
        .await
        .context("deleting generator settings")?;
    gone(&generators, &settings).await?;
    for cm in &owned {
        gone(&config_maps, cm).await?;
    }
    let names: Vec<String> = owned.iter().map(ResourceExt::name_any).collect();
    out.line(format!(
        "the garbage collector deleted {} (owned by settings) in {}",
        names.join(" and "),
        style.good(&seconds(started.elapsed()))
    ))?;
    out.blank()?;
    let (table, names) = config_map_table(&config_maps).await?;
    out.table(&table)?;
    report.config_maps[2] = names;
    Ok(())
}

/// How much longer kube-apiserver will hold creates of generators: it delays
/// them while their definition was established less than
/// [`NEW_CRD_CREATE_DELAY`] ago.
async fn create_hold(client: &Client) -> anyhow::Result<Duration> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = crds.get(ConfigMapGenerator::crd_name()).await?;
    let established = crd
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Established" && c.status == "True")
        .and_then(|c| c.last_transition_time);
    let Some(established) = established else {
        return Ok(Duration::ZERO);
    };
    let age = k8s_openapi::jiff::Timestamp::now().duration_since(established.0);
    let age = Duration::try_from(age).unwrap_or(Duration::ZERO);
    Ok(NEW_CRD_CREATE_DELAY.saturating_sub(age))
}

/// Waits until the operator has acted on the current spec of generator `name`.
async fn converged(generators: &Api<ConfigMapGenerator>, name: &str) -> anyhow::Result<()> {
    let done = |generator: Option<&ConfigMapGenerator>| {
        generator.is_some_and(|g| {
            g.status.as_ref().is_some_and(|status| {
                status.observed_generation == g.metadata.generation
                    && status.config_maps.len() == g.spec.wanted() as usize
            })
        })
    };
    tokio::time::timeout(
        CONVERGE_TIMEOUT,
        await_condition(generators.clone(), name, done),
    )
    .await
    .with_context(|| {
        format!("the operator did not act on generator {name} within {CONVERGE_TIMEOUT:?}")
    })??;
    Ok(())
}

/// Waits until `obj` is deleted.
async fn gone<K>(api: &Api<K>, obj: &K) -> anyhow::Result<()>
where
    K: Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let name = obj.name_any();
    let uid = obj.uid().unwrap_or_default();
    tokio::time::timeout(
        CONVERGE_TIMEOUT,
        await_condition(api.clone(), &name, conditions::is_deleted(&uid)),
    )
    .await
    .with_context(|| format!("{name} was not deleted within {CONVERGE_TIMEOUT:?}"))??;
    Ok(())
}

/// The generators, as `kubectl get cmg` would show them.
async fn generator_table(generators: &Api<ConfigMapGenerator>) -> anyhow::Result<Table> {
    let mut table = Table::new(["GENERATOR", "CONTENT", "COUNT", "STATUS.CONFIGMAPS"]);
    let mut list = generators.list(&ListParams::default()).await?.items;
    list.sort_by_key(ResourceExt::name_any);
    for g in list {
        let generated = g
            .status
            .as_ref()
            .map(|s| s.config_maps.join(", "))
            .unwrap_or_default();
        table.row([
            g.name_any(),
            format!("{:?}", g.spec.content),
            g.spec.wanted().to_string(),
            generated,
        ]);
    }
    Ok(table)
}

/// The generated ConfigMaps with their owners, and their names.
async fn config_map_table(config_maps: &Api<ConfigMap>) -> anyhow::Result<(Table, Vec<String>)> {
    let mut table = Table::new(["CONFIGMAP", "CONTENT", "INDEX", "OWNER (ownerReferences)"]);
    let mut names = Vec::new();
    for cm in generated(config_maps).await? {
        let data = cm.data.clone().unwrap_or_default();
        let owners: Vec<String> = cm
            .owner_references()
            .iter()
            .map(|o| {
                let controller = if o.controller == Some(true) {
                    ", controller"
                } else {
                    ""
                };
                format!(
                    "{}/{} (uid {}…{controller})",
                    o.kind,
                    o.name,
                    short_uid(&o.uid)
                )
            })
            .collect();
        table.row([
            cm.name_any(),
            data.get("content")
                .map(|c| format!("{c:?}"))
                .unwrap_or_default(),
            data.get("index").cloned().unwrap_or_default(),
            owners.join(", "),
        ]);
        names.push(cm.name_any());
    }
    Ok((table, names))
}

/// The ConfigMaps generators made, sorted by name.
async fn generated(config_maps: &Api<ConfigMap>) -> anyhow::Result<Vec<ConfigMap>> {
    let mut list = config_maps
        .list(&ListParams::default().labels(GENERATOR_LABEL))
        .await
        .context("listing the generated ConfigMaps")?
        .items;
    list.sort_by_key(ResourceExt::name_any);
    Ok(list)
}

/// The data of each generated ConfigMap, by name.
async fn config_map_data(
    config_maps: &Api<ConfigMap>,
) -> anyhow::Result<BTreeMap<String, BTreeMap<String, String>>> {
    Ok(generated(config_maps)
        .await?
        .into_iter()
        .map(|cm| (cm.name_any(), cm.data.unwrap_or_default()))
        .collect())
}

/// `created a; updated b; deleted c and d`, from two snapshots.
fn describe_changes(
    before: &BTreeMap<String, BTreeMap<String, String>>,
    after: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let created: Vec<&str> = after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .map(String::as_str)
        .collect();
    let updated: Vec<&str> = after
        .iter()
        .filter(|(k, v)| before.get(*k).is_some_and(|old| old != *v))
        .map(|(k, _)| k.as_str())
        .collect();
    let deleted: Vec<&str> = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .map(String::as_str)
        .collect();
    let parts: Vec<String> = [
        ("created", created),
        ("updated", updated),
        ("deleted", deleted),
    ]
    .into_iter()
    .filter(|(_, names)| !names.is_empty())
    .map(|(verb, names)| format!("{verb} {}", names.join(" and ")))
    .collect();
    if parts.is_empty() {
        "changed nothing".into()
    } else {
        parts.join(", ")
    }
}

/// Prints the events the operator published, oldest first, and returns them.
async fn print_events<W: Write>(
    client: &Client,
    namespace: &str,
    out: &mut Printer<W>,
) -> anyhow::Result<Vec<(String, String, String)>> {
    out.section(&format!(
        "Events the operator published (events.k8s.io/v1, reporter {MANAGER})"
    ))?;
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let mut list: Vec<Event> = events
        .list(&ListParams::default())
        .await
        .context("listing events")?
        .items
        .into_iter()
        .filter(|e| e.reporting_controller.as_deref() == Some(MANAGER))
        .collect();
    list.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
    let mut table = Table::new(["OBJECT", "TYPE", "REASON", "COUNT", "NOTE"]);
    let mut seen = Vec::new();
    for e in list {
        let object = e
            .regarding
            .as_ref()
            .map(|r| {
                format!(
                    "{}/{}",
                    r.kind.clone().unwrap_or_default(),
                    r.name.clone().unwrap_or_default()
                )
            })
            .unwrap_or_default();
        let name = e
            .regarding
            .as_ref()
            .and_then(|r| r.name.clone())
            .unwrap_or_default();
        let reason = e.reason.clone().unwrap_or_default();
        let note = e.note.clone().unwrap_or_default();
        let count = e.series.as_ref().map_or(1, |s| s.count);
        table.row([
            object,
            e.type_.clone().unwrap_or_default(),
            reason.clone(),
            count.to_string(),
            note.clone(),
        ]);
        seen.push((name, reason, note));
    }
    out.table(&table)?;
    Ok(seen)
}

/// Prints how often each generator was reconciled and the controller metrics.
fn print_reconciles<W: Write>(
    out: &mut Printer<W>,
    stats: &Arc<Stats>,
    registry: &Registry,
) -> anyhow::Result<BTreeMap<String, u64>> {
    let style = out.style();
    out.section("Reconciles")?;
    out.line(
        style.dim("each change of a generator or of a ConfigMap it owns asks for a reconcile;"),
    )?;
    out.line(
        style.dim("requests arriving together are merged, and a repeat finds nothing left to do"),
    )?;
    out.blank()?;
    let by_name: BTreeMap<String, u64> = stats
        .reconciles()
        .into_iter()
        .map(|(key, count)| {
            let name = key.rsplit('/').next().unwrap_or(&key).to_string();
            (name, count)
        })
        .collect();
    let mut table = Table::new(["GENERATOR", "RECONCILES"]);
    for (name, count) in &by_name {
        table.row([name.clone(), count.to_string()]);
    }
    out.table(&table)?;
    out.blank()?;
    out.line(style.dim(
        "controller metrics under controller-runtime's names (prometheus-client, text format):",
    ))?;
    for line in metric_lines(registry)? {
        out.line(line)?;
    }
    out.line(style.dim(
        "(requeue_after: reconciles that asked to be looked at again in 5 minutes; \
         workqueue_depth: generators due now, none once all is done)",
    ))?;
    Ok(by_name)
}

/// The metrics the demo shows: what was reconciled and how the queue fared.
const SHOWN: [&str; 6] = [
    "controller_runtime_reconcile_total{",
    "controller_runtime_reconcile_errors_total{",
    "controller_runtime_reconcile_time_seconds_count{",
    "workqueue_adds_total{",
    "workqueue_retries_total{",
    "workqueue_depth{",
];

/// The registry's samples worth showing: a few totals, no histogram buckets.
fn metric_lines(registry: &Registry) -> anyhow::Result<Vec<String>> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry)
        .context("encoding the controller metrics")?;
    Ok(text
        .lines()
        .filter(|line| SHOWN.iter().any(|shown| line.starts_with(shown)))
        .map(round_sample)
        .collect())
}

/// A sample line with a fractional value rounded to milliseconds' precision.
fn round_sample(line: &str) -> String {
    match line.rsplit_once(' ') {
        Some((name, value)) if value.contains('.') => match value.parse::<f64>() {
            Ok(number) => format!("{name} {number:.3}"),
            Err(_) => line.to_string(),
        },
        _ => line.to_string(),
    }
}

/// Seconds with two decimals, e.g. `0.42s`.
pub fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}

fn short_uid(uid: &str) -> &str {
    uid.get(..8).unwrap_or(uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(entries: &[(&str, &str)]) -> BTreeMap<String, BTreeMap<String, String>> {
        entries
            .iter()
            .map(|(name, content)| {
                (
                    name.to_string(),
                    BTreeMap::from([("content".to_string(), content.to_string())]),
                )
            })
            .collect()
    }

    #[test]
    fn changes_between_snapshots_are_named_by_verb() {
        let before = snapshot(&[("a-0", "x"), ("a-1", "x"), ("a-2", "x")]);
        let after = snapshot(&[("a-0", "y"), ("b-0", "z")]);
        assert_eq!(
            describe_changes(&before, &after),
            "created b-0, updated a-0, deleted a-1 and a-2"
        );
        assert_eq!(describe_changes(&after, &after), "changed nothing");
    }

    #[test]
    fn fractional_samples_are_rounded() {
        assert_eq!(round_sample("d_sum 0.5507375649999999"), "d_sum 0.551");
        assert_eq!(round_sample("total 9"), "total 9");
    }

    #[test]
    fn short_uids_keep_eight_characters() {
        assert_eq!(short_uid("0123456789abcdef"), "01234567");
        assert_eq!(short_uid("abc"), "abc");
    }

    #[tokio::test]
    async fn metric_lines_show_a_few_totals_and_leave_out_comments_and_buckets() {
        let mut registry = Registry::default();
        let metrics = Metrics::new(&mut registry);
        // A controller's series exist once it is run.
        let (store, _writer) = kube::runtime::reflector::store::<ConfigMapGenerator>();
        let _run = kube::runtime::Controller::for_stream(futures::stream::pending(), store)
            .with_metrics(metrics)
            .run(
                |_, _: Arc<()>| async {
                    Ok::<_, std::convert::Infallible>(
                        kube::runtime::controller::Action::await_change(),
                    )
                },
                |_, _, _| kube::runtime::controller::Action::await_change(),
                Arc::new(()),
            );
        let lines = metric_lines(&registry).unwrap_or_default();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("workqueue_depth{controller=\"configmapgenerator\"")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .all(|l| !l.starts_with('#') && !l.contains("_bucket{") && !l.contains("_sum{")),
            "{lines:?}"
        );
    }
}
