//! Watching a kind named at runtime, e.g. `apps/v1/Deployment` or
//! `v1/ConfigMap`: discovery finds its resource, and a watcher streams its
//! objects as `DynamicObject`s.

use anyhow::Context as _;
use futures::{Stream, TryStreamExt};
use kube::{
    Api, Client,
    api::{DynamicObject, GroupVersionKind},
    core::GroupVersion,
    discovery::{self, Scope},
    runtime::{WatchStreamExt, watcher},
};

/// Reads `group/version/Kind`, or `version/Kind` for the core group.
pub fn parse_kind(text: &str) -> anyhow::Result<GroupVersionKind> {
    let (api_version, kind) = text
        .rsplit_once('/')
        .with_context(|| format!("{text:?} is not of the form [group/]version/Kind"))?;
    anyhow::ensure!(!kind.is_empty(), "{text:?} names no kind");
    let gv: GroupVersion = api_version
        .parse()
        .with_context(|| format!("{api_version:?} is not a group version"))?;
    Ok(gv.with_kind(kind))
}

/// The objects of `kind` (in `namespace`, or everywhere), each time one is
/// added or changes, for as long as the stream is polled.
pub async fn run(
    client: Client,
    kind: &GroupVersionKind,
    namespace: Option<&str>,
) -> anyhow::Result<impl Stream<Item = anyhow::Result<DynamicObject>> + use<>> {
    let (resource, capabilities) = discovery::pinned_kind(&client, kind).await?;
    let api: Api<DynamicObject> = match (capabilities.scope, namespace) {
        (Scope::Namespaced, Some(ns)) => Api::namespaced_with(client, ns, &resource),
        _ => Api::all_with(client, &resource),
    };
    Ok(watcher(api, watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .map_err(anyhow::Error::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_with_and_without_a_group() {
        let deployment = parse_kind("apps/v1/Deployment").ok();
        assert_eq!(
            deployment,
            Some(GroupVersionKind::gvk("apps", "v1", "Deployment"))
        );
        let config_map = parse_kind("v1/ConfigMap").ok();
        assert_eq!(
            config_map,
            Some(GroupVersionKind::gvk("", "v1", "ConfigMap"))
        );
        assert!(parse_kind("ConfigMap").is_err());
        assert!(parse_kind("v1/").is_err());
    }
}
