//! The `oidc` auth-provider of kubeconfig files: an OpenID Connect ID token,
//! refreshed with the refresh token when it expires (feature `oidc`).
//!
//! The provider's config holds `id-token`, and for refreshing
//! `refresh-token`, `client-id`, `client-secret` (optional for public
//! clients) and `idp-issuer-url`, with `idp-certificate-authority(-data)`
//! when the issuer's certificate is not publicly trusted. Before each request
//! the ID token's `exp` claim is checked (without verifying the signature:
//! that is the apiserver's job; a token whose expiry cannot be read counts as
//! expired when it can be refreshed); within ten seconds of expiry the token
//! endpoint named by the issuer's `/.well-known/openid-configuration` is
//! asked for a new one with the refresh-token grant (RFC 6749 §6). Client
//! credentials go in an HTTP Basic header first and, if the provider refuses
//! that, in the form body. The new tokens are kept in memory; the kubeconfig
//! file is not rewritten. An issuer's answers are read up to 1 MiB, within
//! 30 s for each call.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
};

use base64::Engine;
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Why an OIDC ID token could not be used or refreshed.
pub mod errors {
    use http::StatusCode;

    /// The ID token is not a JWT whose expiry can be read.
    #[derive(Debug, thiserror::Error)]
    pub enum IdTokenError {
        /// Not three dot-separated parts.
        #[error("the ID token is not a JWT (three dot-separated parts)")]
        InvalidFormat,

        /// The payload is not base64url.
        #[error("the ID token's payload is not base64url: {0}")]
        InvalidBase64(#[source] base64::DecodeError),

        /// The payload is not JSON.
        #[error("the ID token's payload is not JSON: {0}")]
        InvalidJson(#[source] serde_json::Error),

        /// The `exp` claim is not a time.
        #[error("the ID token's exp claim {0} is not a valid time")]
        InvalidExpirationTimestamp(i64),
    }

    /// The token expired and the provider's config does not allow refreshing.
    #[derive(Debug, thiserror::Error, Clone)]
    pub enum RefreshInitError {
        /// A field needed to refresh is missing.
        #[error("the oidc auth-provider config has no {0}, which refreshing needs")]
        MissingField(&'static str),

        /// The issuer's certificate authority is not usable.
        #[error("the oidc auth-provider's idp-certificate-authority is not usable: {0}")]
        InvalidCertificateAuthority(String),
    }

    /// Asking the issuer for a new token failed.
    #[derive(Debug, thiserror::Error)]
    pub enum RefreshError {
        /// The issuer URL or its token endpoint is not a URL.
        #[error("{0:?} is not a valid URL")]
        InvalidURI(String),

        /// The issuer could not be reached.
        #[error("could not reach the OIDC issuer at {url}: {source}")]
        Transport {
            /// What was asked for.
            url: String,
            /// What the HTTP stack reported.
            #[source]
            source: reqwest::Error,
        },

        /// The issuer's answer is larger than a discovery document or a token
        /// response needs to be; the rest was not read.
        #[error("the answer of the OIDC issuer at {url} is larger than {limit_text}", limit_text = crate::error::human_bytes(*limit as u64))]
        ResponseTooLarge {
            /// What was asked for.
            url: String,
            /// The most read, in bytes.
            limit: usize,
        },

        /// The discovery document is not valid.
        #[error("the issuer's /.well-known/openid-configuration is not valid: {0}")]
        InvalidMetadata(#[source] serde_json::Error),

        /// The issuer answered with an error status.
        #[error("the OIDC issuer answered {0}")]
        RequestFailed(StatusCode),

        /// The token endpoint refused the client credentials in every form.
        #[error(
            "the token endpoint refused the client credentials (tried HTTP Basic and form fields)"
        )]
        AuthorizationFailure,

        /// The token response is not valid.
        #[error("the token endpoint's answer is not a valid token response: {0}")]
        InvalidTokenResponse(#[source] serde_json::Error),

        /// The token response holds no ID token.
        #[error("the token endpoint's answer holds no id_token")]
        NoIdTokenReceived,
    }

    /// Why the `oidc` auth-provider gave no token.
    #[derive(Debug, thiserror::Error)]
    pub enum Error {
        /// The config has no `id-token` and cannot refresh one.
        #[error("the oidc auth-provider config has no id-token")]
        IdTokenMissing,

        /// The ID token cannot be read.
        #[error("invalid ID token: {0}")]
        IdToken(#[source] IdTokenError),

        /// The ID token expired and the config cannot refresh it.
        #[error("the ID token expired and cannot be refreshed: {0}")]
        RefreshInit(#[source] RefreshInitError),

        /// The ID token expired and refreshing it failed.
        #[error("the ID token expired and refreshing it failed: {0}")]
        Refresh(#[source] RefreshError),
    }
}

use errors::{Error, IdTokenError, RefreshError, RefreshInitError};

/// Tokens are refreshed this long before they expire, so that a request does
/// not arrive with a token that expired on the way.
const EXPIRY_MARGIN_SECONDS: i64 = 10;

/// How long a call to the issuer may take in all. Requests to the cluster wait
/// for the refreshed token, so an issuer that stops answering must fail them
/// rather than hold them forever.
const ISSUER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The most of an issuer's answer that is read: discovery documents and
/// token responses are a few KiB.
const MAX_ISSUER_ANSWER: usize = 1 << 20;

const ID_TOKEN: &str = "id-token";
const REFRESH_TOKEN: &str = "refresh-token";
const CLIENT_ID: &str = "client-id";
const CLIENT_SECRET: &str = "client-secret";
const ISSUER_URL: &str = "idp-issuer-url";
#[cfg(feature = "rustls-tls")]
const ISSUER_CA_FILE: &str = "idp-certificate-authority";
#[cfg(feature = "rustls-tls")]
const ISSUER_CA_DATA: &str = "idp-certificate-authority-data";

/// An `oidc` auth-provider's tokens.
///
/// A refusal by the server is recorded without taking the tokens' lock,
/// which a request reading the token (or a refresh) may hold: it must never
/// be lost. It names the ID token in use when it was recorded, by its
/// generation, so a refusal of the token an ongoing refresh is about to
/// replace does not cause a second refresh.
pub(crate) struct Oidc {
    tokens: tokio::sync::Mutex<Tokens>,
    /// Which ID token is in use: 1 for the configured one, one more after
    /// each refresh.
    generation: AtomicU64,
    /// The generation of the last ID token the server refused (0: none).
    refused: AtomicU64,
    refresher: Result<Refresher, RefreshInitError>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("can_refresh", &self.refresher.is_ok())
            .finish_non_exhaustive()
    }
}

struct Tokens {
    id_token: Option<SecretString>,
    refresh_token: Option<SecretString>,
}

/// What refreshing needs.
struct Refresher {
    issuer: String,
    client_id: String,
    client_secret: Option<SecretString>,
    http: reqwest::Client,
}

impl Oidc {
    /// The provider's tokens, from its kubeconfig config.
    pub(crate) fn new(config: &HashMap<String, String>) -> Result<Self, Error> {
        let field = |name: &str| config.get(name).filter(|v| !v.trim().is_empty());
        let id_token = field(ID_TOKEN).map(|t| SecretString::from(t.trim().to_string()));
        let refresh_token = field(REFRESH_TOKEN).map(|t| SecretString::from(t.trim().to_string()));
        let refresher = refresher(config);
        if id_token.is_none() && (refresh_token.is_none() || refresher.is_err()) {
            return Err(Error::IdTokenMissing);
        }
        Ok(Self {
            tokens: tokio::sync::Mutex::new(Tokens {
                id_token,
                refresh_token,
            }),
            generation: AtomicU64::new(1),
            refused: AtomicU64::new(0),
            refresher,
        })
    }

    /// The `Authorization` header: the ID token, refreshed first if it
    /// expired (or was refused).
    pub(crate) async fn authorization(&self) -> Result<HeaderValue, Error> {
        let mut tokens = self.tokens.lock().await;
        let refused =
            self.refused.load(Ordering::Acquire) >= self.generation.load(Ordering::Acquire);
        let usable = match &tokens.id_token {
            Some(token) if !refused => {
                match expires_soon(token.expose_secret(), jiff::Timestamp::now()) {
                    Ok(soon) => !soon,
                    // A token whose expiry cannot be read is replaced when it
                    // can be, and else left for the apiserver to judge.
                    Err(error) => {
                        tracing::debug!(%error, "the OIDC ID token's expiry is unreadable");
                        self.refresher.is_err() || tokens.refresh_token.is_none()
                    }
                }
            }
            _ => false,
        };
        if !usable {
            let refresher = self
                .refresher
                .as_ref()
                .map_err(|e| Error::RefreshInit(e.clone()))?;
            let refresh_token = tokens.refresh_token.as_ref().ok_or(Error::RefreshInit(
                RefreshInitError::MissingField(REFRESH_TOKEN),
            ))?;
            let fresh = refresher
                .refresh(refresh_token.expose_secret())
                .await
                .map_err(Error::Refresh)?;
            tracing::debug!("refreshed the OIDC ID token");
            tokens.id_token = Some(fresh.id_token);
            if let Some(rotated) = fresh.refresh_token {
                tokens.refresh_token = Some(rotated);
            }
            // Still under the lock: no request has the new token yet.
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        bearer(tokens.id_token.as_ref().ok_or(Error::IdTokenMissing)?)
    }

    /// Records that the server refused the token in use, if it can be
    /// refreshed: the next request waits for a refresh (or for the one under
    /// way, when that replaces the refused token).
    pub(crate) fn invalidate(&self) {
        // A refresher exists only beside a refresh token.
        if self.refresher.is_ok() {
            let in_use = self.generation.load(Ordering::Acquire);
            self.refused.fetch_max(in_use, Ordering::AcqRel);
        }
    }
}

/// The refresher, or why there is none.
fn refresher(config: &HashMap<String, String>) -> Result<Refresher, RefreshInitError> {
    let field = |name: &'static str| {
        config
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .ok_or(RefreshInitError::MissingField(name))
    };
    let issuer = field(ISSUER_URL)?.trim_end_matches('/').to_string();
    let client_id = field(CLIENT_ID)?.to_string();
    field(REFRESH_TOKEN)?;
    let client_secret = field(CLIENT_SECRET)
        .ok()
        .map(|s| SecretString::from(s.to_string()));
    Ok(Refresher {
        issuer,
        client_id,
        client_secret,
        http: issuer_client(config, ISSUER_TIMEOUT)?,
    })
}

/// An HTTP client for the issuer; without TLS only `http://` issuers work.
#[cfg(not(feature = "rustls-tls"))]
fn issuer_client(
    _config: &HashMap<String, String>,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, RefreshInitError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| RefreshInitError::InvalidCertificateAuthority(e.to_string()))
}

/// An HTTP client for the issuer, trusting its configured authority (or else
/// what the cluster connection would trust without one).
#[cfg(feature = "rustls-tls")]
fn issuer_client(
    config: &HashMap<String, String>,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, RefreshInitError> {
    let invalid = |reason: String| RefreshInitError::InvalidCertificateAuthority(reason);
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout);
    let builder = {
        let pem = match (config.get(ISSUER_CA_DATA), config.get(ISSUER_CA_FILE)) {
            (Some(data), _) if !data.trim().is_empty() => Some(
                base64::engine::general_purpose::STANDARD
                    .decode(data.split_whitespace().collect::<String>())
                    .map_err(|e| invalid(format!("{ISSUER_CA_DATA} is not base64: {e}")))?,
            ),
            (_, Some(path)) if !path.trim().is_empty() => Some(
                crate::config::data::read_file(
                    std::path::Path::new(path.trim()),
                    crate::config::data::MAX_DATA_FILE,
                )
                .map_err(|e| invalid(format!("could not read {path}: {e}")))?,
            ),
            _ => None,
        };
        let roots = match pem {
            Some(pem) => Some(
                crate::config::data::pem_certificates(&pem, ISSUER_CA_FILE)
                    .map_err(|e| invalid(e.to_string()))?,
            ),
            None => None,
        };
        let tls = super::super::tls::plain_client_config(roots.as_deref())
            .map_err(|e| invalid(e.to_string()))?;
        builder.tls_backend_preconfigured(tls)
    };
    builder.build().map_err(|e| invalid(e.to_string()))
}

/// Whether the token expires within [`EXPIRY_MARGIN_SECONDS`] of `now`. A
/// token without `exp` does not expire.
fn expires_soon(token: &str, now: jiff::Timestamp) -> Result<bool, IdTokenError> {
    #[derive(Deserialize)]
    struct Claims {
        exp: Option<i64>,
    }
    let mut parts = token.split('.');
    let payload = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(payload), Some(_), None) => payload,
        _ => return Err(IdTokenError::InvalidFormat),
    };
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(IdTokenError::InvalidBase64)?;
    let claims: Claims = serde_json::from_slice(&json).map_err(IdTokenError::InvalidJson)?;
    let Some(exp) = claims.exp else {
        return Ok(false);
    };
    let expiry = jiff::Timestamp::from_second(exp)
        .map_err(|_| IdTokenError::InvalidExpirationTimestamp(exp))?;
    Ok(expiry.as_second() - now.as_second() <= EXPIRY_MARGIN_SECONDS)
}

/// The body of an issuer's answer to `url`, at most [`MAX_ISSUER_ANSWER`].
async fn read_answer(mut response: reqwest::Response, url: &str) -> Result<Vec<u8>, RefreshError> {
    let too_large = || RefreshError::ResponseTooLarge {
        url: url.to_string(),
        limit: MAX_ISSUER_ANSWER,
    };
    let announced = response.content_length().unwrap_or(0);
    if announced > u64::try_from(MAX_ISSUER_ANSWER).unwrap_or(u64::MAX) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| RefreshError::Transport {
            url: url.to_string(),
            source: source.without_url(),
        })?
    {
        if body.len() + chunk.len() > MAX_ISSUER_ANSWER {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The token endpoint named by an issuer's discovery document.
fn token_endpoint(document: &[u8]) -> Result<String, RefreshError> {
    #[derive(Deserialize)]
    struct Metadata {
        token_endpoint: String,
    }
    let metadata: Metadata = serde_json::from_slice(document)
        .map_err(|e| RefreshError::InvalidMetadata(crate::error::without_quoted_values(&e)))?;
    Ok(metadata.token_endpoint)
}

/// The tokens of a token endpoint's answer to the refresh-token grant.
fn token_response(body: &[u8]) -> Result<Fresh, RefreshError> {
    #[derive(Deserialize)]
    struct TokenResponse {
        id_token: Option<String>,
        refresh_token: Option<String>,
    }
    // The answer holds tokens: its errors must not quote it.
    let answer: TokenResponse = serde_json::from_slice(body)
        .map_err(|e| RefreshError::InvalidTokenResponse(crate::error::without_quoted_values(&e)))?;
    let id_token = answer
        .id_token
        .filter(|t| !t.is_empty())
        .ok_or(RefreshError::NoIdTokenReceived)?;
    Ok(Fresh {
        id_token: SecretString::from(id_token),
        refresh_token: answer
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(SecretString::from),
    })
}

/// The `Authorization` header of an ID token.
fn bearer(token: &SecretString) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
        .map_err(|_| Error::IdToken(IdTokenError::InvalidFormat))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The parsers of answers from an issuer and of ID tokens, for the fuzz
/// targets.
#[cfg(feature = "fuzzing")]
pub(crate) mod fuzz {
    /// The token endpoint a discovery document names, or why there is none.
    pub(crate) fn discovery(document: &[u8]) -> Result<String, String> {
        super::token_endpoint(document).map_err(|e| e.to_string())
    }

    /// Whether a token response is usable (and carries a new refresh
    /// token), with the header its ID token makes, or why not.
    pub(crate) fn token_response(body: &[u8]) -> Result<bool, String> {
        let fresh = super::token_response(body).map_err(|e| e.to_string())?;
        super::bearer(&fresh.id_token).map_err(|e| e.to_string())?;
        Ok(fresh.refresh_token.is_some())
    }

    /// Whether `token` expires within the margin of `now` (seconds since
    /// the epoch), or why its expiry cannot be read.
    pub(crate) fn expires_soon(token: &str, now: i64) -> Result<bool, String> {
        let now = jiff::Timestamp::from_second(now).map_err(|e| e.to_string())?;
        super::expires_soon(token, now).map_err(|e| e.to_string())
    }
}

/// What a refresh gives.
struct Fresh {
    id_token: SecretString,
    refresh_token: Option<SecretString>,
}

/// Where the client credentials go.
#[derive(Debug, Clone, Copy)]
enum ClientAuth {
    /// An HTTP Basic `Authorization` header (RFC 6749 §2.3.1).
    Header,
    /// `client_id` and `client_secret` form fields.
    Form,
}

impl Refresher {
    async fn refresh(&self, refresh_token: &str) -> Result<Fresh, RefreshError> {
        let endpoint = self.token_endpoint().await?;
        for style in [ClientAuth::Header, ClientAuth::Form] {
            let response = self.ask(&endpoint, style, refresh_token).await?;
            let status = response.status();
            // 400 and 401 are how providers refuse client credentials
            // (invalid_client); try the other way of sending them.
            if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::BAD_REQUEST {
                continue;
            }
            if !status.is_success() {
                return Err(RefreshError::RequestFailed(status));
            }
            let body = read_answer(response, &endpoint).await?;
            return token_response(&body);
        }
        Err(RefreshError::AuthorizationFailure)
    }

    /// The token endpoint, from the issuer's discovery document.
    async fn token_endpoint(&self) -> Result<String, RefreshError> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let parsed =
            reqwest::Url::parse(&url).map_err(|_| RefreshError::InvalidURI(url.clone()))?;
        let transport = |source: reqwest::Error| RefreshError::Transport {
            url: url.clone(),
            source: source.without_url(),
        };
        let response = self.http.get(parsed).send().await.map_err(transport)?;
        if !response.status().is_success() {
            return Err(RefreshError::RequestFailed(response.status()));
        }
        let body = read_answer(response, &url).await?;
        token_endpoint(&body)
    }

    async fn ask(
        &self,
        endpoint: &str,
        style: ClientAuth,
        refresh_token: &str,
    ) -> Result<reqwest::Response, RefreshError> {
        let url =
            reqwest::Url::parse(endpoint).map_err(|_| RefreshError::InvalidURI(endpoint.into()))?;
        // Built before any await: the form serializer is not Send.
        let request = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "refresh_token");
            form.append_pair("refresh_token", refresh_token);
            let mut request = self
                .http
                .post(url)
                .header(http::header::ACCEPT, "application/json")
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                );
            match style {
                ClientAuth::Header => {
                    // RFC 6749 §2.3.1: both parts form-encoded before joining.
                    let encode =
                        |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                    let secret = self
                        .client_secret
                        .as_ref()
                        .map_or(String::new(), |s| encode(s.expose_secret()));
                    let credentials = base64::engine::general_purpose::STANDARD
                        .encode(format!("{}:{secret}", encode(&self.client_id)));
                    let mut value = HeaderValue::try_from(format!("Basic {credentials}"))
                        .map_err(|_| RefreshError::AuthorizationFailure)?;
                    value.set_sensitive(true);
                    request = request.header(http::header::AUTHORIZATION, value);
                }
                ClientAuth::Form => {
                    form.append_pair("client_id", &self.client_id);
                    if let Some(secret) = &self.client_secret {
                        form.append_pair("client_secret", secret.expose_secret());
                    }
                }
            }
            request.body(form.finish())
        };
        request
            .send()
            .await
            .map_err(|source| RefreshError::Transport {
                url: endpoint.to_string(),
                source: source.without_url(),
            })
    }
}

#[cfg(test)]
mod tests;
