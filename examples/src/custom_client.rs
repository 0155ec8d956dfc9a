//! Clients with a service stack of your own: layers added on top of the
//! default stack, or a stack built by hand from `ConfigExt` over hyper-util's
//! HTTP client.
//!
//! Either way every `Api` verb and watch works as with `Client::try_from`.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use hyper_util::rt::TokioExecutor;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client, Config, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams},
    client::{Body, ClientBuilder, ConfigExt},
};
use tower::{BoxError, ServiceBuilder, limit::ConcurrencyLimitLayer};
use tower_http::trace::TraceLayer;

/// The default stack of `config` with two layers on top: tower-http's
/// `TraceLayer`, logging each request and how long it took, and tower's
/// `ConcurrencyLimitLayer`, letting at most `max_in_flight` requests out at
/// once.
pub fn layered_client(config: Config, max_in_flight: usize) -> anyhow::Result<Client> {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &http::Request<Body>| {
            tracing::debug_span!("kube", method = %request.method(), uri = %request.uri())
        })
        .on_response(
            |response: &http::Response<_>, latency: Duration, _span: &tracing::Span| {
                tracing::debug!(status = %response.status(), ?latency, "answered");
            },
        );
    Ok(ClientBuilder::try_from(config)?
        .with_layer(&trace)
        .with_layer(&ConcurrencyLimitLayer::new(max_in_flight))
        .build())
}

/// A stack built by hand, as kube-rs's `custom_client` recipe does: the
/// cluster's base URI and credentials over hyper-util's client with rustls.
/// It has no retries, time limits or extra headers: only what is put in.
pub fn hand_built_client(config: Config) -> anyhow::Result<Client> {
    let https = config.rustls_https_connector()?;
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer()?)
        .map_err(BoxError::from)
        .service(hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(https));
    Ok(Client::new(service, config.default_namespace))
}

/// What a round of requests through a client saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The ConfigMaps of that name listed after the create.
    pub listed: Vec<String>,
    /// The data after the patch.
    pub patched: Option<String>,
    /// The kinds of watch events seen for the ConfigMap, in order.
    pub watched: Vec<&'static str>,
    /// Whether the ConfigMap was gone after the delete.
    pub gone: bool,
}

/// Creates, lists, patches, watches and deletes a ConfigMap `name` in
/// `namespace` through `client`.
pub async fn round_trip(client: Client, namespace: &str, name: &str) -> anyhow::Result<Outcome> {
    let config_maps: Api<ConfigMap> = Api::namespaced(client, namespace);
    let created = config_maps
        .create(&PostParams::default(), &config_map(name, "one"))
        .await?;
    let version = created.resource_version().unwrap_or_default();
    let listed = config_maps
        .list(&ListParams::default().fields(&format!("metadata.name={name}")))
        .await?
        .iter()
        .map(ResourceExt::name_any)
        .collect();

    let mut events = config_maps
        .watch(
            &WatchParams::default()
                .fields(&format!("metadata.name={name}"))
                .timeout(20),
            &version,
        )
        .await?
        .boxed();

    let patch = serde_json::json!({ "data": { "value": "two" } });
    let patched = config_maps
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?
        .data
        .and_then(|data| data.get("value").cloned());
    config_maps.delete(name, &DeleteParams::default()).await?;

    let mut watched = Vec::new();
    while watched.len() < 2 {
        let Some(event) = events.try_next().await? else {
            break;
        };
        watched.push(match event {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => continue,
            WatchEvent::Error(status) => anyhow::bail!("the watch failed: {status}"),
        });
    }
    let gone = config_maps.get_opt(name).await?.is_none();
    Ok(Outcome {
        listed,
        patched,
        watched,
        gone,
    })
}

fn config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some([("value".to_string(), value.to_string())].into()),
        ..Default::default()
    }
}
