//! admission_webhook: served on loopback and called by the apiserver.

use std::time::Duration;

use examples::admission_webhook::{self, CREATED_BY};
use k8s_openapi::api::{
    admissionregistration::v1::ValidatingWebhookConfiguration, core::v1::ConfigMap,
};
use kube::{Api, ResourceExt, api::PostParams};
use serde_json::json;
use tokio::sync::oneshot;

use crate::common::{client_in_fresh_namespace, within};

fn config_map(name: &str, key: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {key: "x"}}))
        .expect("a ConfigMap")
}

#[tokio::test]
async fn secret_looking_config_maps_are_refused_and_new_ones_annotated_with_their_creator() {
    let (client, ns) = client_in_fresh_namespace().await;
    let (stop, stopped) = oneshot::channel::<()>();
    let webhook = tokio::spawn({
        let (client, ns) = (client.clone(), ns.clone());
        async move {
            admission_webhook::run(client, &ns, async {
                let _ = stopped.await;
            })
            .await
        }
    });
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);

    // The apiserver takes up new webhook configurations in the background.
    let refusal = within("the webhook to refuse a secret-looking ConfigMap", async {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let probe = config_map(&format!("probe-{attempt}"), "api-token");
            match maps.create(&PostParams::default(), &probe).await {
                Err(kube::Error::Api(status)) if status.message.contains("look like secrets") => {
                    break status.message;
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    })
    .await;
    assert!(refusal.contains("api-token"), "{refusal}");

    let created = maps
        .create(&PostParams::default(), &config_map("settings", "mode"))
        .await
        .expect("an ordinary ConfigMap is created");
    let creator = created
        .annotations()
        .get(CREATED_BY)
        .cloned()
        .unwrap_or_default();
    assert!(
        !creator.is_empty(),
        "annotated with its creator: {created:?}"
    );

    let _ = stop.send(());
    within("the webhook to stop", webhook)
        .await
        .expect("the task ran")
        .expect("the webhook stopped cleanly");
    let name = format!("configmap-policy.{ns}.example.com");
    let configurations: Api<ValidatingWebhookConfiguration> = Api::all(client);
    assert!(
        configurations.get_opt(&name).await.expect("read").is_none(),
        "the registration is removed"
    );
}
