//! Listing in pages: ask for `limit` objects at a time and follow the
//! `continue` token until the server says there is no more.
//!
//! All pages come from one consistent snapshot, so nothing is listed twice
//! or skipped even while pods come and go.

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client, ResourceExt, api::ListParams};

/// The pod names in `namespace`, page by page, `page_size` at a time.
pub async fn run(
    client: Client,
    namespace: &str,
    page_size: u32,
) -> anyhow::Result<Vec<Vec<String>>> {
    let pods: Api<Pod> = Api::namespaced(client, namespace);
    let mut params = ListParams::default().limit(page_size);
    let mut pages = Vec::new();
    loop {
        let page = pods.list(&params).await?;
        tracing::info!(
            count = page.items.len(),
            remaining = ?page.metadata.remaining_item_count,
            "page"
        );
        pages.push(page.iter().map(ResourceExt::name_any).collect());
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(pages),
        }
    }
}
