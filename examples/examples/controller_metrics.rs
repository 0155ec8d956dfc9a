//! A controller over labelled ConfigMaps with its metrics served at
//! http://127.0.0.1:9000/metrics.
//!
//! `cargo run -p examples --example controller_metrics`, then
//! `kubectl create configmap x && kubectl label configmap x example.com/metrics-demo=yes`
//! and `curl localhost:9000/metrics`.

use std::sync::{Arc, Mutex};

use examples::controller_metrics;
use kube::Client;
use prometheus_client::registry::Registry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn,examples=info");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    let registry = Arc::new(Mutex::new(Registry::with_prefix("configmaps_controller")));
    let (address, _server) =
        controller_metrics::serve(([127, 0, 0, 1], 9000).into(), registry.clone()).await?;
    println!("metrics at http://{address}/metrics");
    tokio::select! {
        () = controller_metrics::run_controller(client, &namespace, registry) => {}
        () = examples::shutdown_signal() => {}
    }
    Ok(())
}
