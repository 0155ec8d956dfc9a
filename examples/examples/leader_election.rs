//! Runs the ConfigMap generator operator only while holding a Lease: start
//! it in two terminals and stop the leader to watch the other take over.
//!
//! `cargo run -p examples --example leader_election [-- IDENTITY]`

use examples::{
    cluster::install_crd,
    configmapgen::{self, ConfigMapGenerator, MANAGER},
    leader_election,
};
use kube::{Client, CustomResourceExt, runtime::leader_election::Outcome};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn,examples=info");
    let identity = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("replica-{}", std::process::id()));
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    install_crd(&client, &ConfigMapGenerator::crd(), MANAGER).await?;
    let operator = configmapgen::run(client.clone(), None, examples::shutdown_signal());
    let outcome = leader_election::run(
        client,
        &namespace,
        "configmapgen-leader",
        &identity,
        operator,
    )
    .await?;
    match outcome {
        Outcome::Completed(_) => println!("{identity}: stopped; the lease is released"),
        Outcome::LostLeadership => println!("{identity}: lost the lease; stopped working"),
    }
    Ok(())
}
