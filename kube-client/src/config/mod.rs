//! Where the cluster is and how to authenticate: kubeconfig files, in-cluster
//! service-account configuration, and the resulting [`Config`].
//!
//! Most programs call [`Config::infer`] (or `Client::try_default`), which does
//! what `kubectl` does: use the current context of the kubeconfig files listed in
//! `KUBECONFIG` (or `~/.kube/config`), and inside a pod fall back to the pod's
//! service account.
//!
//! ```no_run
//! use kube_client::config::{Config, KubeConfigOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Whatever kubectl would use.
//! let config = Config::infer().await?;
//! // A specific context of the kubeconfig.
//! let staging = Config::from_kubeconfig(&KubeConfigOptions {
//!     context: Some("staging".into()),
//!     ..Default::default()
//! })
//! .await?;
//! # Ok(())
//! # }
//! ```

use std::{fmt, path::PathBuf, time::Duration};

use http::{HeaderName, HeaderValue};

pub(crate) mod data;
mod errors;
mod file_config;
mod file_loader;
mod incluster_config;
pub(crate) mod redact;

pub use errors::{InferConfigError, KubeconfigError, LoadDataError, NoProxyError};
pub use file_config::{
    AuthInfo, AuthProviderConfig, Cluster, Context, ExecAuthCluster, ExecConfig,
    ExecInteractiveMode, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext, NamedExtension,
    Preferences,
};
pub use incluster_config::Error as InClusterError;

use file_loader::ConfigLoader;

/// How long to wait for a TCP connection and TLS handshake, by default.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an ordinary request may wait for response bytes, by default: just
/// under the apiserver's own 5 minute limit on requests. Watches are not bound by
/// it.
pub(crate) const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(295);
/// How long sending a request may take, by default.
pub(crate) const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(295);

/// Everything a [`Client`](crate::Client) needs to reach and authenticate to a
/// cluster.
///
/// Usually made by [`Config::infer`], which reads the kubeconfig the way
/// `kubectl` does and falls back to the in-cluster service account. Every field
/// is public, so a config can also be built or adjusted by hand.
///
/// `Debug` never shows credentials: the user's secrets and the user info of
/// URLs are redacted, and only the names of extra headers are shown.
#[derive(Clone)]
pub struct Config {
    /// The apiserver's base URL, e.g. `https://127.0.0.1:6443`.
    pub cluster_url: http::Uri,
    /// The namespace used by `Api::default_namespaced` (from the context, or `default`).
    pub default_namespace: String,
    /// Extra root certificates (DER) trusted for the apiserver, from
    /// `certificate-authority(-data)`. When set, only these are trusted; when not,
    /// the operating system's trust store is used.
    pub root_cert: Option<Vec<Vec<u8>>>,
    /// A file of PEM root certificates trusted for the apiserver. When set, it
    /// takes precedence over [`root_cert`](Self::root_cert) and is re-read as it
    /// changes (checked every minute, and at once when a certificate fails to
    /// verify), so a rotated certificate authority is trusted without a restart.
    /// Set by [`Config::incluster`] and for a kubeconfig's
    /// `certificate-authority` file.
    pub root_cert_file: Option<PathBuf>,
    /// How long to wait for a TCP and TLS connection.
    pub connect_timeout: Option<Duration>,
    /// How long to wait for response bytes on ordinary requests (watch streams are
    /// bounded by their own server-side timeout instead).
    pub read_timeout: Option<Duration>,
    /// How long to wait while sending a request.
    pub write_timeout: Option<Duration>,
    /// Skip verification of the server's certificate (`insecure-skip-tls-verify`).
    /// Dangerous: anyone on the path can impersonate the apiserver. A client
    /// refuses it together with [`root_cert`](Self::root_cert) or
    /// [`root_cert_file`](Self::root_cert_file), as client-go does.
    pub accept_invalid_certs: bool,
    /// The credentials: the kubeconfig `user` entry (token, token file, client
    /// certificate, basic auth, exec plugin, impersonation).
    pub auth_info: AuthInfo,
    /// Do not ask the server for compressed responses.
    pub disable_compression: bool,
    /// An HTTP or SOCKS5 proxy to reach the apiserver through (`proxy-url`).
    pub proxy_url: Option<http::Uri>,
    /// The name to verify the server's certificate against, when it differs from
    /// the URL's host (`tls-server-name`). The default stack also asks for it
    /// in the TLS handshake (SNI), as client-go does, and requests name it as
    /// their `Host`; through a proxy, only the certificate check uses it.
    pub tls_server_name: Option<String>,
    /// Headers added to every request.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Whether requests that failed in a way worth retrying (a `429`, a `503`,
    /// a refused connection, a read cut short) are retried with backoff. On by
    /// default; turn it off to see every failure at once, e.g. when the caller
    /// retries itself.
    pub default_retry: bool,
    /// Whether sending a request restarts the read timeout. This client always
    /// counts [`read_timeout`](Self::read_timeout) from when a request is sent
    /// and from each chunk of its body, never from when a pooled connection
    /// went idle, which is what `true` asks for; the field exists so
    /// configurations that set it keep compiling.
    pub reset_reader_on_write: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Config")
            .field("cluster_url", &redact::RedactedUri(&self.cluster_url))
            .field("default_namespace", &self.default_namespace)
            .field(
                "root_cert",
                &self.root_cert.as_ref().map(|c| CertCount(c.len())),
            )
            .field("root_cert_file", &self.root_cert_file)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("auth_info", &self.auth_info)
            .field("disable_compression", &self.disable_compression)
            .field(
                "proxy_url",
                &self.proxy_url.as_ref().map(redact::RedactedUri),
            )
            .field("tls_server_name", &self.tls_server_name)
            .field("header_names", &header_names)
            .field("default_retry", &self.default_retry)
            .field("reset_reader_on_write", &self.reset_reader_on_write)
            .finish()
    }
}

struct CertCount(usize);

impl fmt::Debug for CertCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} certificates>", self.0)
    }
}

/// Which entries of a kubeconfig to use; unset fields follow the current context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeConfigOptions {
    /// The context to use instead of `current-context`.
    pub context: Option<String>,
    /// The cluster to use instead of the context's.
    pub cluster: Option<String>,
    /// The user to use instead of the context's.
    pub user: Option<String>,
}

impl Config {
    /// A configuration for `cluster_url` with no credentials, the `default`
    /// namespace, the operating system's trust store and default timeouts
    /// (30 s to connect, 295 s to read or write).
    pub fn new(cluster_url: http::Uri) -> Self {
        Self {
            cluster_url,
            default_namespace: "default".to_string(),
            root_cert: None,
            root_cert_file: None,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            read_timeout: Some(DEFAULT_READ_TIMEOUT),
            write_timeout: Some(DEFAULT_WRITE_TIMEOUT),
            accept_invalid_certs: false,
            auth_info: AuthInfo::default(),
            disable_compression: false,
            proxy_url: None,
            tls_server_name: None,
            headers: Vec::new(),
            default_retry: true,
            reset_reader_on_write: false,
        }
    }

    /// The configuration `kubectl` would use: the current context of the
    /// kubeconfig (the files in `KUBECONFIG` merged, or `~/.kube/config`), or else
    /// the pod's service account.
    ///
    /// When both fail, the error says why each did.
    pub async fn infer() -> Result<Self, InferConfigError> {
        let mut config = match Self::from_kubeconfig(&KubeConfigOptions::default()).await {
            Ok(config) => config,
            Err(kubeconfig) => {
                tracing::debug!(error = %kubeconfig, "no usable kubeconfig; trying the in-cluster service account");
                Self::incluster().map_err(|in_cluster| InferConfigError {
                    kubeconfig,
                    in_cluster: Box::new(in_cluster),
                })?
            }
        };
        config.apply_debug_overrides();
        Ok(config)
    }

    /// The in-cluster configuration: the apiserver from `KUBERNETES_SERVICE_HOST`
    /// and `KUBERNETES_SERVICE_PORT`, the pod's service account token (re-read as
    /// it rotates), CA bundle and namespace.
    pub fn incluster() -> Result<Self, InClusterError> {
        Self::incluster_env()
    }

    /// The in-cluster configuration with the apiserver found through
    /// `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`, as client-go does.
    pub fn incluster_env() -> Result<Self, InClusterError> {
        incluster_config::load(
            incluster_config::Address::Environment,
            |name| std::env::var(name).ok(),
            std::path::Path::new(incluster_config::SERVICE_ACCOUNT_DIR),
        )
    }

    /// The in-cluster configuration with the apiserver at
    /// `https://kubernetes.default.svc`, for pods where the environment variables
    /// are not set.
    pub fn incluster_dns() -> Result<Self, InClusterError> {
        incluster_config::load(
            incluster_config::Address::Dns,
            |name| std::env::var(name).ok(),
            std::path::Path::new(incluster_config::SERVICE_ACCOUNT_DIR),
        )
    }

    /// The configuration of a context of the kubeconfig `kubectl` would read
    /// (`KUBECONFIG` or `~/.kube/config`).
    pub async fn from_kubeconfig(options: &KubeConfigOptions) -> Result<Self, KubeconfigError> {
        Self::from_custom_kubeconfig(Kubeconfig::read()?, options).await
    }

    /// The configuration of a context of a kubeconfig read or built elsewhere.
    pub async fn from_custom_kubeconfig(
        kubeconfig: Kubeconfig,
        options: &KubeConfigOptions,
    ) -> Result<Self, KubeconfigError> {
        Self::from_loader(ConfigLoader::load(kubeconfig, options)?)
    }

    fn from_loader(loader: ConfigLoader) -> Result<Self, KubeconfigError> {
        let ConfigLoader {
            context_name,
            current_context,
            cluster_name,
            cluster,
            user_name,
            mut user,
        } = loader;
        tracing::debug!(
            context = %context_name,
            cluster = %cluster_name,
            user = user_name.as_deref().unwrap_or("<anonymous>"),
            "using kubeconfig context"
        );
        let cluster_url = cluster
            .server
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| KubeconfigError::MissingClusterUrl {
                cluster: cluster_name.clone(),
            })?
            .parse::<http::Uri>()
            .map_err(|source| KubeconfigError::ParseClusterUrl {
                cluster: cluster_name.clone(),
                source,
            })?;
        let proxy_url = cluster
            .proxy_url
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(str::parse::<http::Uri>)
            .transpose()
            .map_err(|source| KubeconfigError::ParseProxyUrl {
                cluster: cluster_name.clone(),
                source,
            })?;

        let names_a_ca = [
            &cluster.certificate_authority_data,
            &cluster.certificate_authority,
        ]
        .iter()
        .any(|field| field.as_deref().is_some_and(|v| !v.trim().is_empty()));
        if cluster.insecure_skip_tls_verify == Some(true) && names_a_ca {
            return Err(KubeconfigError::InsecureWithCertificateAuthority {
                cluster: cluster_name,
            });
        }

        let ca_pem = data::base64_or_file(
            "certificate-authority",
            cluster.certificate_authority_data.as_deref(),
            cluster.certificate_authority.as_deref(),
        )
        .map_err(|source| KubeconfigError::LoadCertificateAuthority {
            cluster: cluster_name.clone(),
            source,
        })?;
        let root_cert = match &ca_pem {
            Some(pem) => {
                let origin = data::origin(
                    "certificate-authority",
                    cluster.certificate_authority_data.as_deref(),
                    cluster.certificate_authority.as_deref(),
                );
                Some(data::pem_certificates(pem, &origin).map_err(|source| {
                    KubeconfigError::LoadCertificateAuthority {
                        cluster: cluster_name.clone(),
                        source,
                    }
                })?)
            }
            None => None,
        };
        let root_cert_file = match (
            &cluster.certificate_authority_data,
            &cluster.certificate_authority,
        ) {
            (None, Some(file)) if !file.is_empty() => Some(PathBuf::from(file)),
            _ => None,
        };

        if let Some(exec) = &mut user.exec
            && exec.provide_cluster_info
        {
            exec.cluster = Some(ExecAuthCluster {
                server: cluster.server.clone(),
                insecure_skip_tls_verify: cluster.insecure_skip_tls_verify,
                certificate_authority_data: ca_pem,
                proxy_url: cluster.proxy_url.clone(),
                tls_server_name: cluster.tls_server_name.clone(),
                config: cluster.extensions.as_ref().and_then(|extensions| {
                    extensions
                        .iter()
                        .find(|e| e.name == file_config::EXEC_CLUSTER_EXTENSION)
                        .map(|e| e.extension.clone())
                }),
            });
        }

        let mut config = Config::new(cluster_url);
        config.default_namespace = current_context
            .namespace
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "default".to_string());
        config.root_cert = root_cert;
        config.root_cert_file = root_cert_file;
        config.accept_invalid_certs = cluster.insecure_skip_tls_verify.unwrap_or(false);
        config.disable_compression = cluster.disable_compression.unwrap_or(false);
        config.proxy_url = proxy_url;
        config.tls_server_name = cluster.tls_server_name.filter(|n| !n.is_empty());
        config.auth_info = user;
        Ok(config)
    }

    /// Applies debugging overrides from the environment, logging each loudly:
    /// `KUBE_RS_DEBUG_IMPERSONATE_USER` (a user to impersonate),
    /// `KUBE_RS_DEBUG_IMPERSONATE_GROUP` (comma-separated groups to impersonate)
    /// and `KUBE_RS_DEBUG_OVERRIDE_URL` (another apiserver URL, e.g. that of
    /// `kubectl proxy`). [`Config::infer`] applies them.
    pub fn apply_debug_overrides(&mut self) {
        if let Ok(user) = std::env::var("KUBE_RS_DEBUG_IMPERSONATE_USER") {
            tracing::warn!(%user, "impersonating a user, as KUBE_RS_DEBUG_IMPERSONATE_USER asks");
            self.auth_info.impersonate = Some(user);
        }
        if let Ok(groups) = std::env::var("KUBE_RS_DEBUG_IMPERSONATE_GROUP") {
            tracing::warn!(%groups, "impersonating groups, as KUBE_RS_DEBUG_IMPERSONATE_GROUP asks");
            self.auth_info.impersonate_groups =
                Some(groups.split(',').map(str::to_string).collect());
        }
        if let Ok(url) = std::env::var("KUBE_RS_DEBUG_OVERRIDE_URL") {
            let shown = redact::without_userinfo(&url).into_owned();
            match url.parse() {
                Ok(uri) => {
                    tracing::warn!(url = %shown, "using another apiserver URL, as KUBE_RS_DEBUG_OVERRIDE_URL asks");
                    self.cluster_url = uri;
                }
                Err(error) => {
                    tracing::warn!(url = %shown, %error, "KUBE_RS_DEBUG_OVERRIDE_URL is not a URL; ignored");
                }
            }
        }
    }
}

impl TryFrom<Kubeconfig> for Config {
    type Error = KubeconfigError;

    /// The configuration of the current context of `kubeconfig`.
    fn try_from(kubeconfig: Kubeconfig) -> Result<Self, KubeconfigError> {
        Self::from_loader(ConfigLoader::load(
            kubeconfig,
            &KubeConfigOptions::default(),
        )?)
    }
}
#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn ca_data() -> String {
        base64::engine::general_purpose::STANDARD.encode(include_str!("test_data/ca.pem"))
    }

    async fn from_yaml(yaml: &str) -> Result<Config, KubeconfigError> {
        let kubeconfig = Kubeconfig::from_yaml(yaml)?;
        Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await
    }

    #[test]
    fn a_kubeconfig_becomes_the_config_of_its_current_context() {
        let kubeconfig = Kubeconfig::from_yaml(
            "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, namespace: apps}\nclusters:\n- name: k\n  cluster: {server: https://k.example.com}\n",
        )
        .expect("parses");
        let config = Config::try_from(kubeconfig.clone()).expect("a config");
        assert_eq!(config.cluster_url, "https://k.example.com/");
        assert_eq!(config.default_namespace, "apps");
        let client = crate::Client::try_from(kubeconfig).expect("a client");
        assert_eq!(client.default_namespace(), "apps");

        let broken = Kubeconfig::from_yaml("current-context: missing\n").expect("parses");
        let err = crate::Client::try_from(broken).expect_err("no such context");
        assert!(matches!(err, crate::Error::InferKubeconfig(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_context_becomes_a_config() {
        let yaml = format!(
            r#"
current-context: c
contexts:
- name: c
  context: {{cluster: k, user: u, namespace: apps}}
clusters:
- name: k
  cluster:
    server: https://k.example.com:6443
    certificate-authority-data: {ca}
    tls-server-name: apiserver.internal
    proxy-url: socks5://127.0.0.1:1080
    disable-compression: true
users:
- name: u
  user:
    token: the-token
    as: someone
"#,
            ca = ca_data()
        );
        let config = from_yaml(&yaml).await.expect("config");
        assert_eq!(config.cluster_url, "https://k.example.com:6443/");
        assert_eq!(config.default_namespace, "apps");
        assert_eq!(config.root_cert.as_ref().map(Vec::len), Some(1));
        assert_eq!(config.root_cert_file, None);
        assert_eq!(
            config.tls_server_name.as_deref(),
            Some("apiserver.internal")
        );
        assert_eq!(
            config
                .proxy_url
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("socks5://127.0.0.1:1080/")
        );
        assert!(config.disable_compression);
        assert!(!config.accept_invalid_certs);
        assert_eq!(config.auth_info.impersonate.as_deref(), Some("someone"));
        assert_eq!(config.connect_timeout, Some(DEFAULT_CONNECT_TIMEOUT));
        assert_eq!(config.read_timeout, Some(DEFAULT_READ_TIMEOUT));
    }

    #[tokio::test]
    async fn the_namespace_defaults_to_default() {
        let yaml = "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: 'https://k', insecure-skip-tls-verify: true}\n";
        let config = from_yaml(yaml).await.expect("config");
        assert_eq!(config.default_namespace, "default");
        assert!(config.accept_invalid_certs);
        assert!(config.root_cert.is_none());
    }

    #[tokio::test]
    async fn skipping_verification_with_a_certificate_authority_is_refused_naming_both() {
        for ca in [
            format!("certificate-authority-data: {}", ca_data()),
            "certificate-authority: /etc/kubernetes/ca.pem".to_string(),
        ] {
            let yaml = format!(
                "current-context: c\ncontexts:\n- name: c\n  context: {{cluster: k}}\nclusters:\n- name: k\n  cluster:\n    server: https://k\n    insecure-skip-tls-verify: true\n    {ca}\n"
            );
            let err = from_yaml(&yaml).await.expect_err("contradictory settings");
            assert!(
                matches!(
                    err,
                    KubeconfigError::InsecureWithCertificateAuthority { .. }
                ),
                "{err:?}"
            );
            let text = err.to_string();
            assert!(text.contains("insecure-skip-tls-verify"), "{text}");
            assert!(text.contains("certificate-authority"), "{text}");
            assert!(text.contains("\"k\""), "{text}");
        }
        // Skipping verification alone, or an explicit `false` beside a CA, is fine.
        let yaml = format!(
            "current-context: c\ncontexts:\n- name: c\n  context: {{cluster: k}}\nclusters:\n- name: k\n  cluster:\n    server: https://k\n    insecure-skip-tls-verify: false\n    certificate-authority-data: {}\n",
            ca_data()
        );
        let config = from_yaml(&yaml).await.expect("a CA that is used");
        assert!(!config.accept_invalid_certs && config.root_cert.is_some());
    }

    #[tokio::test]
    async fn a_cluster_without_server_is_named() {
        let yaml = "current-context: c\ncontexts:\n- name: c\n  context: {cluster: serverless}\nclusters:\n- name: serverless\n  cluster: {}\n";
        let err = from_yaml(yaml).await.expect_err("no server");
        assert!(err.to_string().contains("\"serverless\""), "{err}");
    }

    #[tokio::test]
    async fn a_bad_certificate_authority_names_cluster_and_file() {
        let yaml = "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: 'https://k', certificate-authority: /nonexistent/ca.pem}\n";
        let err = from_yaml(yaml).await.expect_err("no CA file");
        let text = err.to_string();
        assert!(text.contains("\"k\""), "{text}");
        assert!(text.contains("/nonexistent/ca.pem"), "{text}");

        let yaml = "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: 'https://k', certificate-authority-data: aGVsbG8=}\n";
        let err = from_yaml(yaml).await.expect_err("not PEM");
        assert!(
            err.to_string().contains("certificate-authority-data"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_certificate_authority_file_is_remembered() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.pem"), include_str!("test_data/ca.pem")).expect("ca");
        std::fs::write(
            dir.path().join("config"),
            "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: 'https://k', certificate-authority: ca.pem}\n",
        )
        .expect("config");
        let kubeconfig = Kubeconfig::read_from(dir.path().join("config")).expect("reads");
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("config");
        assert_eq!(config.root_cert_file, Some(dir.path().join("ca.pem")));
        assert_eq!(config.root_cert.map(|c| c.len()), Some(1));
    }

    #[tokio::test]
    async fn exec_plugins_asking_for_cluster_info_get_it() {
        let yaml = format!(
            r#"
current-context: c
contexts:
- name: c
  context: {{cluster: k, user: u}}
clusters:
- name: k
  cluster:
    server: https://k
    certificate-authority-data: {ca}
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {{audience: kube}}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: helper
      provideClusterInfo: true
"#,
            ca = ca_data()
        );
        let config = from_yaml(&yaml).await.expect("config");
        let cluster = config
            .auth_info
            .exec
            .and_then(|e| e.cluster)
            .expect("cluster info");
        assert_eq!(cluster.server.as_deref(), Some("https://k"));
        assert_eq!(
            cluster.certificate_authority_data.as_deref(),
            Some(include_bytes!("test_data/ca.pem").as_slice())
        );
        assert_eq!(
            cluster.config,
            Some(serde_json::json!({"audience": "kube"}))
        );
    }

    #[test]
    fn infer_errors_say_why_each_source_failed() {
        let err = InferConfigError {
            kubeconfig: KubeconfigError::ReadConfig(
                std::io::Error::from(std::io::ErrorKind::NotFound),
                PathBuf::from("/home/me/.kube/config"),
            ),
            in_cluster: Box::new(InClusterError::ReadEnvironmentVariable {
                name: "KUBERNETES_SERVICE_HOST",
            }),
        };
        let text = err.to_string();
        assert!(text.contains("/home/me/.kube/config"), "{text}");
        assert!(text.contains("KUBERNETES_SERVICE_HOST"), "{text}");
        let client_error = crate::Error::InferConfig(err).to_string();
        assert!(
            client_error.contains("/home/me/.kube/config"),
            "{client_error}"
        );
    }

    #[test]
    fn debug_hides_credentials_and_header_values() {
        let mut config = Config::new(http::Uri::from_static("https://admin:url-secret@k"));
        config.proxy_url = Some(http::Uri::from_static("http://p:proxy-secret@proxy:3128"));
        config.auth_info.token = Some("secret-token-value".into());
        config.auth_info.password = Some("secret-password".into());
        config.auth_info.client_key_data = Some("c2VjcmV0LWtleQ==".into());
        config.headers.push((
            HeaderName::from_static("x-api-key"),
            HeaderValue::from_static("secret-header-value"),
        ));
        let text = format!("{config:?}");
        for secret in [
            "secret-token-value",
            "secret-password",
            "c2VjcmV0LWtleQ==",
            "secret-header-value",
            "url-secret",
            "proxy-secret",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.contains("x-api-key"), "{text}");
        assert!(text.contains("@k"), "{text}");
        assert!(text.contains("proxy:3128"), "{text}");
    }

    #[test]
    fn kubeconfigs_compare_by_content_secrets_included() {
        let yaml = |token: &str| {
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://k\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n  user:\n    token: {token}\n"
            )
        };
        let parse = |token: &str| Kubeconfig::from_yaml(&yaml(token)).expect("kubeconfig");
        assert_eq!(parse("one"), parse("one"));
        assert_ne!(parse("one"), parse("two"));
        let user = |config: Kubeconfig| config.auth_infos[0].auth_info.clone();
        assert_eq!(user(parse("one")), user(parse("one")));
        assert_ne!(user(parse("one")), user(parse("two")));
    }
}
