//! The real-apiserver scenario: a kube-test control plane holding config maps.

use anyhow::{Context, Result, ensure};
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::{
    Api, Client,
    api::{ListParams, ObjectMeta, PostParams},
};
use kube_test::TestEnv;

use crate::{
    cpu::{Stopwatch, Timing},
    fixtures::{self, BENCH_SELECTOR, NAMESPACE},
    scenarios::{APISERVER_OBJECTS, PAGE_SIZE},
};

/// Requests in flight while filling the control plane.
const CREATE_CONCURRENCY: usize = 32;

/// Starts a control plane of its own (removed when dropped) and creates the
/// scenario's config maps in it.
pub async fn prepare() -> Result<TestEnv> {
    let env = TestEnv::start_owned()
        .await
        .context("starting the kube-test control plane")?;
    let client = env
        .client()
        .await
        .context("a client of the control plane")?;
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .context("creating the namespace")?;
    let api: Api<ConfigMap> = Api::namespaced(client, NAMESPACE);
    stream::iter(0..APISERVER_OBJECTS)
        .map(|i| {
            let api = api.clone();
            async move {
                let mut map: ConfigMap = serde_json::from_value(fixtures::config_map(i, 1))?;
                // What the server assigns itself.
                map.metadata.uid = None;
                map.metadata.resource_version = None;
                map.metadata.creation_timestamp = None;
                map.metadata.managed_fields = None;
                api.create(&PostParams::default(), &map)
                    .await
                    .with_context(|| format!("creating config map {i}"))?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(CREATE_CONCURRENCY)
        .try_collect::<()>()
        .await?;
    Ok(env)
}

/// The limit: the paginated list a watcher makes, decoded, and nothing else.
pub async fn list_pages(client: Client) -> Result<Timing> {
    let api: Api<ConfigMap> = Api::namespaced(client, NAMESPACE);
    let started = Stopwatch::start();
    let mut objects = Vec::with_capacity(APISERVER_OBJECTS);
    let mut params = ListParams::default()
        .labels(BENCH_SELECTOR)
        .limit(PAGE_SIZE as u32);
    loop {
        let page = api.list(&params).await?;
        objects.extend(page.items);
        match page.metadata.continue_.filter(|t| !t.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    let elapsed = started.stop();
    ensure!(
        objects.len() == APISERVER_OBJECTS,
        "listed {} config maps",
        objects.len()
    );
    Ok(elapsed)
}

/// Prepares the control plane, prints its kubeconfig path and keeps it running
/// until stdin closes.
pub fn hold() -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let env = runtime.block_on(prepare())?;
    println!("{}", env.kubeconfig_path().display());
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line)? > 0 {
        line.clear();
    }
    runtime.block_on(async move { drop(env) });
    Ok(())
}
