//! Group, version, kind and resource: the coordinates of an API type.

use std::{fmt, str::FromStr};

use k8s_openapi::{
    api::core::v1::ObjectReference, apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::metadata::TypeMeta;

/// An `apiVersion` that is neither `version` nor `group/version`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid apiVersion {0:?}: expected \"version\" or \"group/version\"")]
pub struct ParseGroupVersionError(pub String);

/// A group and version, e.g. `apps/v1`; the group is empty for the core API.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct GroupVersion {
    /// The API group, empty for the core group.
    pub group: String,
    /// The version within the group.
    pub version: String,
}

impl GroupVersion {
    /// A group and version from their parts.
    pub fn gv(group_: &str, version_: &str) -> Self {
        Self {
            group: group_.to_string(),
            version: version_.to_string(),
        }
    }

    /// Adds a kind.
    pub fn with_kind(self, kind: &str) -> GroupVersionKind {
        GroupVersionKind {
            group: self.group,
            version: self.version,
            kind: kind.to_string(),
        }
    }

    /// The `apiVersion` string: `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        join_api_version(&self.group, &self.version)
    }
}

impl FromStr for GroupVersion {
    type Err = ParseGroupVersionError;

    /// Parses an `apiVersion` such as `v1` or `apps/v1`.
    fn from_str(api_version: &str) -> Result<Self, Self::Err> {
        let invalid = || ParseGroupVersionError(api_version.to_string());
        let (group, version) = match api_version.split_once('/') {
            None => ("", api_version),
            Some((group, version)) if !group.is_empty() && !version.contains('/') => {
                (group, version)
            }
            Some(_) => return Err(invalid()),
        };
        if version.is_empty() {
            return Err(invalid());
        }
        Ok(Self::gv(group, version))
    }
}

impl fmt::Display for GroupVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.api_version())
    }
}

/// A group, version and kind: names a type, e.g. `apps/v1` `Deployment`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct GroupVersionKind {
    /// The API group, empty for the core group.
    pub group: String,
    /// The version within the group.
    pub version: String,
    /// The kind, e.g. `Deployment`.
    pub kind: String,
}

impl GroupVersionKind {
    /// A group, version and kind from their parts.
    pub fn gvk(group_: &str, version_: &str, kind_: &str) -> Self {
        Self {
            group: group_.to_string(),
            version: version_.to_string(),
            kind: kind_.to_string(),
        }
    }

    /// The `apiVersion` string: `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        join_api_version(&self.group, &self.version)
    }

    /// Reads the group, version and kind from an `apiVersion` and a `kind`.
    fn from_parts(api_version: &str, kind: &str) -> Result<Self, ParseGroupVersionError> {
        Ok(api_version.parse::<GroupVersion>()?.with_kind(kind))
    }
}

impl TryFrom<&TypeMeta> for GroupVersionKind {
    type Error = ParseGroupVersionError;

    fn try_from(tm: &TypeMeta) -> Result<Self, Self::Error> {
        Self::from_parts(&tm.api_version, &tm.kind)
    }
}

impl TryFrom<TypeMeta> for GroupVersionKind {
    type Error = ParseGroupVersionError;

    fn try_from(tm: TypeMeta) -> Result<Self, Self::Error> {
        Self::try_from(&tm)
    }
}

/// Owner references always carry a valid `apiVersion` (the server validates them);
/// a malformed one keeps the whole string as the version with an empty group.
impl From<OwnerReference> for GroupVersionKind {
    fn from(owner: OwnerReference) -> Self {
        Self::from_parts(&owner.api_version, &owner.kind)
            .unwrap_or_else(|_| Self::gvk("", &owner.api_version, &owner.kind))
    }
}

/// Missing fields become empty strings; a malformed `apiVersion` is kept whole as
/// the version.
impl From<ObjectReference> for GroupVersionKind {
    fn from(reference: ObjectReference) -> Self {
        let api_version = reference.api_version.unwrap_or_default();
        let kind = reference.kind.unwrap_or_default();
        Self::from_parts(&api_version, &kind).unwrap_or_else(|_| Self::gvk("", &api_version, &kind))
    }
}

impl fmt::Display for GroupVersionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, Kind={}", self.api_version(), self.kind)
    }
}

/// A group, version and resource (plural): names a collection in the API, e.g.
/// `apps/v1` `deployments`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct GroupVersionResource {
    /// The API group, empty for the core group.
    pub group: String,
    /// The version within the group.
    pub version: String,
    /// The resource, i.e. the plural name used in URLs.
    pub resource: String,
}

impl GroupVersionResource {
    /// A group, version and resource from their parts.
    pub fn gvr(group_: &str, version_: &str, resource_: &str) -> Self {
        Self {
            group: group_.to_string(),
            version: version_.to_string(),
            resource: resource_.to_string(),
        }
    }

    /// The `apiVersion` string: `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        join_api_version(&self.group, &self.version)
    }
}

fn join_api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_core_and_named_api_versions() {
        assert_eq!(
            "v1".parse::<GroupVersion>().ok(),
            Some(GroupVersion::gv("", "v1"))
        );
        assert_eq!(
            "apps/v1".parse::<GroupVersion>().ok(),
            Some(GroupVersion::gv("apps", "v1"))
        );
        assert_eq!(GroupVersion::gv("", "v1").api_version(), "v1");
        assert_eq!(GroupVersion::gv("apps", "v1").to_string(), "apps/v1");
    }

    #[test]
    fn rejects_malformed_api_versions() {
        for bad in ["", "/v1", "apps/", "a/b/c"] {
            let err = bad.parse::<GroupVersion>().expect_err(bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn gvk_from_type_meta_and_references() {
        let tm = TypeMeta {
            api_version: "example.com/v1".into(),
            kind: "Foo".into(),
        };
        let gvk = GroupVersionKind::try_from(&tm).expect("valid type meta");
        assert_eq!(gvk, GroupVersionKind::gvk("example.com", "v1", "Foo"));
        assert_eq!(gvk.api_version(), "example.com/v1");
        assert_eq!(gvk.to_string(), "example.com/v1, Kind=Foo");

        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            ..OwnerReference::default()
        };
        assert_eq!(
            GroupVersionKind::from(owner),
            GroupVersionKind::gvk("apps", "v1", "Deployment")
        );
        let reference = ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            ..ObjectReference::default()
        };
        assert_eq!(
            GroupVersionKind::from(reference),
            GroupVersionKind::gvk("", "v1", "Pod")
        );
    }

    #[test]
    fn gvr_knows_its_api_version() {
        assert_eq!(
            GroupVersionResource::gvr("", "v1", "pods").api_version(),
            "v1"
        );
        assert_eq!(
            GroupVersionResource::gvr("apps", "v1", "deployments").api_version(),
            "apps/v1"
        );
    }
}
