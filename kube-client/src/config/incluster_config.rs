//! Configuration inside a pod: the service account Kubernetes mounts into it.
//!
//! The apiserver's address comes from `KUBERNETES_SERVICE_HOST` and
//! `KUBERNETES_SERVICE_PORT` (or the `kubernetes.default.svc` DNS name), and the
//! token, CA bundle and namespace from files under
//! `/var/run/secrets/kubernetes.io/serviceaccount`. The token is a bound token
//! that the kubelet rotates, so it is configured as a token *file* that clients
//! re-read.

use std::path::{Path, PathBuf};

use super::{AuthInfo, Config, data};

/// Where Kubernetes mounts the service account's token, CA bundle and namespace.
pub(crate) const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
const HOST_ENV: &str = "KUBERNETES_SERVICE_HOST";
const PORT_ENV: &str = "KUBERNETES_SERVICE_PORT";

/// Why the in-cluster configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The namespace file of the service account could not be read.
    #[error("could not read the pod's namespace from {}: {source}", .path.display())]
    ReadDefaultNamespace {
        /// The namespace file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },

    /// An environment variable Kubernetes sets in every pod is missing.
    #[error("the environment variable {name} is not set (is this running in a pod?)")]
    ReadEnvironmentVariable {
        /// The variable.
        name: &'static str,
    },

    /// The service account's token file could not be read.
    #[error("could not read the service account token {}: {source}", .path.display())]
    ReadToken {
        /// The token file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },

    /// The service account's CA bundle could not be loaded.
    #[error("could not load the cluster's certificate authority: {0}")]
    ReadCertificateBundle(#[source] super::LoadDataError),

    /// `KUBERNETES_SERVICE_PORT` is not a port number.
    #[error("KUBERNETES_SERVICE_PORT={port:?} is not a port number: {source}")]
    ParseClusterPort {
        /// The variable's value.
        port: String,
        /// Why it is not a port.
        #[source]
        source: std::num::ParseIntError,
    },

    /// The apiserver address does not form a valid URL.
    #[error("the in-cluster apiserver URL {url:?} is not valid: {source}")]
    ParseClusterUrl {
        /// The URL that was formed.
        url: String,
        /// Why it is not valid.
        #[source]
        source: http::uri::InvalidUri,
    },
}

/// Where the apiserver is found.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Address {
    /// `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`.
    Environment,
    /// `https://kubernetes.default.svc`.
    Dns,
}

/// Builds the in-cluster configuration from the environment (`env`) and the
/// service account directory (`dir`).
pub(crate) fn load(
    address: Address,
    env: impl Fn(&str) -> Option<String>,
    dir: &Path,
) -> Result<Config, Error> {
    let url = match address {
        Address::Environment => {
            let host = env(HOST_ENV)
                .filter(|h| !h.is_empty())
                .ok_or(Error::ReadEnvironmentVariable { name: HOST_ENV })?;
            let port = env(PORT_ENV)
                .filter(|p| !p.is_empty())
                .ok_or(Error::ReadEnvironmentVariable { name: PORT_ENV })?;
            let port: u16 = port.parse().map_err(|source| Error::ParseClusterPort {
                port: port.clone(),
                source,
            })?;
            // IPv6 addresses need brackets in URLs.
            if host.contains(':') && !host.starts_with('[') {
                format!("https://[{host}]:{port}")
            } else {
                format!("https://{host}:{port}")
            }
        }
        Address::Dns => "https://kubernetes.default.svc".to_string(),
    };
    let cluster_url = url
        .parse::<http::Uri>()
        .map_err(|source| Error::ParseClusterUrl {
            url: url.clone(),
            source,
        })?;

    let token_path = dir.join("token");
    // Read once now so that a pod without a mounted token fails here, not on the
    // first request; the client re-reads the file as it rotates.
    data::read_file(&token_path, data::MAX_DATA_FILE).map_err(|source| Error::ReadToken {
        path: token_path.clone(),
        source,
    })?;
    let ca_path = dir.join("ca.crt");
    let root_cert = data::pem_certificates_file(&ca_path).map_err(Error::ReadCertificateBundle)?;
    let namespace_path = dir.join("namespace");
    let namespace = data::read_file(&namespace_path, data::MAX_DATA_FILE)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|source| Error::ReadDefaultNamespace {
            path: namespace_path.clone(),
            source,
        })?;

    let mut config = Config::new(cluster_url);
    config.default_namespace = namespace.trim().to_string();
    config.root_cert = Some(root_cert);
    config.root_cert_file = Some(ca_path);
    config.auth_info = AuthInfo {
        token_file: Some(token_path.to_string_lossy().into_owned()),
        ..AuthInfo::default()
    };
    Ok(config)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn service_account_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("token"), "sa-token").expect("token");
        std::fs::write(dir.path().join("ca.crt"), include_str!("test_data/ca.pem")).expect("ca");
        std::fs::write(dir.path().join("namespace"), "team-b\n").expect("namespace");
        dir
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn the_service_account_is_configured_from_env_and_files() {
        let dir = service_account_dir();
        let vars = env(&[(HOST_ENV, "10.96.0.1"), (PORT_ENV, "443")]);
        let config = load(Address::Environment, vars, dir.path()).expect("in cluster");
        assert_eq!(config.cluster_url, "https://10.96.0.1:443/");
        assert_eq!(config.default_namespace, "team-b");
        assert_eq!(config.root_cert.as_ref().map(Vec::len), Some(1));
        assert_eq!(
            config.auth_info.token_file.as_deref(),
            dir.path().join("token").to_str()
        );
        assert!(config.auth_info.token.is_none());
    }

    #[test]
    fn ipv6_hosts_get_brackets_and_dns_needs_no_env() {
        let dir = service_account_dir();
        let vars = env(&[(HOST_ENV, "fd00::1"), (PORT_ENV, "6443")]);
        let config = load(Address::Environment, vars, dir.path()).expect("in cluster");
        assert_eq!(config.cluster_url, "https://[fd00::1]:6443/");
        let config = load(Address::Dns, env(&[]), dir.path()).expect("dns");
        assert_eq!(config.cluster_url, "https://kubernetes.default.svc/");
    }

    #[test]
    fn outside_a_pod_the_missing_variable_is_named() {
        let dir = service_account_dir();
        let err = load(Address::Environment, env(&[]), dir.path()).expect_err("no env");
        assert!(err.to_string().contains(HOST_ENV), "{err}");
        let vars = env(&[(HOST_ENV, "10.0.0.1"), (PORT_ENV, "https")]);
        let err = load(Address::Environment, vars, dir.path()).expect_err("bad port");
        assert!(err.to_string().contains("\"https\""), "{err}");
    }

    #[test]
    fn missing_files_are_named() {
        let dir = service_account_dir();
        let vars = || env(&[(HOST_ENV, "10.0.0.1"), (PORT_ENV, "443")]);
        std::fs::remove_file(dir.path().join("namespace")).expect("rm");
        let err = load(Address::Environment, vars(), dir.path()).expect_err("no namespace");
        assert!(err.to_string().contains("namespace"), "{err}");
        std::fs::remove_file(dir.path().join("ca.crt")).expect("rm");
        let err = load(Address::Environment, vars(), dir.path()).expect_err("no ca");
        assert!(err.to_string().contains("ca.crt"), "{err}");
        std::fs::remove_file(dir.path().join("token")).expect("rm");
        let err = load(Address::Environment, vars(), dir.path()).expect_err("no token");
        assert!(err.to_string().contains("token"), "{err}");
    }
}
