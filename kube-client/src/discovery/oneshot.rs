//! Single lookups, without discovering the whole server.
//!
//! Each function asks the apiserver only about one group, group version or kind.
//! Use them when a program needs one or two kinds; use
//! [`Discovery`](super::Discovery) when it needs many.
//!
//! ```no_run
//! use kube_client::{Api, Client, api::DynamicObject, core::GroupVersionKind, discovery};
//!
//! # async fn run(client: Client) -> kube_client::Result<()> {
//! let gvk = GroupVersionKind::gvk("apps", "v1", "Deployment");
//! let (resource, _caps) = discovery::pinned_kind(&client, &gvk).await?;
//! let deployments: Api<DynamicObject> = Api::namespaced_with(client, "default", &resource);
//! # Ok(())
//! # }
//! ```

use kube_core::gvk::{GroupVersion, GroupVersionKind};

use super::{ApiCapabilities, ApiGroup, ApiResource, fetch_group};
use crate::{Client, Error, Result, error::DiscoveryError};

/// Discovers every version of one group (`""` for the core group).
///
/// Fails with [`DiscoveryError::MissingApiGroup`] when the server does not serve
/// the group.
pub async fn group(client: &Client, apigroup: &str) -> Result<ApiGroup> {
    if apigroup == ApiGroup::CORE_GROUP {
        let versions = client.list_core_api_versions().await?.versions;
        return required(
            fetch_group(client, apigroup, &versions, None, false).await?,
            apigroup,
        );
    }
    let groups = client.list_api_groups().await?.groups;
    let Some(found) = groups.into_iter().find(|g| g.name == apigroup) else {
        return Err(missing_group(apigroup));
    };
    let gvs: Vec<String> = found
        .versions
        .iter()
        .map(|v| v.group_version.clone())
        .collect();
    let preferred = found.preferred_version.map(|p| p.version);
    required(
        fetch_group(client, apigroup, &gvs, preferred, false).await?,
        apigroup,
    )
}

/// Discovers one version of one group, e.g. `apps/v1`.
///
/// Fails with [`DiscoveryError::MissingApiGroup`] when the server does not serve
/// that group version.
pub async fn pinned_group(client: &Client, gv: &GroupVersion) -> Result<ApiGroup> {
    let name = if gv.group.is_empty() {
        gv.version.clone()
    } else {
        gv.api_version()
    };
    let fetched = fetch_group(client, &gv.group, &[name], Some(gv.version.clone()), false).await;
    match fetched {
        Ok(group) => required(group, &gv.group),
        Err(Error::Api(status)) if status.is_not_found() => Err(missing_group(&gv.api_version())),
        Err(other) => Err(other),
    }
}

/// Finds the resource of one kind at one group version.
///
/// Fails with [`DiscoveryError::MissingKind`] when the group version exists but
/// does not serve the kind.
pub async fn pinned_kind(
    client: &Client,
    gvk: &GroupVersionKind,
) -> Result<(ApiResource, ApiCapabilities)> {
    let group = pinned_group(client, &GroupVersion::gv(&gvk.group, &gvk.version)).await?;
    group
        .find(&gvk.version, &gvk.kind)
        .ok_or_else(|| Error::Discovery(DiscoveryError::MissingKind(gvk.to_string())))
}

fn missing_group(name: &str) -> Error {
    Error::Discovery(DiscoveryError::MissingApiGroup(name.to_string()))
}

fn required(group: Option<ApiGroup>, name: &str) -> Result<ApiGroup> {
    group.ok_or_else(|| Error::Discovery(DiscoveryError::EmptyApiGroup(name.to_string())))
}
