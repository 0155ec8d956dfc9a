//! `just operator`: the ConfigMap generator operator, running until Ctrl-C,
//! on the cluster `KUBECONFIG` names or else on a local control plane, with
//! leader election and a probe server (`/healthz`, `/readyz`, `/metrics`).
//!
//! ```text
//! operator [--local | --kubeconfig PATH] [--namespace NS] [--probes-addr ADDR]
//! ```
//!
//! `--probes-addr` defaults to 127.0.0.1:8080; port 0 picks a free port.

use std::process::ExitCode;

use examples::{
    cluster::{Cluster, Target, install_crd},
    configmapgen::{ConfigMapGenerator, MANAGER},
    operator::{Args, Observability, Operator},
    output::{Style, Table},
};
use kube::CustomResourceExt;

/// A generator to try the operator with.
const SAMPLE: &str = r#"kubectl apply -f - <<'YAML'
apiVersion: example.com/v1
kind: ConfigMapGenerator
metadata:
  name: hello
spec:
  content: hello, world
  count: 2
YAML
kubectl get cmg
kubectl get configmaps -l example.com/generator=hello
kubectl describe cmg hello"#;

#[tokio::main]
async fn main() -> ExitCode {
    examples::init_tracing("warn,examples=info");
    let style = Style::detect();
    match run(style).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{} {error:#}", style.warn("operator failed:"));
            ExitCode::FAILURE
        }
    }
}

async fn run(style: Style) -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = Args::parse(&args, std::env::var("KUBECONFIG").ok())?;
    if args.target == Target::Local {
        println!(
            "{}",
            style.dim(
                "starting a local control plane (the first run builds it with Go: several minutes)"
            )
        );
    }
    let observability = Observability::new();
    let cluster = Cluster::connect_with(&args.target, Some(&observability.client)).await?;
    println!(
        "kube-apiserver {} at {}",
        style.name(&cluster.version),
        cluster.server
    );
    install_crd(&cluster.client, &ConfigMapGenerator::crd(), MANAGER).await?;
    println!(
        "installed CustomResourceDefinition {}",
        style.name(ConfigMapGenerator::crd_name())
    );

    let lease_namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.client.default_namespace().to_string());
    let identity = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "operator".into()),
        std::process::id()
    );
    let operator = Operator::start(
        cluster.client.clone(),
        args.namespace.clone(),
        &lease_namespace,
        &identity,
        observability,
        args.probes_addr,
    )
    .await?;
    let probes = operator.probes_addr();
    // Tests read this line to find the probes when the port was picked.
    println!("probes: http://{probes}");

    let scope = args
        .namespace
        .as_deref()
        .map_or("in all namespaces".to_string(), |ns| {
            format!("in namespace {ns}")
        });
    println!(
        "\n{}",
        style.bold(&format!(
            "The operator is running {scope} as {identity} (Lease {}/{}); Ctrl-C stops it. In another terminal:",
            lease_namespace,
            examples::operator::LEASE
        ))
    );
    println!("export KUBECONFIG={}", cluster.kubeconfig);
    println!("{SAMPLE}");
    println!("curl -i http://{probes}/readyz");
    println!("curl -s http://{probes}/metrics | grep -v '^#'\n");

    let stats = operator.run(examples::shutdown_signal()).await?;

    println!("\n{}", style.bold("Stopped. Reconciles by generator:"));
    let mut table = Table::new(["GENERATOR", "RECONCILES"]);
    for (generator, count) in stats.reconciles() {
        table.row([generator, count.to_string()]);
    }
    if table.is_empty() {
        println!("  (no generators were reconciled)");
    } else {
        println!("{}", table.render(style));
    }
    if cluster.local.is_some() {
        println!("stopping the local control plane");
    }
    cluster.stop().await
}
