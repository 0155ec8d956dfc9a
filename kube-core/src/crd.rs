//! Custom resource definitions: what `#[derive(CustomResource)]` produces, and
//! merging several versions of one kind into one definition.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition as Crd;
use thiserror::Error;

/// Implemented by `#[derive(CustomResource)]`: the definition to install, and
/// the names it declares.
pub trait CustomResourceExt {
    /// The `CustomResourceDefinition` of this type, ready to apply.
    fn crd() -> Crd;
    /// The definition's name: `plural.group`.
    fn crd_name() -> &'static str;
    /// The coordinates of this version of the resource.
    fn api_resource() -> crate::discovery::ApiResource;
    /// The short names, e.g. `["fo"]`.
    fn shortnames() -> &'static [&'static str];
}

/// Why several definitions could not be merged into one.
#[derive(Debug, Error)]
pub enum MergeError {
    /// No definitions were given.
    #[error("there are no CRDs to merge")]
    MissingCrds,
    /// None of the definitions has the version chosen for storage.
    #[error("the storage version {0:?} is not among the CRDs' versions")]
    MissingStoredApi(String),
    /// A definition has no version at all.
    #[error("CRD {0:?} has no versions")]
    MissingVersions(String),
    /// A definition already holds several versions; give one version per CRD.
    #[error("CRD {0:?} has several versions: give one version per CRD")]
    MultiVersionCrd(String),
    /// The definitions disagree about something they must share.
    #[error("the CRDs disagree on {0}: all versions of one kind must share it")]
    PropertyMismatch(String),
}

/// Combines definitions of several versions of one kind (one version each, as
/// `Foo::crd()` gives for each versioned module) into one definition, with
/// `stored_apiversion` as the version stored in etcd. Every version stays
/// served; exactly one is stored.
pub fn merge_crds(crds: Vec<Crd>, stored_apiversion: &str) -> Result<Crd, MergeError> {
    let mut crds = crds.into_iter();
    let mut merged = crds.next().ok_or(MergeError::MissingCrds)?;
    let first_name = merged.metadata.name.clone().unwrap_or_default();
    check_single_version(&merged)?;
    for crd in crds {
        check_single_version(&crd)?;
        let spec = &merged.spec;
        if crd.spec.group != spec.group {
            return Err(MergeError::PropertyMismatch("group".into()));
        }
        if crd.spec.scope != spec.scope {
            return Err(MergeError::PropertyMismatch("scope".into()));
        }
        if crd.spec.names != spec.names {
            return Err(MergeError::PropertyMismatch("names".into()));
        }
        if crd.metadata.name.as_deref().unwrap_or_default() != first_name {
            return Err(MergeError::PropertyMismatch("metadata.name".into()));
        }
        merged.spec.versions.extend(crd.spec.versions);
    }
    let stored = stored_apiversion
        .rsplit('/')
        .next()
        .unwrap_or(stored_apiversion)
        .to_string();
    if !merged.spec.versions.iter().any(|v| v.name == stored) {
        return Err(MergeError::MissingStoredApi(stored_apiversion.to_string()));
    }
    for version in &mut merged.spec.versions {
        version.storage = version.name == stored;
        version.served = true;
    }
    Ok(merged)
}

fn check_single_version(crd: &Crd) -> Result<(), MergeError> {
    let name = crd.metadata.name.clone().unwrap_or_default();
    match crd.spec.versions.len() {
        0 => Err(MergeError::MissingVersions(name)),
        1 => Ok(()),
        _ => Err(MergeError::MultiVersionCrd(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
        CustomResourceDefinitionNames, CustomResourceDefinitionSpec,
        CustomResourceDefinitionVersion,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn crd(version: &str, storage: bool) -> Crd {
        Crd {
            metadata: ObjectMeta {
                name: Some("foos.clux.dev".into()),
                ..ObjectMeta::default()
            },
            spec: CustomResourceDefinitionSpec {
                group: "clux.dev".into(),
                scope: "Namespaced".into(),
                names: CustomResourceDefinitionNames {
                    kind: "Foo".into(),
                    plural: "foos".into(),
                    ..CustomResourceDefinitionNames::default()
                },
                versions: vec![CustomResourceDefinitionVersion {
                    name: version.into(),
                    served: true,
                    storage,
                    ..CustomResourceDefinitionVersion::default()
                }],
                ..CustomResourceDefinitionSpec::default()
            },
            status: None,
        }
    }

    #[test]
    fn merges_versions_with_one_stored() {
        let merged = merge_crds(vec![crd("v1", true), crd("v2", true)], "v2").expect("mergeable");
        let versions: Vec<_> = merged
            .spec
            .versions
            .iter()
            .map(|v| (v.name.as_str(), v.storage, v.served))
            .collect();
        assert_eq!(versions, [("v1", false, true), ("v2", true, true)]);
        let by_api_version =
            merge_crds(vec![crd("v1", true), crd("v2", true)], "clux.dev/v1").expect("mergeable");
        assert!(by_api_version.spec.versions[0].storage);
    }

    #[test]
    fn refuses_what_cannot_be_merged() {
        assert!(matches!(
            merge_crds(vec![], "v1"),
            Err(MergeError::MissingCrds)
        ));
        assert!(matches!(
            merge_crds(vec![crd("v1", true)], "v3"),
            Err(MergeError::MissingStoredApi(_))
        ));
        let mut other_group = crd("v2", true);
        other_group.spec.group = "other.dev".into();
        let err = merge_crds(vec![crd("v1", true), other_group], "v1").expect_err("group mismatch");
        assert!(err.to_string().contains("group"), "{err}");
        let merged_twice =
            merge_crds(vec![crd("v1", true), crd("v2", true)], "v1").expect("mergeable");
        assert!(matches!(
            merge_crds(vec![merged_twice], "v1"),
            Err(MergeError::MultiVersionCrd(_))
        ));
    }
}
