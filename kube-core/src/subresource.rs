//! Subresources with their own params: pod logs and evictions, and (feature
//! `ws`) `exec`, `attach` and `portforward`.
//!
//! `status` and `scale` need no params of their own: they use
//! [`Request::get_subresource`] and friends, and [`Scale`] is the type of the
//! `scale` subresource.

use http::Method;
use serde::Serialize;

use crate::{
    params::{DeleteParams, PostParams, Query},
    request::{Error, JSON_MIME, Request, build},
};
pub use k8s_openapi::api::autoscaling::v1::{Scale, ScaleSpec, ScaleStatus};

#[cfg(feature = "ws")]
mod attach;
#[cfg(feature = "ws")]
pub use attach::AttachParams;
#[cfg(feature = "kubelet-debug")]
pub(crate) use attach::port_list;

/// Options of a pod's `log` subresource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogParams {
    /// The container to read; required when the pod has more than one.
    pub container: Option<String>,
    /// Keep the stream open and follow new output.
    pub follow: bool,
    /// Stop after this many bytes.
    pub limit_bytes: Option<i64>,
    /// Ask the server to pretty-print (no effect on plain text logs).
    pub pretty: bool,
    /// Read the previous, terminated instance of the container.
    pub previous: bool,
    /// Only output from the last this many seconds.
    pub since_seconds: Option<i64>,
    /// Only output since this time.
    pub since_time: Option<k8s_openapi::jiff::Timestamp>,
    /// Only the last this many lines.
    pub tail_lines: Option<i64>,
    /// Prefix each line with its RFC 3339 timestamp.
    pub timestamps: bool,
}

impl LogParams {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.since_seconds.is_some() && self.since_time.is_some() {
            return Err(Error::Validation(
                "set at most one of since_seconds and since_time".into(),
            ));
        }
        for (name, value) in [
            ("limit_bytes", self.limit_bytes),
            ("since_seconds", self.since_seconds),
            ("tail_lines", self.tail_lines),
        ] {
            if let Some(v) = value
                && v < 0
            {
                return Err(Error::Validation(format!(
                    "{name} must not be negative, got {v}"
                )));
            }
        }
        Ok(())
    }
}

impl Request {
    /// `GET` a pod's logs.
    pub fn logs(&self, name: &str, lp: &LogParams) -> Result<http::Request<Vec<u8>>, Error> {
        lp.validate()?;
        let mut query = Query::new();
        query.opt("container", lp.container.as_deref());
        lp.append_to(&mut query);
        let path = self.subresource_path("log", name)?;
        build(Method::GET, query.url(&path), None, Vec::new())
    }
}

impl LogParams {
    /// Every option but the container, which the kubelet takes in the path.
    pub(crate) fn append_to(&self, query: &mut Query) {
        let lp = self;
        query.flag("follow", lp.follow);
        query.opt_num("limitBytes", lp.limit_bytes);
        query.flag("pretty", lp.pretty);
        query.flag("previous", lp.previous);
        query.opt_num("sinceSeconds", lp.since_seconds);
        query.opt_num("sinceTime", lp.since_time);
        query.opt_num("tailLines", lp.tail_lines);
        query.flag("timestamps", lp.timestamps);
    }
}

/// Options of a pod eviction: a delete that respects PodDisruptionBudgets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvictParams {
    /// How the pod is deleted once the eviction is allowed.
    pub delete_options: Option<DeleteParams>,
    /// Query options of the eviction request itself.
    pub post_options: PostParams,
}

impl Request {
    /// `POST` an `Eviction` for a pod. The server answers `429` while a
    /// PodDisruptionBudget forbids it.
    pub fn evict(&self, name: &str, ep: &EvictParams) -> Result<http::Request<Vec<u8>>, Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Eviction<'a> {
            api_version: &'static str,
            kind: &'static str,
            metadata: EvictionMeta<'a>,
            #[serde(skip_serializing_if = "Option::is_none")]
            delete_options: Option<&'a DeleteParams>,
        }
        #[derive(Serialize)]
        struct EvictionMeta<'a> {
            name: &'a str,
        }
        let body = serde_json::to_vec(&Eviction {
            api_version: "policy/v1",
            kind: "Eviction",
            metadata: EvictionMeta { name },
            delete_options: ep.delete_options.as_ref(),
        })
        .map_err(Error::SerializeBody)?;
        let mut request = self.create_subresource("eviction", name, &ep.post_options, body)?;
        debug_assert_eq!(request.method(), Method::POST);
        request.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(JSON_MIME),
        );
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Resource;
    use k8s_openapi::api::core::v1::Pod;

    fn pods() -> Request {
        Request::new(Pod::url_path(&(), Some("ns")))
    }

    #[test]
    fn log_queries_encode_every_option() {
        let lp = LogParams {
            container: Some("app".into()),
            follow: true,
            limit_bytes: Some(1024),
            previous: true,
            since_seconds: Some(60),
            tail_lines: Some(10),
            timestamps: true,
            ..LogParams::default()
        };
        assert_eq!(
            pods().logs("p", &lp).expect("valid").uri(),
            "/api/v1/namespaces/ns/pods/p/log?container=app&follow=true&limitBytes=1024&previous=true\
             &sinceSeconds=60&tailLines=10&timestamps=true"
        );
        let since = LogParams {
            since_time: "2026-01-02T03:04:05Z".parse().ok(),
            ..LogParams::default()
        };
        assert_eq!(
            pods().logs("p", &since).expect("valid").uri(),
            "/api/v1/namespaces/ns/pods/p/log?sinceTime=2026-01-02T03%3A04%3A05Z"
        );
        assert_eq!(
            pods()
                .logs("p", &LogParams::default())
                .expect("valid")
                .uri(),
            "/api/v1/namespaces/ns/pods/p/log"
        );
    }

    #[test]
    fn log_params_refuse_contradictions() {
        let both = LogParams {
            since_seconds: Some(1),
            since_time: "2026-01-02T03:04:05Z".parse().ok(),
            ..LogParams::default()
        };
        assert!(pods().logs("p", &both).is_err());
        let negative = LogParams {
            tail_lines: Some(-1),
            ..LogParams::default()
        };
        let err = pods().logs("p", &negative).expect_err("negative");
        assert!(err.to_string().contains("tail_lines"), "{err}");
    }

    #[test]
    fn evictions_post_an_eviction_object() {
        let ep = EvictParams {
            delete_options: Some(DeleteParams::default().grace_period(0)),
            post_options: PostParams::default(),
        };
        let req = pods().evict("p", &ep).expect("valid");
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "/api/v1/namespaces/ns/pods/p/eviction");
        let body: serde_json::Value = serde_json::from_slice(req.body()).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "apiVersion": "policy/v1",
                "kind": "Eviction",
                "metadata": {"name": "p"},
                "deleteOptions": {"gracePeriodSeconds": 0}
            })
        );
    }
}
