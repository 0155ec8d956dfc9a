//! Every verb of `Api<Counter>` on a custom resource, in the current namespace.
//!
//! `cargo run -p examples --example crd_api`

use examples::crd_api;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("info");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    let outcome = crd_api::run(client, &namespace, "visitors").await?;
    println!("{outcome:#?}");
    Ok(())
}
