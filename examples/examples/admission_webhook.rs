//! An admission webhook for the ConfigMaps of the current namespace, until
//! Ctrl-C: refuses ConfigMaps holding secret-looking keys, and annotates new
//! ones with their creator. For an apiserver on this machine (`just cluster`),
//! which it reaches on a loopback port; the webhooks are registered at start
//! and removed at the end.
//!
//! `cargo run -p examples --example admission_webhook`

use examples::admission_webhook;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn,examples=info,kube_runtime::webhook=info");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    println!("serving the ConfigMap webhooks for namespace {namespace}; Ctrl-C stops");
    admission_webhook::run(client, &namespace, examples::shutdown_signal()).await
}
