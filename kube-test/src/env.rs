//! [`TestEnv`]: a running control plane and what tests need from it.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard, PoisonError},
};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube_client::{
    Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};
use tempfile::TempDir;

use crate::{
    Error,
    binary::controlplane_binary,
    cluster,
    process::{Launched, Process},
};

/// Files the control plane keeps in its state directory.
const STATE_FILE: &str = "state.json";
const CLIENT_CA_CERT: &str = "client-ca.crt";
const CLIENT_CA_KEY: &str = "client-ca.key";

/// A real Kubernetes control plane on loopback: etcd, kube-apiserver and the
/// garbage-collector, namespace and ServiceAccount controllers, in one
/// process started from the `kube-test` Go binary.
///
/// Nothing in it belongs to an async runtime, so one `TestEnv` serves every
/// `#[tokio::test]` of a test binary even though each test has a runtime of
/// its own; ask it for a new [`Client`] in each test.
///
/// ```no_run
/// # async fn demo() -> Result<(), kube_test::Error> {
/// use kube_test::TestEnv;
///
/// let env = TestEnv::start().await?;
/// let client = env.client().await?;
/// let namespace = env.fresh_namespace().await?;
/// # let _ = (client, namespace);
/// # Ok(())
/// # }
/// ```
pub struct TestEnv {
    binary: PathBuf,
    state_dir: PathBuf,
    kubeconfig: PathBuf,
    server_url: String,
    /// The running process; `None` while stopped.
    process: Mutex<Option<Process>>,
    /// Serialises `stop` and `resume`.
    lifecycle: tokio::sync::Mutex<()>,
    /// The state directory of an owned control plane, removed on drop. The
    /// shared one lives in a temporary directory of the process's own.
    owned_state: Option<TempDir>,
}

/// The shared control plane, started once per process.
enum Shared {
    NotStarted,
    Started(&'static TestEnv),
    Failed(String),
}

static SHARED: Mutex<Shared> = Mutex::new(Shared::NotStarted);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl TestEnv {
    /// The control plane shared by every test in this process, started on
    /// first call; concurrent first calls start it once.
    ///
    /// It is never stopped by this process: it watches its stdin, and stops
    /// (removing its temporary files) when this process exits in any way.
    /// The first call may build the Go binary, which takes minutes once.
    /// When starting fails, later calls fail at once with the same cause.
    ///
    /// Call it from within a Tokio runtime, as in a `#[tokio::test]`.
    pub async fn start() -> Result<&'static TestEnv, Error> {
        if let Ok(shared) = SHARED.try_lock()
            && let Shared::Started(env) = &*shared
        {
            return Ok(env);
        }
        tokio::task::spawn_blocking(|| {
            let mut shared = lock(&SHARED);
            match &*shared {
                Shared::Started(env) => return Ok(*env),
                Shared::Failed(cause) => return Err(Error::SharedStartFailed(cause.clone())),
                Shared::NotStarted => {}
            }
            match Self::launch(None) {
                Ok(env) => {
                    // Lives as long as the process, like any static.
                    let env: &'static TestEnv = Box::leak(Box::new(env));
                    *shared = Shared::Started(env);
                    Ok(env)
                }
                Err(error) => {
                    *shared = Shared::Failed(error.to_string());
                    Err(error)
                }
            }
        })
        .await?
    }

    /// A control plane of its own, with its own state directory and port,
    /// killed and removed when dropped. Only owned control planes can be
    /// stopped, resumed and restarted.
    pub async fn start_owned() -> Result<TestEnv, Error> {
        tokio::task::spawn_blocking(|| {
            let dir = tempfile::Builder::new()
                .prefix("kube-test-")
                .tempdir()
                .map_err(|source| Error::Io {
                    action: "creating a state directory in",
                    path: std::env::temp_dir(),
                    source,
                })?;
            Self::launch(Some(dir))
        })
        .await?
    }

    /// Builds the binary if needed and starts it (blocking).
    fn launch(owned_state: Option<TempDir>) -> Result<TestEnv, Error> {
        let binary = controlplane_binary()?;
        let Launched {
            process,
            kubeconfig,
        } = Process::launch(&binary, owned_state.as_ref().map(TempDir::path))?;
        let state_dir = match &owned_state {
            Some(dir) => dir.path().to_path_buf(),
            None => kubeconfig
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        };
        let server_url = read_server_url(&state_dir)?;
        tracing::info!(%server_url, state_dir = %state_dir.display(), "control plane ready");
        Ok(TestEnv {
            binary,
            state_dir,
            kubeconfig,
            server_url,
            process: Mutex::new(Some(process)),
            lifecycle: tokio::sync::Mutex::new(()),
            owned_state,
        })
    }

    /// The admin kubeconfig (client certificate in `system:masters`, all
    /// credentials inline).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The directory holding the certificates, keys, etcd data and kubeconfig.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The apiserver's URL, `https://127.0.0.1:PORT`; it stays the same across
    /// restarts.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The certificate and private key (PEM files) of the CA the apiserver
    /// trusts for client certificates: sign a certificate with them to act as
    /// any user (common name) in any groups (organisations).
    pub fn client_ca(&self) -> (PathBuf, PathBuf) {
        (
            self.state_dir.join(CLIENT_CA_CERT),
            self.state_dir.join(CLIENT_CA_KEY),
        )
    }

    /// The admin configuration, read from the kubeconfig.
    pub async fn config(&self) -> Result<Config, Error> {
        let kubeconfig_error = |source| Error::Kubeconfig {
            path: self.kubeconfig.clone(),
            source,
        };
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig).map_err(kubeconfig_error)?;
        Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .map_err(kubeconfig_error)
    }

    /// A new admin client. Make one per test: a client's connections belong
    /// to the runtime it was made on, and each `#[tokio::test]` has its own.
    pub async fn client(&self) -> Result<Client, Error> {
        let config = self.config().await?;
        Client::try_from(config).map_err(|source| Error::Kube {
            action: format!("creating a client for {}", self.server_url),
            source,
        })
    }

    /// Creates a namespace with a unique generated name and returns the name,
    /// once its `default` ServiceAccount exists (Pods need it).
    pub async fn fresh_namespace(&self) -> Result<String, Error> {
        cluster::fresh_namespace(&self.client().await?).await
    }

    /// Creates or updates a CustomResourceDefinition (server-side apply) and
    /// waits until it is Established and its resources are served.
    pub async fn install_crd(&self, crd: CustomResourceDefinition) -> Result<(), Error> {
        cluster::install_crd(&self.client().await?, crd).await
    }

    /// Stops the control plane and starts it again on the same state
    /// directory and port: objects, certificates and the kubeconfig survive.
    /// Only for [`TestEnv::start_owned`] control planes.
    pub async fn restart(&self) -> Result<(), Error> {
        self.require_owned("restart")?;
        self.stop().await?;
        self.resume().await
    }

    /// Stops the control plane gracefully (the first half of
    /// [`restart`](Self::restart)), for tests of what happens while the
    /// apiserver is down. Does nothing if it is already stopped.
    ///
    /// The process is asked to stop by closing its stdin, which it treats as
    /// SIGTERM: controllers, apiserver and etcd shut down in order. It is
    /// killed if that takes more than 30 seconds.
    pub async fn stop(&self) -> Result<(), Error> {
        self.require_owned("stop")?;
        let _lifecycle = self.lifecycle.lock().await;
        let Some(process) = lock(&self.process).take() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || process.stop()).await?
    }

    /// Starts a stopped control plane again on the same state directory and
    /// port (the second half of [`restart`](Self::restart)), and waits until
    /// it is ready. Does nothing if it is running.
    pub async fn resume(&self) -> Result<(), Error> {
        self.require_owned("resume")?;
        let _lifecycle = self.lifecycle.lock().await;
        if let Some(process) = lock(&self.process).as_mut()
            && process.is_running()
        {
            return Ok(());
        }
        let binary = self.binary.clone();
        let state_dir = self.state_dir.clone();
        let launched =
            tokio::task::spawn_blocking(move || Process::launch(&binary, Some(&state_dir)))
                .await??;
        *lock(&self.process) = Some(launched.process);
        tracing::info!(server_url = %self.server_url, "control plane resumed");
        Ok(())
    }

    fn require_owned(&self, operation: &'static str) -> Result<(), Error> {
        if self.owned_state.is_none() {
            return Err(Error::SharedEnv { operation });
        }
        Ok(())
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        // Kill before the state directory is removed (fields drop after this).
        if let Some(mut process) = lock(&self.process).take() {
            process.kill();
        }
    }
}

impl std::fmt::Debug for TestEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestEnv")
            .field("server_url", &self.server_url)
            .field("state_dir", &self.state_dir)
            .field("kubeconfig", &self.kubeconfig)
            .field("owned", &self.owned_state.is_some())
            .finish_non_exhaustive()
    }
}

/// The apiserver URL from the port the control plane recorded.
fn read_server_url(state_dir: &Path) -> Result<String, Error> {
    let path = state_dir.join(STATE_FILE);
    let data = fs::read(&path).map_err(|source| Error::Io {
        action: "reading",
        path: path.clone(),
        source,
    })?;
    server_url_from_state(&data).map_err(|reason| Error::StateFile { path, reason })
}

fn server_url_from_state(data: &[u8]) -> Result<String, String> {
    let state: serde_json::Value = serde_json::from_slice(data).map_err(|e| e.to_string())?;
    let port = state
        .get("apiserverPort")
        .and_then(serde_json::Value::as_u64)
        .filter(|port| (1..=u64::from(u16::MAX)).contains(port))
        .ok_or_else(|| "no valid apiserverPort".to_string())?;
    Ok(format!("https://127.0.0.1:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_url_comes_from_the_recorded_port() {
        let state = br#"{"version":1,"apiserverPort":43210,"etcdClientPort":1,"etcdPeerPort":2}"#;
        assert_eq!(
            server_url_from_state(state).as_deref(),
            Ok("https://127.0.0.1:43210")
        );
    }

    #[test]
    fn state_without_a_valid_port_is_rejected() {
        assert!(server_url_from_state(br#"{"apiserverPort":0}"#).is_err());
        assert!(server_url_from_state(br#"{"apiserverPort":70000}"#).is_err());
        assert!(server_url_from_state(br#"{}"#).is_err());
        assert!(server_url_from_state(b"not json").is_err());
    }
}
