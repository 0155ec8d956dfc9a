//! Who the apiserver takes the client for, as `kubectl auth whoami` shows it:
//! a `SelfSubjectReview` answers with the user name, UID and groups the
//! request was authenticated as.

use k8s_openapi::api::authentication::v1::{SelfSubjectReview, UserInfo};
use kube::{Api, Client, api::PostParams};

/// The user the apiserver authenticated `client`'s request as.
pub async fn run(client: Client) -> anyhow::Result<UserInfo> {
    let reviews: Api<SelfSubjectReview> = Api::all(client);
    let review = reviews
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await?;
    review
        .status
        .and_then(|status| status.user_info)
        .ok_or_else(|| anyhow::anyhow!("the apiserver's review has no user"))
}
