//! `just operator`: the ConfigMap generator operator, running until Ctrl-C,
//! on the cluster `KUBECONFIG` names or else on a local control plane.
//!
//! ```text
//! operator [--local | --kubeconfig PATH]
//! ```

use std::process::ExitCode;

use examples::{
    cluster::{Cluster, Target, install_crd},
    configmapgen::{self, ConfigMapGenerator, MANAGER},
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
    let target = Target::choose(&args, std::env::var("KUBECONFIG").ok())?;
    if target == Target::Local {
        println!(
            "{}",
            style.dim(
                "starting a local control plane (the first run builds it with Go: several minutes)"
            )
        );
    }
    let cluster = Cluster::connect(&target).await?;
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
    println!(
        "\n{}",
        style.bold(
            "The operator is running in all namespaces; Ctrl-C stops it. In another terminal:"
        )
    );
    println!("export KUBECONFIG={}", cluster.kubeconfig);
    println!("{SAMPLE}\n");

    let stats = configmapgen::run(cluster.client.clone(), None, examples::shutdown_signal()).await;

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
