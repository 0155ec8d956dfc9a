//! One discovered API group: its versions and their resources.

use std::cmp::Reverse;

use kube_core::{
    Version,
    discovery::{ApiCapabilities, ApiResource},
};

use super::parse::GroupVersionData;

/// An API group as discovered: its versions, most preferred first, and the
/// resources each serves.
///
/// ```no_run
/// # async fn run(client: kube_client::Client) -> kube_client::Result<()> {
/// let apps = kube_client::discovery::group(&client, "apps").await?;
/// println!("apps prefers {}", apps.preferred_version_or_latest());
/// for (resource, caps) in apps.recommended_resources() {
///     println!("{} ({:?}): {:?}", resource.kind, caps.scope, caps.operations);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ApiGroup {
    name: String,
    /// Sorted by version priority, most preferred first.
    data: Vec<GroupVersionData>,
    /// The server's preferred version, when it named one.
    preferred: Option<String>,
}

impl ApiGroup {
    /// The name of the core group (`/api`), which holds pods, services, nodes, ...
    pub const CORE_GROUP: &'static str = "";

    /// A group from its versions' data, ordered by Kubernetes version priority.
    pub(crate) fn new(
        name: String,
        mut data: Vec<GroupVersionData>,
        preferred: Option<String>,
    ) -> Self {
        data.sort_by_cached_key(|d| Reverse(Version::parse(&d.version).priority()));
        ApiGroup {
            name,
            data,
            preferred,
        }
    }

    /// The group's name, e.g. `apps`; empty for the core group.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The versions served, most preferred first (stable before beta before
    /// alpha, higher before lower).
    pub fn versions(&self) -> impl Iterator<Item = &str> {
        self.data.iter().map(|d| d.version.as_str())
    }

    /// The version the server prefers for this group, when it said so.
    pub fn preferred_version(&self) -> Option<&str> {
        self.preferred.as_deref()
    }

    /// The server's preferred version, or else the highest-priority version.
    pub fn preferred_version_or_latest(&self) -> &str {
        self.preferred
            .as_deref()
            .or_else(|| self.versions().next())
            .unwrap_or_default()
    }

    /// The resources served at `ver`; empty for a version the group lacks.
    pub fn versioned_resources(&self, ver: &str) -> Vec<(ApiResource, ApiCapabilities)> {
        self.data
            .iter()
            .find(|d| d.version == ver)
            .map(|d| d.resources.clone())
            .unwrap_or_default()
    }

    /// The resources at the [preferred version](Self::preferred_version_or_latest):
    /// what to use when any version will do.
    pub fn recommended_resources(&self) -> Vec<(ApiResource, ApiCapabilities)> {
        self.versioned_resources(self.preferred_version_or_latest())
    }

    /// Every resource of the group once, each at its most stable version: a kind
    /// served only as `v1alpha1` appears, at `v1alpha1`, next to kinds at `v1`.
    pub fn resources_by_stability(&self) -> Vec<(ApiResource, ApiCapabilities)> {
        let mut chosen: Vec<(ApiResource, ApiCapabilities)> = Vec::new();
        // `data` is in priority order, so the first version seen of a kind wins.
        for version in &self.data {
            for (resource, caps) in &version.resources {
                if !chosen.iter().any(|(r, _)| r.plural == resource.plural) {
                    chosen.push((resource.clone(), caps.clone()));
                }
            }
        }
        chosen
    }

    /// The resource of kind `kind` at the preferred version, or else at its
    /// most stable version.
    pub fn recommended_kind(&self, kind: &str) -> Option<(ApiResource, ApiCapabilities)> {
        let preferred = self.preferred_version_or_latest();
        let in_order = self
            .data
            .iter()
            .filter(|d| d.version == preferred)
            .chain(self.data.iter().filter(|d| d.version != preferred));
        for version in in_order {
            if let Some(found) = version.resources.iter().find(|(r, _)| r.kind == kind) {
                return Some(found.clone());
            }
        }
        None
    }

    /// The resource of `kind` at exactly `version`.
    pub(crate) fn find(&self, version: &str, kind: &str) -> Option<(ApiResource, ApiCapabilities)> {
        self.data
            .iter()
            .find(|d| d.version == version)?
            .resources
            .iter()
            .find(|(r, _)| r.kind == kind)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_core::{GroupVersionKind, discovery::Scope};

    fn resource(version: &str, kind: &str, plural: &str) -> (ApiResource, ApiCapabilities) {
        (
            ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("example.com", version, kind),
                plural,
            ),
            ApiCapabilities {
                scope: Scope::Namespaced,
                subresources: vec![],
                operations: vec!["get".into()],
            },
        )
    }

    fn group(preferred: Option<&str>) -> ApiGroup {
        ApiGroup::new(
            "example.com".into(),
            vec![
                GroupVersionData {
                    version: "v1alpha1".into(),
                    resources: vec![
                        resource("v1alpha1", "Widget", "widgets"),
                        resource("v1alpha1", "Gadget", "gadgets"),
                    ],
                },
                GroupVersionData {
                    version: "v1".into(),
                    resources: vec![resource("v1", "Widget", "widgets")],
                },
                GroupVersionData {
                    version: "v1beta1".into(),
                    resources: vec![resource("v1beta1", "Widget", "widgets")],
                },
            ],
            preferred.map(str::to_string),
        )
    }

    #[test]
    fn versions_are_ordered_by_priority() {
        let g = group(None);
        assert_eq!(
            g.versions().collect::<Vec<_>>(),
            ["v1", "v1beta1", "v1alpha1"]
        );
        assert_eq!(g.preferred_version(), None);
        assert_eq!(g.preferred_version_or_latest(), "v1");
        assert_eq!(
            group(Some("v1beta1")).preferred_version_or_latest(),
            "v1beta1"
        );
    }

    #[test]
    fn recommended_resources_come_from_the_preferred_version() {
        let kinds = |g: &ApiGroup| {
            g.recommended_resources()
                .into_iter()
                .map(|(r, _)| r.api_version)
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(&group(None)), ["example.com/v1"]);
        assert_eq!(kinds(&group(Some("v1alpha1"))).len(), 2);
    }

    #[test]
    fn resources_by_stability_take_each_kind_once_at_its_best_version() {
        let found: Vec<(String, String)> = group(None)
            .resources_by_stability()
            .into_iter()
            .map(|(r, _)| (r.kind, r.version))
            .collect();
        assert_eq!(
            found,
            [
                ("Widget".to_string(), "v1".to_string()),
                ("Gadget".to_string(), "v1alpha1".to_string())
            ]
        );
    }

    #[test]
    fn recommended_kind_falls_back_to_other_versions() {
        let g = group(None);
        let (widget, _) = g.recommended_kind("Widget").expect("widget");
        assert_eq!(widget.version, "v1");
        let (gadget, _) = g.recommended_kind("Gadget").expect("gadget");
        assert_eq!(gadget.version, "v1alpha1");
        assert!(g.recommended_kind("Gizmo").is_none());
        assert!(g.find("v1beta1", "Widget").is_some());
        assert!(g.find("v1beta1", "Gadget").is_none());
        assert!(g.versioned_resources("v9").is_empty());
    }
}
