//! Shutdown signals for a controller.

use futures::{
    FutureExt,
    future::{self, BoxFuture},
};

/// Completes when the first of `signals` does; never when there are none.
pub(super) fn first_of(signals: Vec<BoxFuture<'static, ()>>) -> BoxFuture<'static, ()> {
    if signals.is_empty() {
        future::pending().boxed()
    } else {
        future::select_all(signals).map(|_| ()).boxed()
    }
}

/// Completes on SIGINT or SIGTERM (SIGINT only where SIGTERM does not exist).
pub(super) async fn signal() {
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
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM; only Ctrl-C stops the controller");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use futures::{FutureExt, channel::oneshot};

    use super::*;

    #[tokio::test]
    async fn first_of_completes_with_any_signal() {
        let (tx_a, rx_a) = oneshot::channel::<()>();
        let (_tx_b, rx_b) = oneshot::channel::<()>();
        let mut both = first_of(vec![rx_a.map(|_| ()).boxed(), rx_b.map(|_| ()).boxed()]);
        assert!(futures::poll!(&mut both).is_pending());
        tx_a.send(()).expect("receiver alive");
        both.await;
    }

    #[tokio::test]
    async fn first_of_nothing_never_completes() {
        let mut none = first_of(Vec::new());
        assert!(futures::poll!(&mut none).is_pending());
    }
}
