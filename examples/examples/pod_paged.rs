//! Lists the pods of the current namespace in pages.
//!
//! `cargo run -p examples --example pod_paged [-- PAGE_SIZE]`

use examples::pod_paged;
use kube::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("info");
    let page_size = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 5,
    };
    let client = Client::try_default().await?;
    let namespace = client.default_namespace().to_string();
    for (number, page) in pod_paged::run(client, &namespace, page_size)
        .await?
        .iter()
        .enumerate()
    {
        println!("page {}: {}", number + 1, page.join(", "));
    }
    Ok(())
}
