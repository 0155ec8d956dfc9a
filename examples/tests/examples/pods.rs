//! pod_api and pod_paged.

use examples::{pod_api, pod_paged};
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, api::PostParams};

use crate::common::client_in_fresh_namespace;

#[tokio::test]
async fn a_pod_is_created_patched_and_deleted() {
    let (client, ns) = client_in_fresh_namespace().await;
    let outcome = pod_api::run(client, &ns, "blog")
        .await
        .expect("pod_api runs");
    assert_eq!(outcome.phase.as_deref(), Some("Pending"));
    assert_eq!(outcome.listed, ["blog"]);
    assert_eq!(
        outcome.labels,
        [
            ("app".to_string(), "blog".to_string()),
            ("tier".to_string(), "frontend".to_string())
        ]
    );
    assert!(outcome.gone);
}

#[tokio::test]
async fn pods_are_listed_in_pages() {
    let (client, ns) = client_in_fresh_namespace().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    for i in 0..5 {
        let pod = pod_api::blog_pod(&format!("blog-{i}")).expect("a pod");
        pods.create(&PostParams::default(), &pod)
            .await
            .expect("created");
    }
    let pages = pod_paged::run(client, &ns, 2)
        .await
        .expect("pod_paged runs");
    assert_eq!(
        pages,
        [
            vec!["blog-0", "blog-1"],
            vec!["blog-2", "blog-3"],
            vec!["blog-4"]
        ]
    );
}
