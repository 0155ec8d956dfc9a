//! The one error type of this crate.

use std::{io, path::PathBuf, time::Duration};

/// Why the control plane could not be built, started, stopped or used.
///
/// Start-up errors carry the tail of the output of whatever failed (`go build`
/// or the control plane process), so a failing test shows the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No Go toolchain was found to build the control plane.
    #[error(
        "the Go toolchain was not found (looked in PATH and at {fallback}); install Go, \
         or set KUBE_TEST_CONTROLPLANE_BIN to an already built control plane binary"
    )]
    GoNotFound {
        /// The location tried when `go` is not in `PATH`.
        fallback: PathBuf,
    },

    /// `go build` could not be run at all.
    #[error("running `{go} build` in {dir}: {source}")]
    GoBuildSpawn {
        /// The `go` executable.
        go: PathBuf,
        /// The Go module being built.
        dir: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// `go build` ran and failed.
    #[error(
        "`go build` of the control plane in {dir} failed ({status}); its last output:\n{output_tail}"
    )]
    BuildFailed {
        /// The Go module being built.
        dir: PathBuf,
        /// How `go build` exited.
        status: String,
        /// The last lines `go build` printed.
        output_tail: String,
    },

    /// A file or directory could not be read, written or locked.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "reading".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// `KUBE_TEST_CONTROLPLANE_BIN` names no file.
    #[error("KUBE_TEST_CONTROLPLANE_BIN is {path}, which is not a file")]
    BinaryOverrideMissing {
        /// The value of the variable.
        path: PathBuf,
    },

    /// The control plane process could not be started.
    #[error("starting the control plane {binary}: {source}")]
    Spawn {
        /// The control plane binary.
        binary: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// The control plane process exited before it said it was ready.
    #[error(
        "the control plane exited ({status}) before it was ready; its last output:\n{stderr_tail}"
    )]
    Exited {
        /// How the process exited.
        status: String,
        /// The last lines the process wrote to stderr.
        stderr_tail: String,
    },

    /// The control plane did not say it was ready in time; it has been killed.
    #[error("the control plane was not ready within {timeout:?}; its last output:\n{stderr_tail}")]
    NotReady {
        /// How long it was given.
        timeout: Duration,
        /// The last lines the process wrote to stderr.
        stderr_tail: String,
    },

    /// The control plane did not stop in time after being asked to; it has
    /// been killed.
    #[error("the control plane did not stop within {timeout:?} and was killed")]
    StopTimeout {
        /// How long it was given.
        timeout: Duration,
    },

    /// What the control plane recorded in its state directory is unusable.
    #[error("the control plane state file {path} is unusable: {reason}")]
    StateFile {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// An earlier attempt to start the shared control plane failed; it is not
    /// tried again in this process.
    #[error("the shared control plane failed to start earlier in this process: {0}")]
    SharedStartFailed(String),

    /// The operation needs a control plane of its own.
    #[error(
        "{operation} needs a control plane of its own (TestEnv::start_owned); the shared one is never stopped"
    )]
    SharedEnv {
        /// The operation attempted.
        operation: &'static str,
    },

    /// The admin kubeconfig could not be loaded into a client configuration.
    #[error("loading the kubeconfig {path}: {source}")]
    Kubeconfig {
        /// The kubeconfig.
        path: PathBuf,
        /// Why it could not be loaded.
        #[source]
        source: kube_client::config::KubeconfigError,
    },

    /// A request to the apiserver failed (or a client could not be built).
    #[error("{action}: {source}")]
    Kube {
        /// What was being done.
        action: String,
        /// The client's error.
        #[source]
        source: kube_client::Error,
    },

    /// An object that must have a name has none.
    #[error("{what} has no metadata.name")]
    Unnamed {
        /// Which object.
        what: &'static str,
    },

    /// Something expected of the cluster did not happen in time.
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long it was awaited.
        timeout: Duration,
    },

    /// The fault proxy could not be set up.
    #[error("fault proxy: {what}: {reason}")]
    FaultProxy {
        /// What was being done.
        what: String,
        /// Why it failed.
        reason: String,
    },

    /// A blocking task (building or managing the process) panicked or was
    /// cancelled.
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}
