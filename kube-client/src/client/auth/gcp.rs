//! The `gcp` auth-provider that older `gcloud` versions wrote into kubeconfig
//! files.
//!
//! Its settings (the provider's `config` map) are read as client-go's gcp
//! plugin read them:
//!
//! - `id-token`: a fixed token, used as it is;
//! - `access-token` and `expiry` (RFC 3339): a stored token, used while it is
//!   valid for more than a minute;
//! - `cmd-path`, `cmd-args` (split at whitespace), `token-key` and
//!   `expiry-key` (JSONPath such as `{.credential.access_token}`): a command
//!   that prints a fresh token, such as `gcloud config config-helper
//!   --format=json`. Without `token-key` its whole output is the token;
//! - otherwise, with the `oauth` feature, Google's application default
//!   credentials (a service account key or `gcloud auth application-default
//!   login`'s file, or the metadata server on Google Compute Engine), for
//!   the `scopes` given (comma-separated; by default `cloud-platform` and
//!   `userinfo.email`).
//!
//! A fresh token is kept until a minute before it expires, or until the
//! apiserver refuses it.

use std::{collections::HashMap, process::Stdio, time::Duration};

use super::{
    Error, bearer,
    command::{run, stderr_excerpt},
};
use http::HeaderValue;
use jiff::Timestamp;

#[cfg(feature = "oauth")]
mod adc;
#[cfg(feature = "oauth")]
pub use adc::Error as OAuthError;

/// A token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// How long the token command may run (it runs without a terminal).
const COMMAND_LIMIT: Duration = Duration::from_secs(120);

/// The token of a `gcp` auth-provider, renewed as it expires.
pub(crate) struct Gcp {
    source: Renewal,
    /// The token in use and when it expires (`None`: when the server refuses it).
    current: std::sync::Mutex<Option<(HeaderValue, Option<Timestamp>)>>,
    /// Renewals run one at a time; those who wait use the renewed token.
    renewing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Gcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gcp")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Where a fresh token comes from.
enum Renewal {
    /// A command and where its token and expiry are in its output.
    Command(Command),
    /// Google's application default credentials.
    #[cfg(feature = "oauth")]
    DefaultCredentials(Box<adc::DefaultCredentials>),
    /// Nothing can renew the stored token.
    #[cfg(not(feature = "oauth"))]
    Unavailable,
}

impl std::fmt::Debug for Renewal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Arguments may hold secrets: only the program is shown.
        match self {
            Renewal::Command(command) => write!(f, "Command({})", command.path),
            #[cfg(feature = "oauth")]
            Renewal::DefaultCredentials(_) => f.write_str("DefaultCredentials"),
            #[cfg(not(feature = "oauth"))]
            Renewal::Unavailable => f.write_str("Unavailable"),
        }
    }
}

struct Command {
    path: String,
    args: Vec<String>,
    drop_env: Vec<String>,
    token_key: Option<String>,
    expiry_key: Option<String>,
}

/// What the settings of a `gcp` auth-provider come to.
pub(crate) enum Provider {
    /// A token that is never renewed (`id-token`).
    Fixed(HeaderValue),
    /// A token renewed as it expires.
    Renewing(Gcp),
}

impl Provider {
    /// The provider of the `gcp` auth-provider settings `config`.
    pub(crate) fn from_settings(config: &HashMap<String, String>) -> Result<Provider, Error> {
        let setting = |key: &str| config.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
        if let Some(token) = setting("id-token") {
            return Ok(Provider::Fixed(bearer(
                token,
                "the gcp auth-provider's id-token",
            )?));
        }
        let stored = match (setting("access-token"), setting("expiry")) {
            (Some(token), Some(expiry)) => {
                let expiry = parse_expiry("the gcp auth-provider's expiry", expiry)?;
                Some((
                    bearer(token, "the gcp auth-provider's access-token")?,
                    Some(expiry),
                ))
            }
            _ => None,
        };
        let source = match setting("cmd-path") {
            Some(path) => Renewal::Command(Command {
                path: path.to_string(),
                args: words(setting("cmd-args")),
                drop_env: words(setting("cmd-drop-env")),
                token_key: setting("token-key").map(str::to_string),
                expiry_key: setting("expiry-key").map(str::to_string),
            }),
            None => default_credentials(setting("scopes"))?,
        };
        Ok(Provider::Renewing(Gcp {
            source,
            current: std::sync::Mutex::new(stored.filter(|(_, expiry)| is_fresh(*expiry))),
            renewing: tokio::sync::Mutex::new(()),
        }))
    }
}

impl Gcp {
    /// The `Authorization` header: the current token while it is fresh, else a
    /// renewed one.
    pub(crate) async fn authorization(&self) -> Result<HeaderValue, Error> {
        if let Some(value) = self.fresh() {
            return Ok(value);
        }
        let _renewing = self.renewing.lock().await;
        // Someone else may have renewed it while this waited.
        if let Some(value) = self.fresh() {
            return Ok(value);
        }
        let (value, expiry) = self.renew().await?;
        *self.lock() = Some((value.clone(), expiry));
        Ok(value)
    }

    /// Forgets the current token: the next request renews it.
    pub(crate) fn invalidate(&self) {
        *self.lock() = None;
    }

    fn fresh(&self) -> Option<HeaderValue> {
        let current = self.lock();
        let (value, expiry) = current.as_ref()?;
        is_fresh(*expiry).then(|| value.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(HeaderValue, Option<Timestamp>)>> {
        match self.current.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    async fn renew(&self) -> Result<(HeaderValue, Option<Timestamp>), Error> {
        match &self.source {
            Renewal::Command(command) => command.run().await,
            #[cfg(feature = "oauth")]
            Renewal::DefaultCredentials(credentials) => {
                let (token, expiry) = credentials.token().await.map_err(Error::OAuth)?;
                Ok((bearer(&token, "the Google access token")?, expiry))
            }
            #[cfg(not(feature = "oauth"))]
            Renewal::Unavailable => Err(Error::GcpTokenUnavailable),
        }
    }
}

/// Whether a token expiring at `expiry` is good for more than a minute.
fn is_fresh(expiry: Option<Timestamp>) -> bool {
    expiry.is_none_or(|expiry| {
        Timestamp::now()
            .checked_add(RENEW_BEFORE)
            .is_ok_and(|soon| soon < expiry)
    })
}

fn words(setting: Option<&str>) -> Vec<String> {
    setting
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn parse_expiry(what: &'static str, value: &str) -> Result<Timestamp, Error> {
    value
        .parse::<Timestamp>()
        .map_err(|source| Error::GcpInvalidExpiry { what, source })
}

#[cfg(feature = "oauth")]
fn default_credentials(scopes: Option<&str>) -> Result<Renewal, Error> {
    Ok(Renewal::DefaultCredentials(Box::new(
        adc::DefaultCredentials::find(scopes).map_err(Error::OAuth)?,
    )))
}

/// Without the `oauth` feature a stored token is used until it expires.
#[cfg(not(feature = "oauth"))]
fn default_credentials(_scopes: Option<&str>) -> Result<Renewal, Error> {
    Ok(Renewal::Unavailable)
}

impl Command {
    /// Runs the command and reads the token (and expiry) from its output.
    async fn run(&self) -> Result<(HeaderValue, Option<Timestamp>), Error> {
        let mut command = tokio::process::Command::new(&self.path);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for name in &self.drop_env {
            command.env_remove(name);
        }
        tracing::debug!(command = %self.path, "running the gcp auth-provider's token command");
        let ran = tokio::time::timeout(COMMAND_LIMIT, run(command, &self.path, None))
            .await
            .map_err(|_| Error::AuthExecTimeout {
                command: self.path.clone(),
                limit: COMMAND_LIMIT,
            })??;
        if !ran.status.success() {
            return Err(Error::AuthExecRun {
                command: self.path.clone(),
                status: ran.status,
                stderr: stderr_excerpt(&ran.stderr),
            });
        }
        let stdout = ran.stdout;
        let Some(token_key) = &self.token_key else {
            let token = String::from_utf8_lossy(&stdout);
            return Ok((
                bearer(token.trim(), "the gcp token command's output")?,
                None,
            ));
        };
        let output: serde_json::Value =
            serde_json::from_slice(&stdout).map_err(|e| Error::AuthExecParse {
                command: self.path.clone(),
                // The output holds the token: say where it went wrong, not what it said.
                reason: format!(
                    "token-key is set but the output is not JSON (line {} column {})",
                    e.line(),
                    e.column()
                ),
            })?;
        let token = self.value_at(&output, "token-key", token_key)?;
        let expiry = match &self.expiry_key {
            Some(key) => Some(parse_expiry(
                "the gcp token command's expiry",
                &self.value_at(&output, "expiry-key", key)?,
            )?),
            None => None,
        };
        Ok((bearer(&token, "the gcp token command's token")?, expiry))
    }

    /// The text at a JSONPath such as `{.credential.access_token}`.
    fn value_at(
        &self,
        output: &serde_json::Value,
        setting: &'static str,
        path: &str,
    ) -> Result<String, Error> {
        let missing = || Error::AuthExecParse {
            command: self.path.clone(),
            reason: format!("{setting} {path:?} names nothing in the output"),
        };
        let mut value = output;
        for key in json_path(path) {
            value = value.get(key).ok_or_else(missing)?;
        }
        match value {
            serde_json::Value::String(text) => Ok(text.clone()),
            serde_json::Value::Number(number) => Ok(number.to_string()),
            _ => Err(missing()),
        }
    }
}

/// The keys of a simple JSONPath: `{.a.b}`, `.a.b` and `a.b` all name
/// `a` then `b`.
fn json_path(path: &str) -> impl Iterator<Item = &str> {
    path.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split('.')
        .filter(|key| !key.is_empty())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn script(dir: &Path, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("token-command");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path.display().to_string()
    }

    fn settings(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn renewing(config: &HashMap<String, String>) -> Gcp {
        match Provider::from_settings(config).expect("valid settings") {
            Provider::Renewing(gcp) => gcp,
            Provider::Fixed(_) => panic!("expected a renewing provider"),
        }
    }

    fn in_an_hour() -> String {
        Timestamp::now()
            .checked_add(Duration::from_secs(3600))
            .expect("in range")
            .to_string()
    }

    #[tokio::test]
    async fn the_command_s_json_gives_token_and_expiry_and_is_run_once_while_fresh() {
        let dir = tempfile::tempdir().expect("tempdir");
        let count = dir.path().join("count");
        let command = script(
            dir.path(),
            &format!(
                "echo x >> {}\necho '{{\"credential\":{{\"access_token\":\"ya29.fresh\",\"token_expiry\":\"{}\"}}}}'",
                count.display(),
                in_an_hour()
            ),
        );
        let gcp = renewing(&settings(&[
            ("cmd-path", &command),
            ("cmd-args", "config config-helper --format=json"),
            ("token-key", "{.credential.access_token}"),
            ("expiry-key", "{.credential.token_expiry}"),
        ]));
        for _ in 0..3 {
            assert_eq!(
                gcp.authorization().await.expect("a token"),
                "Bearer ya29.fresh"
            );
        }
        let runs = std::fs::read_to_string(&count)
            .expect("count")
            .lines()
            .count();
        assert_eq!(runs, 1, "a fresh token is kept");
        gcp.invalidate();
        gcp.authorization().await.expect("a token");
        let runs = std::fs::read_to_string(&count)
            .expect("count")
            .lines()
            .count();
        assert_eq!(runs, 2, "a refused token is renewed");
    }

    #[tokio::test]
    async fn without_token_key_the_whole_output_is_the_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let command = script(dir.path(), "echo '  plain-token  '");
        let gcp = renewing(&settings(&[("cmd-path", &command)]));
        assert_eq!(
            gcp.authorization().await.expect("a token"),
            "Bearer plain-token"
        );
    }

    #[tokio::test]
    async fn a_stored_token_is_used_until_it_nearly_expires() {
        let dir = tempfile::tempdir().expect("tempdir");
        let command = script(dir.path(), "echo renewed");
        let stored = renewing(&settings(&[
            ("access-token", "stored"),
            ("expiry", &in_an_hour()),
            ("cmd-path", &command),
        ]));
        assert_eq!(
            stored.authorization().await.expect("a token"),
            "Bearer stored"
        );

        let soon = Timestamp::now()
            .checked_add(Duration::from_secs(30))
            .expect("in range")
            .to_string();
        let expiring = renewing(&settings(&[
            ("access-token", "stored"),
            ("expiry", &soon),
            ("cmd-path", &command),
        ]));
        assert_eq!(
            expiring.authorization().await.expect("a token"),
            "Bearer renewed"
        );
    }

    #[test]
    fn an_id_token_is_fixed() {
        match Provider::from_settings(&settings(&[("id-token", "jwt")])).expect("valid") {
            Provider::Fixed(value) => assert_eq!(value, "Bearer jwt"),
            Provider::Renewing(_) => panic!("an id-token is never renewed"),
        }
    }

    #[tokio::test]
    async fn a_path_naming_nothing_and_a_failing_command_are_reported_without_the_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let command = script(dir.path(), "echo '{\"token\":\"hunter2\"}'");
        let gcp = renewing(&settings(&[
            ("cmd-path", &command),
            ("token-key", "{.access_token}"),
        ]));
        let text = gcp
            .authorization()
            .await
            .expect_err("no such key")
            .to_string();
        assert!(text.contains("token-key"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");

        let failing = script(dir.path(), "exit 3");
        let gcp = renewing(&settings(&[("cmd-path", &failing)]));
        let err = gcp.authorization().await.expect_err("it fails");
        assert!(matches!(err, Error::AuthExecRun { .. }), "{err:?}");
    }

    #[test]
    fn json_paths_name_their_keys() {
        assert_eq!(
            json_path("{.credential.access_token}").collect::<Vec<_>>(),
            ["credential", "access_token"]
        );
        assert_eq!(json_path(".a").collect::<Vec<_>>(), ["a"]);
        assert_eq!(json_path("a.b").collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn debug_shows_no_arguments() {
        let gcp = renewing(&settings(&[
            ("cmd-path", "/bin/helper"),
            ("cmd-args", "--secret=hunter2"),
        ]));
        let text = format!("{gcp:?}");
        assert!(text.contains("/bin/helper"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
