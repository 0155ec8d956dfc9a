//! Requests for common operations on built-in workloads and nodes.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};

use crate::{
    params::{Patch, PatchParams},
    request::{Error, Request},
};

/// Workloads whose pods can be restarted by touching their pod template, as
/// `kubectl rollout restart` does.
pub trait Restart {}

impl Restart for Deployment {}
impl Restart for DaemonSet {}
impl Restart for StatefulSet {}
impl Restart for ReplicaSet {}

impl Request {
    /// A rolling restart: sets the pod template annotation
    /// `kubectl.kubernetes.io/restartedAt` to now, so the controller replaces
    /// every pod.
    pub fn restart(&self, name: &str) -> Result<http::Request<Vec<u8>>, Error> {
        let now = jiff::Timestamp::now().to_string();
        let patch = serde_json::json!({
            "spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": now
            }}}}
        });
        self.patch(name, &PatchParams::default(), &Patch::Merge(patch))
    }

    /// Marks a node unschedulable, as `kubectl cordon` does.
    pub fn cordon(&self, name: &str) -> Result<http::Request<Vec<u8>>, Error> {
        self.set_unschedulable(name, true)
    }

    /// Marks a node schedulable again, as `kubectl uncordon` does.
    pub fn uncordon(&self, name: &str) -> Result<http::Request<Vec<u8>>, Error> {
        self.set_unschedulable(name, false)
    }

    fn set_unschedulable(
        &self,
        name: &str,
        unschedulable: bool,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let patch = serde_json::json!({"spec": {"unschedulable": unschedulable}});
        self.patch(name, &PatchParams::default(), &Patch::Strategic(patch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Resource;
    use k8s_openapi::api::core::v1::Node;

    #[test]
    fn restart_patches_the_pod_template() {
        let req = Request::new(Deployment::url_path(&(), Some("ns")))
            .restart("web")
            .expect("valid");
        assert_eq!(req.uri(), "/apis/apps/v1/namespaces/ns/deployments/web");
        let body: serde_json::Value = serde_json::from_slice(req.body()).expect("json");
        let stamp = &body["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"];
        assert!(stamp.as_str().is_some_and(|s| s.ends_with('Z')), "{body}");
    }

    #[test]
    fn cordon_toggles_unschedulable() {
        let nodes = Request::new(Node::url_path(&(), None));
        let cordon = nodes.cordon("n1").expect("valid");
        assert_eq!(cordon.uri(), "/api/v1/nodes/n1");
        assert_eq!(cordon.body(), br#"{"spec":{"unschedulable":true}}"#);
        assert_eq!(
            nodes.uncordon("n1").expect("valid").body(),
            br#"{"spec":{"unschedulable":false}}"#
        );
    }
}
