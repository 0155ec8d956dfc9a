//! Lists ConfigMaps through clients with service stacks of their own: the
//! default stack with tracing and concurrency layers on top, and a stack built
//! by hand from `ConfigExt` over hyper-util's client.
//!
//! `cargo run -p examples --example custom_client` (with `RUST_LOG=debug` to
//! see the trace layer's spans)

use examples::custom_client;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, Config, ResourceExt, api::ListParams};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    examples::init_tracing("info");
    let config = Config::infer().await?;
    for (name, client) in [
        ("layered", custom_client::layered_client(config.clone(), 4)?),
        ("hand-built", custom_client::hand_built_client(config)?),
    ] {
        let config_maps: Api<ConfigMap> = Api::default_namespaced(client);
        let names: Vec<String> = config_maps
            .list(&ListParams::default())
            .await?
            .iter()
            .map(ResourceExt::name_any)
            .collect();
        println!("{name}: {names:?}");
    }
    Ok(())
}
