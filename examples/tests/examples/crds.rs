//! crd_derive, crd_derive_schema, crd_derive_cel, crd_api and crd_apply.

use examples::{crd_api, crd_apply, crd_derive, crd_derive_cel, crd_derive_schema};
use kube::ResourceExt;

use crate::common::client_in_fresh_namespace;

#[test]
fn derived_definition_prints_as_yaml() {
    let yaml = crd_derive::crd_yaml().expect("YAML");
    assert!(yaml.contains("kind: CustomResourceDefinition"), "{yaml}");
    assert!(yaml.contains("name: books.example.com"), "{yaml}");
    assert!(yaml.contains("minLength: 1"), "{yaml}");
}

#[tokio::test]
async fn derived_schema_is_enforced_by_the_apiserver() {
    let (client, ns) = client_in_fresh_namespace().await;
    let outcome = crd_derive::run(client, &ns).await.expect("crd_derive runs");
    assert_eq!(
        outcome.crd.metadata.name.as_deref(),
        Some("books.example.com")
    );
    assert_eq!(outcome.accepted.name_any(), "dune");
    assert_eq!(outcome.accepted.spec.pages, 412);
    assert_eq!(outcome.refusals.len(), 2, "{:?}", outcome.refusals);
    assert!(
        outcome.refusals[0].contains("spec.title"),
        "the empty title is refused by minLength: {}",
        outcome.refusals[0]
    );
    assert!(
        outcome.refusals[1].contains("a book is not titled after its author"),
        "the CEL rule's message comes back: {}",
        outcome.refusals[1]
    );
}

#[tokio::test]
async fn every_verb_works_on_a_custom_resource() {
    let (client, ns) = client_in_fresh_namespace().await;
    let outcome = crd_api::run(client, &ns, "visitors")
        .await
        .expect("crd_api runs");
    assert_eq!(outcome.listed, ["visitors"]);
    assert_eq!(outcome.counts, [10, 20, 30]);
    assert_eq!(
        outcome.status,
        Some(crd_api::CounterStatus { checked: true })
    );
    assert_eq!(
        outcome.spec_after_status_patch.count, 30,
        "the status subresource ignores the spec"
    );
    assert!(outcome.gone);
}

#[tokio::test]
async fn applying_twice_changes_nothing_and_managers_share_an_object() {
    let (client, ns) = client_in_fresh_namespace().await;
    let outcome = crd_apply::run(client, &ns, "hello")
        .await
        .expect("crd_apply runs");
    assert_eq!(
        outcome.versions.0, outcome.versions.1,
        "an unchanged apply writes nothing"
    );
    assert_eq!(
        outcome.merged,
        crd_apply::NoticeSpec {
            message: "hello".into(),
            priority: Some(3)
        }
    );
    assert_eq!(outcome.managers, [crd_apply::MANAGER, "priority-setter"]);
}

#[tokio::test]
async fn the_apiserver_defaults_merges_and_refuses_recipes_by_their_schema() {
    let (client, ns) = client_in_fresh_namespace().await;
    let outcome = crd_derive_schema::run(client, &ns)
        .await
        .expect("crd_derive_schema runs");
    assert_eq!(outcome.defaulted_servings, serde_json::json!(2));
    assert_eq!(outcome.defaulted_heat, serde_json::json!("mild"));
    assert!(outcome.cuisine_left_out);
    // The creator's "pot" stays beside the two managers' own tools.
    assert_eq!(outcome.merged_tools, ["knife", "ladle", "pot"]);
    let expected = [
        "that recipe stays secret",
        "spec.heat: Forbidden: too hot to serve: volcanic",
        "an origin is somewhere",
        "a recipe keeps its dish",
        "the origin is fixed once written",
    ];
    assert_eq!(
        outcome.refusals.len(),
        expected.len(),
        "{:?}",
        outcome.refusals
    );
    for (refusal, expected) in outcome.refusals.iter().zip(expected) {
        assert!(refusal.contains(expected), "{refusal:?} lacks {expected:?}");
    }
}

#[test]
fn worker_pools_are_checked_against_their_cel_rules_without_a_cluster() {
    let outcome = crd_derive_cel::run();
    assert_eq!(outcome.valid, None);
    let failure = |what: &str, failures: Option<String>| {
        failures.unwrap_or_else(|| panic!("{what} passed its CEL rules"))
    };
    let inverted = failure("the inverted pool", outcome.inverted);
    assert!(
        inverted.contains("self.spec.minWorkers <= self.spec.maxWorkers"),
        "{inverted}"
    );
    let negative = failure("the negative pool", outcome.negative);
    assert!(
        negative.contains("minWorkers must not be negative"),
        "{negative}"
    );
    let moved = failure("the moved pool", outcome.moved);
    assert!(moved.contains("the zone is fixed"), "{moved}");
    let spec = failure("the inverted spec", outcome.inverted_spec);
    assert!(
        spec.contains("self.minWorkers <= self.maxWorkers"),
        "{spec}"
    );
}
