//! The streaming subresources of pods over WebSockets: `exec`, `attach` and
//! `portforward`.

use std::fmt::Debug;

use http::{HeaderValue, header};
use serde::de::DeserializeOwned;

use super::{Api, AttachParams, AttachedProcess, Portforwarder};
use crate::{Error, Result, client::upgrade_protocols};

/// Types whose running process can be attached to: pods.
pub trait Attach {}

impl Attach for k8s_openapi::api::core::v1::Pod {}

/// Types that can run commands: pods.
pub trait Execute {}

impl Execute for k8s_openapi::api::core::v1::Pod {}

/// Types whose ports can be forwarded: pods.
pub trait Portforward {}

impl Portforward for k8s_openapi::api::core::v1::Pod {}

impl<K> Api<K>
where
    K: Clone + DeserializeOwned + Attach,
{
    /// Attaches to the main process of the pod called `name` (or of the
    /// container named in `ap`), connecting the streams `ap` asks for.
    ///
    /// The apiserver relays the streams from the kubelet of the pod's node: a
    /// pod without a node, or not running, gives an [`Error::Api`] saying so.
    pub async fn attach(&self, name: &str, ap: &AttachParams) -> Result<AttachedProcess> {
        let request = self
            .requests()?
            .attach(name, ap)
            .map_err(Error::BuildRequest)?;
        let connection = self.client().connect(request).await?;
        Ok(AttachedProcess::new(connection, ap))
    }
}

impl<K> Api<K>
where
    K: Clone + DeserializeOwned + Execute,
{
    /// Runs `command` in the pod called `name` (in the container named in
    /// `ap`, or its only one), connecting the streams `ap` asks for.
    ///
    /// The command runs directly, not through a shell. When it ends, the
    /// server sends a `Status` ([`AttachedProcess::take_status`]) and closes
    /// the connection. Errors before the command starts (no such pod, no
    /// node, no permission) are [`Error::Api`].
    pub async fn exec<I, T>(
        &self,
        name: &str,
        command: I,
        ap: &AttachParams,
    ) -> Result<AttachedProcess>
    where
        I: IntoIterator<Item = T> + Debug,
        T: Into<String>,
    {
        let request = self
            .requests()?
            .exec(name, command, ap)
            .map_err(Error::BuildRequest)?;
        let connection = self.client().connect(request).await?;
        Ok(AttachedProcess::new(connection, ap))
    }
}

impl<K> Api<K>
where
    K: Clone + DeserializeOwned + Portforward,
{
    /// Forwards `ports` of the pod called `name`: each port gives one byte
    /// stream to that port inside the pod.
    pub async fn portforward(&self, name: &str, ports: &[u16]) -> Result<Portforwarder> {
        let mut request = self
            .requests()?
            .portforward(name, ports)
            .map_err(Error::BuildRequest)?;
        // The kubelet's port-forward WebSocket speaks the v4 binary framing.
        request.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(upgrade_protocols::V4_CHANNEL),
        );
        let connection = self.client().connect(request).await?;
        Ok(Portforwarder::new(connection.into_stream(), ports))
    }
}

#[cfg(test)]
mod tests;
