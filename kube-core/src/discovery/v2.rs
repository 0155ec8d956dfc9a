//! Aggregated discovery (`apidiscovery.k8s.io/v2`): every group, version and
//! resource of the server in one response.
//!
//! Servers since Kubernetes 1.30 answer `GET /api` and `GET /apis` with these
//! documents when the request's `Accept` header asks for them, replacing one
//! request per group-version with two requests in total.

use serde::{Deserialize, Serialize};

use crate::metadata::{ListMeta, ObjectMeta};

/// The `Accept` header asking for aggregated discovery, falling back to the
/// legacy documents on servers that do not offer it.
pub const ACCEPT_AGGREGATED_DISCOVERY_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// Every API group the server serves, as answered by `/api` or `/apis`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct APIGroupDiscoveryList {
    /// List metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ListMeta>,
    /// The groups.
    #[serde(default)]
    pub items: Vec<APIGroupDiscovery>,
}

/// One API group and its versions, most preferred first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct APIGroupDiscovery {
    /// `metadata.name` is the group's name (empty for the core group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    /// The versions, in the server's order of preference.
    #[serde(default)]
    pub versions: Vec<APIVersionDiscovery>,
}

/// One version of a group and its resources.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct APIVersionDiscovery {
    /// The version, e.g. `v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The resources served at this version.
    #[serde(default)]
    pub resources: Vec<APIResourceDiscovery>,
    /// `Current`, or `Stale` when an aggregated server could not be reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness: Option<String>,
}

/// One resource: its plural, kind, scope, verbs and subresources.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct APIResourceDiscovery {
    /// The plural name used in URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The kind the resource returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_kind: Option<GroupVersionKind>,
    /// `Cluster` or `Namespaced`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The singular name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub singular_resource: Option<String>,
    /// The supported verbs.
    #[serde(default)]
    pub verbs: Vec<String>,
    /// Short names, e.g. `po` for pods.
    #[serde(default)]
    pub short_names: Vec<String>,
    /// Categories, e.g. `all`.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Subresources such as `status` or `scale`.
    #[serde(default)]
    pub subresources: Vec<APISubresourceDiscovery>,
}

/// A subresource of a discovered resource.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct APISubresourceDiscovery {
    /// The subresource's name, e.g. `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// The kind the subresource returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_kind: Option<GroupVersionKind>,
    /// The kinds the subresource accepts.
    #[serde(default)]
    pub accepted_types: Vec<GroupVersionKind>,
    /// The supported verbs.
    #[serde(default)]
    pub verbs: Vec<String>,
}

/// A group/version/kind as aggregated discovery spells it (every part optional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupVersionKind {
    /// The group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_an_aggregated_discovery_document() {
        let doc = serde_json::json!({
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": [{
                "metadata": {"name": "apps"},
                "versions": [{
                    "version": "v1",
                    "freshness": "Current",
                    "resources": [{
                        "resource": "deployments",
                        "responseKind": {"group": "", "version": "", "kind": "Deployment"},
                        "scope": "Namespaced",
                        "singularResource": "deployment",
                        "verbs": ["create", "get", "list", "watch"],
                        "shortNames": ["deploy"],
                        "categories": ["all"],
                        "subresources": [{
                            "subresource": "scale",
                            "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                            "verbs": ["get", "patch", "update"]
                        }]
                    }]
                }]
            }]
        });
        let list: APIGroupDiscoveryList = serde_json::from_value(doc).expect("valid document");
        let group = &list.items[0];
        assert_eq!(
            group.metadata.as_ref().and_then(|m| m.name.as_deref()),
            Some("apps")
        );
        let deployments = &group.versions[0].resources[0];
        assert_eq!(deployments.resource.as_deref(), Some("deployments"));
        assert_eq!(deployments.scope.as_deref(), Some("Namespaced"));
        assert_eq!(deployments.short_names, ["deploy"]);
        let scale = &deployments.subresources[0];
        assert_eq!(scale.subresource.as_deref(), Some("scale"));
        assert_eq!(
            scale.response_kind.as_ref().and_then(|k| k.kind.as_deref()),
            Some("Scale")
        );
    }
}
