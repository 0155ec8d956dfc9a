//! Everyday operations on built-in types: rollout restarts, cordoning nodes,
//! and service account tokens.

use k8s_openapi::api::{
    authentication::v1::TokenRequest,
    core::v1::{Node, ServiceAccount},
};
use kube_core::{Resource, util::Restart};
use serde::de::DeserializeOwned;

use super::Api;
use crate::{Error, Result, api::PostParams};

impl<K> Api<K>
where
    K: Restart + Resource + DeserializeOwned,
{
    /// Restarts the pods of a workload, as `kubectl rollout restart` does: stamps
    /// its pod template with the current time, so its controller rolls out new
    /// pods.
    pub async fn restart(&self, name: &str) -> Result<K> {
        let request = self
            .requests()?
            .restart(name)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }
}

impl Api<Node> {
    /// Marks the node unschedulable, as `kubectl cordon` does. Pods already on it
    /// keep running.
    pub async fn cordon(&self, name: &str) -> Result<Node> {
        let request = self.requests()?.cordon(name).map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }

    /// Marks the node schedulable again, as `kubectl uncordon` does.
    pub async fn uncordon(&self, name: &str) -> Result<Node> {
        let request = self
            .requests()?
            .uncordon(name)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }
}

impl Api<ServiceAccount> {
    /// Asks for a token for the service account called `name` (its `token`
    /// subresource). The answer's `status.token` authenticates as the service
    /// account until `status.expirationTimestamp`.
    ///
    /// ```no_run
    /// # use kube_client::{Api, Client, api::PostParams};
    /// # use k8s_openapi::api::{authentication::v1::{TokenRequest, TokenRequestSpec}, core::v1::ServiceAccount};
    /// # async fn run(client: Client) -> kube_client::Result<()> {
    /// let accounts: Api<ServiceAccount> = Api::namespaced(client, "default");
    /// let request = TokenRequest {
    ///     spec: Some(TokenRequestSpec {
    ///         expiration_seconds: Some(600),
    ///         ..Default::default()
    ///     }),
    ///     ..Default::default()
    /// };
    /// let answer = accounts.create_token_request("builder", &PostParams::default(), &request).await?;
    /// let token: Option<String> = answer.status.and_then(|s| s.token);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_token_request(
        &self,
        name: &str,
        pp: &PostParams,
        token_request: &TokenRequest,
    ) -> Result<TokenRequest> {
        self.create_subresource("token", name, pp, token_request)
            .await
    }
}
