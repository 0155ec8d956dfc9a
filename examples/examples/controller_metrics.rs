//! A controller over labelled ConfigMaps with its metrics and probes served
//! at http://127.0.0.1:9000.
//!
//! `cargo run -p examples --example controller_metrics`, then
//! `kubectl create configmap x && kubectl label configmap x example.com/metrics-demo=yes`
//! and `curl localhost:9000/metrics` (or `/readyz`, `/healthz`).

use examples::controller_metrics;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn,examples=info");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    let (server, controller) =
        controller_metrics::start(client, &namespace, ([127, 0, 0, 1], 9000).into()).await?;
    println!("metrics at http://{}/metrics", server.local_addr());
    tokio::select! {
        () = controller => {}
        () = examples::shutdown_signal() => {}
    }
    Ok(())
}
