//! Watches any kind, named on the command line, in the current namespace.
//!
//! `cargo run -p examples --example dynamic_watcher -- apps/v1/Deployment`

use examples::dynamic_watcher;
use futures::TryStreamExt;
use kube::{Client, ResourceExt};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn");
    let kind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "v1/ConfigMap".into());
    let kind = dynamic_watcher::parse_kind(&kind)?;
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    let mut objects = std::pin::pin!(dynamic_watcher::run(client, &kind, Some(&namespace)).await?);
    while let Some(object) = objects.try_next().await? {
        println!(
            "{} {} (resourceVersion {})",
            kind.kind,
            object.name_any(),
            object.resource_version().unwrap_or_default()
        );
    }
    Ok(())
}
