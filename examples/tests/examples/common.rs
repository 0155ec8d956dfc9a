//! Shared helpers: the control plane, fresh namespaces, deadlines.

use std::{future::Future, time::Duration};

use futures::{Stream, StreamExt};
use kube::Client;

/// How long any single expectation may take before the test fails
/// (generous: the machine running the tests may be busy).
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A client for the shared control plane.
pub async fn client() -> Client {
    let env = kube_test::TestEnv::start()
        .await
        .expect("the kube-test control plane must start");
    env.client().await.expect("a client")
}

/// A client for the shared control plane, and a new, empty namespace.
pub async fn client_in_fresh_namespace() -> (Client, String) {
    let env = kube_test::TestEnv::start()
        .await
        .expect("the kube-test control plane must start");
    let namespace = env.fresh_namespace().await.expect("a fresh namespace");
    (env.client().await.expect("a client"), namespace)
}

/// Fails the test if `future` takes longer than [`DEADLINE`].
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// The first item of `stream` for which `pick` returns something, failing the
/// test after [`DEADLINE`] or if the stream ends or fails.
pub async fn first<S, T, E, R>(
    what: &str,
    stream: &mut S,
    mut pick: impl FnMut(&T) -> Option<R>,
) -> R
where
    S: Stream<Item = Result<T, E>> + Unpin,
    E: std::fmt::Display,
{
    within(what, async {
        loop {
            match stream.next().await {
                Some(Ok(item)) => {
                    if let Some(found) = pick(&item) {
                        return found;
                    }
                }
                Some(Err(error)) => panic!("the stream failed while waiting for {what}: {error}"),
                None => panic!("the stream ended while waiting for {what}"),
            }
        }
    })
    .await
}
