//! Prints the cluster's events as they happen, in every namespace.
//!
//! `cargo run -p examples --example event_watcher`

use examples::event_watcher;
use futures::TryStreamExt;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn");
    let client = Client::try_default().await?;
    let mut events = std::pin::pin!(event_watcher::run(client, None));
    while let Some(line) = events.try_next().await? {
        println!("{line}");
    }
    Ok(())
}
