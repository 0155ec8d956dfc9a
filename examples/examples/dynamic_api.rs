//! Discovers every resource the cluster serves and counts its objects in the
//! current namespace.
//!
//! `cargo run -p examples --example dynamic_api`

use examples::dynamic_api;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    for served in dynamic_api::run(client, &namespace).await? {
        let scope = if served.namespaced {
            "namespaced"
        } else {
            "cluster"
        };
        println!(
            "{:<45} {:<32} {:<10} {} objects",
            served.api_version,
            served.kind,
            scope,
            served.names.len()
        );
    }
    Ok(())
}
