//! Keeps the Secrets of the current namespace in memory and shows their keys
//! and sizes (never their values) on every change.
//!
//! `cargo run -p examples --example secret_reflector`

use examples::secret_reflector::{self, Decoded};
use futures::TryStreamExt;
use kube::{Client, ResourceExt};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn");
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    let (store, stream) = secret_reflector::run(client, &namespace);
    let mut changes = std::pin::pin!(stream);
    while let Some(changed) = changes.try_next().await? {
        println!("{changed} changed; {} Secrets in the store:", store.len());
        for secret in store.state() {
            let entries: Vec<String> = secret_reflector::decode(&secret)
                .into_iter()
                .map(|(key, value)| match value {
                    Decoded::Text(text) => format!("{key} ({} bytes of text)", text.len()),
                    Decoded::Binary(bytes) => format!("{key} ({} bytes)", bytes.len()),
                })
                .collect();
            println!("  {}: {}", secret.name_any(), entries.join(", "));
        }
    }
    Ok(())
}
