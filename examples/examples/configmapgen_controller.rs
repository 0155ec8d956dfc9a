//! The ConfigMap generator operator on the current cluster, in every
//! namespace, until Ctrl-C. Installs its CustomResourceDefinition first.
//!
//! `cargo run -p examples --example configmapgen_controller`
//! (`just operator` does the same, starting a local control plane if needed.)

use examples::{
    cluster::install_crd,
    configmapgen::{self, ConfigMapGenerator, MANAGER},
};
use kube::{Client, CustomResourceExt};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn,examples=info");
    let client = Client::try_default().await?;
    install_crd(&client, &ConfigMapGenerator::crd(), MANAGER).await?;
    let stats = configmapgen::run(client, None, examples::shutdown_signal()).await;
    for (generator, count) in stats.reconciles() {
        println!("{generator}: {count} reconciles");
    }
    Ok(())
}
