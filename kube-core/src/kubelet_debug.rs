//! Requests to a kubelet's own debugging endpoints, bypassing the apiserver.
//!
//! A kubelet serves `exec`, `attach`, `portForward` and `containerLogs` for
//! the pods on its node at paths of its own (`/exec/{namespace}/{pod}/{container}`
//! and so on). A client whose cluster URL is the kubelet (usually
//! `https://{node}:10250`) and whose credentials the kubelet accepts can use
//! them while the apiserver is unreachable. The streaming ones are upgraded
//! to WebSockets like their apiserver counterparts.

use http::Method;

use crate::{
    params::Query,
    request::{Error, Request, build, validate_path_segment},
    subresource::{AttachParams, LogParams, port_list},
};

/// Which pod a kubelet endpoint is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeletDebugParams<'a> {
    /// The pod's name.
    pub name: &'a str,
    /// The pod's namespace.
    pub namespace: &'a str,
    /// The pod's UID, to rule out a newer pod of the same name.
    pub pod_uid: Option<&'a str>,
}

impl KubeletDebugParams<'_> {
    /// `{namespace}/{name}`, then `/{uid}` when `with_uid` and one is given.
    fn path(&self, with_uid: bool) -> Result<String, Error> {
        validate_path_segment("namespace", self.namespace)?;
        validate_path_segment("pod name", self.name)?;
        match self.pod_uid.filter(|_| with_uid) {
            Some(uid) => {
                validate_path_segment("pod UID", uid)?;
                Ok(format!("{}/{}/{uid}", self.namespace, self.name))
            }
            None => Ok(format!("{}/{}", self.namespace, self.name)),
        }
    }
}

impl Request {
    /// `GET /attach/{namespace}/{pod}[/{uid}]/{container}` on a kubelet.
    pub fn kubelet_node_attach(
        kubelet_debug_params: &KubeletDebugParams<'_>,
        container: &str,
        ap: &AttachParams,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        validate_path_segment("container", container)?;
        let mut query = Query::new();
        ap.append_to_kubelet(&mut query)?;
        let path = format!("/attach/{}/{container}", kubelet_debug_params.path(true)?);
        build(Method::GET, query.url(&path), None, Vec::new())
    }

    /// `GET /exec/{namespace}/{pod}[/{uid}]/{container}` on a kubelet, running
    /// `command` directly (not through a shell).
    pub fn kubelet_node_exec<I, T>(
        kubelet_debug_params: &KubeletDebugParams<'_>,
        container: &str,
        command: I,
        ap: &AttachParams,
    ) -> Result<http::Request<Vec<u8>>, Error>
    where
        I: IntoIterator<Item = T> + std::fmt::Debug,
        T: Into<String>,
    {
        validate_path_segment("container", container)?;
        let mut query = Query::new();
        ap.append_to_kubelet(&mut query)?;
        let mut empty = true;
        for arg in command {
            query.pair("command", &arg.into());
            empty = false;
        }
        if empty {
            return Err(Error::Validation("exec: the command is empty".into()));
        }
        let path = format!("/exec/{}/{container}", kubelet_debug_params.path(true)?);
        build(Method::GET, query.url(&path), None, Vec::new())
    }

    /// `GET /portForward/{namespace}/{pod}[/{uid}]` on a kubelet.
    pub fn kubelet_node_portforward(
        kubelet_debug_params: &KubeletDebugParams<'_>,
        ports: &[u16],
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let list = port_list(ports)?;
        let mut query = Query::new();
        query.pair("port", &list);
        let path = format!("/portForward/{}", kubelet_debug_params.path(true)?);
        build(Method::GET, query.url(&path), None, Vec::new())
    }

    /// `GET /containerLogs/{namespace}/{pod}/{container}` on a kubelet (the
    /// UID is not part of this path; `lp.container` is ignored for
    /// `container`).
    pub fn kubelet_node_logs(
        kubelet_debug_params: &KubeletDebugParams<'_>,
        container: &str,
        lp: &LogParams,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        validate_path_segment("container", container)?;
        lp.validate()?;
        let mut query = Query::new();
        lp.append_to(&mut query);
        let path = format!(
            "/containerLogs/{}/{container}",
            kubelet_debug_params.path(false)?
        );
        build(Method::GET, query.url(&path), None, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: KubeletDebugParams<'static> = KubeletDebugParams {
        name: "web",
        namespace: "shop",
        pod_uid: Some("1f2e"),
    };

    #[test]
    fn streams_are_named_as_the_kubelet_names_them() {
        let ap = AttachParams::default().stdin(true);
        let req = Request::kubelet_node_attach(&POD, "main", &ap).expect("valid");
        assert_eq!(req.method(), "GET");
        assert_eq!(
            req.uri(),
            "/attach/shop/web/1f2e/main?input=1&output=1&error=1"
        );
        let req = Request::kubelet_node_exec(
            &KubeletDebugParams {
                pod_uid: None,
                ..POD
            },
            "main",
            ["sh", "-c", "ls /"],
            &AttachParams::interactive_tty(),
        )
        .expect("valid");
        assert_eq!(
            req.uri(),
            "/exec/shop/web/main?input=1&output=1&tty=1&command=sh&command=-c&command=ls+%2F"
        );
    }

    #[test]
    fn port_forwards_and_logs_have_their_own_paths() {
        let req = Request::kubelet_node_portforward(&POD, &[8080, 9090]).expect("valid");
        assert_eq!(req.uri(), "/portForward/shop/web/1f2e?port=8080%2C9090");
        let lp = LogParams {
            follow: true,
            tail_lines: Some(10),
            container: Some("ignored".into()),
            ..LogParams::default()
        };
        let req = Request::kubelet_node_logs(&POD, "main", &lp).expect("valid");
        assert_eq!(
            req.uri(),
            "/containerLogs/shop/web/main?follow=true&tailLines=10"
        );
    }

    #[test]
    fn invalid_requests_are_refused_before_sending() {
        let ap = AttachParams::default();
        let bad_name = KubeletDebugParams {
            name: "../etc",
            ..POD
        };
        assert!(Request::kubelet_node_attach(&bad_name, "main", &ap).is_err());
        assert!(Request::kubelet_node_attach(&POD, "a/b", &ap).is_err());
        assert!(Request::kubelet_node_exec(&POD, "main", Vec::<String>::new(), &ap).is_err());
        assert!(Request::kubelet_node_portforward(&POD, &[]).is_err());
        assert!(Request::kubelet_node_portforward(&POD, &[1, 1]).is_err());
        let tty_and_stderr = AttachParams::default().tty(true);
        assert!(Request::kubelet_node_attach(&POD, "main", &tty_and_stderr).is_err());
    }
}
