//! Finding out what the apiserver serves: groups, versions, kinds and verbs.
//!
//! Kinds are not fixed: CRDs and aggregated APIs add them at runtime. Discovery
//! asks the server, so a program can work with a kind it was not compiled
//! against, through [`DynamicObject`] and an [`ApiResource`]:
//!
//! ```no_run
//! use kube_client::{Api, Client, Discovery, api::DynamicObject, core::GroupVersionKind};
//!
//! # async fn run(client: Client) -> Result<(), Box<dyn std::error::Error>> {
//! let discovery = Discovery::new(client.clone()).run().await?;
//! let gvk = GroupVersionKind::gvk("apps", "v1", "Deployment");
//! if let Some((resource, caps)) = discovery.resolve_gvk(&gvk) {
//!     let api: Api<DynamicObject> = Api::all_with(client, &resource);
//!     println!("{} deployments, scope {:?}", api.list(&Default::default()).await?.items.len(), caps.scope);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`Discovery::run`] uses aggregated discovery (`apidiscovery.k8s.io/v2`, two
//! requests for the whole server) where the server offers it (Kubernetes 1.30 and
//! later), and the older per-group-version documents elsewhere. The functions of
//! [`oneshot`] look up a single group or kind.

mod apigroup;
pub mod oneshot;
pub(crate) mod parse;

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroupList, APIVersions};
use kube_core::{
    DynamicObject, TypeMeta, discovery::v2::APIGroupDiscoveryList, gvk::GroupVersionKind,
};

pub use self::apigroup::ApiGroup;
pub use self::oneshot::{group, pinned_group, pinned_kind};
pub use kube_core::discovery::{ApiCapabilities, ApiResource, Scope, verbs};

use self::parse::GroupVersionData;
use crate::{Client, Error, Result, error::DiscoveryError};

/// How many group-version documents are fetched at once on servers without
/// aggregated discovery.
const CONCURRENT_FETCHES: usize = 8;

/// Which groups to discover.
#[derive(Debug, Clone)]
enum Selection {
    /// Only these.
    Only(Vec<String>),
    /// All but these.
    Except(Vec<String>),
}

impl Selection {
    fn includes(&self, group: &str) -> bool {
        match self {
            Selection::Only(groups) => groups.iter().any(|g| g == group),
            Selection::Except(groups) => !groups.iter().any(|g| g == group),
        }
    }
}

/// What the apiserver serves, discovered once and kept for lookups.
///
/// Build it with [`Discovery::new`], narrow it with [`filter`](Self::filter) or
/// [`exclude`](Self::exclude), then [`run`](Self::run) it. See the
/// [module documentation](self).
#[derive(Debug, Clone)]
pub struct Discovery {
    client: Client,
    groups: Vec<ApiGroup>,
    selection: Selection,
}

impl Discovery {
    /// A discovery of every group of the server, not yet run.
    pub fn new(client: Client) -> Self {
        Discovery {
            client,
            groups: Vec::new(),
            selection: Selection::Except(Vec::new()),
        }
    }

    /// Discovers only the named groups (`""` is the core group).
    #[must_use]
    pub fn filter(mut self, allow: &[&str]) -> Self {
        self.selection = Selection::Only(allow.iter().map(|g| g.to_string()).collect());
        self
    }

    /// Discovers every group except the named ones (`""` is the core group).
    #[must_use]
    pub fn exclude(mut self, deny: &[&str]) -> Self {
        self.selection = Selection::Except(deny.iter().map(|g| g.to_string()).collect());
        self
    }

    /// Asks the server what it serves, replacing what an earlier run found.
    ///
    /// Uses aggregated discovery when the server offers it, and the per-group
    /// documents otherwise. With the latter, a group version the server fails to
    /// describe (typically an aggregated API whose backend is down) is skipped
    /// with a warning, as `kubectl` does.
    pub async fn run(mut self) -> Result<Self> {
        let mut groups = Vec::new();
        match self
            .client
            .aggregated_or_legacy::<APIVersions>("/api")
            .await?
        {
            either::Left(aggregated) => self.add_aggregated(&mut groups, aggregated, true),
            either::Right(versions) => {
                if self.selection.includes(ApiGroup::CORE_GROUP) {
                    let gvs = versions.versions;
                    if let Some(core) =
                        fetch_group(&self.client, ApiGroup::CORE_GROUP, &gvs, None, true).await?
                    {
                        groups.push(core);
                    }
                }
            }
        }
        match self
            .client
            .aggregated_or_legacy::<APIGroupList>("/apis")
            .await?
        {
            either::Left(aggregated) => self.add_aggregated(&mut groups, aggregated, false),
            either::Right(list) => {
                let wanted = list
                    .groups
                    .into_iter()
                    .filter(|g| self.selection.includes(&g.name));
                let fetched: Vec<Option<ApiGroup>> = stream::iter(wanted.map(|g| {
                    let client = &self.client;
                    async move {
                        let gvs: Vec<String> =
                            g.versions.iter().map(|v| v.group_version.clone()).collect();
                        let preferred = g.preferred_version.map(|p| p.version);
                        fetch_group(client, &g.name, &gvs, preferred, true).await
                    }
                }))
                .buffered(CONCURRENT_FETCHES)
                .try_collect()
                .await?;
                groups.extend(fetched.into_iter().flatten());
            }
        }
        self.groups = groups;
        Ok(self)
    }

    /// Like [`run`](Self::run), but only with aggregated discovery: fails with
    /// [`DiscoveryError::AggregatedDiscoveryUnavailable`] on servers without it
    /// (before Kubernetes 1.30).
    pub async fn run_aggregated(mut self) -> Result<Self> {
        let mut groups = Vec::new();
        let core = self.client.list_core_api_versions_aggregated().await?;
        self.add_aggregated(&mut groups, core, true);
        let named = self.client.list_api_groups_aggregated().await?;
        self.add_aggregated(&mut groups, named, false);
        self.groups = groups;
        Ok(self)
    }

    fn add_aggregated(&self, groups: &mut Vec<ApiGroup>, list: APIGroupDiscoveryList, core: bool) {
        groups.extend(aggregated_groups(list, core, |name| {
            self.selection.includes(name)
        }));
    }

    /// The discovered groups, the core group first, then in the server's order.
    pub fn groups(&self) -> impl Iterator<Item = &ApiGroup> {
        self.groups.iter()
    }

    /// The discovered groups, sorted by name (the core group, named `""`, first).
    pub fn groups_alphabetical(&self) -> Vec<&ApiGroup> {
        let mut groups: Vec<&ApiGroup> = self.groups.iter().collect();
        groups.sort_by(|a, b| a.name().cmp(b.name()));
        groups
    }

    /// The group called `group`, if discovered.
    pub fn get(&self, group: &str) -> Option<&ApiGroup> {
        self.groups.iter().find(|g| g.name() == group)
    }

    /// Whether the group called `group` was discovered.
    pub fn has_group(&self, group: &str) -> bool {
        self.get(group).is_some()
    }

    /// The resource serving exactly this group, version and kind, with what the
    /// server allows on it.
    pub fn resolve_gvk(&self, gvk: &GroupVersionKind) -> Option<(ApiResource, ApiCapabilities)> {
        self.get(&gvk.group)?.find(&gvk.version, &gvk.kind)
    }

    /// The resource named by an object's `apiVersion` and `kind`.
    pub fn resolve_typemeta(&self, tm: &TypeMeta) -> Option<(ApiResource, ApiCapabilities)> {
        self.resolve_gvk(&GroupVersionKind::try_from(tm).ok()?)
    }

    /// The resource of a dynamic object, from its `apiVersion` and `kind`.
    pub fn resolve_object(&self, obj: &DynamicObject) -> Option<(ApiResource, ApiCapabilities)> {
        self.resolve_typemeta(obj.types.as_ref()?)
    }
}

/// The groups of an aggregated discovery document (of the core group, named
/// `""`, when `core`) that `wanted` selects.
pub(crate) fn aggregated_groups(
    list: APIGroupDiscoveryList,
    core: bool,
    wanted: impl Fn(&str) -> bool,
) -> Vec<ApiGroup> {
    let mut groups = Vec::new();
    for item in list.items {
        let name = if core {
            String::new()
        } else {
            item.metadata.and_then(|m| m.name).unwrap_or_default()
        };
        if !wanted(&name) {
            continue;
        }
        for stale in item
            .versions
            .iter()
            .filter(|v| v.freshness.as_deref() == Some("Stale"))
        {
            tracing::warn!(
                group = %name,
                version = stale.version.as_deref().unwrap_or_default(),
                "the apiserver reports stale discovery data for this group version"
            );
        }
        // The server lists versions in its order of preference.
        let preferred = item.versions.first().and_then(|v| v.version.clone());
        let data: Vec<GroupVersionData> = item
            .versions
            .iter()
            .map(|v| GroupVersionData::from_aggregated(&name, v))
            .collect();
        if !data.is_empty() {
            groups.push(ApiGroup::new(name, data, preferred));
        }
    }
    groups
}

/// Fetches the per-version documents of one group.
///
/// `group_versions` are `v1` for the core group and `group/version` otherwise.
/// When `tolerant`, a version the server fails to describe is skipped with a
/// warning, and a group left without versions yields `None`; otherwise the first
/// failure is returned.
pub(crate) async fn fetch_group(
    client: &Client,
    name: &str,
    group_versions: &[String],
    preferred: Option<String>,
    tolerant: bool,
) -> Result<Option<ApiGroup>> {
    let mut data = Vec::with_capacity(group_versions.len());
    for gv in group_versions {
        let list = if name == ApiGroup::CORE_GROUP {
            client.list_core_api_resources(gv).await
        } else {
            client.list_api_group_resources(gv).await
        };
        match list {
            Ok(list) => data.push(GroupVersionData::from_legacy(&list)?),
            Err(Error::Api(status)) if tolerant => {
                tracing::warn!(group_version = %gv, %status, "skipping a group version the apiserver could not describe");
            }
            Err(error) => return Err(error),
        }
    }
    if data.is_empty() {
        if tolerant {
            return Ok(None);
        }
        return Err(Error::Discovery(DiscoveryError::EmptyApiGroup(
            name.to_string(),
        )));
    }
    Ok(Some(ApiGroup::new(name.to_string(), data, preferred)))
}
