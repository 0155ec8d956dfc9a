//! Stacks built by hand over hyper-util with `ConfigExt`'s OpenSSL connectors
//! (feature `openssl-tls`), against the real apiserver: its certificate
//! authority and the admin's client certificate, and `tls-server-name`.

use k8s_openapi::api::core::v1::Namespace;
use kube_client::{Api, Client, Config, client::ConfigExt};
use tower::{BoxError, ServiceBuilder};

use crate::common::config;

fn openssl_client(config: Config) -> Client {
    let https = config
        .openssl_https_connector()
        .expect("an OpenSSL connector");
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer().expect("credentials"))
        .map_err(BoxError::from)
        .service(
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https),
        );
    Client::new(service, config.default_namespace)
}

#[tokio::test]
async fn an_openssl_stack_presents_the_client_certificate_and_trusts_the_authority() {
    let namespaces: Api<Namespace> = Api::all(openssl_client(config().await));
    let names: Vec<_> = namespaces
        .list(&Default::default())
        .await
        .expect("listed over OpenSSL")
        .into_iter()
        .filter_map(|ns| ns.metadata.name)
        .collect();
    assert!(names.iter().any(|n| n == "kube-system"), "{names:?}");
}

#[tokio::test]
async fn an_openssl_stack_checks_tls_server_name_instead_of_the_url_host() {
    let mut config = config().await;
    config.tls_server_name = Some("not-the-apiserver.example.com".into());
    let err = openssl_client(config.clone())
        .apiserver_version()
        .await
        .expect_err("the certificate does not name it");
    let text = err.to_string();
    assert!(text.to_lowercase().contains("certificate"), "{text}");

    config.tls_server_name = Some("kubernetes.default.svc".into());
    openssl_client(config)
        .apiserver_version()
        .await
        .expect("the certificate names kubernetes.default.svc");
}

#[test]
fn an_unreadable_authority_is_named() {
    let mut config = Config::new("https://127.0.0.1:6443".parse().expect("url"));
    config.root_cert = Some(vec![b"not a certificate".to_vec()]);
    let err = config
        .openssl_ssl_connector_builder()
        .err()
        .expect("not DER");
    let text = err.to_string();
    assert!(text.contains("root certificate 0"), "{text}");
}
