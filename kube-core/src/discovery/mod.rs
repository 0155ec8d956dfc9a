//! What discovery tells about a resource: its coordinates, scope and verbs.
//!
//! The client's discovery walks the apiserver's `/api` and `/apis` endpoints and
//! describes each resource with an [`ApiResource`] (enough to build URLs for a
//! [`DynamicObject`](crate::DynamicObject)) and [`ApiCapabilities`] (what the
//! server lets you do with it).

pub mod v2;

use serde::{Deserialize, Serialize};

use crate::{Resource, gvk::GroupVersionKind};

/// The coordinates of a resource, known at runtime: what a
/// [`DynamicObject`](crate::DynamicObject) needs to build its URLs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ApiResource {
    /// The API group, empty for the core group.
    pub group: String,
    /// The version within the group.
    pub version: String,
    /// The `apiVersion`: `group/version`, or `version` for the core group.
    pub api_version: String,
    /// The kind, e.g. `Deployment`.
    pub kind: String,
    /// The plural used in URLs, e.g. `deployments`.
    pub plural: String,
}

impl ApiResource {
    /// The coordinates of a [`Resource`] type, erased to runtime values.
    pub fn erase<K: Resource>(dt: &K::DynamicType) -> Self {
        Self {
            group: K::group(dt).into_owned(),
            version: K::version(dt).into_owned(),
            api_version: K::api_version(dt).into_owned(),
            kind: K::kind(dt).into_owned(),
            plural: K::plural(dt).into_owned(),
        }
    }

    /// Coordinates from a group/version/kind and the resource's true plural
    /// (as discovery or the CRD reports it).
    pub fn from_gvk_with_plural(gvk: &GroupVersionKind, plural: &str) -> Self {
        Self {
            group: gvk.group.clone(),
            version: gvk.version.clone(),
            api_version: gvk.api_version(),
            kind: gvk.kind.clone(),
            plural: plural.to_string(),
        }
    }

    /// Coordinates from a group/version/kind, *guessing* the plural from the kind.
    ///
    /// The guess follows English rules (`Policy` → `policies`, `Ingress` →
    /// `ingresses`, `Gateway` → `gateways`) and is right for most kinds, but a
    /// custom resource may declare any plural. Prefer discovery or
    /// [`from_gvk_with_plural`](Self::from_gvk_with_plural) when the plural is known.
    pub fn from_gvk(gvk: &GroupVersionKind) -> Self {
        Self::from_gvk_with_plural(gvk, &guess_plural(&gvk.kind))
    }
}

/// Whether a resource lives inside namespaces or at cluster level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Cluster-scoped, like `Node` or `Namespace`.
    Cluster,
    /// Namespaced, like `Pod` or `ConfigMap`.
    Namespaced,
}

/// The verbs discovery reports, as the strings the server uses.
pub mod verbs {
    /// Create an object.
    pub const CREATE: &str = "create";
    /// Read one object.
    pub const GET: &str = "get";
    /// Read a collection.
    pub const LIST: &str = "list";
    /// Stream changes to a collection.
    pub const WATCH: &str = "watch";
    /// Delete one object.
    pub const DELETE: &str = "delete";
    /// Delete a collection.
    pub const DELETE_COLLECTION: &str = "deletecollection";
    /// Replace one object.
    pub const UPDATE: &str = "update";
    /// Patch one object.
    pub const PATCH: &str = "patch";
}

/// What the server lets you do with a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCapabilities {
    /// Namespaced or cluster-scoped.
    pub scope: Scope,
    /// The subresources (`status`, `scale`, `log`, ...) with their own capabilities.
    pub subresources: Vec<(ApiResource, ApiCapabilities)>,
    /// The verbs the server supports, see [`verbs`].
    pub operations: Vec<String>,
}

impl ApiCapabilities {
    /// Whether the server supports a verb (one of [`verbs`]).
    pub fn supports_operation(&self, operation: &str) -> bool {
        self.operations.iter().any(|op| op == operation)
    }
}

/// Guesses the URL plural of a kind by English rules.
///
/// Only for kinds that were not discovered: every built-in type carries its true
/// plural, and discovery reports the plural of everything else.
pub(crate) fn guess_plural(kind: &str) -> String {
    let word = kind.to_ascii_lowercase();
    // Kinds whose singular already reads as a plural.
    if word.ends_with("endpoints") || word.ends_with("metrics") {
        return word;
    }
    let ends_with_consonant_y =
        word.ends_with('y') && !word[..word.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if ends_with_consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|suffix| word.ends_with(suffix))
    {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::{apps::v1::Deployment, core::v1::Pod};

    #[test]
    fn guesses_english_plurals() {
        for (kind, plural) in [
            ("Pod", "pods"),
            ("Ingress", "ingresses"),
            ("NetworkPolicy", "networkpolicies"),
            ("Gateway", "gateways"),
            ("Endpoints", "endpoints"),
            ("PodMetrics", "podmetrics"),
            ("Box", "boxes"),
            ("Patch", "patches"),
            ("Mesh", "meshes"),
            ("ConfigMap", "configmaps"),
            ("Key", "keys"),
            ("Y", "ies"),
        ] {
            assert_eq!(guess_plural(kind), plural, "plural of {kind}");
        }
    }

    #[test]
    fn guessed_plurals_match_openapi_for_builtin_kinds() {
        use k8s_openapi::api::{
            core::v1::{Endpoints, Service},
            networking::v1::{Ingress, NetworkPolicy},
            policy::v1::PodDisruptionBudget,
            storage::v1::StorageClass,
        };
        fn check<K: k8s_openapi::Resource>() {
            assert_eq!(guess_plural(K::KIND), K::URL_PATH_SEGMENT, "{}", K::KIND);
        }
        check::<Pod>();
        check::<Service>();
        check::<Endpoints>();
        check::<Ingress>();
        check::<NetworkPolicy>();
        check::<PodDisruptionBudget>();
        check::<StorageClass>();
        check::<Deployment>();
    }

    #[test]
    fn erase_keeps_static_coordinates() {
        let ar = ApiResource::erase::<Deployment>(&());
        assert_eq!(ar.group, "apps");
        assert_eq!(ar.version, "v1");
        assert_eq!(ar.api_version, "apps/v1");
        assert_eq!(ar.kind, "Deployment");
        assert_eq!(ar.plural, "deployments");
        assert_eq!(ApiResource::erase::<Pod>(&()).api_version, "v1");
    }

    #[test]
    fn from_gvk_guesses_or_takes_the_plural() {
        let gvk = GroupVersionKind::gvk("example.com", "v1", "Policy");
        assert_eq!(ApiResource::from_gvk(&gvk).plural, "policies");
        assert_eq!(ApiResource::from_gvk(&gvk).api_version, "example.com/v1");
        assert_eq!(
            ApiResource::from_gvk_with_plural(&gvk, "pols").plural,
            "pols"
        );
    }

    #[test]
    fn capabilities_answer_verbs() {
        let caps = ApiCapabilities {
            scope: Scope::Namespaced,
            subresources: vec![],
            operations: vec![verbs::GET.into(), verbs::WATCH.into()],
        };
        assert!(caps.supports_operation(verbs::WATCH));
        assert!(!caps.supports_operation(verbs::DELETE_COLLECTION));
    }
}
