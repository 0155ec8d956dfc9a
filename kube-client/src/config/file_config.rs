//! The kubeconfig file format: named clusters, users and contexts.
//!
//! These types mirror the YAML that `kubectl` reads and writes (client-go's
//! `clientcmd/api/v1`). Fields this crate does not model are kept in `other`, so a
//! file read and written back loses nothing. Reading, merging and choosing a
//! context live in the sibling `file_loader` module.
//!
//! Secrets — tokens, passwords, private keys, exec plugin environment values and
//! auth-provider settings — never appear in `Debug` output.

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::redact::{RedactedList, RedactedUrl};

/// The name of the cluster extension whose value is handed to exec plugins as
/// `spec.cluster.config`.
pub(crate) const EXEC_CLUSTER_EXTENSION: &str = "client.authentication.k8s.io/exec";

/// What `Debug` shows in place of a secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// A kubeconfig file: where clusters are, who the users are, and contexts pairing
/// the two.
///
/// Usually read with [`Kubeconfig::read`] (the files `kubectl` would use) and
/// turned into a [`Config`](crate::Config) by
/// [`Config::from_custom_kubeconfig`](crate::Config::from_custom_kubeconfig).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Kubeconfig {
    /// Settings for `kubectl`'s own behaviour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferences: Option<Preferences>,
    /// The clusters, by name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub clusters: Vec<NamedCluster>,
    /// The users (credentials), by name.
    #[serde(rename = "users", default, deserialize_with = "null_as_default")]
    pub auth_infos: Vec<NamedAuthInfo>,
    /// The contexts, by name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub contexts: Vec<NamedContext>,
    /// The context used when none is chosen explicitly.
    #[serde(rename = "current-context", skip_serializing_if = "Option::is_none")]
    pub current_context: Option<String>,
    /// Data for tools that extend kubeconfig.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    /// Always `Config` when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Always `v1` when set.
    #[serde(rename = "apiVersion", skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Top-level fields this crate does not model, kept for writing the file back.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// `kubectl` preferences (unused by this crate, kept for round trips).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Preferences {
    /// Whether `kubectl` may colour its output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colors: Option<bool>,
    /// Data for tools that extend kubeconfig.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// A named piece of extension data, free-form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedExtension {
    /// The extension's name.
    pub name: String,
    /// The extension's data.
    pub extension: serde_json::Value,
}

/// A cluster with its name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedCluster {
    /// The name contexts refer to it by.
    pub name: String,
    /// Where the cluster is and how to trust it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<Cluster>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// How to reach and trust one apiserver.
///
/// `Debug` hides the user info of the server and proxy URLs, and shows only
/// the names of extensions and unmodelled fields.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// The apiserver's URL, e.g. `https://10.0.0.1:6443`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Do not verify the server's certificate. Anyone on the path can then
    /// impersonate the apiserver.
    #[serde(
        rename = "insecure-skip-tls-verify",
        skip_serializing_if = "Option::is_none"
    )]
    pub insecure_skip_tls_verify: Option<bool>,
    /// A PEM file of certificate authorities to trust for this server.
    #[serde(
        rename = "certificate-authority",
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_authority: Option<String>,
    /// Base64 of a PEM bundle of certificate authorities; wins over
    /// `certificate-authority`.
    #[serde(
        rename = "certificate-authority-data",
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_authority_data: Option<String>,
    /// An `http://`, `https://` or `socks5://` proxy to reach the server through.
    #[serde(rename = "proxy-url", skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// Do not ask the server for compressed responses.
    #[serde(
        rename = "disable-compression",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_compression: Option<bool>,
    /// The name the server's certificate is checked against, instead of the host
    /// in `server`.
    #[serde(rename = "tls-server-name", skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    /// Data for tools that extend kubeconfig; the `client.authentication.k8s.io/exec`
    /// entry is passed to exec plugins that ask for cluster information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.server.as_deref().map(RedactedUrl))
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("certificate_authority", &self.certificate_authority)
            .field(
                "certificate_authority_data",
                &self
                    .certificate_authority_data
                    .as_ref()
                    .map(|data| format!("<{} base64 characters>", data.len())),
            )
            .field("proxy_url", &self.proxy_url.as_deref().map(RedactedUrl))
            .field("disable_compression", &self.disable_compression)
            .field("tls_server_name", &self.tls_server_name)
            .field(
                "extensions",
                &self.extensions.as_deref().map(ExtensionNames),
            )
            .field("other", &OtherKeys(&self.other))
            .finish()
    }
}

/// A user (credentials) with its name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedAuthInfo {
    /// The name contexts refer to it by.
    pub name: String,
    /// The credentials.
    #[serde(rename = "user", skip_serializing_if = "Option::is_none")]
    pub auth_info: Option<AuthInfo>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// The credentials of a kubeconfig `user` entry, and whom to impersonate.
///
/// Several ways to authenticate may be set; a client uses, in this order of
/// preference, `tokenFile`, `token`, `username`/`password`, `exec`, and an
/// `auth-provider`'s stored token — together with the client certificate, when
/// one is set.
///
/// `Debug` shows which fields are set but never the token, password, private key,
/// exec environment values or auth-provider settings.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct AuthInfo {
    /// The user name for HTTP basic authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The password for HTTP basic authentication.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_secret"
    )]
    pub password: Option<SecretString>,
    /// A bearer token.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_secret"
    )]
    pub token: Option<SecretString>,
    /// A file holding a bearer token, re-read as it changes (service account
    /// tokens are rotated); wins over `token`.
    #[serde(rename = "tokenFile", skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    /// A PEM file with the client certificate (and its chain) for TLS.
    #[serde(rename = "client-certificate", skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    /// Base64 of the PEM client certificate; wins over `client-certificate`.
    #[serde(
        rename = "client-certificate-data",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_certificate_data: Option<String>,
    /// A PEM file with the client certificate's private key.
    #[serde(rename = "client-key", skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    /// Base64 of the PEM private key; wins over `client-key`.
    #[serde(
        rename = "client-key-data",
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_secret"
    )]
    pub client_key_data: Option<SecretString>,
    /// The user to act as (`Impersonate-User`).
    #[serde(rename = "as", skip_serializing_if = "Option::is_none")]
    pub impersonate: Option<String>,
    /// The UID to act as (`Impersonate-Uid`).
    #[serde(rename = "as-uid", skip_serializing_if = "Option::is_none")]
    pub impersonate_uid: Option<String>,
    /// The groups to act as (`Impersonate-Group`).
    #[serde(rename = "as-groups", skip_serializing_if = "Option::is_none")]
    pub impersonate_groups: Option<Vec<String>>,
    /// Extra attributes of the impersonated user (`Impersonate-Extra-<key>`).
    #[serde(rename = "as-user-extra", skip_serializing_if = "Option::is_none")]
    pub impersonate_user_extra: Option<HashMap<String, Vec<String>>>,
    /// Data for tools that extend kubeconfig.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    /// A legacy authentication provider; only a stored `access-token` (or an `oidc`
    /// provider's `id-token`) is used.
    #[serde(rename = "auth-provider", skip_serializing_if = "Option::is_none")]
    pub auth_provider: Option<AuthProviderConfig>,
    /// A credential plugin: a program printing an `ExecCredential`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecConfig>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// Secrets are compared by their contents.
impl PartialEq for AuthInfo {
    fn eq(&self, other: &Self) -> bool {
        fn same(a: &Option<SecretString>, b: &Option<SecretString>) -> bool {
            a.as_ref().map(ExposeSecret::expose_secret)
                == b.as_ref().map(ExposeSecret::expose_secret)
        }
        // Destructured so that a field added later cannot be forgotten here.
        let AuthInfo {
            username,
            password,
            token,
            token_file,
            client_certificate,
            client_certificate_data,
            client_key,
            client_key_data,
            impersonate,
            impersonate_uid,
            impersonate_groups,
            impersonate_user_extra,
            extensions,
            auth_provider,
            exec,
            other: other_fields,
        } = self;
        *username == other.username
            && same(password, &other.password)
            && same(token, &other.token)
            && *token_file == other.token_file
            && *client_certificate == other.client_certificate
            && *client_certificate_data == other.client_certificate_data
            && *client_key == other.client_key
            && same(client_key_data, &other.client_key_data)
            && *impersonate == other.impersonate
            && *impersonate_uid == other.impersonate_uid
            && *impersonate_groups == other.impersonate_groups
            && *impersonate_user_extra == other.impersonate_user_extra
            && *extensions == other.extensions
            && *auth_provider == other.auth_provider
            && *exec == other.exec
            && *other_fields == other.other
    }
}

impl fmt::Debug for AuthInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthInfo")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .field("token", &self.token.as_ref().map(|_| REDACTED))
            .field("token_file", &self.token_file)
            .field("client_certificate", &self.client_certificate)
            .field(
                "client_certificate_data",
                &self
                    .client_certificate_data
                    .as_ref()
                    .map(|data| format!("<{} base64 characters>", data.len())),
            )
            .field("client_key", &self.client_key)
            .field(
                "client_key_data",
                &self.client_key_data.as_ref().map(|_| REDACTED),
            )
            .field("impersonate", &self.impersonate)
            .field("impersonate_uid", &self.impersonate_uid)
            .field("impersonate_groups", &self.impersonate_groups)
            .field("impersonate_user_extra", &self.impersonate_user_extra)
            .field("auth_provider", &self.auth_provider)
            .field("exec", &self.exec)
            .field("other", &OtherKeys(&self.other))
            .finish_non_exhaustive()
    }
}

/// A legacy authentication provider (`gcp`, `oidc`, `azure`, ...).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthProviderConfig {
    /// The provider's name.
    pub name: String,
    /// The provider's settings, often including tokens and client secrets.
    #[serde(default)]
    pub config: HashMap<String, String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl fmt::Debug for AuthProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&str> = self.config.keys().map(String::as_str).collect();
        keys.sort_unstable();
        f.debug_struct("AuthProviderConfig")
            .field("name", &self.name)
            .field("config_keys", &keys)
            .field("other", &OtherKeys(&self.other))
            .finish()
    }
}

/// A credential plugin: a command printing an `ExecCredential` with a token or a
/// client certificate.
///
/// The command is run directly, with exactly these arguments and extra
/// environment variables, never through a shell.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecConfig {
    /// The `ExecCredential` version the plugin speaks:
    /// `client.authentication.k8s.io/v1` or `client.authentication.k8s.io/v1beta1`.
    #[serde(rename = "apiVersion", skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The program to run: a name looked up in `PATH`, or a path (relative paths
    /// with a directory part are taken relative to the kubeconfig file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The program's arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Extra environment variables, each a map with `name` and `value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<HashMap<String, String>>>,
    /// Variables removed from the environment the program inherits.
    #[serde(skip)]
    pub drop_env: Option<Vec<String>>,
    /// Shown to the user when the program cannot be found.
    #[serde(rename = "installHint", skip_serializing_if = "Option::is_none")]
    pub install_hint: Option<String>,
    /// Whether the program may read from the terminal.
    #[serde(rename = "interactiveMode", skip_serializing_if = "Option::is_none")]
    pub interactive_mode: Option<ExecInteractiveMode>,
    /// Pass the cluster's details to the program in `KUBERNETES_EXEC_INFO`.
    #[serde(rename = "provideClusterInfo", default)]
    pub provide_cluster_info: bool,
    /// The cluster's details, filled in from the selected cluster when
    /// `provide_cluster_info` is set.
    #[serde(skip)]
    pub cluster: Option<ExecAuthCluster>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl fmt::Debug for ExecConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env_names: Option<Vec<&str>> = self.env.as_ref().map(|env| {
            env.iter()
                .map(|pair| pair.get("name").map_or("<unnamed>", String::as_str))
                .collect()
        });
        f.debug_struct("ExecConfig")
            .field("api_version", &self.api_version)
            .field("command", &self.command)
            .field("args", &self.args.as_ref().map(|a| RedactedList(a.len())))
            .field("env_names", &env_names)
            .field("drop_env", &self.drop_env)
            .field("install_hint", &self.install_hint)
            .field("interactive_mode", &self.interactive_mode)
            .field("provide_cluster_info", &self.provide_cluster_info)
            .field("cluster", &self.cluster)
            .field("other", &OtherKeys(&self.other))
            .finish()
    }
}

/// Whether an exec plugin may interact with the user through the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecInteractiveMode {
    /// Never give the plugin the terminal.
    Never,
    /// Give the plugin the terminal when there is one.
    IfAvailable,
    /// The plugin needs the terminal; fail when there is none.
    Always,
}

/// The cluster's details as an exec plugin receives them in
/// `KUBERNETES_EXEC_INFO` (`spec.cluster`).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ExecAuthCluster {
    /// The apiserver's URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Whether the server's certificate is not verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure_skip_tls_verify: Option<bool>,
    /// The PEM certificate authorities of the cluster (base64 on the wire).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "base64_bytes"
    )]
    pub certificate_authority_data: Option<Vec<u8>>,
    /// The proxy the cluster is reached through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// The name the server's certificate is checked against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    /// The cluster's `client.authentication.k8s.io/exec` extension, free-form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
}

impl fmt::Debug for ExecAuthCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecAuthCluster")
            .field("server", &self.server.as_deref().map(RedactedUrl))
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field(
                "certificate_authority_data",
                &self
                    .certificate_authority_data
                    .as_ref()
                    .map(|data| format!("<{} bytes>", data.len())),
            )
            .field("proxy_url", &self.proxy_url.as_deref().map(RedactedUrl))
            .field("tls_server_name", &self.tls_server_name)
            .field("config", &self.config.as_ref().map(|_| REDACTED))
            .finish()
    }
}

/// A context with its name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedContext {
    /// The context's name.
    pub name: String,
    /// Which cluster and user, and the default namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// A cluster, a user and a default namespace used together.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The name of the cluster.
    #[serde(default)]
    pub cluster: String,
    /// The name of the user; none means anonymous requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The namespace used when a request names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Data for tools that extend kubeconfig.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// Shows only the names of extensions: their data may be secrets.
struct ExtensionNames<'a>(&'a [NamedExtension]);

impl fmt::Debug for ExtensionNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|e| &e.name))
            .finish()
    }
}

/// Shows only the keys of unmodelled fields: their values may be secrets.
struct OtherKeys<'a>(&'a BTreeMap<String, serde_json::Value>);

impl fmt::Debug for OtherKeys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// Reads `null` (or an empty value) as the type's default, as `kubectl` does for
/// `clusters:` with nothing after it.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Writes a secret as its plain value: serialising a kubeconfig is writing the
/// file back, and the file holds the secret.
fn serialize_secret<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_str(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}

/// Bytes as a base64 string, as `ExecCluster.certificate-authority-data` is sent.
mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => {
                serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map(Some)
                .map_err(D::Error::custom),
            None => Ok(None),
        }
    }
}
