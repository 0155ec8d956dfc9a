//! CEL rules and merge strategies written without importing their types, and
//! the rules checked without an apiserver (`#[kube(cel)]`, `#[x_kube(cel)]`).
#![allow(missing_docs)]

use std::collections::BTreeMap;

use kube::{CustomResource, CustomResourceExt, KubeSchema, core::schema::structural_schema_for};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A fleet of members; no CEL type is imported in this file.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug)]
#[kube(
    group = "cel.example.com",
    version = "v1",
    kind = "Fleet",
    namespaced,
    cel
)]
#[kube(validation = Rule::new("self.metadata.name != 'forbidden'").reason(Reason::FieldValueForbidden))]
#[x_kube(
    cel,
    validation = Rule::new("self.min <= self.max")
        .message(Message::Expression("'min ' + string(self.min) + ' exceeds max'".into()))
)]
#[serde(rename_all = "camelCase")]
pub struct FleetSpec {
    #[x_kube(validation = ("self >= 0", "min must not be negative"))]
    pub min: i32,
    pub max: i32,
    #[x_kube(validation = Rule::new("self == oldSelf").message("is immutable"))]
    pub region: String,
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub members: Vec<Member>,
    #[x_kube(merge_strategy = MapMerge::Atomic)]
    pub labels: BTreeMap<String, String>,
    #[x_kube(merge_strategy = StructMerge::Granular)]
    pub owner: Owner,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug)]
pub struct Member {
    pub name: String,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug)]
pub struct Owner {
    pub team: String,
}

fn fleet(name: &str, min: i32, max: i32, region: &str) -> Fleet {
    Fleet::new(
        name,
        FleetSpec {
            min,
            max,
            region: region.into(),
            members: vec![],
            labels: BTreeMap::new(),
            owner: Owner {
                team: "platform".into(),
            },
        },
    )
}

#[test]
fn rules_and_strategies_name_their_types_without_imports() {
    let spec = structural_schema_for::<FleetSpec>().to_value();
    assert_eq!(
        spec["x-kubernetes-validations"],
        json!([{
            "rule": "self.min <= self.max",
            "messageExpression": "'min ' + string(self.min) + ' exceeds max'",
        }])
    );
    assert_eq!(
        spec["properties"]["min"]["x-kubernetes-validations"],
        json!([{ "rule": "self >= 0", "message": "min must not be negative" }])
    );
    assert_eq!(
        spec["properties"]["members"]["x-kubernetes-list-map-keys"],
        json!(["name"])
    );
    assert_eq!(
        spec["properties"]["labels"]["x-kubernetes-map-type"],
        "atomic"
    );
    assert_eq!(
        spec["properties"]["owner"]["x-kubernetes-map-type"],
        "granular"
    );

    let crd = serde_json::to_value(Fleet::crd()).expect("serializable");
    let root = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    assert_eq!(
        root["x-kubernetes-validations"],
        json!([{
            "rule": "self.metadata.name != 'forbidden'",
            "reason": "FieldValueForbidden",
        }])
    );
}

#[test]
fn objects_are_checked_against_the_definitions_rules_without_an_apiserver() {
    assert!(fleet("fine", 1, 3, "eu").validate_cel().is_ok());

    let errors = fleet("upside-down", 5, 1, "eu")
        .validate_cel()
        .expect_err("min exceeds max");
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("min 5 exceeds max")),
        "{errors:?}"
    );
    let errors = fleet("negative", -1, 3, "eu")
        .validate_cel()
        .expect_err("negative min");
    assert!(
        errors
            .iter()
            .any(|e| e.message == "min must not be negative"),
        "{errors:?}"
    );
    let errors = fleet("forbidden", 1, 3, "eu")
        .validate_cel()
        .expect_err("forbidden name");
    assert!(
        errors
            .iter()
            .any(|e| e.reason.as_deref() == Some("FieldValueForbidden")),
        "{errors:?}"
    );
}

#[test]
fn updates_are_checked_against_transition_rules_too() {
    let old = fleet("moving", 1, 3, "eu");
    assert!(
        fleet("moving", 2, 3, "eu")
            .validate_cel_update(&old)
            .is_ok()
    );
    let errors = fleet("moving", 1, 3, "us")
        .validate_cel_update(&old)
        .expect_err("region is immutable");
    assert!(
        errors.iter().any(|e| e.message == "is immutable"),
        "{errors:?}"
    );
    // A creation has no old object: the transition rule does not apply.
    assert!(fleet("moving", 1, 3, "us").validate_cel().is_ok());
}

#[test]
fn a_part_of_a_resource_is_checked_on_its_own() {
    let fragment = |min: i32, max: i32| -> Value {
        json!({
            "min": min, "max": max, "region": "eu",
            "members": [], "labels": {}, "owner": { "team": "platform" },
        })
    };
    assert!(FleetSpec::validate_cel(&fragment(1, 2), None).is_ok());
    assert!(FleetSpec::validate_cel(&fragment(3, 2), None).is_err());
    let old = fragment(1, 2);
    let mut moved = fragment(1, 2);
    moved["region"] = json!("us");
    assert!(FleetSpec::validate_cel(&moved, Some(&old)).is_err());
}

/// A module with a `Rule` of its own: the derive must not replace it.
mod own_rule {
    use kube::KubeSchema;
    use serde::{Deserialize, Serialize};

    pub struct Rule(&'static str);

    impl Rule {
        pub fn strict(rule: &'static str) -> Self {
            Self(rule)
        }
    }

    impl From<Rule> for kube::core::cel::Rule {
        fn from(rule: Rule) -> Self {
            kube::core::cel::Rule::new(rule.0).message("made by the module's own Rule")
        }
    }

    #[derive(KubeSchema, Serialize, Deserialize)]
    pub struct Limits {
        #[x_kube(validation = Rule::strict("self > 0"))]
        pub most: i32,
    }
}

#[test]
fn a_name_of_the_users_own_module_wins() {
    let schema = structural_schema_for::<own_rule::Limits>().to_value();
    assert_eq!(
        schema["properties"]["most"]["x-kubernetes-validations"],
        json!([{ "rule": "self > 0", "message": "made by the module's own Rule" }])
    );
}
