//! Setting up what tests need in the cluster: namespaces and CRDs.

use std::{future::Future, time::Duration};

use k8s_openapi::{
    api::core::v1::{Namespace, ServiceAccount},
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use kube_client::{
    Api, Client,
    api::{Patch, PatchParams, PostParams},
};

use crate::Error;

/// How long the `default` ServiceAccount of a new namespace may take.
const NAMESPACE_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a CRD may take to be Established and served.
const CRD_READY_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
const FIELD_MANAGER: &str = "kube-test";
const NAMESPACE_PREFIX: &str = "test-";

fn kube_error(action: impl Into<String>) -> impl FnOnce(kube_client::Error) -> Error {
    let action = action.into();
    move |source| Error::Kube { action, source }
}

/// Calls `check` until it yields a value, at most for `timeout`.
async fn poll<T, F, Fut>(
    what: impl Into<String>,
    timeout: Duration,
    mut check: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, Error>>,
{
    let what = what.into();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::Timeout { what, timeout });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

pub(crate) async fn fresh_namespace(client: &Client) -> Result<String, Error> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let template = Namespace {
        metadata: ObjectMeta {
            generate_name: Some(NAMESPACE_PREFIX.to_string()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let created = namespaces
        .create(&PostParams::default(), &template)
        .await
        .map_err(kube_error("creating a namespace"))?;
    let name = created.metadata.name.ok_or(Error::Unnamed {
        what: "the created namespace",
    })?;

    let service_accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &name);
    poll(
        format!("the default ServiceAccount of namespace {name}"),
        NAMESPACE_READY_TIMEOUT,
        || async {
            service_accounts
                .get_opt("default")
                .await
                .map(|sa| sa.map(|_| ()))
                .map_err(kube_error(format!("getting ServiceAccount {name}/default")))
        },
    )
    .await?;
    Ok(name)
}

pub(crate) async fn install_crd(
    client: &Client,
    crd: CustomResourceDefinition,
) -> Result<(), Error> {
    let name = crd.metadata.name.clone().ok_or(Error::Unnamed {
        what: "the CustomResourceDefinition to install",
    })?;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&crd),
    )
    .await
    .map_err(kube_error(format!(
        "applying CustomResourceDefinition {name}"
    )))?;

    poll(
        format!("CustomResourceDefinition {name} to be Established"),
        CRD_READY_TIMEOUT,
        || async {
            let current = crds.get(&name).await.map_err(kube_error(format!(
                "getting CustomResourceDefinition {name}"
            )))?;
            Ok(is_established(&current).then_some(()))
        },
    )
    .await?;

    // Established means the apiserver accepted the names; wait until
    // discovery lists the resource too, so clients that discover find it.
    let group = &crd.spec.group;
    let plural = &crd.spec.names.plural;
    for version in crd.spec.versions.iter().filter(|v| v.served) {
        let group_version = format!("{group}/{}", version.name);
        poll(
            format!("{plural} to be served at /apis/{group_version}"),
            CRD_READY_TIMEOUT,
            || async {
                match client.list_api_group_resources(&group_version).await {
                    Ok(list) => Ok(list
                        .resources
                        .iter()
                        .any(|r| &r.name == plural)
                        .then_some(())),
                    // Not served yet: the group version is still unknown.
                    Err(kube_client::Error::Api(status)) if status.is_not_found() => Ok(None),
                    Err(source) => Err(Error::Kube {
                        action: format!("discovering /apis/{group_version}"),
                        source,
                    }),
                }
            },
        )
        .await?;
    }
    Ok(())
}

fn is_established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}
