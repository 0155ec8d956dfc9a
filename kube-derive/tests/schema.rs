//! The structural schemas `#[derive(CustomResource)]` puts into definitions,
//! for each shape of Rust type a spec commonly holds.
//!
//! Each test compares the whole schema, so any change in what the apiserver
//! receives shows up here and must be looked at.
#![allow(dead_code, missing_docs)]

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::{
    apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps,
    apimachinery::pkg::util::intstr::IntOrString,
};
use kube::{
    CustomResource, KubeSchema,
    core::{
        CustomResourceExt,
        cel::{ListMerge, Rule},
        schema::structural_schema_for,
    },
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

fn schema_of<T: JsonSchema>() -> Value {
    structural_schema_for::<T>().to_value()
}

/// A port to expose.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Port {
    /// The port's name.
    name: String,
    /// The port number.
    container_port: u16,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Nested {
    /// The main port.
    main: Port,
    ports: Vec<Port>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Maps {
    counts: BTreeMap<String, i32>,
    ports: HashMap<String, Port>,
    lists: BTreeMap<String, Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Optional {
    name: Option<String>,
    port: Option<Port>,
    tags: Option<Vec<String>>,
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
enum Color {
    Red,
    Green,
}

/// How loud to log.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Level {
    /// Everything.
    Debug,
    /// Problems only.
    Error,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct UnitEnums {
    color: Color,
    level: Option<Level>,
}

/// Where to read from.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
enum Source {
    ConfigMap { name: String },
    Url(String),
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type")]
enum Internal {
    Http { path: String, port: u16 },
    Tcp { port: u16 },
    None,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", content = "value")]
enum Adjacent {
    Count(i64),
    Name(String),
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
enum Untagged {
    ByName { name: String },
    ById { id: i64 },
}

#[derive(Serialize, Deserialize, JsonSchema)]
enum Mixed {
    Nothing,
    Something(String),
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct DataEnums {
    source: Source,
    internal: Internal,
    adjacent: Adjacent,
    untagged: Untagged,
    mixed: Mixed,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
enum NumberOrName {
    Number(i32),
    Name(String),
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct IntOrStrings {
    port: IntOrString,
    max_unavailable: Option<IntOrString>,
    own: NumberOrName,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Values {
    anything: Value,
    maybe: Option<Value>,
    by_name: BTreeMap<String, Value>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Flattened {
    id: String,
    #[serde(flatten)]
    port: Port,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

/// Bounds that must be ordered.
#[derive(KubeSchema, Serialize, Deserialize)]
#[x_kube(validation = Rule::new("self.min <= self.max").message("min must not exceed max"))]
struct Rules {
    #[x_kube(validation = "self >= 0")]
    min: i32,
    max: i32,
    #[x_kube(merge_strategy = ListMerge::Set)]
    names: Vec<String>,
    #[x_kube(validation = "self.all(n, n.size() < 10)")]
    #[schemars(length(max = 5))]
    short: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Tree {
    name: String,
    children: Vec<Tree>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(default)]
struct Defaults {
    replicas: i32,
    name: String,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            replicas: 1,
            name: "main".into(),
        }
    }
}

/// The schema of [`Port`], as it appears wherever a `Port` is held.
fn port_schema() -> Value {
    json!({
        "type": "object",
        "description": "A port to expose.",
        "properties": {
            "name": { "type": "string", "description": "The port's name." },
            "containerPort": {
                "type": "integer",
                "format": "int32",
                "minimum": 0,
                "maximum": 65535,
                "description": "The port number."
            }
        },
        "required": ["name", "containerPort"]
    })
}

#[test]
fn nested_structs_are_inlined_with_their_docs() {
    let mut main = port_schema();
    main["description"] = json!("The main port.");
    assert_eq!(
        schema_of::<Nested>(),
        json!({
            "type": "object",
            "properties": {
                "main": main,
                "ports": { "type": "array", "items": port_schema() }
            },
            "required": ["main", "ports"]
        })
    );
}

#[test]
fn maps_declare_their_values() {
    assert_eq!(
        schema_of::<Maps>(),
        json!({
            "type": "object",
            "properties": {
                "counts": {
                    "type": "object",
                    "additionalProperties": { "type": "integer", "format": "int32" }
                },
                "ports": { "type": "object", "additionalProperties": port_schema() },
                "lists": {
                    "type": "object",
                    "additionalProperties": { "type": "array", "items": { "type": "string" } }
                }
            },
            "required": ["counts", "ports", "lists"]
        })
    );
}

#[test]
fn options_are_nullable_and_not_required() {
    let mut port = port_schema();
    port["nullable"] = json!(true);
    assert_eq!(
        schema_of::<Optional>(),
        json!({
            "type": "object",
            "properties": {
                "name": { "type": "string", "nullable": true },
                "port": port,
                "tags": { "type": "array", "items": { "type": "string" }, "nullable": true },
                "labels": {
                    "type": "object",
                    "additionalProperties": { "type": "string" },
                    "nullable": true
                }
            }
        })
    );
}

#[test]
fn unit_enums_are_string_enums_never_nullable() {
    // The apiserver checks a kept `null` against the `enum` and refuses it;
    // a `null` of a field that is not nullable is dropped instead.
    assert_eq!(
        schema_of::<UnitEnums>(),
        json!({
            "type": "object",
            "properties": {
                "color": { "type": "string", "enum": ["Red", "Green"] },
                "level": {
                    "type": "string",
                    "enum": ["debug", "error"],
                    "description": "How loud to log."
                }
            },
            "required": ["color"]
        })
    );
}

#[test]
fn externally_tagged_enums_become_one_object_with_exclusive_variants() {
    assert_eq!(
        schema_of::<DataEnums>()["properties"]["source"],
        json!({
            "type": "object",
            "description": "Where to read from.",
            "properties": {
                "configMap": {
                    "type": "object",
                    "properties": { "name": { "type": "string" } },
                    "required": ["name"]
                },
                "url": { "type": "string" }
            },
            "oneOf": [{ "required": ["configMap"] }, { "required": ["url"] }]
        })
    );
}

#[test]
fn internally_tagged_enums_check_the_tag_per_variant() {
    assert_eq!(
        schema_of::<DataEnums>()["properties"]["internal"],
        json!({
            "type": "object",
            "properties": {
                "type": { "type": "string", "enum": ["Http", "Tcp", "None"] },
                "path": { "type": "string" },
                "port": { "type": "integer", "format": "int32", "minimum": 0, "maximum": 65535 }
            },
            "required": ["type"],
            "oneOf": [
                { "properties": { "type": { "enum": ["Http"] } }, "required": ["path", "port"] },
                { "properties": { "type": { "enum": ["Tcp"] } }, "required": ["port"] },
                { "properties": { "type": { "enum": ["None"] } } }
            ]
        })
    );
}

#[test]
fn adjacently_tagged_enums_merge_their_contents() {
    assert_eq!(
        schema_of::<DataEnums>()["properties"]["adjacent"],
        json!({
            "type": "object",
            "properties": {
                "kind": { "type": "string", "enum": ["Count", "Name"] },
                "value": { "x-kubernetes-int-or-string": true }
            },
            "required": ["kind", "value"],
            "oneOf": [
                { "properties": { "kind": { "enum": ["Count"] } } },
                { "properties": { "kind": { "enum": ["Name"] } } }
            ]
        })
    );
}

#[test]
fn untagged_struct_variants_become_one_object_with_any_of() {
    assert_eq!(
        schema_of::<DataEnums>()["properties"]["untagged"],
        json!({
            "type": "object",
            "properties": {
                "name": { "type": "string" },
                "id": { "type": "integer", "format": "int64" }
            },
            "anyOf": [{ "required": ["name"] }, { "required": ["id"] }]
        })
    );
}

#[test]
fn enums_mixing_strings_and_objects_keep_any_value() {
    // A structural schema cannot say "a string or an object": the apiserver
    // keeps whatever is there, and deserializing checks it.
    assert_eq!(
        schema_of::<DataEnums>()["properties"]["mixed"],
        json!({ "x-kubernetes-preserve-unknown-fields": true })
    );
}

#[test]
fn int_or_string_types_are_marked_so() {
    let schema = schema_of::<IntOrStrings>();
    let properties = &schema["properties"];
    assert_eq!(
        properties["port"]["x-kubernetes-int-or-string"],
        json!(true)
    );
    assert_eq!(properties["port"].get("type"), None);
    assert_eq!(
        properties["max_unavailable"]["x-kubernetes-int-or-string"],
        json!(true)
    );
    assert_eq!(
        properties["own"],
        json!({ "x-kubernetes-int-or-string": true })
    );
    assert_eq!(schema["required"], json!(["port", "own"]));
}

#[test]
fn json_values_keep_unknown_fields() {
    assert_eq!(
        schema_of::<Values>(),
        json!({
            "type": "object",
            "properties": {
                "anything": { "x-kubernetes-preserve-unknown-fields": true },
                "maybe": { "x-kubernetes-preserve-unknown-fields": true },
                "by_name": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
            },
            "required": ["anything", "by_name"]
        })
    );
}

#[test]
fn flattened_fields_join_the_parent() {
    let port = port_schema();
    assert_eq!(
        schema_of::<Flattened>(),
        json!({
            "type": "object",
            "description": "A port to expose.",
            "properties": {
                "id": { "type": "string" },
                "name": port["properties"]["name"],
                "containerPort": port["properties"]["containerPort"]
            },
            "required": ["id", "name", "containerPort"],
            "x-kubernetes-preserve-unknown-fields": true
        })
    );
}

#[test]
fn cel_rules_and_merge_strategies_sit_on_their_nodes() {
    assert_eq!(
        schema_of::<Rules>(),
        json!({
            "type": "object",
            "description": "Bounds that must be ordered.",
            "properties": {
                "min": {
                    "type": "integer",
                    "format": "int32",
                    "x-kubernetes-validations": [{ "rule": "self >= 0" }]
                },
                "max": { "type": "integer", "format": "int32" },
                "names": {
                    "type": "array",
                    "items": { "type": "string" },
                    "x-kubernetes-list-type": "set"
                },
                "short": {
                    "type": "array",
                    "items": { "type": "string" },
                    "maxItems": 5,
                    "nullable": true,
                    "x-kubernetes-validations": [{ "rule": "self.all(n, n.size() < 10)" }]
                }
            },
            "required": ["min", "max", "names"],
            "x-kubernetes-validations": [
                { "rule": "self.min <= self.max", "message": "min must not exceed max" }
            ]
        })
    );
}

#[test]
fn recursive_types_stop_at_the_first_repetition() {
    assert_eq!(
        schema_of::<Tree>(),
        json!({
            "type": "object",
            "properties": {
                "name": { "type": "string" },
                "children": {
                    "type": "array",
                    "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
                }
            },
            "required": ["name", "children"]
        })
    );
}

#[test]
fn serde_defaults_become_schema_defaults() {
    assert_eq!(
        schema_of::<Defaults>(),
        json!({
            "type": "object",
            "properties": {
                "replicas": { "type": "integer", "format": "int32", "default": 1 },
                "name": { "type": "string", "default": "main" }
            }
        })
    );
}

/// A spec holding the shapes above, as one custom resource.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "shapes.example.com",
    version = "v1",
    kind = "Shapes",
    namespaced
)]
#[kube(status = "ShapesStatus")]
struct ShapesSpec {
    #[schemars(with = "Nested")]
    nested: Value,
    #[schemars(with = "Maps")]
    maps: Value,
    #[schemars(with = "Optional")]
    optional: Value,
    #[schemars(with = "UnitEnums")]
    unit_enums: Value,
    #[schemars(with = "DataEnums")]
    data_enums: Value,
    #[schemars(with = "IntOrStrings")]
    int_or_strings: Value,
    #[schemars(with = "Values")]
    values: Value,
    #[schemars(with = "Flattened")]
    flattened: Value,
    #[schemars(with = "Rules")]
    rules: Value,
}

/// What was observed.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
struct ShapesStatus {
    ready: bool,
}

/// `schema` as the definition holds it: numbers become floats on the way.
fn as_props(schema: Value) -> JSONSchemaProps {
    serde_json::from_value(schema).expect("a valid OpenAPI schema")
}

#[test]
fn the_definition_carries_each_shape_unchanged() {
    let crd = Shapes::crd();
    let root = crd.spec.versions[0]
        .schema
        .clone()
        .and_then(|s| s.open_api_v3_schema)
        .expect("a schema");
    let properties = root.properties.expect("root properties");
    let spec = properties["spec"]
        .properties
        .clone()
        .expect("spec properties");
    assert_eq!(spec["nested"], as_props(schema_of::<Nested>()));
    assert_eq!(spec["maps"], as_props(schema_of::<Maps>()));
    assert_eq!(spec["optional"], as_props(schema_of::<Optional>()));
    assert_eq!(spec["unit_enums"], as_props(schema_of::<UnitEnums>()));
    assert_eq!(spec["data_enums"], as_props(schema_of::<DataEnums>()));
    assert_eq!(
        spec["int_or_strings"],
        as_props(schema_of::<IntOrStrings>())
    );
    assert_eq!(spec["values"], as_props(schema_of::<Values>()));
    assert_eq!(spec["flattened"], as_props(schema_of::<Flattened>()));
    assert_eq!(spec["rules"], as_props(schema_of::<Rules>()));
    assert_eq!(
        properties["status"],
        as_props(json!({
            "type": "object",
            "description": "What was observed.",
            "properties": { "ready": { "type": "boolean" } },
            "required": ["ready"],
            "nullable": true
        }))
    );
}
