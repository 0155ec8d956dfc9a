//! Keeps the pods of the current namespace in memory, logging the store on
//! every change.
//!
//! `cargo run -p examples --example pod_reflector`

use examples::pod_reflector;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("info");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    pod_reflector::follow(client, &namespace).await?;
    Ok(())
}
