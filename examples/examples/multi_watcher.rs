//! Watches Deployments, ConfigMaps and Secrets of the current namespace at once.
//!
//! `cargo run -p examples --example multi_watcher`

use examples::multi_watcher;
use futures::TryStreamExt;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    let mut changes = std::pin::pin!(multi_watcher::run(client, &namespace));
    while let Some(changed) = changes.try_next().await? {
        println!("{}", changed.describe());
    }
    Ok(())
}
