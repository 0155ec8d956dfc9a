//! Google's application default credentials (feature `oauth`), found as
//! Google's own libraries find them:
//!
//! 1. the JSON file `GOOGLE_APPLICATION_CREDENTIALS` names;
//! 2. `gcloud auth application-default login`'s file,
//!    `$CLOUDSDK_CONFIG/application_default_credentials.json` or
//!    `~/.config/gcloud/application_default_credentials.json`;
//! 3. on Google Compute Engine (and GKE), the metadata server.
//!
//! A service account key is exchanged for an access token with a signed JWT
//! (RFC 7523), a user's file with its refresh token (RFC 6749 §6).

use std::{path::PathBuf, sync::Arc, time::Duration};

use base64::Engine;
use jiff::Timestamp;
use serde::Deserialize;

/// Why no Google access token could be had. Messages never contain keys,
/// secrets or tokens.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No application default credentials were found.
    #[error(
        "no Google application default credentials: set GOOGLE_APPLICATION_CREDENTIALS, run `gcloud auth application-default login`, or run on Google Compute Engine"
    )]
    NoDefaultProvider,

    /// The credentials file could not be read.
    #[error("could not read the Google credentials file {}: {source}", path.display())]
    LoadCredentials {
        /// The file.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: std::io::Error,
    },

    /// The credentials file is not a service account key or a user's
    /// credentials.
    #[error("the Google credentials file {} is not usable: {reason}", path.display())]
    ParseCredentials {
        /// The file.
        path: PathBuf,
        /// What is wrong (never its content).
        reason: String,
    },

    /// The service account's private key is not a PKCS#8 RSA key this build
    /// can sign with.
    #[error("the private key of the service account {account} is not usable: {reason}")]
    InvalidRsaKey {
        /// The service account.
        account: String,
        /// What is wrong (never the key).
        reason: String,
    },

    /// The token endpoint or metadata server could not be reached, or answered
    /// with an error.
    #[error("could not get a Google access token from {url}: {reason}")]
    RequestToken {
        /// Where the token was asked for.
        url: String,
        /// What went wrong.
        reason: String,
    },

    /// The answer did not carry an access token.
    #[error("the answer of {url} is not an access token: {reason}")]
    ParseToken {
        /// Where the token was asked for.
        url: String,
        /// What is wrong with it (never its content).
        reason: String,
    },
}

/// Google's default token endpoint.
const TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// client-go's scopes for the gcp auth-provider.
const DEFAULT_SCOPES: &str =
    "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email";

/// How long a token request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The most bytes read from a token answer.
const MAX_ANSWER: usize = 1 << 20;

/// The lifetime asked for a service account's token (Google's maximum).
const JWT_LIFETIME: Duration = Duration::from_secs(3600);

/// Application default credentials and the scopes to ask tokens for.
pub(crate) struct DefaultCredentials {
    kind: Kind,
    /// Space-separated.
    scopes: String,
    http: reqwest::Client,
}

enum Kind {
    ServiceAccount {
        email: String,
        key: Arc<dyn rustls::sign::SigningKey>,
        key_id: Option<String>,
        token_uri: String,
    },
    User {
        client_id: String,
        client_secret: secrecy::SecretString,
        refresh_token: secrecy::SecretString,
        token_uri: String,
    },
    Metadata {
        host: String,
    },
}

/// A credentials file, as `gcloud` and the IAM console write them.
#[derive(Deserialize)]
struct CredentialsFile {
    #[serde(rename = "type")]
    kind: String,
    client_email: Option<String>,
    private_key: Option<secrecy::SecretString>,
    private_key_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<secrecy::SecretString>,
    refresh_token: Option<secrecy::SecretString>,
    token_uri: Option<String>,
}

/// A token endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
}

impl DefaultCredentials {
    /// The credentials found where Google's libraries look, for the
    /// comma-separated `scopes` (or client-go's default ones).
    pub(crate) fn find(scopes: Option<&str>) -> Result<Self, Error> {
        let found = locate(
            |name| std::env::var_os(name).filter(|value| !value.is_empty()),
            std::env::home_dir(),
            || std::fs::read_to_string("/sys/class/dmi/id/product_name").ok(),
        );
        let kind = match found {
            Some(Found::File(path)) => from_file(path)?,
            Some(Found::Metadata(host)) => Kind::Metadata { host },
            None => return Err(Error::NoDefaultProvider),
        };
        Self::with(kind, scopes)
    }

    /// Credentials of `kind` for the comma-separated `scopes`.
    fn with(kind: Kind, scopes: Option<&str>) -> Result<Self, Error> {
        let scopes = match scopes {
            Some(scopes) => scopes
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
            None => DEFAULT_SCOPES.to_string(),
        };
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .tls_backend_preconfigured(crate::client::tls::plain_client_config(None).map_err(
                |e| Error::RequestToken {
                    url: TOKEN_URI.into(),
                    reason: e.to_string(),
                },
            )?)
            .build()
            .map_err(|e| Error::RequestToken {
                url: TOKEN_URI.into(),
                reason: e.to_string(),
            })?;
        Ok(Self { kind, scopes, http })
    }

    /// A fresh access token and when it expires.
    pub(crate) async fn token(&self) -> Result<(String, Option<Timestamp>), Error> {
        let asked_at = Timestamp::now();
        let (url, request) = match &self.kind {
            Kind::ServiceAccount {
                email,
                key,
                key_id,
                token_uri,
            } => {
                let assertion = signed_jwt(
                    email,
                    key.as_ref(),
                    key_id.as_deref(),
                    token_uri,
                    &self.scopes,
                    asked_at,
                )?;
                let form = form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &assertion),
                ]);
                (token_uri, self.post(token_uri, form))
            }
            Kind::User {
                client_id,
                client_secret,
                refresh_token,
                token_uri,
            } => {
                use secrecy::ExposeSecret;
                let form = form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", client_id),
                    ("client_secret", client_secret.expose_secret()),
                    ("refresh_token", refresh_token.expose_secret()),
                ]);
                (token_uri, self.post(token_uri, form))
            }
            Kind::Metadata { host } => {
                let query = form(&[("scopes", &self.scopes.replace(' ', ","))]);
                let url = format!(
                    "http://{host}/computeMetadata/v1/instance/service-accounts/default/token?{query}"
                );
                let request = self.http.get(&url).header("Metadata-Flavor", "Google");
                return self.answer(&url, request, asked_at).await;
            }
        };
        self.answer(url, request, asked_at).await
    }

    fn post(&self, url: &str, form: String) -> reqwest::RequestBuilder {
        self.http
            .post(url)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(form)
    }

    /// Sends a token request and reads its answer, bounded.
    async fn answer(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
        asked_at: Timestamp,
    ) -> Result<(String, Option<Timestamp>), Error> {
        let failed = |reason: String| Error::RequestToken {
            url: url.to_string(),
            reason,
        };
        let mut response = request
            .send()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(failed(format!(
                    "the answer is larger than {MAX_ANSWER} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            // OAuth errors name the problem in `error`; the rest may echo secrets.
            #[derive(Deserialize)]
            struct OAuthError {
                error: Option<String>,
            }
            let code = serde_json::from_slice::<OAuthError>(&body)
                .ok()
                .and_then(|e| e.error)
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            return Err(failed(format!("answered {status}{code}")));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| Error::ParseToken {
            url: url.to_string(),
            reason: format!(
                "{:?} at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ),
        })?;
        let expiry = answer
            .expires_in
            .and_then(|seconds| asked_at.checked_add(Duration::from_secs(seconds)).ok());
        Ok((answer.access_token, expiry))
    }
}

/// Where application default credentials were found.
#[derive(Debug, PartialEq)]
enum Found {
    /// A credentials file.
    File(PathBuf),
    /// The metadata server at this host.
    Metadata(String),
}

/// Looks where Google's libraries look, given the environment variables
/// (`var`), the home directory and the machine's DMI product name: the file
/// `GOOGLE_APPLICATION_CREDENTIALS` names, gcloud's well-known file, then the
/// metadata server (`GCE_METADATA_HOST`, or the standard one on a machine
/// that says it is Google's).
fn locate(
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
    home: Option<PathBuf>,
    product_name: impl FnOnce() -> Option<String>,
) -> Option<Found> {
    if let Some(path) = var("GOOGLE_APPLICATION_CREDENTIALS") {
        return Some(Found::File(PathBuf::from(path)));
    }
    let config_dir = match var("CLOUDSDK_CONFIG") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => home.map(|home| home.join(".config").join("gcloud")),
    };
    if let Some(well_known) = config_dir
        .map(|dir| dir.join("application_default_credentials.json"))
        .filter(|path| path.is_file())
    {
        return Some(Found::File(well_known));
    }
    if let Some(host) = var("GCE_METADATA_HOST") {
        return Some(Found::Metadata(host.to_string_lossy().into_owned()));
    }
    product_name()
        .filter(|product| product.trim().starts_with("Google"))
        .map(|_| Found::Metadata("metadata.google.internal".into()))
}

/// The most bytes read from a credentials file (a few KiB in practice).
const MAX_CREDENTIALS_FILE: u64 = 1 << 20;

fn from_file(path: PathBuf) -> Result<Kind, Error> {
    let text = crate::config::data::read_file(&path, MAX_CREDENTIALS_FILE).map_err(|source| {
        Error::LoadCredentials {
            path: path.clone(),
            source,
        }
    })?;
    let unusable = |reason: String| Error::ParseCredentials {
        path: path.clone(),
        reason,
    };
    let file: CredentialsFile = serde_json::from_slice(&text).map_err(|e| {
        unusable(format!(
            "not a credentials file ({:?} at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let missing = |field: &str| unusable(format!("it has no {field}"));
    let token_uri = file
        .token_uri
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| TOKEN_URI.into());
    match file.kind.as_str() {
        "service_account" => {
            let email = file.client_email.ok_or_else(|| missing("client_email"))?;
            let pem = file.private_key.ok_or_else(|| missing("private_key"))?;
            let key = signing_key(&pem, &email)?;
            Ok(Kind::ServiceAccount {
                email,
                key,
                key_id: file.private_key_id,
                token_uri,
            })
        }
        "authorized_user" => Ok(Kind::User {
            client_id: file.client_id.ok_or_else(|| missing("client_id"))?,
            client_secret: file.client_secret.ok_or_else(|| missing("client_secret"))?,
            refresh_token: file.refresh_token.ok_or_else(|| missing("refresh_token"))?,
            token_uri,
        }),
        other => Err(unusable(format!(
            "its type {other:?} is neither service_account nor authorized_user"
        ))),
    }
}

/// The service account's key, loaded by the TLS crypto provider.
fn signing_key(
    pem: &secrecy::SecretString,
    account: &str,
) -> Result<Arc<dyn rustls::sign::SigningKey>, Error> {
    use rustls::pki_types::{PrivateKeyDer, pem::PemObject};
    use secrecy::ExposeSecret;
    let invalid = |reason: String| Error::InvalidRsaKey {
        account: account.to_string(),
        reason,
    };
    let der = PrivateKeyDer::from_pem_slice(pem.expose_secret().as_bytes())
        .map_err(|_| invalid("it is not a PEM private key".into()))?;
    let provider = crate::client::tls::crypto_provider().map_err(|e| invalid(e.to_string()))?;
    provider
        .key_provider
        .load_private_key(der)
        .map_err(|e| invalid(e.to_string()))
}

/// A JWT asserting the service account, signed with RS256.
fn signed_jwt(
    email: &str,
    key: &dyn rustls::sign::SigningKey,
    key_id: Option<&str>,
    audience: &str,
    scopes: &str,
    now: Timestamp,
) -> Result<String, Error> {
    let invalid = |reason: &str| Error::InvalidRsaKey {
        account: email.to_string(),
        reason: reason.to_string(),
    };
    let encode = |value: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    let mut header = serde_json::json!({ "alg": "RS256", "typ": "JWT" });
    if let Some(key_id) = key_id {
        header["kid"] = key_id.into();
    }
    let issued = now.as_second();
    let claims = serde_json::json!({
        "iss": email,
        "scope": scopes,
        "aud": audience,
        "iat": issued,
        "exp": issued + JWT_LIFETIME.as_secs() as i64,
    });
    let signing_input = format!("{}.{}", encode(&header), encode(&claims));
    let signer = key
        .choose_scheme(&[rustls::SignatureScheme::RSA_PKCS1_SHA256])
        .ok_or_else(|| invalid("it cannot sign RS256 (not an RSA key)"))?;
    let signature = signer
        .sign(signing_input.as_bytes())
        .map_err(|_| invalid("signing failed"))?;
    Ok(format!(
        "{signing_input}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
    ))
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        form.append_pair(key, value);
    }
    form.finish()
}

#[cfg(test)]
mod tests;
