//! Creates, patches and deletes a pod in the current namespace.
//!
//! `cargo run -p examples --example pod_api`

use examples::pod_api;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("info");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    let outcome = pod_api::run(client, &namespace, "blog").await?;
    println!("{outcome:#?}");
    Ok(())
}
