//! What `#[derive(CustomResource)]` generates, attribute by attribute.
#![deny(missing_docs)]

use std::collections::BTreeMap;

use kube::{
    CustomResource,
    core::{
        ApiResource, CustomResourceExt, GroupVersionKind, Resource,
        cel::Rule,
        object::{HasSpec, HasStatus},
    },
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

mod bucket;

/// A namespaced resource using most attributes.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[kube(group = "clux.dev", version = "v1", kind = "Foo", namespaced)]
#[kube(status = "FooStatus", derive = "PartialEq", derive = "Default")]
#[kube(shortname = "f", shortname = "fo", category = "all", category = "clux")]
#[kube(printcolumn(
    name = "Replicas",
    type_ = "integer",
    json_path = ".spec.replicas",
    description = "How many",
    format = "int32",
    priority = 1
))]
#[kube(
    printcolumn = r#"{"name": "Ready", "type": "boolean", "jsonPath": ".status.ready", "description": "Whether it is ready"}"#
)]
#[kube(scale(
    spec_replicas_path = ".spec.replicas",
    status_replicas_path = ".status.replicas",
    label_selector_path = ".status.selector"
))]
#[kube(selectable = ".spec.owner", selectable = ".spec.team")]
#[kube(
    annotation("clux.dev/team", "platform"),
    label("clux.dev/tier", "core")
)]
#[kube(validation = "self.spec.replicas <= 10")]
#[kube(validation = Rule::new("has(self.spec.owner)").message("an owner is required"))]
#[kube(doc = "A Foo: replicas owned by someone.", attr = "allow(deprecated)")]
pub struct FooSpec {
    /// How many replicas.
    pub replicas: i32,
    /// Who owns it.
    pub owner: String,
    /// Which team.
    pub team: Option<String>,
}

/// The observed state of a `Foo`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
pub struct FooStatus {
    /// Whether it is ready.
    pub ready: bool,
    /// How many replicas run.
    pub replicas: i32,
    /// The pods' selector.
    pub selector: Option<String>,
}

/// A cluster-scoped resource with only the required attributes.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1alpha1", kind = "Policy")]
pub struct PolicySpec {
    /// Whether the policy applies.
    pub enabled: bool,
}

/// A resource whose generated type is named apart from its kind.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "example.com",
    version = "v2",
    kind = "Box",
    root = "BoxResource"
)]
#[kube(plural = "boxen", singular = "onebox", served = false, storage = false)]
#[kube(deprecated = "use v3")]
pub struct BoxSpec {
    /// The size.
    pub size: u8,
}

/// A deprecated version without a warning, with no schema.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug)]
#[kube(
    group = "example.com",
    version = "v0",
    kind = "Old",
    schema = "disabled",
    deprecated
)]
pub struct OldSpec {
    /// Anything.
    pub data: String,
}

/// A resource whose root schema is written by hand.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Manual",
    schema = "manual"
)]
pub struct ManualSpec {
    /// Anything.
    pub data: String,
}

impl JsonSchema for Manual {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Manual".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": true
        })
    }
}

/// A resource naming every crate path itself, with a scale subresource in
/// its JSON form.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Pathed", namespaced)]
#[kube(crates(
    kube_core = "::kube_core",
    k8s_openapi = "::k8s_openapi",
    schemars = "::schemars",
    serde = "::serde",
    serde_json = "::serde_json"
))]
#[kube(
    scale = r#"{"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}"#
)]
#[kube(
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp", "priority": 2, "format": "date-time"}"#
)]
pub struct PathedSpec {
    /// How many replicas.
    pub replicas: i32,
}

/// A resource reaching `kube_core` through a path to the `kube` facade.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Faceted")]
#[kube(crates(kube = "::kube", std = "::std"), annotation("a", "b"))]
pub struct FacetedSpec {
    /// Anything.
    pub data: String,
}

/// Two versions of one kind, to merge into one definition.
mod versions {
    /// The first version.
    pub mod v1 {
        use kube::CustomResource;
        use schemars::JsonSchema;
        use serde::{Deserialize, Serialize};

        /// A thing with a name.
        #[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
        #[kube(group = "example.com", version = "v1", kind = "Thing", namespaced)]
        #[kube(shortname = "th", deprecated = "use v2")]
        pub struct ThingSpec {
            /// The name.
            pub name: String,
        }
    }

    /// The second version.
    pub mod v2 {
        use kube::CustomResource;
        use schemars::JsonSchema;
        use serde::{Deserialize, Serialize};

        /// A thing with a name and a size.
        #[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
        #[kube(group = "example.com", version = "v2", kind = "Thing", namespaced)]
        #[kube(shortname = "th")]
        pub struct ThingSpec {
            /// The name.
            pub name: String,
            /// The size.
            pub size: u32,
        }
    }
}

fn foo() -> Foo {
    Foo::new(
        "one",
        FooSpec {
            replicas: 3,
            owner: "me".into(),
            team: None,
        },
    )
}

#[test]
fn new_sets_the_name_and_nothing_else() {
    let foo = foo();
    assert_eq!(foo.metadata.name.as_deref(), Some("one"));
    assert_eq!(foo.metadata.namespace, None);
    assert_eq!(foo.spec.replicas, 3);
    assert_eq!(foo.status, None);
}

#[test]
fn resource_impl_reports_the_coordinates() {
    assert_eq!(Foo::kind(&()), "Foo");
    assert_eq!(Foo::group(&()), "clux.dev");
    assert_eq!(Foo::version(&()), "v1");
    assert_eq!(Foo::api_version(&()), "clux.dev/v1");
    assert_eq!(Foo::plural(&()), "foos");
    assert_eq!(
        Foo::url_path(&(), Some("ns")),
        "/apis/clux.dev/v1/namespaces/ns/foos"
    );
    assert_eq!(Policy::plural(&()), "policies");
    assert_eq!(
        Policy::url_path(&(), None),
        "/apis/example.com/v1alpha1/policies"
    );
    assert_eq!(BoxResource::kind(&()), "Box");
    assert_eq!(BoxResource::plural(&()), "boxen");

    let mut foo = foo();
    foo.meta_mut().namespace = Some("ns".into());
    assert_eq!(foo.meta().namespace.as_deref(), Some("ns"));
}

#[test]
fn scope_follows_namespaced() {
    fn is_namespaced<K: Resource<Scope = kube::core::NamespaceResourceScope>>() {}
    fn is_cluster<K: Resource<Scope = kube::core::ClusterResourceScope>>() {}
    is_namespaced::<Foo>();
    is_cluster::<Policy>();
    assert_eq!(Foo::crd().spec.scope, "Namespaced");
    assert_eq!(Policy::crd().spec.scope, "Cluster");
}

#[test]
fn default_plurals_follow_kube_core_guesses() {
    fn guessed<K: Resource<DynamicType = ()>>() -> String {
        ApiResource::from_gvk(&GroupVersionKind::gvk(
            &K::group(&()),
            &K::version(&()),
            &K::kind(&()),
        ))
        .plural
    }
    assert_eq!(Foo::plural(&()), guessed::<Foo>());
    assert_eq!(Policy::plural(&()), guessed::<Policy>());
    assert_eq!(Old::plural(&()), guessed::<Old>());
}

#[test]
fn spec_and_status_accessors() {
    let mut foo = foo();
    foo.spec_mut().replicas = 5;
    assert_eq!(foo.spec().replicas, 5);
    assert_eq!(HasStatus::status(&foo), None);
    *foo.status_mut() = Some(FooStatus {
        ready: true,
        ..FooStatus::default()
    });
    assert!(HasStatus::status(&foo).is_some_and(|s| s.ready));
}

#[test]
fn extra_derives_apply_to_the_root() {
    assert_eq!(foo(), foo().clone());
    assert_eq!(Foo::default().spec, FooSpec::default());
}

#[test]
fn serializes_with_type_meta_and_without_empty_status() {
    let json = serde_json::to_value(foo()).expect("serializable");
    assert_eq!(
        json,
        json!({
            "apiVersion": "clux.dev/v1",
            "kind": "Foo",
            "metadata": {"name": "one"},
            "spec": {"replicas": 3, "owner": "me", "team": null}
        })
    );
    let mut with_status = foo();
    with_status.status = Some(FooStatus::default());
    let json = serde_json::to_value(&with_status).expect("serializable");
    assert_eq!(
        json["status"],
        json!({"ready": false, "replicas": 0, "selector": null})
    );
}

#[test]
fn deserializes_what_it_serializes() {
    let mut original = foo();
    original.status = Some(FooStatus {
        ready: true,
        replicas: 2,
        selector: Some("app=foo".into()),
    });
    let text = serde_json::to_string(&original).expect("serializable");
    let back: Foo = serde_json::from_str(&text).expect("deserializable");
    assert_eq!(back, original);
}

#[test]
fn deserializes_objects_without_type_meta_or_metadata() {
    let foo: Foo = serde_json::from_value(json!({"spec": {"replicas": 1, "owner": "x"}}))
        .expect("type meta is optional");
    assert_eq!(foo.spec.replicas, 1);
    assert_eq!(foo.metadata, Default::default());
}

#[test]
fn refuses_another_api_version_or_kind() {
    let wrong_version = serde_json::from_value::<Foo>(json!({
        "apiVersion": "clux.dev/v2", "kind": "Foo", "spec": {"replicas": 1, "owner": "x"}
    }))
    .expect_err("wrong apiVersion");
    assert!(
        wrong_version
            .to_string()
            .contains("apiVersion \"clux.dev/v2\""),
        "{wrong_version}"
    );
    let wrong_kind = serde_json::from_value::<Foo>(json!({
        "apiVersion": "clux.dev/v1", "kind": "Bar", "spec": {"replicas": 1, "owner": "x"}
    }))
    .expect_err("wrong kind");
    assert!(
        wrong_kind.to_string().contains("kind \"Bar\""),
        "{wrong_kind}"
    );
    let missing_spec =
        serde_json::from_value::<Foo>(json!({"metadata": {}})).expect_err("spec is required");
    assert!(missing_spec.to_string().contains("spec"), "{missing_spec}");
}

#[test]
fn crd_names_and_metadata() {
    let crd = Foo::crd();
    assert_eq!(crd.metadata.name.as_deref(), Some("foos.clux.dev"));
    assert_eq!(Foo::crd_name(), "foos.clux.dev");
    assert_eq!(
        crd.metadata.annotations,
        Some(BTreeMap::from([(
            "clux.dev/team".into(),
            "platform".into()
        )]))
    );
    assert_eq!(
        crd.metadata.labels,
        Some(BTreeMap::from([("clux.dev/tier".into(), "core".into())]))
    );
    let names = &crd.spec.names;
    assert_eq!(names.kind, "Foo");
    assert_eq!(names.plural, "foos");
    assert_eq!(names.singular.as_deref(), Some("foo"));
    assert_eq!(names.short_names, Some(vec!["f".into(), "fo".into()]));
    assert_eq!(names.categories, Some(vec!["all".into(), "clux".into()]));
    assert_eq!(Foo::shortnames(), &["f", "fo"]);
    assert_eq!(crd.spec.group, "clux.dev");

    let boxes = BoxResource::crd();
    assert_eq!(boxes.metadata.name.as_deref(), Some("boxen.example.com"));
    assert_eq!(boxes.spec.names.singular.as_deref(), Some("onebox"));
    assert_eq!(boxes.spec.names.short_names, None);
    assert_eq!(boxes.spec.names.categories, None);
    assert!(BoxResource::shortnames().is_empty());
    assert_eq!(Policy::crd().metadata.annotations, None);
}

#[test]
fn api_resource_matches_the_resource_impl() {
    let ar = Foo::api_resource();
    assert_eq!(ar, ApiResource::erase::<Foo>(&()));
    assert_eq!(ar.plural, "foos");
    assert_eq!(ar.api_version, "clux.dev/v1");
}

#[test]
fn version_flags() {
    let crd = Foo::crd();
    let version = &crd.spec.versions[0];
    assert_eq!(crd.spec.versions.len(), 1);
    assert_eq!(version.name, "v1");
    assert!(version.served && version.storage);
    assert_eq!(version.deprecated, None);

    let boxes = BoxResource::crd();
    let version = &boxes.spec.versions[0];
    assert!(!version.served && !version.storage);
    assert_eq!(version.deprecated, Some(true));
    assert_eq!(version.deprecation_warning.as_deref(), Some("use v3"));

    let old = Old::crd();
    assert_eq!(old.spec.versions[0].deprecated, Some(true));
    assert_eq!(old.spec.versions[0].deprecation_warning, None);
}

#[test]
fn printer_columns_in_both_forms() {
    let crd = Foo::crd();
    let columns = crd.spec.versions[0]
        .additional_printer_columns
        .clone()
        .expect("columns");
    assert_eq!(columns.len(), 2);
    assert_eq!(columns[0].name, "Replicas");
    assert_eq!(columns[0].type_, "integer");
    assert_eq!(columns[0].json_path, ".spec.replicas");
    assert_eq!(columns[0].description.as_deref(), Some("How many"));
    assert_eq!(columns[0].format.as_deref(), Some("int32"));
    assert_eq!(columns[0].priority, Some(1));
    assert_eq!(columns[1].name, "Ready");
    assert_eq!(columns[1].type_, "boolean");
    assert_eq!(columns[1].json_path, ".status.ready");
    assert_eq!(columns[1].priority, None);
    assert_eq!(
        Policy::crd().spec.versions[0].additional_printer_columns,
        None
    );
}

#[test]
fn subresources_and_selectable_fields() {
    let crd = Foo::crd();
    let version = &crd.spec.versions[0];
    let subresources = version.subresources.clone().expect("subresources");
    assert_eq!(
        subresources.status.map(|s| s.0),
        Some(json!({})),
        "status subresource"
    );
    let scale = subresources.scale.expect("scale subresource");
    assert_eq!(scale.spec_replicas_path, ".spec.replicas");
    assert_eq!(scale.status_replicas_path, ".status.replicas");
    assert_eq!(
        scale.label_selector_path.as_deref(),
        Some(".status.selector")
    );
    let selectable: Vec<_> = version
        .selectable_fields
        .iter()
        .flatten()
        .map(|f| f.json_path.as_str())
        .collect();
    assert_eq!(selectable, [".spec.owner", ".spec.team"]);

    let policy = Policy::crd();
    assert_eq!(policy.spec.versions[0].subresources, None);
    assert_eq!(policy.spec.versions[0].selectable_fields, None);
}

#[test]
fn schema_modes() {
    let foo_schema = Foo::crd().spec.versions[0]
        .schema
        .clone()
        .and_then(|s| s.open_api_v3_schema)
        .expect("derived schema");
    assert_eq!(foo_schema.type_.as_deref(), Some("object"));
    assert_eq!(
        foo_schema.description.as_deref(),
        Some("A Foo: replicas owned by someone.")
    );
    let properties = foo_schema.properties.expect("properties");
    assert!(
        ["apiVersion", "kind", "metadata", "spec", "status"]
            .iter()
            .all(|p| properties.contains_key(*p))
    );
    assert_eq!(foo_schema.required, Some(vec!["spec".into()]));

    assert_eq!(Old::crd().spec.versions[0].schema, None);
    let manual = Manual::crd().spec.versions[0]
        .schema
        .clone()
        .and_then(|s| s.open_api_v3_schema)
        .expect("manual schema");
    assert_eq!(manual.x_kubernetes_preserve_unknown_fields, Some(true));
}

#[test]
fn root_validations() {
    let schema = Foo::crd().spec.versions[0]
        .schema
        .clone()
        .and_then(|s| s.open_api_v3_schema)
        .expect("schema");
    let rules: Vec<_> = schema
        .x_kubernetes_validations
        .expect("validations")
        .into_iter()
        .map(|r| (r.rule, r.message))
        .collect();
    assert_eq!(
        rules,
        [
            ("self.spec.replicas <= 10".to_string(), None),
            (
                "has(self.spec.owner)".to_string(),
                Some("an owner is required".to_string())
            ),
        ]
    );
}

#[test]
fn root_schema_leaves_metadata_to_the_server() {
    let schema = kube::core::schema::structural_schema_for::<Foo>();
    assert_eq!(
        schema.pointer("/properties/metadata"),
        Some(&json!({"type": "object"}))
    );
    assert_eq!(
        schema.pointer("/properties/status/nullable"),
        Some(&json!(true))
    );
    assert!(schema.get("title").is_none() && schema.get("$schema").is_none());
}

#[test]
fn scale_and_printcolumn_in_json_form() {
    let crd = Pathed::crd();
    let version = &crd.spec.versions[0];
    let scale = version
        .subresources
        .clone()
        .and_then(|s| s.scale)
        .expect("scale subresource");
    assert_eq!(scale.spec_replicas_path, ".spec.replicas");
    assert_eq!(scale.status_replicas_path, ".status.replicas");
    assert_eq!(scale.label_selector_path, None);
    assert_eq!(
        version.subresources.as_ref().and_then(|s| s.status.clone()),
        None,
        "no status subresource without a status"
    );
    let columns = version.additional_printer_columns.clone().expect("columns");
    assert_eq!(columns.len(), 1);
    assert_eq!(columns[0].name, "Age");
    assert_eq!(columns[0].type_, "date");
    assert_eq!(columns[0].json_path, ".metadata.creationTimestamp");
    assert_eq!(columns[0].priority, Some(2));
    assert_eq!(columns[0].format.as_deref(), Some("date-time"));
}

#[test]
fn crate_paths_can_be_given() {
    assert_eq!(Faceted::crd_name(), "faceteds.example.com");
    assert_eq!(Faceted::kind(&()), "Faceted");
    let crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition =
        Pathed::crd();
    assert_eq!(crd.metadata.name.as_deref(), Some("patheds.example.com"));
    let pathed = Pathed::new("p", PathedSpec { replicas: 1 });
    let json = serde_json::to_value(&pathed).expect("serializable");
    assert_eq!(json["apiVersion"], "example.com/v1");
    assert!(
        kube_core::schema::structural_schema_for::<Pathed>()
            .pointer("/properties/spec/properties/replicas")
            .is_some()
    );
}

#[test]
fn versions_of_one_kind_merge_into_one_definition() {
    use kube::core::crd::merge_crds;
    use versions::{v1, v2};

    let merged =
        merge_crds(vec![v1::Thing::crd(), v2::Thing::crd()], "v2").expect("one kind, two versions");
    assert_eq!(merged.metadata.name.as_deref(), Some("things.example.com"));
    let versions: Vec<_> = merged
        .spec
        .versions
        .iter()
        .map(|v| (v.name.as_str(), v.served, v.storage, v.deprecated))
        .collect();
    assert_eq!(
        versions,
        [("v1", true, false, Some(true)), ("v2", true, true, None)]
    );
    let v2_schema = serde_json::to_value(&merged.spec.versions[1].schema).expect("serializable");
    assert!(
        v2_schema
            .pointer("/openAPIV3Schema/properties/spec/properties/size")
            .is_some()
    );

    let mismatched = merge_crds(vec![v1::Thing::crd(), Foo::crd()], "v1").expect_err("two kinds");
    assert!(mismatched.to_string().contains("differs"), "{mismatched}");
}

#[test]
fn no_spec_puts_the_fields_at_the_root_of_the_object() {
    use bucket::{Bucket, BucketFields, BucketStatus};

    let mut bucket = Bucket::new(
        "blobs",
        BucketFields {
            region: "eu-west".into(),
            copies: Some(3),
        },
    );
    assert_eq!(bucket.spec().region, "eu-west");
    let json = serde_json::to_value(&bucket).expect("serializable");
    assert_eq!(
        json,
        json!({
            "apiVersion": "derive.example.com/v1",
            "kind": "Bucket",
            "metadata": { "name": "blobs" },
            "region": "eu-west",
            "copies": 3,
        })
    );
    assert_eq!(
        serde_json::from_value::<Bucket>(json).expect("reads back"),
        bucket
    );

    bucket.status = Some(BucketStatus { ready: true });
    let json = serde_json::to_value(&bucket).expect("serializable");
    assert_eq!(json["status"], json!({ "ready": true }));
    assert_eq!(
        serde_json::from_value::<Bucket>(json).expect("reads back"),
        bucket
    );

    let crd = Bucket::crd();
    let version = &crd.spec.versions[0];
    let schema = serde_json::to_value(&version.schema).expect("serializable");
    let root = &schema["openAPIV3Schema"];
    let mut properties: Vec<&str> = root["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .map(String::as_str)
        .collect();
    properties.sort();
    assert_eq!(
        properties,
        [
            "apiVersion",
            "copies",
            "kind",
            "metadata",
            "region",
            "status"
        ]
    );
    assert_eq!(root["required"], json!(["region"]));
    assert_eq!(
        version.selectable_fields.as_ref().expect("selectable")[0].json_path,
        ".region"
    );
}

/// A wrapper naming `k8s-openapi` by its own path.
#[derive(kube::Resource, Clone, Debug, Deserialize)]
#[resource(
    inherit = "k8s_openapi::api::core::v1::Secret",
    crates(k8s_openapi = "::k8s_openapi")
)]
struct OpaqueSecret {
    metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
}

#[test]
fn resource_takes_the_k8s_openapi_path_from_crates() {
    let secret: OpaqueSecret =
        serde_json::from_value(json!({ "metadata": { "name": "token" } })).expect("readable");
    assert_eq!(secret.meta().name.as_deref(), Some("token"));
    assert_eq!(OpaqueSecret::kind(&()), "Secret");
}
