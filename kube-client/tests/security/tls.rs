//! The apiserver's certificate is verified unless the configuration says
//! otherwise.

use kube_client::{Client, Config, error::TransportError};

use crate::{capture, env};

#[tokio::test]
async fn certificates_are_verified_by_default() {
    capture::start();
    let server = env().await.server_url();
    // No certificate authority configured: the operating system's trust store
    // applies, and it does not know the test apiserver's self-signed CA.
    let config = Config::new(server.parse().expect("server URL"));
    assert!(!config.accept_invalid_certs);
    let client = Client::try_from(config).expect("client");
    let err = client
        .apiserver_version()
        .await
        .expect_err("an unknown issuer is refused");
    assert!(
        matches!(err.transport(), Some(TransportError::Tls { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains(server), "{err}");
}
