//! Reports nodes when they appear, change labels or are cordoned.
//!
//! `cargo run -p examples --example node_watcher [-- LABEL_SELECTOR]`

use examples::node_watcher;
use futures::TryStreamExt;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn");
    let selector = std::env::args().nth(1).unwrap_or_default();
    let client = Client::try_default().await?;
    let mut nodes = std::pin::pin!(node_watcher::run(client, &selector));
    while let Some(node) = nodes.try_next().await? {
        let cordoned = if node.cordoned { " (cordoned)" } else { "" };
        println!("{}{cordoned}: {}", node.name, node.labels.join(", "));
    }
    Ok(())
}
