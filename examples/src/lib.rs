//! Runnable examples for the kube toolkit, each doing one job against a cluster.
//!
//! Every example keeps its logic here, in a module with a function that takes a
//! [`kube::Client`] and returns something a test can check; the programs in
//! `examples/` are thin `main`s around them, and `tests/examples.rs` runs each
//! against a real kube-apiserver started by `kube-test`.

pub mod admission_webhook;
pub mod cluster;
pub mod configmap_rollout;
pub mod configmapgen;
pub mod controller_metrics;
pub mod crd_api;
pub mod crd_apply;
pub mod crd_derive;
pub mod crd_derive_cel;
pub mod crd_derive_schema;
pub mod custom_client;
pub mod demo;
pub mod dynamic_api;
pub mod dynamic_watcher;
pub mod event_watcher;
pub mod leader_election;
pub mod multi_watcher;
pub mod node_watcher;
pub mod operator;
pub mod output;
pub mod pod_api;
pub mod pod_paged;
pub mod pod_reflector;
pub mod secret_reflector;
pub mod whoami;

/// Logs to stderr at `default_level` (e.g. `"warn"`), unless `RUST_LOG` says
/// otherwise; in colour only when stderr is a terminal and `NO_COLOR` is unset.
pub fn init_tracing(default_level: &str) {
    use std::io::IsTerminal;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !no_colour)
        .try_init();
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The README's Rust code, compiled as doctests so that it stays true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
