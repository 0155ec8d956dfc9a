//! Several watchers as one stream: Deployments, ConfigMaps and Secrets in a
//! namespace, merged and told apart by an enum.

use futures::{Stream, StreamExt, TryStreamExt, stream};
use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{ConfigMap, Secret},
};
use kube::{
    Api, Client, ResourceExt,
    runtime::{WatchStreamExt, watcher},
};

/// An object one of the watchers saw change.
#[derive(Debug, Clone)]
pub enum Watched {
    /// A Deployment was added or changed.
    Deployment(Box<Deployment>),
    /// A ConfigMap was added or changed.
    ConfigMap(Box<ConfigMap>),
    /// A Secret was added or changed (its values are not looked at).
    Secret(Box<Secret>),
}

impl Watched {
    /// `Kind/name`.
    pub fn describe(&self) -> String {
        match self {
            Watched::Deployment(d) => format!("Deployment/{}", d.name_any()),
            Watched::ConfigMap(cm) => format!("ConfigMap/{}", cm.name_any()),
            Watched::Secret(s) => format!("Secret/{}", s.name_any()),
        }
    }
}

/// The three kinds in `namespace`, as one stream, in the order changes arrive.
pub fn run(
    client: Client,
    namespace: &str,
) -> impl Stream<Item = Result<Watched, watcher::Error>> + use<> {
    let config = watcher::Config::default();
    let deployments = watcher(
        Api::<Deployment>::namespaced(client.clone(), namespace),
        config.clone(),
    )
    .default_backoff()
    .applied_objects()
    .map_ok(|d| Watched::Deployment(Box::new(d)))
    .boxed();
    let config_maps = watcher(
        Api::<ConfigMap>::namespaced(client.clone(), namespace),
        config.clone(),
    )
    .default_backoff()
    .applied_objects()
    .map_ok(|cm| Watched::ConfigMap(Box::new(cm)))
    .boxed();
    let secrets = watcher(Api::<Secret>::namespaced(client, namespace), config)
        .default_backoff()
        .applied_objects()
        .map_ok(|s| Watched::Secret(Box::new(s)))
        .boxed();
    stream::select_all([deployments, config_maps, secrets])
}
