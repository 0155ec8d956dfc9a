//! `just demo`: a ConfigMap generator operator, end to end, on a local control
//! plane (or on the cluster `KUBECONFIG` names).
//!
//! ```text
//! demo [--local | --kubeconfig PATH]
//! ```

use std::{process::ExitCode, time::Instant};

use examples::{
    cluster::{Cluster, Target},
    configmapgen::ConfigMapGenerator,
    demo::{self, Printer, seconds},
    output::Style,
};
use kube::CustomResourceExt;

#[tokio::main]
async fn main() -> ExitCode {
    examples::init_tracing("warn");
    let started = Instant::now();
    let style = Style::detect();
    let mut out = Printer::new(std::io::stdout(), style);
    match run(&mut out).await {
        Ok(()) => {
            let _ = out.section(&format!("Done in {}", seconds(started.elapsed())));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{} {error:#}", style.warn("demo failed:"));
            ExitCode::FAILURE
        }
    }
}

async fn run(out: &mut Printer<std::io::Stdout>) -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = Target::choose(&args, std::env::var("KUBECONFIG").ok())?;
    let style = out.style();
    out.title("kube demo: an operator that turns ConfigMapGenerator objects into ConfigMaps")?;
    if target == Target::Local {
        out.line(style.dim(
            "starting a local control plane (the first run builds it with Go: several minutes)",
        ))?;
    }
    let cluster = Cluster::connect(&target).await?;
    demo::print_cluster(out, &cluster)?;
    let outcome = demo::run(&cluster.client, out).await;
    if cluster.local.is_some() {
        out.line("stopping the local control plane")?;
    } else {
        out.line(format!(
            "kept CustomResourceDefinition {} (`kubectl delete crd {}` removes it)",
            ConfigMapGenerator::crd_name(),
            ConfigMapGenerator::crd_name()
        ))?;
    }
    cluster.stop().await?;
    outcome.map(|_| ())
}
