//! Server-side apply of a definition and an object, twice, then by a second
//! field manager.
//!
//! `cargo run -p examples --example crd_apply`

use examples::crd_apply;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("info");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    let outcome = crd_apply::run(client, &namespace, "hello").await?;
    println!(
        "resource versions after two identical applies: {:?}",
        outcome.versions
    );
    println!(
        "spec once a second manager set the priority: {:?}",
        outcome.merged
    );
    println!("field managers: {}", outcome.managers.join(", "));
    Ok(())
}
