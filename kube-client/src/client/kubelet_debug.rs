//! A kubelet's own debugging endpoints: exec, attach, port-forward and logs of
//! the pods on its node, without the apiserver.
//!
//! Use a [`Client`] whose cluster URL is the kubelet (usually
//! `https://{node}:10250`) and whose credentials the kubelet accepts.

use std::fmt::Debug;

use futures::AsyncBufRead;
use http::{HeaderValue, header};
use kube_core::{Request, kubelet_debug::KubeletDebugParams};

use super::upgrade::protocols::V4_CHANNEL;
use crate::{
    Client, Error, Result,
    api::{AttachParams, AttachedProcess, LogParams, Portforwarder},
};

impl Client {
    /// Attaches to a container's main process through the kubelet.
    pub async fn kubelet_node_attach(
        &self,
        kubelet_params: &KubeletDebugParams<'_>,
        container: &str,
        ap: &AttachParams,
    ) -> Result<AttachedProcess> {
        let request = Request::kubelet_node_attach(kubelet_params, container, ap)
            .map_err(Error::BuildRequest)?;
        let connection = self.connect(request).await?;
        Ok(AttachedProcess::new(connection, ap))
    }

    /// Runs `command` in a container through the kubelet.
    pub async fn kubelet_node_exec<I, T>(
        &self,
        kubelet_params: &KubeletDebugParams<'_>,
        container: &str,
        command: I,
        ap: &AttachParams,
    ) -> Result<AttachedProcess>
    where
        I: IntoIterator<Item = T> + Debug,
        T: Into<String>,
    {
        let request = Request::kubelet_node_exec(kubelet_params, container, command, ap)
            .map_err(Error::BuildRequest)?;
        let connection = self.connect(request).await?;
        Ok(AttachedProcess::new(connection, ap))
    }

    /// Forwards `ports` of a pod through the kubelet.
    pub async fn kubelet_node_portforward(
        &self,
        kubelet_params: &KubeletDebugParams<'_>,
        ports: &[u16],
    ) -> Result<Portforwarder> {
        let mut request = Request::kubelet_node_portforward(kubelet_params, ports)
            .map_err(Error::BuildRequest)?;
        request.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(V4_CHANNEL),
        );
        let connection = self.connect(request).await?;
        Ok(Portforwarder::new(connection.into_stream(), ports))
    }

    /// Streams a container's logs from the kubelet.
    pub async fn kubelet_node_logs(
        &self,
        kubelet_params: &KubeletDebugParams<'_>,
        container: &str,
        lp: &LogParams,
    ) -> Result<impl AsyncBufRead + Send + Unpin + use<>> {
        let request = Request::kubelet_node_logs(kubelet_params, container, lp)
            .map_err(Error::BuildRequest)?;
        self.request_stream(request).await
    }
}
