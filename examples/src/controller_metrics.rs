//! A controller that records its metrics — reconciles by result, durations,
//! errors, queue depth, busy workers — into a `prometheus-client` registry,
//! served over HTTP at `/metrics` for Prometheus to scrape.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client, ResourceExt,
    runtime::{Controller, controller::Action, metrics::Metrics, watcher},
};
use prometheus_client::registry::Registry;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// The label selecting the ConfigMaps this controller looks after.
pub const SELECTOR: &str = "example.com/metrics-demo";

/// A registry shared between the controller and the HTTP server.
pub type SharedRegistry = Arc<Mutex<Registry>>;

async fn reconcile(cm: Arc<ConfigMap>, _: Arc<()>) -> Result<Action, Infallible> {
    tracing::info!(config_map = %cm.name_any(), "reconciled");
    Ok(Action::await_change())
}

fn error_policy(_: Arc<ConfigMap>, _: &Infallible, _: Arc<()>) -> Action {
    Action::requeue(Duration::from_secs(5))
}

/// Runs a controller over the ConfigMaps labelled [`SELECTOR`] in `namespace`,
/// recording its metrics into `registry`, until the stream is dropped.
pub async fn run_controller(client: Client, namespace: &str, registry: SharedRegistry) {
    let metrics = Metrics::new(&mut registry.lock().unwrap_or_else(PoisonError::into_inner));
    let config_maps: Api<ConfigMap> = Api::namespaced(client, namespace);
    Controller::new(config_maps, watcher::Config::default().labels(SELECTOR))
        .with_metrics(metrics)
        .run(reconcile, error_policy, Arc::new(()))
        .for_each(|_| futures::future::ready(()))
        .await;
}

/// The registry in Prometheus' text format.
pub fn encode(registry: &SharedRegistry) -> Result<String, std::fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(
        &mut text,
        &registry.lock().unwrap_or_else(PoisonError::into_inner),
    )?;
    Ok(text)
}

/// Serves `registry` at `http://ADDR/metrics` on a listener bound to `addr`
/// (port 0 picks a free one); returns the bound address and the server's task.
pub async fn serve(
    addr: SocketAddr,
    registry: SharedRegistry,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let server = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let registry = registry.clone();
                    tokio::spawn(async move {
                        if let Err(error) = answer(stream, &registry).await {
                            tracing::debug!(%error, "metrics request failed");
                        }
                    });
                }
                Err(error) => tracing::warn!(%error, "accepting a metrics connection failed"),
            }
        }
    });
    Ok((bound, server))
}

/// Answers one HTTP/1.1 request: the metrics for `GET /metrics`, 404 otherwise.
async fn answer(mut stream: TcpStream, registry: &SharedRegistry) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        request.extend_from_slice(buffer.get(..read).unwrap_or_default());
    }
    let first_line = String::from_utf8_lossy(&request)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let (status, content_type, body) = if first_line.starts_with("GET /metrics ") {
        let body = encode(registry).map_err(std::io::Error::other)?;
        (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            body,
        )
    } else {
        ("404 Not Found", "text/plain", "try /metrics\n".to_string())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
