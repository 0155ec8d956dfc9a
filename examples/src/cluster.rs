//! Choosing the cluster a program talks to: the one `KUBECONFIG` (or a
//! `--kubeconfig` flag) names, or else a local control plane started by
//! `kube-test`.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client, Config,
    api::{Patch, PatchParams},
    client::{ClientBuilder, middleware::ClientMetrics},
    config::{KubeConfigOptions, Kubeconfig},
    runtime::wait::{await_condition, conditions},
};
use kube_test::TestEnv;

/// How long a CustomResourceDefinition may take to be served.
const CRD_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Where to find the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A control plane started for this program, stopped when it ends.
    Local,
    /// The current context of this kubeconfig file.
    Kubeconfig(PathBuf),
    /// What `kubectl` would use: `KUBECONFIG` (which may list several files).
    Inferred,
}

impl Target {
    /// `--local` forces a local control plane; `--kubeconfig PATH` names a
    /// kubeconfig; otherwise a non-empty `KUBECONFIG` wins, and a local
    /// control plane is started when it is unset.
    pub fn choose(args: &[String], kubeconfig_env: Option<String>) -> anyhow::Result<Self> {
        let mut target = match kubeconfig_env {
            Some(value) if !value.is_empty() => Self::Inferred,
            _ => Self::Local,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--local" => target = Self::Local,
                "--kubeconfig" => {
                    let path = args.next().context("--kubeconfig needs a path")?;
                    target = Self::Kubeconfig(PathBuf::from(path));
                }
                other => anyhow::bail!(
                    "unknown argument {other:?}; expected --local or --kubeconfig PATH"
                ),
            }
        }
        Ok(target)
    }
}

/// A connected cluster.
pub struct Cluster {
    /// An admin client for it.
    pub client: Client,
    /// The apiserver's URL.
    pub server: String,
    /// The apiserver's version, e.g. `v1.37.2`.
    pub version: String,
    /// The kubeconfig it was reached with (`KUBECONFIG` when inferred).
    pub kubeconfig: String,
    /// The local control plane, when one was started.
    pub local: Option<TestEnv>,
    /// How long connecting (and starting a control plane) took.
    pub startup: Duration,
}

impl Cluster {
    /// Connects to `target`, starting (and building, on first use) a local
    /// control plane when asked to.
    pub async fn connect(target: &Target) -> anyhow::Result<Self> {
        Self::connect_with(target, None).await
    }

    /// [`Cluster::connect`], with a client that records client-go's request
    /// metrics into `metrics` when given.
    pub async fn connect_with(
        target: &Target,
        metrics: Option<&ClientMetrics>,
    ) -> anyhow::Result<Self> {
        let started = Instant::now();
        let (config, kubeconfig, local) = match target {
            Target::Local => {
                let env = TestEnv::start_owned()
                    .await
                    .context("starting the local control plane")?;
                let config = env.config().await?;
                let kubeconfig = env.kubeconfig_path().display().to_string();
                (config, kubeconfig, Some(env))
            }
            Target::Kubeconfig(path) => (
                read_kubeconfig(path).await?,
                path.display().to_string(),
                None,
            ),
            Target::Inferred => {
                let config = Config::infer()
                    .await
                    .context("loading the configuration KUBECONFIG names")?;
                let kubeconfig = std::env::var("KUBECONFIG").unwrap_or_default();
                (config, kubeconfig, None)
            }
        };
        let server = config.cluster_url.to_string();
        let client = match metrics {
            Some(metrics) => ClientBuilder::try_from(config)?
                .with_metrics(metrics)
                .build(),
            None => Client::try_from(config)?,
        };
        let version = client
            .apiserver_version()
            .await
            .with_context(|| format!("asking {server} for its version"))?
            .git_version;
        Ok(Self {
            client,
            server: server.trim_end_matches('/').to_string(),
            version,
            kubeconfig,
            local,
            startup: started.elapsed(),
        })
    }

    /// Stops the local control plane, if one was started.
    pub async fn stop(self) -> anyhow::Result<()> {
        if let Some(env) = self.local {
            env.stop()
                .await
                .context("stopping the local control plane")?;
        }
        Ok(())
    }
}

async fn read_kubeconfig(path: &Path) -> anyhow::Result<Config> {
    let kubeconfig = Kubeconfig::read_from(path)
        .with_context(|| format!("reading the kubeconfig {}", path.display()))?;
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .with_context(|| format!("loading the current context of {}", path.display()))
}

/// Creates or updates `crd` by server-side apply, and waits until the
/// apiserver serves it.
pub async fn install_crd(
    client: &Client,
    crd: &CustomResourceDefinition,
    manager: &str,
) -> anyhow::Result<()> {
    let name = crd.metadata.name.clone().context("the CRD has no name")?;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch(
        &name,
        &PatchParams::apply(manager).force(),
        &Patch::Apply(crd),
    )
    .await
    .with_context(|| format!("applying CustomResourceDefinition {name}"))?;
    let established = await_condition(crds, &name, conditions::is_crd_established());
    tokio::time::timeout(CRD_READY_TIMEOUT, established)
        .await
        .with_context(|| format!("{name} was not established within {CRD_READY_TIMEOUT:?}"))??;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kubeconfig_env_wins_unless_local_is_asked_for() {
        let env = Some("/k".to_string());
        assert_eq!(
            Target::choose(&[], env.clone()).ok(),
            Some(Target::Inferred)
        );
        assert_eq!(
            Target::choose(&args(&["--local"]), env).ok(),
            Some(Target::Local)
        );
    }

    #[test]
    fn no_kubeconfig_means_local() {
        assert_eq!(Target::choose(&[], None).ok(), Some(Target::Local));
        assert_eq!(
            Target::choose(&[], Some(String::new())).ok(),
            Some(Target::Local)
        );
    }

    #[test]
    fn kubeconfig_flag_names_a_file() {
        assert_eq!(
            Target::choose(&args(&["--kubeconfig", "/x"]), None).ok(),
            Some(Target::Kubeconfig("/x".into()))
        );
        assert!(Target::choose(&args(&["--kubeconfig"]), None).is_err());
        assert!(Target::choose(&args(&["--bogus"]), None).is_err());
    }
}
