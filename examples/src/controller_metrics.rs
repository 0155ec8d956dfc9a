//! A controller that records controller-runtime's metrics (reconciles by
//! result, reconcile times, the work queue, busy workers) and serves them,
//! with `/healthz` and `/readyz`, from the probe server.

use std::{convert::Infallible, future::Future, net::SocketAddr, sync::Arc, time::Duration};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client, ResourceExt,
    runtime::{
        Controller,
        controller::Action,
        metrics::Metrics,
        probes::{ProbeServer, Probes},
        watcher,
    },
};
use prometheus_client::registry::Registry;

/// The label selecting the ConfigMaps this controller looks after.
pub const SELECTOR: &str = "example.com/metrics-demo";

async fn reconcile(cm: Arc<ConfigMap>, _: Arc<()>) -> Result<Action, Infallible> {
    tracing::info!(config_map = %cm.name_any(), "reconciled");
    Ok(Action::await_change())
}

fn error_policy(_: Arc<ConfigMap>, _: &Infallible, _: Arc<()>) -> Action {
    Action::requeue(Duration::from_secs(5))
}

/// Serves the probes on `addr` (port 0 picks a free one) for a controller
/// over the ConfigMaps labelled [`SELECTOR`] in `namespace`; returns the
/// server (it stops when dropped) and the controller, to be driven.
pub async fn start(
    client: Client,
    namespace: &str,
    addr: SocketAddr,
) -> std::io::Result<(ProbeServer, impl Future<Output = ()> + use<>)> {
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let config_maps: Api<ConfigMap> = Api::namespaced(client, namespace);
    let controller = Controller::new(config_maps, watcher::Config::default().labels(SELECTOR))
        .with_metrics(metrics);
    let server = Probes::new()
        .metrics(registry)
        .ready_when_synced(controller.synced())
        .serve(addr)
        .await?;
    let run = controller
        .run(reconcile, error_policy, Arc::new(()))
        .for_each(|_| futures::future::ready(()));
    Ok((server, run))
}
