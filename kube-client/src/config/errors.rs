//! What can go wrong while loading a configuration, with enough detail to fix it:
//! the file, the context, cluster or user name, and what was missing or malformed.

use std::path::PathBuf;

use super::InClusterError;

/// Neither a kubeconfig nor an in-cluster service account could be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "no usable cluster configuration: the kubeconfig failed ({kubeconfig}) and so did the in-cluster service account ({in_cluster})"
)]
pub struct InferConfigError {
    /// Why the kubeconfig could not be used.
    #[source]
    pub kubeconfig: KubeconfigError,
    /// Why the in-cluster configuration could not be used.
    pub in_cluster: Box<InClusterError>,
}

/// Why a kubeconfig could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// No context was chosen and the kubeconfig has no `current-context`.
    #[error(
        "the kubeconfig has no current-context and no context was chosen; set one with `kubectl config use-context NAME` or KubeConfigOptions::context"
    )]
    CurrentContextNotSet,

    /// Two kubeconfigs being merged have different `kind`s.
    #[error("cannot merge kubeconfigs of kind {first:?} and {next:?}")]
    KindMismatch {
        /// The kind of the kubeconfig merged into.
        first: String,
        /// The kind of the kubeconfig merged in.
        next: String,
    },

    /// Two kubeconfigs being merged have different `apiVersion`s.
    #[error("cannot merge kubeconfigs of apiVersion {first:?} and {next:?}")]
    ApiVersionMismatch {
        /// The version of the kubeconfig merged into.
        first: String,
        /// The version of the kubeconfig merged in.
        next: String,
    },

    /// The chosen context is not in the kubeconfig.
    #[error("the context {context:?} is not in the kubeconfig (it has: {})", names(.available))]
    LoadContext {
        /// The context that was asked for.
        context: String,
        /// The contexts the kubeconfig does have.
        available: Vec<String>,
    },

    /// The context's cluster is not in the kubeconfig (or the context names none).
    #[error("the cluster {cluster:?} of context {context:?} is not in the kubeconfig (it has: {})", names(.available))]
    LoadClusterOfContext {
        /// The cluster that was asked for.
        cluster: String,
        /// The context it was asked for by.
        context: String,
        /// The clusters the kubeconfig does have.
        available: Vec<String>,
    },

    /// The context's user is not in the kubeconfig.
    #[error("the user {user:?} of context {context:?} is not in the kubeconfig (it has: {})", names(.available))]
    FindUser {
        /// The user that was asked for.
        user: String,
        /// The context it was asked for by.
        context: String,
        /// The users the kubeconfig does have.
        available: Vec<String>,
    },

    /// There is no home directory to find `~/.kube/config` in, and `KUBECONFIG` is
    /// not set.
    #[error("cannot find a kubeconfig: KUBECONFIG is not set and there is no home directory")]
    FindPath,

    /// A kubeconfig file could not be read.
    #[error("could not read the kubeconfig {path}: {0}", path = .1.display())]
    ReadConfig(#[source] std::io::Error, PathBuf),

    /// None of the files listed in `KUBECONFIG` exists.
    #[error("none of the kubeconfig files listed in KUBECONFIG exists: {}", paths(.0))]
    NoKubeconfigFiles(Vec<PathBuf>),

    /// A kubeconfig is not valid YAML, or not shaped like a kubeconfig.
    #[error("the kubeconfig {} is malformed: {message}", .path.as_ref().map_or_else(|| "YAML".to_string(), |p| p.display().to_string()))]
    Parse {
        /// The file, when the kubeconfig came from one.
        path: Option<PathBuf>,
        /// What is wrong and where (line and column); quoted values from the file
        /// are left out, as they may be secrets.
        message: String,
    },

    /// The selected cluster has no `server`.
    #[error("the cluster {cluster:?} has no server URL")]
    MissingClusterUrl {
        /// The cluster's name.
        cluster: String,
    },

    /// The selected cluster's `server` is not a URL.
    #[error("the server URL of cluster {cluster:?} is not valid: {source}")]
    ParseClusterUrl {
        /// The cluster's name.
        cluster: String,
        /// Why it is not valid.
        #[source]
        source: http::uri::InvalidUri,
    },

    /// The selected cluster's `proxy-url` is not a URL.
    #[error("the proxy-url of cluster {cluster:?} is not valid: {source}")]
    ParseProxyUrl {
        /// The cluster's name.
        cluster: String,
        /// Why it is not valid.
        #[source]
        source: http::uri::InvalidUri,
    },

    /// The selected cluster both skips verification of the server's
    /// certificate and names a certificate authority to verify it with. As
    /// client-go does, this is refused rather than silently ignoring the
    /// authority: one of the two settings is a mistake.
    #[error(
        "the cluster {cluster:?} sets insecure-skip-tls-verify together with certificate-authority(-data); a certificate authority is only used to verify the server, so remove one of the two"
    )]
    InsecureWithCertificateAuthority {
        /// The cluster's name.
        cluster: String,
    },

    /// The selected cluster's certificate authority could not be loaded.
    #[error("could not load the certificate authority of cluster {cluster:?}: {source}")]
    LoadCertificateAuthority {
        /// The cluster's name.
        cluster: String,
        /// What failed.
        #[source]
        source: LoadDataError,
    },
}

/// Why data given inline (base64) or as a file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadDataError {
    /// The inline data is not valid base64.
    #[error("{field} is not valid base64: {source}")]
    DecodeBase64 {
        /// The kubeconfig field, e.g. `certificate-authority-data`.
        field: &'static str,
        /// Where decoding failed.
        #[source]
        source: base64::DecodeError,
    },

    /// The file could not be read.
    #[error("could not read {path}: {0}", path = .1.display())]
    ReadFile(#[source] std::io::Error, PathBuf),

    /// Neither inline data nor a file was given.
    #[error("neither {0}-data nor {0} is set")]
    NoBase64DataOrFile(&'static str),

    /// The data holds no PEM certificate, or a malformed one.
    #[error("{origin} holds no valid PEM certificate: {reason}")]
    ParseCertificates {
        /// Where the data came from: a field name or a file.
        origin: String,
        /// What is wrong.
        reason: String,
    },
}

/// A `NO_PROXY` list that cannot be read, in the terms of kube-rs' parser.
///
/// This client hands `NO_PROXY` (and `HTTPS_PROXY`, `HTTP_PROXY`) to its HTTP
/// stack, which, like curl and Go's `net/http`, skips an entry it cannot read
/// instead of failing: no function here returns this error. The type exists
/// so that code naming kube-rs' `config::NoProxyError` compiles.
#[derive(Debug, thiserror::Error)]
pub enum NoProxyError {
    /// The list is empty.
    #[error("the NO_PROXY list is empty")]
    EmptyInput,
    /// An entry between two commas is empty.
    #[error("the NO_PROXY list has an empty entry")]
    EmptyValue,
    /// An entry is neither a CIDR range, an IP address nor a host name.
    #[error("the NO_PROXY entry {input:?} is neither a CIDR range, an IP address nor a host")]
    ParseMatcher {
        /// The entry.
        input: String,
    },
    /// A URL checked against the list has no host.
    #[error("the URL {uri} has no host to check against NO_PROXY")]
    NoHost {
        /// The URL.
        uri: Box<http::Uri>,
    },
}

fn names(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

fn paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
