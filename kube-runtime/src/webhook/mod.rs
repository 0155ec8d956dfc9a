//! A server for admission and conversion webhooks (feature `webhook`).
//!
//! The apiserver calls webhooks over HTTPS:
//!
//! - *validating* admission webhooks decide whether a create, update, delete
//!   or connect may happen;
//! - *mutating* admission webhooks change an object before it is stored, by
//!   answering with a JSON Patch;
//! - *conversion* webhooks convert a custom resource between the versions of
//!   its CustomResourceDefinition.
//!
//! A [`Server`] serves any number of them, one per path. You write the
//! handlers, from request to response, with the types of
//! [`kube_core::admission`](kube_client::core::admission) and
//! [`kube_core::conversion`](kube_client::core::conversion); the server reads
//! and decodes the reviews, calls the handlers under a timeout, works out the
//! JSON Patch of a mutation from the object the handler returns, and encodes
//! the answers. A request it cannot read gets an answer naming the problem: a
//! `400` for a malformed review, `413` for one over 7 MiB, `405` for anything
//! but `POST`, and a denial (or failed conversion) for a handler that times
//! out or panics. The certificate is read again when its files change
//! ([`CertWatcher`]).
//!
//! ```no_run
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube_client::core::{
//!     DynamicObject, ResourceExt,
//!     admission::{AdmissionRequest, AdmissionResponse},
//!     conversion::{ConversionRequest, ConversionResponse},
//! };
//! use kube_runtime::webhook::{CertWatcher, Mutation, Server};
//!
//! /// Every ConfigMap needs an `owner` label.
//! async fn validate(request: AdmissionRequest<ConfigMap>) -> AdmissionResponse {
//!     let response = AdmissionResponse::from(&request);
//!     match &request.object {
//!         Some(cm) if !cm.labels().contains_key("owner") => response.deny("a ConfigMap needs an owner label"),
//!         _ => response,
//!     }
//! }
//!
//! /// Every ConfigMap is marked as seen.
//! async fn mutate(request: AdmissionRequest<ConfigMap>) -> Mutation<ConfigMap> {
//!     match request.object {
//!         Some(mut cm) => {
//!             cm.labels_mut().insert("seen".into(), "yes".into());
//!             Mutation::Object(cm)
//!         }
//!         None => Mutation::Unchanged,
//!     }
//! }
//!
//! /// Objects of either version are stored alike: only `apiVersion` changes.
//! async fn convert(request: ConversionRequest) -> ConversionResponse {
//!     let version = request.desired_api_version.clone();
//!     let objects = request.objects.iter().cloned().map(|mut object| {
//!         object["apiVersion"] = version.clone().into();
//!         object
//!     });
//!     let objects = objects.collect();
//!     ConversionResponse::for_request(request).success(objects)
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let certs = CertWatcher::new("/tls/tls.crt", "/tls/tls.key")?;
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8443").await?;
//! Server::new(certs)
//!     .validating("/validate", validate)
//!     .mutating("/mutate", mutate)
//!     .conversion("/convert", convert)
//!     .serve(listener)
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! Register the paths with the apiserver in a `ValidatingWebhookConfiguration`,
//! a `MutatingWebhookConfiguration` (with `admissionReviewVersions: [v1]`),
//! and a CRD's `spec.conversion` (strategy `Webhook`,
//! `conversionReviewVersions: [v1]`), each with a `clientConfig` naming the
//! server and the `caBundle` that signed its certificate.

mod admission;
mod certs;
mod conversion;
mod http;
mod server;
#[cfg(test)]
mod testing;

use std::path::PathBuf;

pub use admission::Mutation;
pub use certs::CertWatcher;
pub use server::Server;

/// Why a webhook server could not start, or a certificate not load.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A certificate or key file could not be read.
    #[error("reading {path}: {source}", path = .path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// The certificate file holds no usable PEM certificate chain.
    #[error("the certificate file {path} does not load: {problem}", path = .path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The key file holds no usable PEM private key.
    #[error("the private key file {path} does not load: {problem}", path = .path.display())]
    PrivateKey {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (never the file's content).
        problem: &'static str,
    },
    /// The key is of a kind the crypto provider does not take, or does not
    /// belong to the certificate.
    #[error(
        "the private key {key} does not go with the certificate {cert}: {source}",
        key = .key_path.display(),
        cert = .cert_path.display()
    )]
    KeyPair {
        /// The certificate file.
        cert_path: PathBuf,
        /// The key file.
        key_path: PathBuf,
        /// What rustls found.
        #[source]
        source: rustls::Error,
    },
    /// No rustls crypto provider is built in or installed.
    #[error(
        "no rustls crypto provider: enable the `ring` or `aws-lc-rs` feature, or install one with \
         rustls::crypto::CryptoProvider::install_default"
    )]
    NoCryptoProvider,
    /// rustls refused the server's TLS configuration.
    #[error("rustls refused the webhook server's TLS configuration: {0}")]
    Tls(#[source] rustls::Error),
}
