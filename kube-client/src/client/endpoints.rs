//! The apiserver's version and discovery documents.

use either::{Either, Left, Right};
use http::{HeaderValue, header};
use k8s_openapi::apimachinery::pkg::{apis::meta::v1 as meta, version::Info};
use kube_core::{discovery::v2::ACCEPT_AGGREGATED_DISCOVERY_V2, params::ListParams};
use serde::de::DeserializeOwned;

use super::{
    APIGroupDiscoveryList, Client,
    requests::{decode, kind_of},
};
use crate::{Error, Result, error::DiscoveryError};

/// Discovery and version endpoints.
impl Client {
    /// The apiserver's version (`GET /version`).
    pub async fn apiserver_version(&self) -> Result<Info> {
        self.request(plain_get("/version")?).await
    }

    /// The named API groups and their versions (`GET /apis`).
    pub async fn list_api_groups(&self) -> Result<meta::APIGroupList> {
        self.request(plain_get("/apis")?).await
    }

    /// The resources of one named group version, e.g. `apps/v1`
    /// (`GET /apis/apps/v1`).
    pub async fn list_api_group_resources(
        &self,
        apiversion: &str,
    ) -> Result<meta::APIResourceList> {
        check_group_version(apiversion, 2)?;
        self.request(plain_get(&format!("/apis/{apiversion}"))?)
            .await
    }

    /// The versions of the core group (`GET /api`).
    pub async fn list_core_api_versions(&self) -> Result<meta::APIVersions> {
        self.request(plain_get("/api")?).await
    }

    /// The resources of one version of the core group, e.g. `v1` (`GET /api/v1`).
    pub async fn list_core_api_resources(&self, version: &str) -> Result<meta::APIResourceList> {
        check_group_version(version, 1)?;
        self.request(plain_get(&format!("/api/{version}"))?).await
    }

    /// Every named group, version and resource in one aggregated discovery
    /// document (`GET /apis`, `apidiscovery.k8s.io/v2`).
    ///
    /// Fails with [`DiscoveryError::AggregatedDiscoveryUnavailable`] on servers
    /// older than Kubernetes 1.30, which only offer the per-group documents.
    pub async fn list_api_groups_aggregated(&self) -> Result<APIGroupDiscoveryList> {
        match self
            .aggregated_or_legacy::<meta::APIGroupList>("/apis")
            .await?
        {
            Left(aggregated) => Ok(aggregated),
            Right(_) => Err(aggregated_unavailable("/apis")),
        }
    }

    /// The core group's versions and resources as an aggregated discovery
    /// document (`GET /api`, `apidiscovery.k8s.io/v2`).
    pub async fn list_core_api_versions_aggregated(&self) -> Result<APIGroupDiscoveryList> {
        match self
            .aggregated_or_legacy::<meta::APIVersions>("/api")
            .await?
        {
            Left(aggregated) => Ok(aggregated),
            Right(_) => Err(aggregated_unavailable("/api")),
        }
    }

    /// Asks for the aggregated document at `path`, accepting the legacy one.
    pub(crate) async fn aggregated_or_legacy<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Either<APIGroupDiscoveryList, T>> {
        let mut request = plain_get(path)?;
        request.headers_mut().insert(
            header::ACCEPT,
            HeaderValue::from_static(ACCEPT_AGGREGATED_DISCOVERY_V2),
        );
        let body = self.request_bytes(request).await?;
        if kind_of(&body).as_deref() == Some("APIGroupDiscoveryList") {
            decode(&body).map(Left)
        } else {
            decode(&body).map(Right)
        }
    }
}

fn aggregated_unavailable(path: &str) -> Error {
    Error::Discovery(DiscoveryError::AggregatedDiscoveryUnavailable(
        path.to_string(),
    ))
}

/// A `GET` of a fixed path without params.
fn plain_get(path: &str) -> Result<http::Request<Vec<u8>>> {
    kube_core::Request::new(path)
        .list(&ListParams::default())
        .map_err(Error::BuildRequest)
}

/// Refuses group versions that would change the meaning of the URL.
fn check_group_version(gv: &str, max_segments: usize) -> Result<()> {
    let segments: Vec<&str> = gv.split('/').collect();
    let valid = segments.len() <= max_segments
        && segments.iter().all(|s| {
            !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        });
    if valid {
        Ok(())
    } else {
        Err(Error::Discovery(DiscoveryError::InvalidGroupVersion(
            gv.to_string(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn group_versions_are_checked() {
        assert!(check_group_version("apps/v1", 2).is_ok());
        assert!(check_group_version("v1", 1).is_ok());
        assert!(check_group_version("example.com/v1beta1", 2).is_ok());
        for bad in [
            "",
            "apps/",
            "a/b/c",
            "../secrets",
            "apps/v1?watch=1",
            "a b/v1",
        ] {
            assert!(check_group_version(bad, 2).is_err(), "{bad:?}");
        }
        assert!(check_group_version("apps/v1", 1).is_err());
    }

    #[test]
    fn plain_gets_have_no_query() {
        let request = plain_get("/version").expect("valid");
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri(), "/version");
    }
}
