//! Rolls the Deployments of the current namespace out again whenever a
//! ConfigMap they use changes, until Ctrl-C. The ConfigMap's Deployments are
//! found through an index of the Deployments' store.
//!
//! `cargo run -p examples --example configmap_rollout`

use examples::configmap_rollout;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn,examples=info");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    let stats = configmap_rollout::run(client, &namespace, examples::shutdown_signal()).await;
    for (deployment, count) in stats.reconciles() {
        println!("{deployment}: {count} reconciles");
    }
    Ok(())
}
