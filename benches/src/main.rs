//! Benchmarks of this repository's kube client and runtime side by side with
//! kube 5 from crates.io, and against the limit: the decoding work no client
//! can avoid.
//!
//! `kube-benches run [--reps N] [--only a,b] [--out PATH]` runs every scenario,
//! each client in a fresh process per repetition, and reports medians;
//! `kube-benches --client ours|peer|limit --scenario NAME [--kubeconfig PATH]`
//! is one such process, printing its values as one JSON line.

mod apiserver;
mod clients;
mod cpu;
mod driver;
mod fixtures;
mod heap;
mod limits;
mod measure;
mod scenarios;
mod server;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::{measure::Who, scenarios::Scenario};

#[global_allocator]
static ALLOCATOR: heap::CountingAlloc = heap::CountingAlloc;

const USAGE: &str = "usage:
  kube-benches run [--reps N] [--only SCENARIO,...] [--out PATH]
  kube-benches apiserver   (prepares the real_apiserver control plane and keeps it
                            until stdin closes, to profile a client against it)
  kube-benches --client ours|peer|limit --scenario SCENARIO [--kubeconfig PATH] [--repeat N]
scenarios: watch_decode, initial_sync, initial_sync_arc, controller_once, controller_updates,
           real_apiserver, real_apiserver_arc,
           reflector_memory, reflector_memory_stripped,
           index_lookup, indexed_sync (these two: ours only, no kube 5 comparison)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if args.first().map(String::as_str) == Some("apiserver") {
        return apiserver::hold();
    }
    if args.first().map(String::as_str) == Some("run") {
        let reps = match flag("--reps") {
            Some(n) => n.parse().context("--reps")?,
            None => 5,
        };
        let scenarios = match flag("--only") {
            Some(list) => list
                .split(',')
                .map(|name| {
                    Scenario::from_name(name)
                        .with_context(|| format!("no scenario {name}\n{USAGE}"))
                })
                .collect::<Result<_>>()?,
            None => Scenario::ALL.to_vec(),
        };
        let out =
            flag("--out").map_or_else(|| PathBuf::from("target/bench/results.json"), PathBuf::from);
        return driver::run(&driver::Plan {
            reps,
            scenarios,
            out,
        });
    }
    let (Some(who), Some(scenario)) = (flag("--client"), flag("--scenario")) else {
        bail!("{USAGE}");
    };
    let who = Who::from_name(&who).with_context(|| format!("no client {who}\n{USAGE}"))?;
    let scenario = Scenario::from_name(&scenario)
        .with_context(|| format!("no scenario {scenario}\n{USAGE}"))?;
    let kubeconfig = flag("--kubeconfig").map(PathBuf::from);
    // More than one run per process is only for profiling.
    let repeat = match flag("--repeat") {
        Some(n) => n.parse().context("--repeat")?,
        None => 1,
    };
    let values = measure::run(who, scenario, kubeconfig.as_deref(), repeat)?;
    println!("{}", serde_json::to_string(&values)?);
    Ok(())
}
