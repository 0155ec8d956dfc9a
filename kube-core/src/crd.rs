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
    /// `stored_apiversion` names a group other than the definitions'.
    #[error("the storage version {0:?} is not in the CRDs' group")]
    MissingStoredApi(String),
    /// None of the definitions has the version chosen for storage.
    #[error("the storage version {0:?} is not among the CRDs' versions")]
    MissingRootVersion(String),
    /// A definition has no version at all.
    #[error("a CRD to merge has no versions: give each exactly one")]
    MissingVersions,
    /// A definition already holds several versions.
    #[error("a CRD to merge has several versions: give each exactly one")]
    MultiVersionCrd,
    /// The definitions disagree about something they must share, or repeat a
    /// version; the text says what.
    #[error("the CRDs cannot be merged: {0}")]
    PropertyMismatch(String),
}

/// Combines definitions of several versions of one kind (one version each, as
/// `Foo::crd()` gives for each versioned module) into one definition, with
/// `stored_apiversion` (`"v1"`, or `"group/v1"`) as the version stored in etcd.
///
/// The definitions must agree on the group, scope, names and definition name;
/// the one of the stored version gives the merged definition's metadata.
/// Versions keep their order and their `served` flag; only the stored one has
/// `storage: true`.
///
/// ```
/// use kube_core::crd::{MergeError, merge_crds};
/// # use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::*;
/// # fn crd(version: &str) -> CustomResourceDefinition {
/// #     CustomResourceDefinition {
/// #         metadata: kube_core::ObjectMeta { name: Some("foos.example.com".into()), ..Default::default() },
/// #         spec: CustomResourceDefinitionSpec {
/// #             group: "example.com".into(),
/// #             scope: "Namespaced".into(),
/// #             names: CustomResourceDefinitionNames { kind: "Foo".into(), plural: "foos".into(), ..Default::default() },
/// #             versions: vec![CustomResourceDefinitionVersion { name: version.into(), served: true, storage: true, ..Default::default() }],
/// #             ..Default::default()
/// #         },
/// #         status: None,
/// #     }
/// # }
/// // With `v1::Foo` and `v2::Foo` derived in two modules:
/// // let crds = vec![v1::Foo::crd(), v2::Foo::crd()];
/// let crds = vec![crd("v1"), crd("v2")];
/// let merged = merge_crds(crds, "v2").unwrap();
/// let stored: Vec<_> = merged.spec.versions.iter().map(|v| (v.name.as_str(), v.storage)).collect();
/// assert_eq!(stored, [("v1", false), ("v2", true)]);
///
/// assert!(matches!(
///     merge_crds(vec![crd("v1")], "v3"),
///     Err(MergeError::MissingRootVersion(_))
/// ));
/// ```
pub fn merge_crds(crds: Vec<Crd>, stored_apiversion: &str) -> Result<Crd, MergeError> {
    if crds.is_empty() {
        return Err(MergeError::MissingCrds);
    }
    let mut versions = Vec::with_capacity(crds.len());
    for crd in &crds {
        match crd.spec.versions.as_slice() {
            [] => return Err(MergeError::MissingVersions),
            [only] => versions.push(only.name.as_str()),
            _ => return Err(MergeError::MultiVersionCrd),
        }
    }
    let stored = match stored_apiversion.rsplit_once('/') {
        Some((group, version)) => {
            if crds.iter().any(|crd| crd.spec.group != group) {
                return Err(MergeError::MissingStoredApi(stored_apiversion.to_string()));
            }
            version
        }
        None => stored_apiversion,
    };
    let base_index = versions
        .iter()
        .position(|v| *v == stored)
        .ok_or_else(|| MergeError::MissingRootVersion(stored_apiversion.to_string()))?;
    let base = &crds[base_index];
    for crd in &crds {
        check_same(base, crd)?;
    }
    for (i, version) in versions.iter().enumerate() {
        if versions[..i].contains(version) {
            return Err(MergeError::PropertyMismatch(format!(
                "version {version:?} is given more than once"
            )));
        }
    }
    let mut merged = base.clone();
    merged.spec.versions = crds
        .into_iter()
        .flat_map(|crd| crd.spec.versions)
        .map(|mut version| {
            version.storage = version.name == stored;
            version
        })
        .collect();
    Ok(merged)
}

/// Refuses `other` unless it describes the same resource as `base`.
fn check_same(base: &Crd, other: &Crd) -> Result<(), MergeError> {
    let version = |crd: &Crd| {
        crd.spec
            .versions
            .first()
            .map(|v| v.name.clone())
            .unwrap_or_default()
    };
    let mismatch = |what: &str, ours: String, theirs: String| {
        MergeError::PropertyMismatch(format!(
            "{what} differs: {ours} in {} but {theirs} in {}",
            version(base),
            version(other)
        ))
    };
    let (a, b) = (&base.spec, &other.spec);
    let fields = [
        (
            "spec.group",
            format!("{:?}", a.group),
            format!("{:?}", b.group),
        ),
        (
            "spec.names.kind",
            format!("{:?}", a.names.kind),
            format!("{:?}", b.names.kind),
        ),
        (
            "spec.scope",
            format!("{:?}", a.scope),
            format!("{:?}", b.scope),
        ),
        (
            "spec.names.plural",
            format!("{:?}", a.names.plural),
            format!("{:?}", b.names.plural),
        ),
        (
            "spec.names.singular",
            format!("{:?}", a.names.singular),
            format!("{:?}", b.names.singular),
        ),
        (
            "spec.names.shortNames",
            format!("{:?}", a.names.short_names),
            format!("{:?}", b.names.short_names),
        ),
        (
            "spec.names.categories",
            format!("{:?}", a.names.categories),
            format!("{:?}", b.names.categories),
        ),
        (
            "spec.names.listKind",
            format!("{:?}", a.names.list_kind),
            format!("{:?}", b.names.list_kind),
        ),
        (
            "metadata.name",
            format!("{:?}", base.metadata.name),
            format!("{:?}", other.metadata.name),
        ),
    ];
    match fields.into_iter().find(|(_, ours, theirs)| ours != theirs) {
        Some((what, ours, theirs)) => Err(mismatch(what, ours, theirs)),
        None => Ok(()),
    }
}

/// Custom resource definitions of `apiextensions.k8s.io/v1`, the only version
/// current apiservers serve: the items above, under their versioned path.
pub mod v1 {
    pub use super::{CustomResourceExt, MergeError, merge_crds};
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
        let mut old = crd("v1", true);
        old.spec.versions[0].served = false;
        let merged =
            merge_crds(vec![old, crd("v2", true), crd("v3", false)], "v2").expect("mergeable");
        let versions: Vec<_> = merged
            .spec
            .versions
            .iter()
            .map(|v| (v.name.as_str(), v.storage, v.served))
            .collect();
        assert_eq!(
            versions,
            [
                ("v1", false, false),
                ("v2", true, true),
                ("v3", false, true)
            ]
        );
        let by_api_version =
            merge_crds(vec![crd("v1", true), crd("v2", true)], "clux.dev/v1").expect("mergeable");
        assert!(by_api_version.spec.versions[0].storage);
        assert!(!by_api_version.spec.versions[1].storage);
    }

    #[test]
    fn metadata_comes_from_the_stored_version() {
        let mut stored = crd("v2", true);
        stored.metadata.labels = Some([("tier".to_string(), "core".to_string())].into());
        let merged = merge_crds(vec![crd("v1", true), stored], "v2").expect("mergeable");
        assert!(merged.metadata.labels.is_some());
    }

    #[test]
    fn refuses_missing_or_ambiguous_versions() {
        assert!(matches!(
            merge_crds(vec![], "v1"),
            Err(MergeError::MissingCrds)
        ));
        let err = merge_crds(vec![crd("v1", true)], "v3").expect_err("no v3");
        assert!(matches!(err, MergeError::MissingRootVersion(ref v) if v == "v3"));
        assert!(err.to_string().contains("\"v3\""), "{err}");
        assert!(matches!(
            merge_crds(vec![crd("v1", true)], "other.dev/v1"),
            Err(MergeError::MissingStoredApi(_))
        ));
        let mut empty = crd("v1", true);
        empty.spec.versions.clear();
        assert!(matches!(
            merge_crds(vec![empty], "v1"),
            Err(MergeError::MissingVersions)
        ));
        let merged_twice =
            merge_crds(vec![crd("v1", true), crd("v2", true)], "v1").expect("mergeable");
        assert!(matches!(
            merge_crds(vec![merged_twice], "v1"),
            Err(MergeError::MultiVersionCrd)
        ));
        let twice =
            merge_crds(vec![crd("v1", true), crd("v1", false)], "v1").expect_err("v1 twice");
        assert_eq!(
            twice.to_string(),
            "the CRDs cannot be merged: version \"v1\" is given more than once"
        );
    }

    #[test]
    fn refuses_definitions_of_different_resources() {
        type Change = fn(&mut Crd);
        let cases: [(&str, Change); 6] = [
            ("spec.group", |c| c.spec.group = "other.dev".into()),
            ("spec.names.kind", |c| c.spec.names.kind = "Bar".into()),
            ("spec.scope", |c| c.spec.scope = "Cluster".into()),
            ("spec.names.plural", |c| {
                c.spec.names.plural = "fooes".into()
            }),
            ("spec.names.shortNames", |c| {
                c.spec.names.short_names = Some(vec!["f".into()])
            }),
            ("metadata.name", |c| {
                c.metadata.name = Some("x.clux.dev".into())
            }),
        ];
        for (what, change) in cases {
            let mut other = crd("v2", false);
            change(&mut other);
            let err = merge_crds(vec![crd("v1", true), other], "v1").expect_err(what);
            assert!(
                matches!(err, MergeError::PropertyMismatch(ref m) if m.starts_with(what)),
                "{what}: {err}"
            );
        }
        let mut other_kind = crd("v2", false);
        other_kind.spec.names.kind = "Bar".into();
        let err = merge_crds(vec![crd("v1", true), other_kind], "v1").expect_err("kind");
        assert_eq!(
            err.to_string(),
            "the CRDs cannot be merged: spec.names.kind differs: \"Foo\" in v1 but \"Bar\" in v2"
        );
    }
}
