//! Runs every measurement in a fresh process, several times, alternating the
//! clients, and reports medians with their spread.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::{
    apiserver,
    measure::{Values, Who},
    scenarios::Scenario,
};

/// What to run.
pub struct Plan {
    /// Repetitions per client and scenario.
    pub reps: usize,
    /// The scenarios, in order.
    pub scenarios: Vec<Scenario>,
    /// Where `results.json` goes.
    pub out: PathBuf,
}

/// Every sample of one metric, by client.
#[derive(Default)]
struct Samples {
    by_who: BTreeMap<&'static str, Vec<f64>>,
}

/// Median, lowest and highest of some samples.
#[derive(Clone, Copy)]
struct Summary {
    median: f64,
    min: f64,
    max: f64,
}

fn summarize(samples: &[f64]) -> Option<Summary> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = match n {
        0 => return None,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    };
    Some(Summary {
        median,
        min: sorted[0],
        max: sorted[n - 1],
    })
}

/// Runs the plan, prints the table and writes the JSON results.
pub fn run(plan: &Plan) -> Result<()> {
    let exe = std::env::current_exe().context("locating the benchmark binary")?;
    let mut samples: BTreeMap<&'static str, Samples> = BTreeMap::new();
    let mut notes: Vec<String> = Vec::new();
    // The control plane lives only while scenarios that need it run one
    // after the other.
    let mut env: Option<(kube_test::TestEnv, tokio::runtime::Runtime)> = None;
    for &scenario in &plan.scenarios {
        if !scenario.needs_apiserver() {
            if let Some((env, runtime)) = env.take() {
                runtime.block_on(async move { drop(env) });
            }
        } else if env.is_none() {
            eprintln!("starting a kube-test control plane and creating its config maps...");
            let runtime = tokio::runtime::Runtime::new()?;
            env = Some((runtime.block_on(apiserver::prepare())?, runtime));
        }
        let kubeconfig = env.as_ref().map(|(env, _)| env.kubeconfig_path());
        for rep in 0..plan.reps {
            // Alternate who goes first, so drift in the machine's load is shared.
            let order: &[Who] = if !scenario.compared() {
                &[Who::Ours]
            } else if rep % 2 == 0 {
                &[Who::Ours, Who::Peer, Who::Limit]
            } else {
                &[Who::Peer, Who::Ours, Who::Limit]
            };
            for &who in order {
                eprint!(
                    "{:<20} {:<5} run {}/{}: ",
                    scenario.name(),
                    who.name(),
                    rep + 1,
                    plan.reps
                );
                let values = run_child(&exe, who, scenario, kubeconfig)?;
                eprintln!("{}", describe(&values));
                for (name, value) in values {
                    if let Some(metric) = scenario.metrics().iter().find(|m| m.name == name) {
                        samples
                            .entry(metric.name)
                            .or_default()
                            .by_who
                            .entry(who.name())
                            .or_default()
                            .push(value);
                    } else if rep == 0 {
                        notes.push(format!(
                            "{} {}: {name} = {value}",
                            scenario.name(),
                            who.name()
                        ));
                    }
                }
            }
        }
    }
    if let Some((env, runtime)) = env {
        runtime.block_on(async move { drop(env) });
    }
    let (table, results) = report(plan, &samples);
    println!("{table}");
    for note in notes {
        println!("  note: {note}");
    }
    if let Some(dir) = plan.out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&plan.out, serde_json::to_vec_pretty(&results)?)
        .with_context(|| format!("writing {}", plan.out.display()))?;
    println!("results written to {}", plan.out.display());
    Ok(())
}

fn describe(values: &Values) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k}={v:.4}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn run_child(
    exe: &Path,
    who: Who,
    scenario: Scenario,
    kubeconfig: Option<&Path>,
) -> Result<Values> {
    let mut command = Command::new(exe);
    command
        .args(["--client", who.name(), "--scenario", scenario.name()])
        .stderr(std::process::Stdio::inherit());
    if let Some(path) = kubeconfig {
        command.arg("--kubeconfig").arg(path);
    }
    let output = command
        .output()
        .with_context(|| format!("running {} for {}", scenario.name(), who.name()))?;
    if !output.status.success() {
        bail!(
            "{} for {} failed ({})",
            scenario.name(),
            who.name(),
            output.status
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("reading the child's result {line:?}"))
}

fn report(plan: &Plan, samples: &BTreeMap<&'static str, Samples>) -> (String, serde_json::Value) {
    let mut table = String::new();
    let mut entries = Vec::new();
    let _ = writeln!(
        table,
        "\n{:<24} {:>5} {:>9} {:>9} {:>9} {:>10} {:>11}   spread (min-max) ours | peer",
        "scenario", "unit", "ours", "peer", "limit", "peer/ours", "ours/limit"
    );
    let _ = writeln!(table, "{}", "-".repeat(120));
    for scenario in plan.scenarios.iter().filter(|s| s.compared()) {
        for metric in scenario.metrics() {
            let Some(found) = samples.get(metric.name) else {
                continue;
            };
            let get = |who: Who| found.by_who.get(who.name()).and_then(|s| summarize(s));
            let (ours, peer, limit) = (get(Who::Ours), get(Who::Peer), get(Who::Limit));
            let median = |s: Option<Summary>| s.map(|s| s.median);
            let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
                _ => "-".into(),
            };
            let cell = |s: Option<Summary>| s.map_or("-".into(), |s| format!("{:.3}", s.median));
            let spread =
                |s: Option<Summary>| s.map_or("-".into(), |s| format!("{:.3}-{:.3}", s.min, s.max));
            let _ = writeln!(
                table,
                "{:<24} {:>5} {:>9} {:>9} {:>9} {:>10} {:>11}   {} | {}",
                metric.name,
                metric.unit,
                cell(ours),
                cell(peer),
                cell(limit),
                ratio(median(peer), median(ours)),
                ratio(median(ours), median(limit)),
                spread(ours),
                spread(peer),
            );
            entries.push(json!({
                "name": metric.name,
                "unit": metric.unit,
                "ours": median(ours),
                "peer": median(peer),
                "limit": median(limit),
                "lower_is_better": true,
                "what": metric.what,
                "limit_is": metric.limit,
                "spread": {
                    "ours": ours.map(|s| [s.min, s.max]),
                    "peer": peer.map(|s| [s.min, s.max]),
                    "limit": limit.map(|s| [s.min, s.max]),
                },
                "samples": plan.reps,
            }));
        }
    }
    if let (Some(peak), Some(store)) = (
        samples.get("initial_sync_peak_heap"),
        samples.get("initial_sync_store_heap"),
    ) {
        for who in [Who::Ours, Who::Peer] {
            let get = |s: &Samples| s.by_who.get(who.name()).and_then(|s| summarize(s));
            if let (Some(peak), Some(store)) = (get(peak), get(store)) {
                let _ = writeln!(
                    table,
                    "peak heap / store heap during the initial sync ({}): {:.2}x",
                    who.name(),
                    peak.median / store.median
                );
            }
        }
    }
    for line in memory_ratios(samples) {
        let _ = writeln!(table, "{line}");
    }
    own_report(plan, samples, &mut table, &mut entries);
    let _ = writeln!(
        table,
        "\nwhat is measured (limit = the work no client can avoid):"
    );
    for scenario in &plan.scenarios {
        for metric in scenario.metrics() {
            let against = if scenario.compared() {
                format!("limit: {}", metric.limit)
            } else {
                let baseline = Scenario::baseline(metric.name).unwrap_or("nothing");
                format!("set against: {baseline}")
            };
            let _ = writeln!(table, "  {:<24} {}; {against}", metric.name, metric.what);
        }
    }
    (table, json!({ "scenarios": entries }))
}

/// The memory scenarios' targets as ratios of medians: the peak of a relist
/// over the store it refreshes, and a store without managedFields over kube
/// 5's store of the same objects with them.
fn memory_ratios(samples: &BTreeMap<&'static str, Samples>) -> Vec<String> {
    let median = |metric: &str, who: Who| {
        let found = samples.get(metric)?.by_who.get(who.name())?;
        summarize(found).map(|s| s.median)
    };
    let mut lines = Vec::new();
    for prefix in ["memory", "stripped"] {
        for who in [Who::Ours, Who::Peer] {
            let peak = median(&format!("{prefix}_relist_peak_heap"), who);
            let store = median(&format!("{prefix}_steady_store_heap"), who);
            if let (Some(peak), Some(store)) = (peak, store) {
                lines.push(format!(
                    "relist peak heap / steady store heap ({prefix}, {}): {:.2}x",
                    who.name(),
                    peak / store
                ));
            }
        }
    }
    let peer_kept = median("memory_list_store_heap", Who::Peer);
    for who in [Who::Ours, Who::Peer] {
        if let (Some(stripped), Some(kept)) = (median("stripped_list_store_heap", who), peer_kept) {
            lines.push(format!(
                "store without managedFields ({}) / kube 5's store with them: {:.2}x",
                who.name(),
                stripped / kept
            ));
        }
    }
    lines
}

/// The scenarios of what only this toolkit has (store indexes): no kube 5
/// column, each measurement set against the same work done another way.
fn own_report(
    plan: &Plan,
    samples: &BTreeMap<&'static str, Samples>,
    table: &mut String,
    entries: &mut Vec<serde_json::Value>,
) {
    let own: Vec<Scenario> = plan
        .scenarios
        .iter()
        .copied()
        .filter(|s| !s.compared())
        .collect();
    if own.is_empty() {
        return;
    }
    let _ = writeln!(
        table,
        "\nown measurements, not compared with kube 5 (which has no store indexes): each is set\n\
         against the same work done without an index (lower is better)\n"
    );
    let _ = writeln!(
        table,
        "{:<24} {:>5} {:>9}   {:<24} {:>9} {:>14}   spread (min-max)",
        "scenario", "unit", "ours", "set against", "its value", "against/ours"
    );
    let _ = writeln!(table, "{}", "-".repeat(120));
    let ours = |name: &str| {
        samples
            .get(name)
            .and_then(|s| s.by_who.get(Who::Ours.name()))
            .and_then(|s| summarize(s))
    };
    for scenario in own {
        for metric in scenario.metrics() {
            let Some(found) = ours(metric.name) else {
                continue;
            };
            let baseline = Scenario::baseline(metric.name);
            let against = baseline.and_then(ours);
            let ratio = match against {
                Some(against) if found.median > 0.0 => {
                    format!("{:.2}x", against.median / found.median)
                }
                _ => "-".into(),
            };
            let _ = writeln!(
                table,
                "{:<24} {:>5} {:>9.4}   {:<24} {:>9} {:>14}   {:.4}-{:.4}",
                metric.name,
                metric.unit,
                found.median,
                baseline.unwrap_or("-"),
                against.map_or("-".into(), |a| format!("{:.4}", a.median)),
                ratio,
                found.min,
                found.max,
            );
            entries.push(json!({
                "name": metric.name,
                "unit": metric.unit,
                "ours": found.median,
                "peer": null,
                "limit": null,
                "compared_with_kube5": false,
                "set_against": baseline,
                "set_against_value": against.map(|a| a.median),
                "lower_is_better": true,
                "what": metric.what,
                "spread": { "ours": [found.min, found.max] },
                "samples": plan.reps,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        let odd = summarize(&[3.0, 1.0, 2.0]).map(|s| (s.median, s.min, s.max));
        assert_eq!(odd, Some((2.0, 1.0, 3.0)));
        let even = summarize(&[4.0, 1.0, 2.0, 3.0]).map(|s| s.median);
        assert_eq!(even, Some(2.5));
        assert!(summarize(&[]).is_none());
    }
}
