//! Prints the CustomResourceDefinition derived from `BookSpec` as YAML, then
//! installs it and shows the apiserver enforcing its schema.
//!
//! `cargo run -p examples --example crd_derive [-- --print]`

use examples::crd_derive;
use kube::{Client, ResourceExt};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("info");
    println!("{}", crd_derive::crd_yaml()?);
    if std::env::args().any(|arg| arg == "--print") {
        return Ok(());
    }
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    let outcome = crd_derive::run(client, &namespace).await?;
    println!(
        "accepted {}: {:?}",
        outcome.accepted.name_any(),
        outcome.accepted.spec
    );
    for refusal in outcome.refusals {
        println!("refused: {refusal}");
    }
    Ok(())
}
