//! Turning the apiserver's discovery documents into [`ApiResource`] and
//! [`ApiCapabilities`] pairs. Pure functions, tested without a server.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIResource, APIResourceList};
use kube_core::{
    discovery::{
        ApiCapabilities, ApiResource, Scope,
        v2::{APIResourceDiscovery, APISubresourceDiscovery, APIVersionDiscovery},
    },
    gvk::{GroupVersion, GroupVersionKind},
};

use crate::{Error, Result, error::DiscoveryError};

/// The resources of one version of a group.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupVersionData {
    /// The version, e.g. `v1`.
    pub(crate) version: String,
    /// The top-level resources, each with its subresources in its capabilities.
    pub(crate) resources: Vec<(ApiResource, ApiCapabilities)>,
}

impl GroupVersionData {
    /// The resources of a legacy per-group-version document (`/api/v1`,
    /// `/apis/apps/v1`). Entries named `parent/sub` become subresources of
    /// `parent`.
    pub(crate) fn from_legacy(list: &APIResourceList) -> Result<Self> {
        let gv: GroupVersion = list.group_version.parse().map_err(|_| {
            Error::Discovery(DiscoveryError::InvalidGroupVersion(
                list.group_version.clone(),
            ))
        })?;
        let mut resources: Vec<(ApiResource, ApiCapabilities)> = list
            .resources
            .iter()
            .filter(|r| !r.name.contains('/'))
            .map(|r| (legacy_resource(&gv, r, &r.name), legacy_capabilities(r)))
            .collect();
        for sub in list.resources.iter() {
            let Some((parent, name)) = sub.name.split_once('/') else {
                continue;
            };
            if let Some((_, caps)) = resources.iter_mut().find(|(ar, _)| ar.plural == parent) {
                caps.subresources
                    .push((legacy_resource(&gv, sub, name), legacy_capabilities(sub)));
            }
        }
        Ok(GroupVersionData {
            version: gv.version,
            resources,
        })
    }

    /// The resources of one version of an aggregated discovery group. Resources
    /// without a kind (which cannot be addressed as objects) are left out.
    pub(crate) fn from_aggregated(group: &str, version: &APIVersionDiscovery) -> Self {
        let version_name = version.version.clone().unwrap_or_default();
        let resources = version
            .resources
            .iter()
            .filter_map(|r| aggregated_resource(group, &version_name, r))
            .collect();
        GroupVersionData {
            version: version_name,
            resources,
        }
    }
}

fn legacy_resource(gv: &GroupVersion, r: &APIResource, plural: &str) -> ApiResource {
    // Subresources may name another group and version (deployments/scale is
    // autoscaling/v1 Scale); top-level resources leave them empty.
    let group = r.group.clone().unwrap_or_else(|| gv.group.clone());
    let version = r.version.clone().unwrap_or_else(|| gv.version.clone());
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(&group, &version, &r.kind), plural)
}

fn legacy_capabilities(r: &APIResource) -> ApiCapabilities {
    ApiCapabilities {
        scope: if r.namespaced {
            Scope::Namespaced
        } else {
            Scope::Cluster
        },
        subresources: Vec::new(),
        operations: r.verbs.clone(),
    }
}

fn aggregated_resource(
    group: &str,
    version: &str,
    r: &APIResourceDiscovery,
) -> Option<(ApiResource, ApiCapabilities)> {
    let plural = r.resource.as_deref()?;
    let kind = r.response_kind.as_ref()?.kind.as_deref()?;
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    let scope = match r.scope.as_deref() {
        Some("Cluster") => Scope::Cluster,
        _ => Scope::Namespaced,
    };
    let subresources = r
        .subresources
        .iter()
        .filter_map(|sub| aggregated_subresource(group, version, scope, sub))
        .collect();
    Some((
        resource,
        ApiCapabilities {
            scope,
            subresources,
            operations: r.verbs.clone(),
        },
    ))
}

fn aggregated_subresource(
    group: &str,
    version: &str,
    scope: Scope,
    sub: &APISubresourceDiscovery,
) -> Option<(ApiResource, ApiCapabilities)> {
    let name = sub.subresource.as_deref()?;
    let kind = sub.response_kind.as_ref();
    // An empty group or version in the response kind means the parent's.
    let non_empty = |s: Option<&String>| s.filter(|s| !s.is_empty()).cloned();
    let sub_group = non_empty(kind.and_then(|k| k.group.as_ref())).unwrap_or_else(|| group.into());
    let sub_version =
        non_empty(kind.and_then(|k| k.version.as_ref())).unwrap_or_else(|| version.into());
    let sub_kind = kind.and_then(|k| k.kind.clone()).unwrap_or_default();
    Some((
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(&sub_group, &sub_version, &sub_kind),
            name,
        ),
        ApiCapabilities {
            scope,
            subresources: Vec::new(),
            operations: sub.verbs.clone(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_core::discovery::{v2::APIGroupDiscoveryList, verbs};

    #[test]
    fn legacy_documents_attach_subresources_to_their_parent() {
        let list: APIResourceList = serde_json::from_value(serde_json::json!({
            "kind": "APIResourceList",
            "groupVersion": "apps/v1",
            "resources": [
                {"name": "deployments", "singularName": "deployment", "namespaced": true,
                 "kind": "Deployment", "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
                {"name": "deployments/scale", "singularName": "", "namespaced": true,
                 "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]},
                {"name": "deployments/status", "singularName": "", "namespaced": true,
                 "kind": "Deployment", "verbs": ["get", "patch", "update"]},
                {"name": "controllerrevisions", "singularName": "controllerrevision", "namespaced": true,
                 "kind": "ControllerRevision", "verbs": ["get", "list"]}
            ]
        }))
        .expect("valid list");
        let data = GroupVersionData::from_legacy(&list).expect("parses");
        assert_eq!(data.version, "v1");
        assert_eq!(data.resources.len(), 2);
        let (ar, caps) = &data.resources[0];
        assert_eq!(ar.api_version, "apps/v1");
        assert_eq!(ar.kind, "Deployment");
        assert_eq!(ar.plural, "deployments");
        assert_eq!(caps.scope, Scope::Namespaced);
        assert!(caps.supports_operation(verbs::WATCH));
        let subs: Vec<(&str, &str)> = caps
            .subresources
            .iter()
            .map(|(ar, _)| (ar.plural.as_str(), ar.api_version.as_str()))
            .collect();
        assert_eq!(subs, [("scale", "autoscaling/v1"), ("status", "apps/v1")]);
        assert!(!data.resources[1].1.supports_operation(verbs::CREATE));
    }

    #[test]
    fn legacy_core_documents_have_no_group() {
        let list: APIResourceList = serde_json::from_value(serde_json::json!({
            "groupVersion": "v1",
            "resources": [{"name": "nodes", "singularName": "node", "namespaced": false,
                           "kind": "Node", "verbs": ["get"]}]
        }))
        .expect("valid list");
        let data = GroupVersionData::from_legacy(&list).expect("parses");
        let (ar, caps) = &data.resources[0];
        assert_eq!((ar.group.as_str(), ar.api_version.as_str()), ("", "v1"));
        assert_eq!(caps.scope, Scope::Cluster);
    }

    #[test]
    fn aggregated_documents_parse_with_subresources() {
        let doc: APIGroupDiscoveryList = serde_json::from_value(serde_json::json!({
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "items": [{
                "metadata": {"name": "apps"},
                "versions": [{
                    "version": "v1",
                    "resources": [{
                        "resource": "deployments",
                        "responseKind": {"group": "", "version": "", "kind": "Deployment"},
                        "scope": "Namespaced",
                        "verbs": ["get", "list", "watch"],
                        "subresources": [
                            {"subresource": "scale",
                             "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                             "verbs": ["get", "patch"]},
                            {"subresource": "status",
                             "responseKind": {"group": "", "version": "", "kind": "Deployment"},
                             "verbs": ["get"]}
                        ]
                    }, {
                        "resource": "kindless",
                        "scope": "Cluster",
                        "verbs": ["get"]
                    }]
                }]
            }]
        }))
        .expect("valid document");
        let data = GroupVersionData::from_aggregated("apps", &doc.items[0].versions[0]);
        assert_eq!(
            data.resources.len(),
            1,
            "resources without a kind are skipped"
        );
        let (ar, caps) = &data.resources[0];
        assert_eq!(ar.api_version, "apps/v1");
        assert_eq!(ar.plural, "deployments");
        assert_eq!(caps.scope, Scope::Namespaced);
        let subs: Vec<(&str, &str, &str)> = caps
            .subresources
            .iter()
            .map(|(ar, _)| {
                (
                    ar.plural.as_str(),
                    ar.api_version.as_str(),
                    ar.kind.as_str(),
                )
            })
            .collect();
        assert_eq!(
            subs,
            [
                ("scale", "autoscaling/v1", "Scale"),
                ("status", "apps/v1", "Deployment")
            ]
        );
    }

    #[test]
    fn bad_group_versions_are_reported() {
        let list = APIResourceList {
            group_version: "a/b/c".into(),
            resources: vec![],
        };
        let err = GroupVersionData::from_legacy(&list).expect_err("invalid");
        assert!(err.to_string().contains("\"a/b/c\""), "{err}");
    }
}
