//! Installs the `Recipe` definition and shows the apiserver defaulting,
//! merging and refusing recipes by its derived schema and CEL rules.
//!
//! `cargo run -p examples --example crd_derive_schema`

use examples::crd_derive_schema;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("info");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    let outcome = crd_derive_schema::run(client, &namespace).await?;
    println!("servings defaulted to {}", outcome.defaulted_servings);
    println!("heat defaulted to {}", outcome.defaulted_heat);
    println!("cuisine left out when unset: {}", outcome.cuisine_left_out);
    println!("tools merged from two managers: {:?}", outcome.merged_tools);
    for refusal in outcome.refusals {
        println!("refused: {refusal}");
    }
    Ok(())
}
