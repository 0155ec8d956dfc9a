//! Prints who the cluster `KUBECONFIG` names takes you for: the user name and
//! groups, as `kubectl auth whoami` does. Any credentials a kubeconfig can
//! hold work, the `gcp` auth-provider with Google's application default
//! credentials included.
//!
//! ```text
//! whoami
//! ```

use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("warn");
    let client = Client::try_default().await?;
    let user = examples::whoami::run(client).await?;
    println!("{}", user.username.unwrap_or_default());
    for group in user.groups.unwrap_or_default() {
        println!("  group {group}");
    }
    Ok(())
}
