//! Running the control plane binary as a child process.
//!
//! Everything here is blocking and bound to no async runtime: a control
//! plane outlives the `#[tokio::test]` runtime that started it, so it is a
//! `std::process::Child` served by plain threads.

use std::{
    collections::VecDeque,
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use crate::{
    Error,
    binary::{joined_tail, push_line},
};

/// How long the control plane may take to print its export line.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a graceful stop may take before the process is killed.
pub(crate) const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How many lines of the process's stderr an error carries.
const STDERR_TAIL_LINES: usize = 60;

/// What the control plane prints once it is ready.
const EXPORT_PREFIX: &str = "export KUBECONFIG=";

/// A running control plane process.
///
/// Its stdin is a pipe it watches (`--exit-on-stdin-close`): when this
/// process ends, however it ends, the pipe closes and the control plane
/// shuts down and removes its temporary files.
pub(crate) struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_reader: Option<JoinHandle<()>>,
}

/// A process that said it is ready, and the kubeconfig it wrote.
pub(crate) struct Launched {
    pub(crate) process: Process,
    pub(crate) kubeconfig: PathBuf,
}

impl Process {
    /// Starts `binary`, on `state_dir` when given (else a temporary one the
    /// process creates and removes), and waits until it prints the export
    /// line.
    pub(crate) fn launch(binary: &Path, state_dir: Option<&Path>) -> Result<Launched, Error> {
        Self::launch_within(binary, state_dir, READY_TIMEOUT)
    }

    fn launch_within(
        binary: &Path,
        state_dir: Option<&Path>,
        ready_timeout: Duration,
    ) -> Result<Launched, Error> {
        let mut command = Command::new(binary);
        command.arg("--exit-on-stdin-close");
        if let Some(dir) = state_dir {
            command.arg("--state-dir").arg(dir);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| Error::Spawn {
                binary: binary.to_path_buf(),
                source,
            })?;
        tracing::debug!(binary = %binary.display(), pid = child.id(), "started the control plane");

        let stderr_tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_TAIL_LINES)));
        let stderr_reader = child.stderr.take().map(|stderr| {
            let tail = Arc::clone(&stderr_tail);
            thread::spawn(move || record_stderr(stderr, &tail))
        });
        let (ready_tx, ready_rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            thread::spawn(move || watch_stdout(stdout, &ready_tx));
        }
        let mut process = Process {
            stdin: child.stdin.take(),
            child,
            stderr_tail,
            stderr_reader,
        };

        match ready_rx.recv_timeout(ready_timeout) {
            Ok(kubeconfig) => Ok(Launched {
                process,
                kubeconfig,
            }),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                process.kill();
                Err(Error::NotReady {
                    timeout: ready_timeout,
                    stderr_tail: process.stderr_tail(),
                })
            }
            // Stdout closed without the line: the process is exiting.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = match process.wait_for_exit(STOP_TIMEOUT) {
                    Some(status) => status,
                    None => {
                        process.kill();
                        "closed its stdout and was killed".to_string()
                    }
                };
                Err(Error::Exited {
                    status,
                    stderr_tail: process.stderr_tail(),
                })
            }
        }
    }

    /// Asks the process to stop by closing its stdin, and waits for it;
    /// kills it if it takes longer than [`STOP_TIMEOUT`].
    pub(crate) fn stop(mut self) -> Result<(), Error> {
        drop(self.stdin.take());
        if self.wait_for_exit(STOP_TIMEOUT).is_some() {
            return Ok(());
        }
        self.kill();
        Err(Error::StopTimeout {
            timeout: STOP_TIMEOUT,
        })
    }

    /// Kills the process at once and reaps it.
    pub(crate) fn kill(&mut self) {
        drop(self.stdin.take());
        if let Err(error) = self.child.kill() {
            tracing::debug!(%error, "killing the control plane (it may have exited already)");
        }
        if let Err(error) = self.child.wait() {
            tracing::warn!(%error, "waiting for the killed control plane");
        }
        self.join_stderr_reader();
    }

    /// Whether the process has not exited.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `timeout` for the process to exit and describes how it
    /// did; `None` if it is still running.
    fn wait_for_exit(&mut self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.join_stderr_reader();
                    return Some(status.to_string());
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                Ok(None) => return None,
                Err(error) => {
                    self.join_stderr_reader();
                    return Some(format!("unknown status: {error}"));
                }
            }
        }
    }

    /// Waits until every line of stderr is recorded; after the process has
    /// exited its stderr reaches end of file promptly.
    fn join_stderr_reader(&mut self) {
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
    }

    fn stderr_tail(&self) -> String {
        joined_tail(&self.stderr_tail)
    }
}

impl Drop for Process {
    /// A process that nobody stops any more is killed (a no-op once it has
    /// exited and been reaped).
    fn drop(&mut self) {
        if self.stdin.is_some() {
            self.kill();
        }
    }
}

/// Sends the kubeconfig path of the export line, then keeps reading so the
/// process never blocks on a full pipe.
fn watch_stdout(stdout: impl Read, ready: &mpsc::Sender<PathBuf>) {
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        match line.strip_prefix(EXPORT_PREFIX) {
            Some(path) => {
                let _ = ready.send(PathBuf::from(path.trim()));
            }
            None => tracing::info!(target: "kube_test::controlplane", "{line}"),
        }
    }
}

/// Logs each stderr line and keeps the last ones for errors.
fn record_stderr(stderr: impl Read, tail: &Mutex<VecDeque<String>>) {
    for line in BufReader::new(stderr).split(b'\n').map_while(Result::ok) {
        let line = String::from_utf8_lossy(&line).into_owned();
        tracing::info!(target: "kube_test::controlplane", "{line}");
        push_line(tail, line, STDERR_TAIL_LINES);
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A stand-in for the control plane: a shell script with this body.
    fn script(dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("fake-controlplane");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    #[test]
    fn the_export_line_gives_the_kubeconfig_and_closing_stdin_stops() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fake = script(
            dir.path(),
            "echo starting >&2\necho 'export KUBECONFIG=/state/kubeconfig'\ncat >/dev/null\necho stopped >&2",
        );
        let launched =
            Process::launch_within(&fake, None, Duration::from_secs(30)).expect("launch");
        assert_eq!(launched.kubeconfig, PathBuf::from("/state/kubeconfig"));
        let mut process = launched.process;
        assert!(process.is_running());
        let tail = Arc::clone(&process.stderr_tail);
        process.stop().expect("stop");
        assert_eq!(joined_tail(&tail), "starting\nstopped");
    }

    #[test]
    fn exiting_before_ready_reports_status_and_stderr() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fake = script(dir.path(), "echo 'etcd: no space left' >&2\nexit 3");
        let error = Process::launch_within(&fake, None, Duration::from_secs(30))
            .err()
            .expect("launch fails");
        match &error {
            Error::Exited {
                status,
                stderr_tail,
            } => {
                assert!(status.contains('3'), "{status}");
                assert!(stderr_tail.contains("etcd: no space left"), "{stderr_tail}");
            }
            other => panic!("expected Exited, got {other:?}"),
        }
        assert!(error.to_string().contains("etcd: no space left"), "{error}");
    }

    #[test]
    fn silence_past_the_timeout_kills_and_reports_stderr() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fake = script(dir.path(), "echo 'waiting for etcd' >&2\nexec sleep 600");
        let error = Process::launch_within(&fake, None, Duration::from_millis(500))
            .err()
            .expect("launch fails");
        match &error {
            Error::NotReady {
                timeout,
                stderr_tail,
            } => {
                assert_eq!(*timeout, Duration::from_millis(500));
                assert!(stderr_tail.contains("waiting for etcd"), "{stderr_tail}");
            }
            other => panic!("expected NotReady, got {other:?}"),
        }
    }

    #[test]
    fn the_state_dir_is_passed_on() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Prints its arguments as the kubeconfig path.
        let fake = script(dir.path(), "echo \"export KUBECONFIG=$*\"\ncat >/dev/null");
        let launched = Process::launch_within(
            &fake,
            Some(Path::new("/some/state")),
            Duration::from_secs(30),
        )
        .expect("launch");
        assert_eq!(
            launched.kubeconfig,
            PathBuf::from("--exit-on-stdin-close --state-dir /some/state")
        );
        launched.process.stop().expect("stop");
    }

    #[test]
    fn a_missing_binary_is_named() {
        let error = Process::launch_within(
            Path::new("/nonexistent/controlplane"),
            None,
            Duration::from_secs(1),
        )
        .err()
        .expect("launch fails");
        assert!(matches!(error, Error::Spawn { .. }), "{error:?}");
        assert!(
            error.to_string().contains("/nonexistent/controlplane"),
            "{error}"
        );
    }
}
