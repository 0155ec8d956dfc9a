//! Exec credential plugins: programs that print an `ExecCredential` with a token or
//! a client certificate (cloud provider CLIs, `kubelogin`, ...).
//!
//! The program is run directly — never through a shell — with exactly the
//! configured arguments and extra environment, plus `KUBERNETES_EXEC_INFO`
//! describing the request (and the cluster, when `provideClusterInfo` is set).
//! Its credential is kept until its `expirationTimestamp` (or, without one, until
//! the server refuses it), so the program runs once, not once per request.
//!
//! A plugin that prints more than 4 MiB is stopped (an `ExecCredential` is a
//! few KiB), and only the end of what it writes to stderr is kept, for the
//! error when it fails.

use std::{io::IsTerminal, process::Stdio, time::Duration};

use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::{sync::Mutex, time::Instant};

use super::{Error, command};
use crate::config::{ExecAuthCluster, ExecConfig, ExecInteractiveMode};

const V1: &str = "client.authentication.k8s.io/v1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// A credential is refreshed this long before it expires, so that it does not
/// expire on the way to the server.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// How long a plugin running without a terminal may take. Every request waits
/// for the credential, so a plugin that hangs (a network call that never
/// returns, a prompt nobody can answer) would otherwise stall the whole client.
/// Interactive runs have no limit: a person is there, logging in, and can
/// interrupt.
const NON_INTERACTIVE_LIMIT: Duration = Duration::from_secs(120);

/// An exec plugin and its cached credential.
pub(crate) struct ExecPlugin {
    command: String,
    api_version: &'static str,
    config: ExecConfig,
    cache: Mutex<Option<Cached>>,
    invalidated: std::sync::atomic::AtomicBool,
    /// How long a run without a terminal may take; `None` for no limit.
    non_interactive_limit: Option<Duration>,
    /// Where client certificates the plugin hands out go.
    #[cfg(feature = "rustls-tls")]
    identity: Option<std::sync::Arc<crate::client::tls::ClientIdentity>>,
}

impl std::fmt::Debug for ExecPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecPlugin")
            .field("command", &self.command)
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

/// A credential and until when it may be used.
struct Cached {
    authorization: Option<HeaderValue>,
    /// `None`: until the server refuses it.
    valid_until: Option<Instant>,
}

impl Cached {
    fn is_fresh(&self) -> bool {
        self.valid_until.is_none_or(|until| Instant::now() < until)
    }
}

/// What the plugin prints.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredential {
    kind: Option<String>,
    api_version: Option<String>,
    status: Option<ExecCredentialStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialStatus {
    expiration_timestamp: Option<String>,
    token: Option<SecretString>,
    client_certificate_data: Option<String>,
    client_key_data: Option<SecretString>,
}

/// What the plugin is told in `KUBERNETES_EXEC_INFO`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecInfo<'a> {
    api_version: &'a str,
    kind: &'static str,
    spec: ExecInfoSpec<'a>,
}

#[derive(Serialize)]
struct ExecInfoSpec<'a> {
    interactive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a ExecAuthCluster>,
}

impl ExecPlugin {
    /// Checks the plugin's configuration; the program runs on first use.
    pub(crate) fn new(
        config: &ExecConfig,
        #[cfg(feature = "rustls-tls")] identity: Option<
            std::sync::Arc<crate::client::tls::ClientIdentity>,
        >,
    ) -> Result<Self, Error> {
        let command = config
            .command
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or(Error::MissingCommand)?;
        let api_version = match config.api_version.as_deref() {
            Some(V1) => V1,
            Some(V1BETA1) => V1BETA1,
            other => {
                return Err(Error::UnsupportedExecApiVersion {
                    command,
                    api_version: other.map(str::to_string),
                });
            }
        };
        if config.provide_cluster_info && config.cluster.is_none() {
            return Err(Error::ExecMissingClusterInfo { command });
        }
        Ok(Self {
            command,
            api_version,
            config: config.clone(),
            cache: Mutex::new(None),
            invalidated: std::sync::atomic::AtomicBool::new(false),
            non_interactive_limit: Some(NON_INTERACTIVE_LIMIT),
            #[cfg(feature = "rustls-tls")]
            identity,
        })
    }

    /// The `Authorization` header of the current credential, running the plugin
    /// when there is none or it expired. `None` when the plugin gives a client
    /// certificate instead of a token.
    pub(crate) async fn authorization(&self) -> Result<Option<HeaderValue>, Error> {
        // Concurrent requests wait for one run instead of starting their own.
        let mut cache = self.cache.lock().await;
        if self
            .invalidated
            .swap(false, std::sync::atomic::Ordering::AcqRel)
        {
            *cache = None;
        }
        if let Some(cached) = cache.as_ref().filter(|c| c.is_fresh()) {
            return Ok(cached.authorization.clone());
        }
        let status = self.run().await?;
        let fresh = self.accept(status)?;
        let authorization = fresh.authorization.clone();
        *cache = Some(fresh);
        Ok(authorization)
    }

    /// Drops the cached credential: the next request runs the plugin again.
    pub(crate) fn invalidate(&self) {
        self.invalidated
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// Turns the plugin's answer into a cache entry, installing a client
    /// certificate when it gave one.
    fn accept(&self, status: ExecCredentialStatus) -> Result<Cached, Error> {
        let valid_until = match status.expiration_timestamp.as_deref() {
            None | Some("") => None,
            Some(text) => {
                let expires: jiff::Timestamp =
                    text.parse()
                        .map_err(|source| Error::MalformedTokenExpirationDate {
                            command: self.command.clone(),
                            value: text.to_string(),
                            source,
                        })?;
                let left = expires.duration_since(jiff::Timestamp::now());
                let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
                Some(Instant::now() + left.saturating_sub(EXPIRY_MARGIN))
            }
        };
        let authorization = match status.token.as_ref().map(|t| t.expose_secret().trim()) {
            Some(token) if !token.is_empty() => {
                Some(super::bearer(token, "the exec plugin's token")?)
            }
            _ => None,
        };
        // As in client-go, an empty field is an absent one.
        let cert = status
            .client_certificate_data
            .as_ref()
            .filter(|c| !c.is_empty());
        let key = status
            .client_key_data
            .as_ref()
            .filter(|k| !k.expose_secret().is_empty());
        let certificate = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => {
                return Err(Error::ExecIncompleteCertificate {
                    command: self.command.clone(),
                });
            }
        };
        if authorization.is_none() && certificate.is_none() {
            return Err(Error::ExecNoCredential {
                command: self.command.clone(),
            });
        }
        if let Some((cert, key)) = certificate {
            self.install_certificate(cert, key)?;
        }
        Ok(Cached {
            authorization,
            valid_until,
        })
    }

    #[cfg(feature = "rustls-tls")]
    fn install_certificate(&self, cert: &str, key: &SecretString) -> Result<(), Error> {
        let Some(identity) = &self.identity else {
            return Err(Error::ExecCertificateUnsupported {
                command: self.command.clone(),
            });
        };
        let origin = format!("the exec plugin {}", self.command);
        let changed = identity
            .replace_pem(cert.as_bytes(), key.expose_secret().as_bytes(), &origin)
            .map_err(|source| Error::ExecClientCertificate {
                command: self.command.clone(),
                source: Box::new(source),
            })?;
        if changed {
            tracing::debug!(command = %self.command, "the exec plugin gave a new client certificate");
        }
        Ok(())
    }

    #[cfg(not(feature = "rustls-tls"))]
    fn install_certificate(&self, _cert: &str, _key: &SecretString) -> Result<(), Error> {
        Err(Error::ExecCertificateUnsupported {
            command: self.command.clone(),
        })
    }

    /// Runs the program and reads its `ExecCredential`.
    async fn run(&self) -> Result<ExecCredentialStatus, Error> {
        let interactive = match self.config.interactive_mode {
            Some(ExecInteractiveMode::Never) => false,
            Some(ExecInteractiveMode::Always) => {
                if !std::io::stdin().is_terminal() {
                    return Err(Error::ExecNeedsTerminal {
                        command: self.command.clone(),
                    });
                }
                true
            }
            Some(ExecInteractiveMode::IfAvailable) | None => std::io::stdin().is_terminal(),
        };
        let info = ExecInfo {
            api_version: self.api_version,
            kind: "ExecCredential",
            spec: ExecInfoSpec {
                interactive,
                cluster: self
                    .config
                    .cluster
                    .as_ref()
                    .filter(|_| self.config.provide_cluster_info),
            },
        };
        let info = serde_json::to_string(&info).map_err(Error::AuthExecSerialize)?;

        let mut command = tokio::process::Command::new(&self.command);
        command.args(self.config.args.iter().flatten());
        for name in self.config.drop_env.iter().flatten() {
            command.env_remove(name);
        }
        for pair in self.config.env.iter().flatten() {
            if let (Some(name), Some(value)) = (pair.get("name"), pair.get("value")) {
                command.env(name, value);
            }
        }
        command.env("KUBERNETES_EXEC_INFO", info);
        command.stdout(Stdio::piped()).kill_on_drop(true);
        if interactive {
            // Prompts go to the user's terminal and answers come from it.
            command.stdin(Stdio::inherit()).stderr(Stdio::inherit());
        } else {
            command.stdin(Stdio::null()).stderr(Stdio::piped());
        }

        tracing::debug!(command = %self.command, "running the exec credential plugin");
        let output = command::run(command, &self.command, self.config.install_hint.as_deref());
        let command::Ran {
            status,
            stdout,
            stderr,
        } =
            match self.non_interactive_limit.filter(|_| !interactive) {
                // Dropping the unfinished run kills the plugin (`kill_on_drop`).
                Some(limit) => tokio::time::timeout(limit, output).await.map_err(|_| {
                    Error::AuthExecTimeout {
                        command: self.command.clone(),
                        limit,
                    }
                })?,
                None => output.await,
            }?;
        if !status.success() {
            return Err(Error::AuthExecRun {
                command: self.command.clone(),
                status,
                stderr: command::stderr_excerpt(&stderr),
            });
        }
        self.parse_credential(&stdout)
    }

    /// The `ExecCredential` the plugin printed: its status, or why the output
    /// is not one (never quoting it: it holds the credential).
    fn parse_credential(&self, stdout: &[u8]) -> Result<ExecCredentialStatus, Error> {
        let credential: ExecCredential =
            serde_json::from_slice(stdout).map_err(|e| Error::AuthExecParse {
                command: self.command.clone(),
                // serde_json's messages may quote the output, which holds secrets.
                reason: format!(
                    "{} at line {} column {}",
                    match e.classify() {
                        serde_json::error::Category::Io => "unreadable output",
                        serde_json::error::Category::Syntax => "not valid JSON",
                        serde_json::error::Category::Data => "not shaped like an ExecCredential",
                        serde_json::error::Category::Eof => "output ends too early",
                    },
                    e.line(),
                    e.column()
                ),
            })?;
        if credential
            .kind
            .as_deref()
            .is_some_and(|k| k != "ExecCredential")
        {
            return Err(Error::AuthExecParse {
                command: self.command.clone(),
                reason: format!(
                    "printed a {:?} instead of an ExecCredential",
                    credential.kind.unwrap_or_default()
                ),
            });
        }
        if let Some(version) = &credential.api_version
            && version != self.api_version
        {
            return Err(Error::AuthExecParse {
                command: self.command.clone(),
                reason: format!(
                    "answered in {version} but is configured for {}",
                    self.api_version
                ),
            });
        }
        credential.status.ok_or_else(|| Error::ExecPluginFailed {
            command: self.command.clone(),
        })
    }
}

/// What a client makes of an exec plugin's `output`, for the fuzz targets:
/// whether it gives a token (else a client certificate, installed), or why it
/// is refused.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_credential(output: &[u8]) -> Result<bool, String> {
    let config = ExecConfig {
        api_version: Some(V1.into()),
        command: Some("fuzz-plugin".into()),
        ..ExecConfig::default()
    };
    #[cfg(feature = "rustls-tls")]
    let identity = crate::client::tls::ClientIdentity::from_config(&crate::Config::new(
        http::Uri::from_static("https://fuzz.example.com"),
    ))
    .map_err(|e| e.to_string())?;
    let plugin = ExecPlugin::new(
        &config,
        #[cfg(feature = "rustls-tls")]
        Some(identity),
    )
    .map_err(|e| e.to_string())?;
    let status = plugin.parse_credential(output).map_err(|e| e.to_string())?;
    let cached = plugin.accept(status).map_err(|e| e.to_string())?;
    Ok(cached.authorization.is_some())
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, os::unix::fs::PermissionsExt, path::Path};

    use super::*;

    /// Writes an executable shell script into `dir`.
    fn script(dir: &Path, name: &str, body: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path.display().to_string()
    }

    fn exec_config(command: &str, api_version: &str) -> ExecConfig {
        ExecConfig {
            api_version: Some(api_version.into()),
            command: Some(command.into()),
            interactive_mode: Some(ExecInteractiveMode::Never),
            ..ExecConfig::default()
        }
    }

    fn plugin(config: &ExecConfig) -> ExecPlugin {
        ExecPlugin::new(
            config,
            #[cfg(feature = "rustls-tls")]
            None,
        )
        .expect("valid plugin")
    }

    /// A plugin that counts its runs in `runs` and prints a token expiring at
    /// `expiry` (an RFC 3339 time, or empty for none).
    fn counting_plugin(dir: &Path, api_version: &str, expiry: &str) -> String {
        let runs = dir.join("runs");
        let expiry = if expiry.is_empty() {
            String::new()
        } else {
            format!(r#", "expirationTimestamp": "{expiry}""#)
        };
        script(
            dir,
            "plugin",
            &format!(
                r#"echo run >> '{runs}'
n=$(wc -l < '{runs}' | tr -d ' ')
echo '{{"apiVersion": "{api_version}", "kind": "ExecCredential", "status": {{"token": "token-'$n'"{expiry}}}}}'"#,
                runs = runs.display()
            ),
        )
    }

    #[tokio::test]
    async fn a_v1_plugin_gives_a_token_and_it_is_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let command = counting_plugin(dir.path(), V1, "");
        let plugin = plugin(&exec_config(&command, V1));
        let first = plugin.authorization().await.expect("runs");
        assert_eq!(first, Some(HeaderValue::from_static("Bearer token-1")));
        let again = plugin.authorization().await.expect("cached");
        assert_eq!(again, first, "no expiry: cached until refused");
        plugin.invalidate();
        let after_401 = plugin.authorization().await.expect("reruns");
        assert_eq!(after_401, Some(HeaderValue::from_static("Bearer token-2")));
    }

    #[tokio::test]
    async fn a_v1beta1_plugin_is_understood() {
        let dir = tempfile::tempdir().expect("tempdir");
        let command = counting_plugin(dir.path(), V1BETA1, "");
        let plugin = plugin(&exec_config(&command, V1BETA1));
        let header = plugin.authorization().await.expect("runs");
        assert_eq!(header, Some(HeaderValue::from_static("Bearer token-1")));
    }

    #[tokio::test]
    async fn the_credential_is_cached_until_it_expires() {
        let dir = tempfile::tempdir().expect("tempdir");
        let expiry = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
        let command = counting_plugin(dir.path(), V1, &expiry.to_string());
        let mut plugin = plugin(&exec_config(&command, V1));
        // The paused clock would race through any time limit while the plugin
        // runs.
        plugin.non_interactive_limit = None;
        tokio::time::pause();
        assert_eq!(
            plugin.authorization().await.expect("runs"),
            Some(HeaderValue::from_static("Bearer token-1"))
        );
        tokio::time::advance(Duration::from_secs(50 * 60)).await;
        assert_eq!(
            plugin.authorization().await.expect("cached"),
            Some(HeaderValue::from_static("Bearer token-1"))
        );
        tokio::time::advance(Duration::from_secs(10 * 60)).await;
        assert_eq!(
            plugin.authorization().await.expect("expired: runs again"),
            Some(HeaderValue::from_static("Bearer token-2"))
        );
    }

    #[tokio::test]
    async fn an_expired_credential_is_used_once_and_not_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let command = counting_plugin(dir.path(), V1, "2001-01-01T00:00:00Z");
        let plugin = plugin(&exec_config(&command, V1));
        assert_eq!(
            plugin.authorization().await.expect("runs"),
            Some(HeaderValue::from_static("Bearer token-1"))
        );
        assert_eq!(
            plugin.authorization().await.expect("runs again"),
            Some(HeaderValue::from_static("Bearer token-2"))
        );
    }

    #[tokio::test]
    async fn arguments_and_environment_are_passed_exactly_and_without_a_shell() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("seen");
        let command = script(
            dir.path(),
            "plugin",
            &format!(
                r#"for a in "$@"; do printf '%s\n' "$a"; done > '{out}'
printf '%s\n' "$PLUGIN_SETTING" >> '{out}'
printf '%s\n' "$KUBERNETES_EXEC_INFO" >> '{out}'
echo '{{"apiVersion": "{V1}", "kind": "ExecCredential", "status": {{"token": "t"}}}}'"#,
                out = out.display()
            ),
        );
        let mut config = exec_config(&command, V1);
        config.args = Some(vec![
            "--flag".into(),
            "two words; $(echo not-expanded)".into(),
        ]);
        config.env = Some(vec![HashMap::from([
            ("name".to_string(), "PLUGIN_SETTING".to_string()),
            ("value".to_string(), "value with spaces".to_string()),
        ])]);
        config.provide_cluster_info = true;
        config.cluster = Some(ExecAuthCluster {
            server: Some("https://k.example.com".into()),
            ..ExecAuthCluster::default()
        });
        plugin(&config).authorization().await.expect("runs");
        let seen = std::fs::read_to_string(&out).expect("the plugin wrote what it saw");
        let lines: Vec<&str> = seen.lines().collect();
        assert_eq!(lines[0], "--flag");
        assert_eq!(lines[1], "two words; $(echo not-expanded)");
        assert_eq!(lines[2], "value with spaces");
        let info: serde_json::Value = serde_json::from_str(lines[3]).expect("exec info is JSON");
        assert_eq!(info["apiVersion"], V1);
        assert_eq!(info["kind"], "ExecCredential");
        assert_eq!(info["spec"]["interactive"], false);
        assert_eq!(info["spec"]["cluster"]["server"], "https://k.example.com");
    }

    #[tokio::test]
    async fn a_failing_plugin_reports_its_status_and_stderr() {
        let dir = tempfile::tempdir().expect("tempdir");
        let command = script(
            dir.path(),
            "plugin",
            "echo 'login expired: run `cloud auth login`' >&2\nexit 3",
        );
        let err = plugin(&exec_config(&command, V1))
            .authorization()
            .await
            .expect_err("fails");
        let text = err.to_string();
        assert!(matches!(err, Error::AuthExecRun { .. }), "{err:?}");
        assert!(text.contains(&command), "{text}");
        assert!(text.contains("exit status: 3"), "{text}");
        assert!(
            text.contains("login expired: run `cloud auth login`"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_plugin_that_hangs_is_stopped_after_the_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid_file = dir.path().join("pid");
        let command = script(
            dir.path(),
            "plugin",
            &format!("echo $$ > '{}'\nexec sleep 600", pid_file.display()),
        );
        let mut plugin = plugin(&exec_config(&command, V1));
        plugin.non_interactive_limit = Some(Duration::from_millis(500));
        let started = Instant::now();
        let err = plugin.authorization().await.expect_err("times out");
        assert!(matches!(err, Error::AuthExecTimeout { .. }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(60));
        let text = err.to_string();
        assert!(text.contains(&command), "{text}");
        assert!(text.contains("500ms"), "{text}");

        // The plugin was killed, not left running: its process is gone or a
        // zombie waiting to be reaped (read from Linux's /proc).
        #[cfg(target_os = "linux")]
        assert_killed(&pid_file).await;
    }

    #[cfg(target_os = "linux")]
    async fn assert_killed(pid_file: &Path) {
        let pid = std::fs::read_to_string(pid_file).expect("the plugin started");
        let state = || {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                .ok()
                .and_then(|stat| stat.rsplit(") ").next().map(|s| s.chars().next()))
                .flatten()
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !matches!(state(), None | Some('Z')) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(matches!(state(), None | Some('Z')), "{:?}", state());
    }

    #[tokio::test]
    async fn a_missing_command_is_named_with_its_install_hint() {
        let mut config = exec_config("kube-client-test-no-such-plugin", V1);
        config.install_hint = Some("install it from example.com".into());
        let err = plugin(&config).authorization().await.expect_err("missing");
        let text = err.to_string();
        assert!(matches!(err, Error::ExecCommandNotFound { .. }), "{err:?}");
        assert!(text.contains("kube-client-test-no-such-plugin"), "{text}");
        assert!(text.contains("install it from example.com"), "{text}");
    }

    #[tokio::test]
    async fn malformed_output_is_reported_without_echoing_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let command = script(
            dir.path(),
            "plugin",
            r#"echo '{"apiVersion": "client.authentication.k8s.io/v1", "status": "secret-token-xyz"}'"#,
        );
        let err = plugin(&exec_config(&command, V1))
            .authorization()
            .await
            .expect_err("status is not an object");
        let text = err.to_string();
        assert!(text.contains("not shaped like an ExecCredential"), "{text}");
        assert!(!text.contains("secret-token-xyz"), "{text}");
    }

    #[tokio::test]
    async fn version_mismatches_and_empty_credentials_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let command = counting_plugin(dir.path(), V1BETA1, "");
        let err = plugin(&exec_config(&command, V1))
            .authorization()
            .await
            .expect_err("wrong version");
        assert!(err.to_string().contains(V1BETA1), "{err}");

        let empty = script(
            dir.path(),
            "empty",
            r#"echo '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {}}'"#,
        );
        let err = plugin(&exec_config(&empty, V1))
            .authorization()
            .await
            .expect_err("no credential");
        assert!(matches!(err, Error::ExecNoCredential { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn empty_certificate_and_key_fields_mean_absent() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, fields) in [
            (
                "both",
                r#""clientCertificateData": "", "clientKeyData": """#,
            ),
            ("certificate", r#""clientCertificateData": """#),
            ("key", r#""clientKeyData": """#),
        ] {
            let command = script(
                dir.path(),
                name,
                &format!(
                    r#"echo '{{"apiVersion": "{V1}", "kind": "ExecCredential", "status": {{"token": "t", {fields}}}}}'"#
                ),
            );
            let header = plugin(&exec_config(&command, V1))
                .authorization()
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(header, Some(HeaderValue::from_static("Bearer t")), "{name}");
        }
        // A certificate whose key is empty is still only half a pair.
        let command = script(
            dir.path(),
            "half",
            &format!(
                r#"echo '{{"apiVersion": "{V1}", "kind": "ExecCredential", "status": {{"token": "t", "clientCertificateData": "PEM", "clientKeyData": ""}}}}'"#
            ),
        );
        let err = plugin(&exec_config(&command, V1))
            .authorization()
            .await
            .expect_err("half a pair");
        assert!(
            matches!(err, Error::ExecIncompleteCertificate { .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn output_past_the_limit_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, body) in [
            ("large", "head -c 5000000 /dev/zero".to_string()),
            // Writes without end, and never exits on its own.
            ("endless", "exec cat /dev/zero".to_string()),
        ] {
            let command = script(dir.path(), name, &body);
            let err = tokio::time::timeout(
                Duration::from_secs(60),
                plugin(&exec_config(&command, V1)).authorization(),
            )
            .await
            .unwrap_or_else(|_| panic!("{name}: reading stops"))
            .expect_err("too much output");
            assert!(
                matches!(err, Error::AuthExecOutputTooLarge { .. }),
                "{name}: {err:?}"
            );
            let text = err.to_string();
            assert!(text.contains("4 MiB") && text.contains(&command), "{text}");
        }
    }

    #[tokio::test]
    async fn endless_stderr_is_drained_and_only_its_end_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let command = script(
            dir.path(),
            "noisy",
            "head -c 20000000 /dev/zero | tr '\\0' x >&2\necho 'the reason' >&2\nexit 3",
        );
        let err = plugin(&exec_config(&command, V1))
            .authorization()
            .await
            .expect_err("exits 3");
        match err {
            Error::AuthExecRun { stderr, .. } => {
                assert!(
                    stderr.ends_with("the reason"),
                    "{}",
                    &stderr[stderr.len().saturating_sub(100)..]
                );
                assert!(stderr.len() <= command::MAX_STDERR + '…'.len_utf8());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn configurations_are_checked_up_front() {
        let err = ExecPlugin::new(
            &ExecConfig::default(),
            #[cfg(feature = "rustls-tls")]
            None,
        )
        .expect_err("no command");
        assert!(matches!(err, Error::MissingCommand));
        let mut config = exec_config("helper", "client.authentication.k8s.io/v1alpha1");
        let err = ExecPlugin::new(
            &config,
            #[cfg(feature = "rustls-tls")]
            None,
        )
        .expect_err("old version");
        assert!(err.to_string().contains("v1alpha1"), "{err}");
        config.api_version = Some(V1.into());
        config.provide_cluster_info = true;
        let err = ExecPlugin::new(
            &config,
            #[cfg(feature = "rustls-tls")]
            None,
        )
        .expect_err("no cluster");
        assert!(
            matches!(err, Error::ExecMissingClusterInfo { .. }),
            "{err:?}"
        );
    }

    #[cfg(feature = "rustls-tls")]
    #[tokio::test]
    async fn a_client_certificate_from_the_plugin_becomes_the_tls_identity() {
        use base64::Engine;
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = include_str!("../../config/test_data/client-ec.pem");
        let key = include_str!("../../config/test_data/client-ec-key.pem");
        let credential = serde_json::json!({
            "apiVersion": V1,
            "kind": "ExecCredential",
            "status": {"clientCertificateData": cert, "clientKeyData": key}
        });
        let encoded = base64::engine::general_purpose::STANDARD.encode(credential.to_string());
        let command = script(dir.path(), "plugin", &format!("echo {encoded} | base64 -d"));
        let config = crate::Config::new(http::Uri::from_static("https://k"));
        let identity = crate::client::tls::ClientIdentity::from_config(&config).expect("identity");
        let plugin =
            ExecPlugin::new(&exec_config(&command, V1), Some(identity.clone())).expect("plugin");
        assert_eq!(plugin.authorization().await.expect("runs"), None);
        assert_eq!(identity.generation(), 1);
        use rustls::client::ResolvesClientCert;
        assert!(identity.has_certs());
    }
}
