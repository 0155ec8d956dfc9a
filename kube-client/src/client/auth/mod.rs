//! Credentials: what the client adds to each request to say who it is, and whom
//! it acts as.
//!
//! A kubeconfig user can authenticate by bearer token (inline, or a file re-read
//! as it rotates), by HTTP basic auth, by an exec plugin, by a legacy
//! auth-provider's stored token, and by a client certificate (handled in the TLS
//! layer). Impersonation (`as`, `as-groups`, `as-uid`, `as-user-extra`) becomes
//! `Impersonate-*` headers.
//!
//! After a `401 Unauthorized` the client calls [`Credentials::invalidate`] and
//! retries once: a token file is read again and an exec plugin run again.

use std::path::PathBuf;

use base64::Engine;
use http::{HeaderName, HeaderValue, header::InvalidHeaderValue};
use secrecy::ExposeSecret;

use crate::Config;

mod command;
mod exec;
mod gcp;
#[cfg(test)]
mod loopback;
#[cfg(feature = "oidc")]
mod oidc;
mod token_file;

#[cfg(feature = "oauth")]
pub use gcp::OAuthError;

#[cfg(feature = "oidc")]
pub use oidc::errors as oidc_errors;

use exec::ExecPlugin;
use token_file::TokenFile;

/// Why credentials could not be loaded or refreshed. Messages never contain the
/// credentials themselves.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user name or password cannot be sent in a header.
    #[error(
        "the basic auth user name or password contains characters not allowed in a header: {0}"
    )]
    InvalidBasicAuth(#[source] InvalidHeaderValue),

    /// A token cannot be sent in a header.
    #[error("{origin} contains characters not allowed in a header: {source}")]
    InvalidBearerToken {
        /// Where the token came from.
        origin: &'static str,
        /// What `http` reported.
        #[source]
        source: InvalidHeaderValue,
    },

    /// An impersonation value cannot be sent in a header.
    #[error("the impersonation setting {field} contains characters not allowed in a header")]
    InvalidImpersonation {
        /// The kubeconfig field (`as`, `as-groups`, `as-uid` or `as-user-extra`).
        field: &'static str,
    },

    /// The token file could not be read.
    #[error("could not read the token file {path}: {0}", path = .1.display())]
    ReadTokenFile(#[source] std::io::Error, PathBuf),

    /// The token file holds no token.
    #[error("the token file {} is empty", .0.display())]
    EmptyTokenFile(PathBuf),

    /// The exec plugin configuration has no command.
    #[error("the exec plugin configuration has no command")]
    MissingCommand,

    /// The exec plugin's `apiVersion` is missing or not supported.
    #[error(
        "the exec plugin {command} has apiVersion {api_version:?}; supported are client.authentication.k8s.io/v1 and client.authentication.k8s.io/v1beta1"
    )]
    UnsupportedExecApiVersion {
        /// The plugin's command.
        command: String,
        /// The configured version.
        api_version: Option<String>,
    },

    /// `provideClusterInfo` is set but no cluster information was filled in.
    #[error(
        "the exec plugin {command} asks for cluster information (provideClusterInfo) but the configuration has none; load it with Config::from_kubeconfig"
    )]
    ExecMissingClusterInfo {
        /// The plugin's command.
        command: String,
    },

    /// The exec plugin's program was not found.
    #[error(
        "the exec plugin {command:?} was not found{}",
        .install_hint.as_deref().map(|h| format!("; {}", h.trim())).unwrap_or_default()
    )]
    ExecCommandNotFound {
        /// The plugin's command.
        command: String,
        /// The kubeconfig's `installHint`.
        install_hint: Option<String>,
    },

    /// The exec plugin's program could not be started.
    #[error("could not run the exec plugin {command}: {source}")]
    AuthExecStart {
        /// The plugin's command.
        command: String,
        /// What the operating system reported.
        #[source]
        source: std::io::Error,
    },

    /// The exec plugin exited with a failure.
    #[error("the exec plugin {command} failed ({status}): {stderr}")]
    AuthExecRun {
        /// The plugin's command.
        command: String,
        /// How it exited.
        status: std::process::ExitStatus,
        /// The end of what it wrote to stderr.
        stderr: String,
    },

    /// The exec plugin ran without a terminal and did not finish in time; it
    /// was stopped.
    #[error("the exec plugin {command} did not finish within {limit:?} and was stopped")]
    AuthExecTimeout {
        /// The plugin's command.
        command: String,
        /// How long it was given.
        limit: std::time::Duration,
    },

    /// The exec plugin printed more than an `ExecCredential` can be; it was
    /// stopped.
    #[error(
        "the exec plugin {command} printed more than {}, which no ExecCredential needs; it was stopped",
        crate::error::human_bytes(*limit as u64)
    )]
    AuthExecOutputTooLarge {
        /// The plugin's command.
        command: String,
        /// The most output read, in bytes.
        limit: usize,
    },

    /// The exec plugin's output is not an `ExecCredential`.
    #[error("the exec plugin {command} did not print a valid ExecCredential: {reason}")]
    AuthExecParse {
        /// The plugin's command.
        command: String,
        /// What is wrong with it (never its content).
        reason: String,
    },

    /// The `ExecCredential` could not be prepared for the plugin.
    #[error("could not encode KUBERNETES_EXEC_INFO: {0}")]
    AuthExecSerialize(#[source] serde_json::Error),

    /// The exec plugin's `ExecCredential` has no `status`.
    #[error("the exec plugin {command} printed an ExecCredential without status")]
    ExecPluginFailed {
        /// The plugin's command.
        command: String,
    },

    /// The exec plugin gave neither a token nor a client certificate.
    #[error("the exec plugin {command} gave neither a token nor a client certificate")]
    ExecNoCredential {
        /// The plugin's command.
        command: String,
    },

    /// The exec plugin gave a client certificate without key, or a key without
    /// certificate.
    #[error("the exec plugin {command} gave only one of clientCertificateData and clientKeyData")]
    ExecIncompleteCertificate {
        /// The plugin's command.
        command: String,
    },

    /// The exec plugin's client certificate or key is not usable.
    #[error("the client certificate of the exec plugin {command} is not usable: {source}")]
    ExecClientCertificate {
        /// The plugin's command.
        command: String,
        /// What is wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The exec plugin gave a client certificate, which only the default
    /// stack (with the `rustls-tls` feature) can present.
    #[error(
        "the exec plugin {command} gave a client certificate, which only a client made by Client::try_from with kube-client's rustls-tls feature can present (a stack built from ConfigExt pieces cannot change its certificate)"
    )]
    ExecCertificateUnsupported {
        /// The plugin's command.
        command: String,
    },

    /// The exec plugin's expiration time is not an RFC 3339 time.
    #[error(
        "the exec plugin {command} gave an expirationTimestamp {value:?} that is not an RFC 3339 time: {source}"
    )]
    MalformedTokenExpirationDate {
        /// The plugin's command.
        command: String,
        /// The value it gave.
        value: String,
        /// What is wrong with it.
        #[source]
        source: jiff::Error,
    },

    /// Google's application default credentials gave no token for the `gcp`
    /// auth-provider (feature `oauth`).
    #[cfg(feature = "oauth")]
    #[error("the gcp auth-provider could not get a token: {0}")]
    OAuth(#[source] OAuthError),

    /// The `gcp` auth-provider's stored token has expired and nothing can
    /// renew it (without the `oauth` feature and without `cmd-path`).
    #[error(
        "the gcp auth-provider's token has expired and it has no cmd-path to renew it; turn on kube-client's oauth feature to use Google's application default credentials, or run gcloud to refresh the kubeconfig"
    )]
    GcpTokenUnavailable,

    /// A `gcp` auth-provider's expiry is not an RFC 3339 time.
    #[error("{what} is not an RFC 3339 time: {source}")]
    GcpInvalidExpiry {
        /// Which setting or output it was.
        what: &'static str,
        /// What is wrong with it.
        #[source]
        source: jiff::Error,
    },

    /// The `oidc` auth-provider gave no token (feature `oidc`).
    #[cfg(feature = "oidc")]
    #[error("the oidc auth-provider failed: {0}")]
    Oidc(#[source] oidc_errors::Error),

    /// The exec plugin needs a terminal (`interactiveMode: Always`) and there is
    /// none.
    #[error(
        "the exec plugin {command} needs a terminal (interactiveMode: Always) but standard input is not one"
    )]
    ExecNeedsTerminal {
        /// The plugin's command.
        command: String,
    },
}

/// The credentials of one client.
#[derive(Debug)]
pub(crate) struct Credentials {
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// Anonymous, or a client certificate only.
    None,
    /// A fixed `Authorization` header (token, basic auth, auth-provider token).
    Fixed(HeaderValue),
    /// A token file, re-read as it changes.
    TokenFile(TokenFile),
    /// An exec plugin.
    Exec(Box<ExecPlugin>),
    /// The `oidc` auth-provider, refreshing its ID token.
    #[cfg(feature = "oidc")]
    Oidc(Box<oidc::Oidc>),
    /// The `gcp` auth-provider, renewing its access token.
    Gcp(Box<gcp::Gcp>),
}

impl Credentials {
    /// The credentials of `config`'s user. A client identity (client certificate)
    /// is handled by the TLS layer; exec plugins that hand out certificates put
    /// them into `identity`.
    pub(crate) fn new(
        config: &Config,
        #[cfg(feature = "rustls-tls")] identity: Option<std::sync::Arc<super::tls::ClientIdentity>>,
    ) -> Result<Self, Error> {
        let auth = &config.auth_info;
        let token = auth
            .token
            .as_ref()
            .map(|t| t.expose_secret().trim())
            .filter(|t| !t.is_empty());
        let source = if let Some(path) = auth.token_file.as_deref().filter(|p| !p.is_empty()) {
            Source::TokenFile(TokenFile::new(PathBuf::from(path))?)
        } else if let Some(token) = token {
            Source::Fixed(bearer(token, "the token")?)
        } else if let Some(username) = auth.username.as_deref().filter(|u| !u.is_empty()) {
            let password = auth.password.as_ref().map_or("", |p| p.expose_secret());
            Source::Fixed(basic(username, password)?)
        } else if let Some(exec) = &auth.exec {
            Source::Exec(Box::new(ExecPlugin::new(
                exec,
                #[cfg(feature = "rustls-tls")]
                identity,
            )?))
        } else if let Some(provider) = auth
            .auth_provider
            .as_ref()
            .filter(|p| cfg!(feature = "oidc") && p.name == "oidc")
        {
            oidc_source(&provider.config)?
        } else if let Some(provider) = auth.auth_provider.as_ref().filter(|p| p.name == "gcp") {
            match gcp::Provider::from_settings(&provider.config)? {
                gcp::Provider::Fixed(value) => Source::Fixed(value),
                gcp::Provider::Renewing(gcp) => Source::Gcp(Box::new(gcp)),
            }
        } else if let Some(token) = auth.auth_provider.as_ref().and_then(|provider| {
            provider
                .config
                .get("access-token")
                .or_else(|| {
                    (provider.name == "oidc")
                        .then(|| provider.config.get("id-token"))
                        .flatten()
                })
                .filter(|t| !t.is_empty())
        }) {
            Source::Fixed(bearer(token, "the auth-provider's token")?)
        } else {
            Source::None
        };
        Ok(Self { source })
    }

    /// Whether requests get an `Authorization` header at all.
    pub(crate) fn is_some(&self) -> bool {
        !matches!(self.source, Source::None)
    }

    /// The `Authorization` header for the next request, if any; may run an exec
    /// plugin or read a token file.
    pub(crate) async fn authorization(&self) -> Result<Option<HeaderValue>, Error> {
        match &self.source {
            Source::None => Ok(None),
            Source::Fixed(value) => Ok(Some(value.clone())),
            Source::TokenFile(file) => Ok(Some(file.header())),
            Source::Exec(plugin) => plugin.authorization().await,
            #[cfg(feature = "oidc")]
            Source::Oidc(provider) => provider
                .authorization()
                .await
                .map(Some)
                .map_err(Error::Oidc),
            Source::Gcp(provider) => provider.authorization().await.map(Some),
        }
    }

    /// Forgets what the server just refused: token files are read again, exec
    /// plugins run again. Returns whether the next request may carry different
    /// credentials (a fixed token will not change).
    pub(crate) fn invalidate(&self) -> bool {
        match &self.source {
            Source::None | Source::Fixed(_) => false,
            Source::TokenFile(file) => {
                file.invalidate();
                true
            }
            Source::Exec(plugin) => {
                plugin.invalidate();
                true
            }
            #[cfg(feature = "oidc")]
            Source::Oidc(provider) => {
                provider.invalidate();
                true
            }
            Source::Gcp(provider) => {
                provider.invalidate();
                true
            }
        }
    }
}

/// The `oidc` auth-provider, refreshing its token.
#[cfg(feature = "oidc")]
fn oidc_source(config: &std::collections::HashMap<String, String>) -> Result<Source, Error> {
    Ok(Source::Oidc(Box::new(
        oidc::Oidc::new(config).map_err(Error::Oidc)?,
    )))
}

/// Without the `oidc` feature the provider's stored token is used as it is.
#[cfg(not(feature = "oidc"))]
fn oidc_source(_config: &std::collections::HashMap<String, String>) -> Result<Source, Error> {
    Ok(Source::None)
}

/// `Bearer <token>`, marked sensitive.
fn bearer(token: &str, origin: &'static str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|source| Error::InvalidBearerToken { origin, source })?;
    value.set_sensitive(true);
    Ok(value)
}

/// `Basic <base64(user:password)>`, marked sensitive.
fn basic(username: &str, password: &str) -> Result<HeaderValue, Error> {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut value =
        HeaderValue::try_from(format!("Basic {encoded}")).map_err(Error::InvalidBasicAuth)?;
    value.set_sensitive(true);
    Ok(value)
}

/// The `Impersonate-User`, `-Uid`, `-Group` and `-Extra-*` headers of the user's
/// `as`, `as-uid`, `as-groups` and `as-user-extra`.
pub(crate) fn impersonation_headers(
    config: &Config,
) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
    let auth = &config.auth_info;
    let value = |text: &str, field: &'static str| {
        HeaderValue::try_from(text).map_err(|_| Error::InvalidImpersonation { field })
    };
    let mut headers = Vec::new();
    if let Some(user) = auth.impersonate.as_deref().filter(|u| !u.is_empty()) {
        headers.push((
            HeaderName::from_static("impersonate-user"),
            value(user, "as")?,
        ));
    }
    if let Some(uid) = auth.impersonate_uid.as_deref().filter(|u| !u.is_empty()) {
        headers.push((
            HeaderName::from_static("impersonate-uid"),
            value(uid, "as-uid")?,
        ));
    }
    for group in auth.impersonate_groups.iter().flatten() {
        headers.push((
            HeaderName::from_static("impersonate-group"),
            value(group, "as-groups")?,
        ));
    }
    let mut extra: Vec<_> = auth.impersonate_user_extra.iter().flatten().collect();
    extra.sort_by(|a, b| a.0.cmp(b.0));
    for (key, values) in extra {
        // Keys may hold characters header names cannot; they are percent-encoded.
        let name = format!("impersonate-extra-{}", percent_encode_key(key));
        let name = HeaderName::try_from(name).map_err(|_| Error::InvalidImpersonation {
            field: "as-user-extra",
        })?;
        for v in values {
            headers.push((name.clone(), value(v, "as-user-extra")?));
        }
    }
    Ok(headers)
}

/// Entry points of the credential parsers for the fuzz targets.
#[cfg(feature = "fuzzing")]
pub(crate) mod fuzz {
    pub(crate) use super::exec::fuzz_credential as exec_credential;
    #[cfg(feature = "oidc")]
    pub(crate) use super::oidc::fuzz as oidc;
}

/// Percent-encodes what is not allowed unescaped in an `Impersonate-Extra-` key.
fn percent_encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        let allowed = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'!' | b'#'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        if allowed {
            out.push(char::from(byte.to_ascii_lowercase()));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config() -> Config {
        Config::new(http::Uri::from_static("https://k"))
    }

    fn credentials(config: &Config) -> Result<Credentials, Error> {
        Credentials::new(
            config,
            #[cfg(feature = "rustls-tls")]
            None,
        )
    }

    #[tokio::test]
    async fn a_token_becomes_a_sensitive_bearer_header() {
        let mut config = config();
        config.auth_info.token = Some(" abc.def \n".into());
        let header = credentials(&config)
            .expect("valid")
            .authorization()
            .await
            .expect("fixed")
            .expect("a header");
        assert_eq!(header, "Bearer abc.def");
        assert!(header.is_sensitive());
    }

    #[tokio::test]
    async fn basic_auth_encodes_user_and_password() {
        let mut config = config();
        config.auth_info.username = Some("admin".into());
        config.auth_info.password = Some("s3cr:et".into());
        let header = credentials(&config)
            .expect("valid")
            .authorization()
            .await
            .expect("fixed")
            .expect("a header");
        // base64("admin:s3cr:et")
        assert_eq!(header, "Basic YWRtaW46czNjcjpldA==");
        assert!(header.is_sensitive());
    }

    #[tokio::test]
    async fn a_token_file_wins_over_a_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token");
        std::fs::write(&path, "from-file").expect("write");
        let mut config = config();
        config.auth_info.token = Some("inline".into());
        config.auth_info.token_file = Some(path.display().to_string());
        let creds = credentials(&config).expect("valid");
        let header = creds.authorization().await.expect("ok").expect("a header");
        assert_eq!(header, "Bearer from-file");
        std::fs::write(&path, "rotated").expect("write");
        assert!(creds.invalidate(), "a token file can be read again");
        let header = creds.authorization().await.expect("ok").expect("a header");
        assert_eq!(header, "Bearer rotated");
    }

    #[tokio::test]
    async fn an_auth_provider_token_is_used() {
        let mut config = config();
        config.auth_info.auth_provider = Some(crate::config::AuthProviderConfig {
            name: "oidc".into(),
            config: HashMap::from([("id-token".to_string(), "oidc-id-token".to_string())]),
            ..Default::default()
        });
        let header = credentials(&config)
            .expect("valid")
            .authorization()
            .await
            .expect("ok");
        assert_eq!(
            header,
            Some(HeaderValue::from_static("Bearer oidc-id-token"))
        );
    }

    #[tokio::test]
    async fn no_credentials_means_no_header() {
        let creds = credentials(&config()).expect("valid");
        assert_eq!(creds.authorization().await.expect("ok"), None);
        assert!(!creds.is_some());
        assert!(impersonation_headers(&config()).expect("valid").is_empty());
    }

    #[test]
    fn invalid_tokens_are_refused_without_being_shown() {
        let mut config = config();
        config.auth_info.token = Some("bad\ntoken-secret".into());
        let err = credentials(&config).expect_err("newline");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("token-secret"), "{text}");
        assert!(text.contains("the token"), "{text}");
    }

    #[test]
    fn impersonation_becomes_headers() {
        let mut config = config();
        config.auth_info.impersonate = Some("jane".into());
        config.auth_info.impersonate_uid = Some("uid-42".into());
        config.auth_info.impersonate_groups = Some(vec!["devs".into(), "ops".into()]);
        config.auth_info.impersonate_user_extra = Some(HashMap::from([
            (
                "scopes".to_string(),
                vec!["view".to_string(), "edit".to_string()],
            ),
            (
                "example.com/Team Name".to_string(),
                vec!["blue".to_string()],
            ),
        ]));
        let headers = impersonation_headers(&config).expect("valid");
        let pairs: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().expect("ascii").to_string()))
            .collect();
        let expected = [
            ("impersonate-user", "jane"),
            ("impersonate-uid", "uid-42"),
            ("impersonate-group", "devs"),
            ("impersonate-group", "ops"),
            ("impersonate-extra-example.com%2fteam%20name", "blue"),
            ("impersonate-extra-scopes", "view"),
            ("impersonate-extra-scopes", "edit"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn an_exec_plugin_without_command_fails_early() {
        let mut config = config();
        config.auth_info.exec = Some(crate::config::ExecConfig::default());
        assert!(matches!(credentials(&config), Err(Error::MissingCommand)));
    }
}
