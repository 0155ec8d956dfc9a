//! The gcp auth-provider renewing its token by running `cmd-path`, as
//! kubeconfig files written by older gcloud versions ask, against the real
//! apiserver: the command prints a service-account token in gcloud's
//! `config-helper` format, which the apiserver accepts.

use std::os::unix::fs::PermissionsExt;

use kube_client::{
    Client,
    config::{AuthInfo, AuthProviderConfig},
};

use crate::{
    auth::username,
    common::{client_in_fresh_namespace, config, service_account_token},
};

#[tokio::test]
async fn the_token_a_gcp_command_prints_is_accepted_and_renewed_after_a_refusal() {
    let (admin, ns) = client_in_fresh_namespace().await;
    let token = service_account_token(&admin, &ns, "gcp-user").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let runs = dir.path().join("runs");
    let command = dir.path().join("gcloud");
    let expiry = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string();
    std::fs::write(
        &command,
        format!(
            "#!/bin/sh\necho run >> {runs}\n[ \"$1 $2\" = 'config config-helper' ] || exit 2\necho '{{\"credential\":{{\"access_token\":\"{token}\",\"token_expiry\":\"{expiry}\"}}}}'\n",
            runs = runs.display()
        ),
    )
    .expect("write");
    std::fs::set_permissions(&command, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let mut config = config().await;
    config.auth_info = AuthInfo {
        auth_provider: Some(AuthProviderConfig {
            name: "gcp".into(),
            config: [
                ("cmd-path", command.display().to_string()),
                ("cmd-args", "config config-helper --format=json".into()),
                ("token-key", "{.credential.access_token}".into()),
                ("expiry-key", "{.credential.token_expiry}".into()),
                // A stored token that claims to be valid for an hour, but
                // that the apiserver refuses.
                ("access-token", "revoked".into()),
                ("expiry", expiry.clone()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            ..AuthProviderConfig::default()
        }),
        ..AuthInfo::default()
    };
    let client = Client::try_from(config).expect("client");
    assert_eq!(
        username(&client).await.expect("a review"),
        format!("system:serviceaccount:{ns}:gcp-user")
    );
    username(&client).await.expect("a review");
    let count = std::fs::read_to_string(&runs)
        .expect("runs")
        .lines()
        .count();
    assert_eq!(count, 1, "the renewed token is kept while it is fresh");
}
