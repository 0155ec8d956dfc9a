//! Everyday operations on built-in types: rollout restarts, cordoning nodes,
//! service account tokens, and approving certificate signing requests.

use k8s_openapi::api::{
    authentication::v1::TokenRequest,
    certificates::v1::CertificateSigningRequest,
    core::v1::{Node, ServiceAccount},
};
use kube_core::{
    Resource,
    params::{Patch, PatchParams},
    util::Restart,
};
use serde::{Serialize, de::DeserializeOwned};

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

impl Api<CertificateSigningRequest> {
    /// Reads the certificate signing request called `name` through its
    /// `approval` subresource.
    pub async fn get_approval(&self, name: &str) -> Result<CertificateSigningRequest> {
        self.get_subresource("approval", name).await
    }

    /// Patches the conditions of the certificate signing request called
    /// `name` through its `approval` subresource: adding an `Approved` (or
    /// `Denied`) condition approves (or denies) it, as `kubectl certificate
    /// approve` does. Needs the `approve` verb on the request's signer.
    ///
    /// ```no_run
    /// # use kube_client::{Api, Client, api::{Patch, PatchParams}};
    /// # use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
    /// # async fn run(client: Client) -> kube_client::Result<()> {
    /// let requests: Api<CertificateSigningRequest> = Api::all(client);
    /// let approval = serde_json::json!({
    ///     "status": { "conditions": [{
    ///         "type": "Approved",
    ///         "status": "True",
    ///         "reason": "ApprovedByOperator",
    ///         "message": "the requester is known",
    ///     }]},
    /// });
    /// requests.patch_approval("node-csr-abc", &PatchParams::default(), &Patch::Merge(&approval)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn patch_approval<P: Serialize>(
        &self,
        name: &str,
        pp: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<CertificateSigningRequest> {
        let request = self
            .requests()?
            .patch_subresource("approval", name, pp, patch)
            .map_err(Error::BuildRequest)?;
        self.client().request(request).await
    }
}
