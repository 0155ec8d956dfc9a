//! [`CancelableJoinHandle`]: a spawned task that dies with its handle.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::{runtime::Handle, task::JoinHandle};

/// A task spawned on a tokio runtime, awaited through this handle and aborted
/// when the handle is dropped.
///
/// Awaiting yields the task's output; a panic in the task resumes in the
/// awaiting task, so it is not silently lost. The [`Controller`](crate::Controller)
/// runs each reconcile this way: reconciles run in parallel on a multi-threaded
/// runtime, and dropping the controller stops them.
#[derive(Debug)]
#[must_use = "the task is aborted when the handle is dropped"]
pub struct CancelableJoinHandle<T> {
    inner: JoinHandle<T>,
}

impl<T: Send + 'static> CancelableJoinHandle<T> {
    /// Spawns `future` on `runtime`.
    pub fn spawn(future: impl Future<Output = T> + Send + 'static, runtime: &Handle) -> Self {
        Self {
            inner: runtime.spawn(future),
        }
    }
}

impl<T> Drop for CancelableJoinHandle<T> {
    fn drop(&mut self) {
        self.inner.abort();
    }
}

impl<T> Future for CancelableJoinHandle<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.inner).poll(cx) {
            Poll::Ready(Ok(output)) => Poll::Ready(output),
            Poll::Ready(Err(err)) => match err.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // Only this handle aborts the task, and it is still alive: the
                // task was cancelled by its runtime shutting down, so there is
                // nothing left to wait for and no one left to tell.
                Err(_) => Poll::Pending,
            },
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            Arc,
            atomic::{AtomicBool, Ordering},
        },
        time::Duration,
    };

    use super::*;

    #[tokio::test]
    async fn yields_the_task_output() {
        let handle = CancelableJoinHandle::spawn(async { 7 }, &Handle::current());
        assert_eq!(handle.await, 7);
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_handle_aborts_the_task() {
        let finished = Arc::new(AtomicBool::new(false));
        let handle = CancelableJoinHandle::spawn(
            {
                let finished = finished.clone();
                async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    finished.store(true, Ordering::SeqCst);
                }
            },
            &Handle::current(),
        );
        tokio::task::yield_now().await;
        drop(handle);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(
            !finished.load(Ordering::SeqCst),
            "the task ran to completion after its handle was dropped"
        );
    }

    #[tokio::test]
    async fn a_panic_in_the_task_resumes_in_the_awaiter() {
        let outer = tokio::spawn(async {
            CancelableJoinHandle::spawn(
                async { std::panic::panic_any("reconcile blew up") },
                &Handle::current(),
            )
            .await
        });
        let err = outer.await.expect_err("the panic propagates");
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"reconcile blew up"));
    }
}
