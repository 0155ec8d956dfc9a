//! Structural OpenAPI schemas for custom resources.
//!
//! The apiserver stores a custom resource definition only when each version's
//! schema is *structural*: every node says its `type` (or opts out with
//! `x-kubernetes-int-or-string` or `x-kubernetes-preserve-unknown-fields`), there
//! are no references, nullability is spelled `nullable: true`, and the
//! alternatives of `oneOf`/`anyOf`/`allOf` only add value checks (`required`,
//! `enum`, ...) to properties that the surrounding object already declares.
//! [`schemars`] describes Rust types in plain JSON Schema, which breaks most of
//! these rules as soon as a type has an `Option`, an `enum` with data, or a
//! recursive field.
//!
//! [`StructuralSchemaRewriter`] is a [`schemars` transform](Transform) that
//! rewrites such a schema into one the apiserver accepts:
//!
//! | Rust | `schemars` says | the rewriter makes it |
//! | --- | --- | --- |
//! | `Option<T>` | `type: [T, "null"]` or `anyOf: [T, null]` | `T` with `nullable: true`, except for enums (see below) |
//! | nested and recursive types | `$ref` into `$defs` / `components` | the definition inlined; a recursive occurrence becomes `x-kubernetes-preserve-unknown-fields` |
//! | unit `enum` with documented variants | `oneOf` of `const`s | `type: string` + `enum` |
//! | `Option` of a unit `enum` | `anyOf: [enum, null]` | `type: string` + `enum`, *not* `nullable`: the apiserver would check a kept `null` against the `enum` and refuse it, while it drops a `null` of a non-nullable field |
//! | externally / internally / adjacently tagged `enum` | `oneOf` of objects | one object with every variant's properties, and a `oneOf` that only says which properties each variant requires (and the value of its tag) |
//! | `#[serde(untagged)]` `enum` | `anyOf` of alternatives | merged: objects as above with `anyOf`; integers and strings as `x-kubernetes-int-or-string`; anything else as `x-kubernetes-preserve-unknown-fields` |
//! | `BTreeMap<String, T>` | `additionalProperties: T` | kept |
//! | `#[serde(flatten)]` map next to fields | `properties` + `additionalProperties` | `properties` + `x-kubernetes-preserve-unknown-fields` |
//! | `serde_json::Value`, arbitrary objects | `true`, `{}`, `additionalProperties: true` | `x-kubernetes-preserve-unknown-fields: true` |
//! | `IntOrString`, `Quantity` | `x-kubernetes-int-or-string: true` | kept |
//! | `Time`, `MicroTime` | `type: string`, `format: date-time` | kept |
//! | `u32`, `i8`, ... | `format: uint32`, `format: int8`, ... | `format: int64` / `int32`, the formats Kubernetes knows |
//! | tuples | `items: [A, B]` | a single `items` schema |
//!
//! It also drops what the apiserver refuses or ignores: `$schema`, `$id`, the
//! root `title`, `default: null`, `readOnly`/`writeOnly`, `deprecated`,
//! `propertyNames`, `additionalProperties: false` and the like.
//!
//! `#[derive(CustomResource)]` uses all of this for you; call
//! [`structural_schema_for`] or [`schema_settings`] for schemas of your own.
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! #[derive(schemars::JsonSchema)]
//! #[allow(dead_code)]
//! struct Spec {
//!     replicas: Option<u32>,
//!     labels: BTreeMap<String, String>,
//! }
//!
//! let schema = kube_core::schema::structural_schema_for::<Spec>();
//! assert_eq!(
//!     schema.as_value(),
//!     &serde_json::json!({
//!         "type": "object",
//!         "properties": {
//!             "replicas": { "type": "integer", "format": "int64", "minimum": 0, "nullable": true },
//!             "labels": { "type": "object", "additionalProperties": { "type": "string" } }
//!         },
//!         "required": ["labels"]
//!     })
//! );
//! ```

use std::collections::BTreeSet;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use schemars::{JsonSchema, Schema, generate::SchemaSettings, transform::Transform};
use serde_json::{Map, Value};

const PRESERVE: &str = "x-kubernetes-preserve-unknown-fields";
const INT_OR_STRING: &str = "x-kubernetes-int-or-string";
const VALIDATIONS: &str = "x-kubernetes-validations";

/// Rewrites a `schemars` schema into a structural schema the apiserver accepts.
///
/// Apply it to a root schema (one that still holds its definitions): see the
/// [module documentation](self) for what it changes. [`schema_settings`] adds it
/// to `schemars`' OpenAPI 3 settings.
///
/// ```
/// use schemars::transform::Transform;
/// use kube_core::schema::StructuralSchemaRewriter;
///
/// let mut schema = schemars::json_schema!({
///     "type": "object",
///     "properties": {
///         "name": { "type": ["string", "null"] },
///         "extra": true,
///     }
/// });
/// StructuralSchemaRewriter.transform(&mut schema);
/// assert_eq!(
///     schema.as_value(),
///     &serde_json::json!({
///         "type": "object",
///         "properties": {
///             "name": { "type": "string", "nullable": true },
///             "extra": { "x-kubernetes-preserve-unknown-fields": true },
///         }
///     })
/// );
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StructuralSchemaRewriter;

impl Transform for StructuralSchemaRewriter {
    fn transform(&mut self, schema: &mut Schema) {
        let value = std::mem::take(schema).to_value();
        let rewritten = rewrite_root(value);
        *schema = Schema::try_from(rewritten).unwrap_or_default();
    }
}

/// Turns `anyOf: [<string enum>, <null>]`, which `schemars` writes for an
/// `Option` of a unit enum, into the enum itself, wherever it occurs in the
/// schema.
///
/// The result is not `nullable`: the apiserver would check a kept `null`
/// against the `enum` and refuse it, whereas it drops the `null` of a field
/// that is not nullable before validating, leaving the field absent — `None`.
///
/// [`StructuralSchemaRewriter`] does this and more; this transform is for
/// schemas that should otherwise stay as `schemars` wrote them.
///
/// ```
/// use schemars::transform::Transform;
/// use kube_core::schema::OptionalEnum;
///
/// let mut schema = schemars::json_schema!({
///     "anyOf": [
///         { "type": "string", "enum": ["Debug", "Info"] },
///         { "enum": [null], "nullable": true }
///     ]
/// });
/// OptionalEnum.transform(&mut schema);
/// assert_eq!(
///     schema.as_value(),
///     &serde_json::json!({ "type": "string", "enum": ["Debug", "Info"] })
/// );
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptionalEnum;

impl Transform for OptionalEnum {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(root) = schema.as_object_mut() {
            for_each_node(root, &mut |node| {
                if collapse_nullable_any_of(node, |other| other.contains_key("enum")) {
                    enum_without_nullable(node);
                }
            });
        }
    }
}

/// Turns `anyOf: [{"x-kubernetes-int-or-string": true}, <null>]`, which
/// `schemars` writes for an `Option` of an int-or-string type such as
/// `Quantity`, into the int-or-string node with `nullable: true`, wherever it
/// occurs in the schema.
///
/// [`StructuralSchemaRewriter`] does this and more; this transform is for
/// schemas that should otherwise stay as `schemars` wrote them.
///
/// ```
/// use schemars::transform::Transform;
/// use kube_core::schema::OptionalIntOrString;
///
/// let mut schema = schemars::json_schema!({
///     "anyOf": [{ "x-kubernetes-int-or-string": true }, { "enum": [null], "nullable": true }]
/// });
/// OptionalIntOrString.transform(&mut schema);
/// assert_eq!(
///     schema.as_value(),
///     &serde_json::json!({ "x-kubernetes-int-or-string": true, "nullable": true })
/// );
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptionalIntOrString;

impl Transform for OptionalIntOrString {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(root) = schema.as_object_mut() {
            for_each_node(root, &mut |node| {
                collapse_nullable_any_of(node, |other| {
                    other.get(INT_OR_STRING) == Some(&Value::Bool(true))
                });
            });
        }
    }
}

/// Replaces `anyOf: [x, <null>]` (either order) by `x` plus `nullable: true`
/// when `matches(x)`; says whether it did.
fn collapse_nullable_any_of(
    node: &mut Map<String, Value>,
    matches: impl Fn(&Map<String, Value>) -> bool,
) -> bool {
    let Some(Value::Array(alternatives)) = node.get("anyOf") else {
        return false;
    };
    let [first, second] = alternatives.as_slice() else {
        return false;
    };
    let other = match (is_null_schema(first), is_null_schema(second)) {
        (true, false) => second,
        (false, true) => first,
        _ => return false,
    };
    let Some(other) = other.as_object().filter(|o| matches(o)).cloned() else {
        return false;
    };
    node.remove("anyOf");
    for (key, value) in other {
        node.entry(key).or_insert(value);
    }
    node.insert("nullable".into(), Value::Bool(true));
    true
}

/// Calls `visit` on `node` and on every schema nested in it, outermost first.
fn for_each_node(node: &mut Map<String, Value>, visit: &mut impl FnMut(&mut Map<String, Value>)) {
    visit(node);
    for (key, value) in node.iter_mut() {
        match (key.as_str(), value) {
            (
                "properties" | "patternProperties" | "$defs" | "definitions",
                Value::Object(schemas),
            ) => {
                for schema in schemas.values_mut() {
                    if let Value::Object(schema) = schema {
                        for_each_node(schema, visit);
                    }
                }
            }
            ("items" | "additionalProperties" | "not", Value::Object(schema)) => {
                for_each_node(schema, visit);
            }
            ("items" | "allOf" | "anyOf" | "oneOf", Value::Array(schemas)) => {
                for schema in schemas {
                    if let Value::Object(schema) = schema {
                        for_each_node(schema, visit);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `schemars` settings producing structural schemas: OpenAPI 3, subschemas
/// inlined, no `$schema`, and [`StructuralSchemaRewriter`] as the last transform.
///
/// ```
/// let generator = kube_core::schema::schema_settings().into_generator();
/// let schema = generator.into_root_schema_for::<Option<String>>();
/// assert_eq!(schema.as_value(), &serde_json::json!({ "type": "string", "nullable": true }));
/// ```
pub fn schema_settings() -> SchemaSettings {
    SchemaSettings::openapi3()
        .with(|settings| {
            settings.inline_subschemas = true;
            settings.meta_schema = None;
        })
        .with_transform(StructuralSchemaRewriter)
}

/// The structural schema of `T`, generated with [`schema_settings`].
pub fn structural_schema_for<T: JsonSchema + ?Sized>() -> Schema {
    schema_settings()
        .into_generator()
        .into_root_schema_for::<T>()
}

/// The structural schema of `T` as the `openAPIV3Schema` of a custom resource
/// definition version.
///
/// # Panics
///
/// When the rewritten schema does not fit `JSONSchemaProps`, which only a
/// hand-written `JsonSchema` impl producing invalid JSON Schema (say, a string
/// where a schema object belongs) can cause. The message names `T` and the
/// offending part.
pub fn json_schema_props_for<T: JsonSchema + ?Sized>() -> JSONSchemaProps {
    let schema = structural_schema_for::<T>().to_value();
    match serde_json::from_value(schema) {
        Ok(props) => props,
        Err(err) => panic!(
            "the JSON schema of {} is not a valid OpenAPI v3 schema: {err}",
            std::any::type_name::<T>()
        ),
    }
}

/// The schema of a custom resource's root object, as
/// `#[derive(CustomResource)]` implements `JsonSchema` with.
///
/// It declares `apiVersion` and `kind` as strings, `metadata` as a plain object
/// (the apiserver knows its schema), the required `spec`, the optional `status`,
/// and the CEL `validations` that apply to the whole object.
///
/// ```
/// use kube_core::{cel::Rule, schema::custom_resource_schema};
///
/// let schema = custom_resource_schema(
///     "A widget.",
///     schemars::json_schema!({ "type": "object" }),
///     None,
///     [Rule::new("self.metadata.name.size() < 20")],
/// );
/// assert_eq!(schema.get("required").unwrap(), &serde_json::json!(["spec"]));
/// assert!(schema.pointer("/properties/status").is_none());
/// assert!(schema.get("x-kubernetes-validations").is_some());
/// ```
pub fn custom_resource_schema(
    description: &str,
    spec: Schema,
    status: Option<Schema>,
    validations: impl IntoIterator<Item = crate::cel::Rule>,
) -> Schema {
    let mut properties = object_properties();
    properties.insert("spec".into(), spec.to_value());
    if let Some(status) = status {
        properties.insert("status".into(), status.to_value());
    }
    let mut rest = Map::new();
    rest.insert("required".into(), Value::Array(vec!["spec".into()]));
    root_schema(description, properties, rest, validations)
}

/// The schema of a custom resource's root object whose fields sit beside
/// `metadata` instead of under `spec`, as `#[kube(no_spec)]` implements
/// `JsonSchema` with.
///
/// The properties of `fields` (a struct's schema) become the root's, with
/// their `required` list and their own CEL rules; the other parts are as in
/// [`custom_resource_schema`].
///
/// ```
/// use kube_core::schema::custom_resource_schema_without_spec;
///
/// let schema = custom_resource_schema_without_spec(
///     "A bucket.",
///     schemars::json_schema!({
///         "type": "object",
///         "properties": { "region": { "type": "string" } },
///         "required": ["region"],
///     }),
///     None,
///     [],
/// );
/// assert_eq!(schema.pointer("/properties/region/type").unwrap(), "string");
/// assert!(schema.pointer("/properties/spec").is_none());
/// assert_eq!(schema.get("required").unwrap(), &serde_json::json!(["region"]));
/// ```
pub fn custom_resource_schema_without_spec(
    description: &str,
    fields: Schema,
    status: Option<Schema>,
    validations: impl IntoIterator<Item = crate::cel::Rule>,
) -> Schema {
    let mut properties = object_properties();
    let mut rest = match fields.to_value() {
        Value::Object(fields) => fields,
        // `true` or `false`: no properties to lift.
        _ => Map::new(),
    };
    if let Some(Value::Object(lifted)) = rest.remove("properties") {
        properties.extend(lifted);
    }
    if let Some(status) = status {
        properties.insert("status".into(), status.to_value());
    }
    // What else the struct's schema says about itself (its required fields,
    // rules, unknown fields kept) now holds for the root; its type and
    // description are the root's own.
    for key in ["type", "description", "title"] {
        rest.remove(key);
    }
    root_schema(description, properties, rest, validations)
}

/// The properties every object has: `apiVersion`, `kind` and `metadata`.
fn object_properties() -> Map<String, Value> {
    let mut properties = Map::new();
    let string = |description: &str| {
        let mut node = Map::new();
        node.insert("type".into(), "string".into());
        node.insert("description".into(), description.into());
        Value::Object(node)
    };
    properties.insert(
        "apiVersion".into(),
        string("The versioned schema of this object: `group/version`."),
    );
    properties.insert("kind".into(), string("The type of this object."));
    let mut metadata = Map::new();
    metadata.insert("type".into(), "object".into());
    properties.insert("metadata".into(), Value::Object(metadata));
    properties
}

/// A root object schema with `properties`, the other keys in `rest`, and the
/// CEL `validations` added to the rules `rest` may already hold.
fn root_schema(
    description: &str,
    properties: Map<String, Value>,
    rest: Map<String, Value>,
    validations: impl IntoIterator<Item = crate::cel::Rule>,
) -> Schema {
    let mut root = Map::new();
    root.insert("type".into(), "object".into());
    root.insert("description".into(), description.into());
    root.insert("properties".into(), Value::Object(properties));
    root.extend(rest);
    let mut schema = Schema::from(root);
    for mut rule in validations {
        rule.transform(&mut schema);
    }
    schema
}

/// Rewrites a root schema: its definitions are inlined and removed, and the
/// generator's `title` and `$schema` are dropped.
fn rewrite_root(root: Value) -> Value {
    let Value::Object(mut root) = root else {
        return rewrite_detached(root);
    };
    let mut definitions = Map::new();
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = root.remove(key) {
            definitions.extend(defs);
        }
    }
    if let Some(Value::Object(mut components)) = root.remove("components") {
        if let Some(Value::Object(schemas)) = components.remove("schemas") {
            definitions.extend(schemas);
        }
        if !components.is_empty() {
            root.insert("components".into(), Value::Object(components));
        }
    }
    root.remove("title");
    let original = Value::Object(root.clone());
    let mut rewriter = Rewriter {
        definitions: &definitions,
        root: Some(&original),
        inlining: Vec::new(),
    };
    let mut rewritten = rewriter.rewrite(Value::Object(root));
    leave_metadata_to_the_server(&mut rewritten);
    rewritten
}

/// At the root of a Kubernetes object, `metadata` is validated by the apiserver
/// itself, which only lets a schema restrict `name` and `generateName` there: a
/// plain `metadata` object must stay `{"type": "object"}` rather than be marked
/// as keeping unknown fields like other property-less objects.
fn leave_metadata_to_the_server(root: &mut Value) {
    let Some(properties) = root.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    if !(properties.contains_key("apiVersion") && properties.contains_key("kind")) {
        return;
    }
    if let Some(Value::Object(metadata)) = properties.get_mut("metadata")
        && !metadata.contains_key("properties")
    {
        metadata.remove(PRESERVE);
    }
}

fn rewrite_detached(node: Value) -> Value {
    let definitions = Map::new();
    Rewriter {
        definitions: &definitions,
        root: None,
        inlining: Vec::new(),
    }
    .rewrite(node)
}

/// Walks a schema bottom-up, inlining references as it goes.
struct Rewriter<'a> {
    definitions: &'a Map<String, Value>,
    /// The root schema, which `"$ref": "#"` (a type containing itself, when it
    /// is the root) points to.
    root: Option<&'a Value>,
    /// The definitions being inlined, outermost first: meeting one again means
    /// the type is recursive.
    inlining: Vec<String>,
}

impl Rewriter<'_> {
    fn rewrite(&mut self, node: Value) -> Value {
        let mut node = match node {
            Value::Object(node) => node,
            Value::Bool(_) => return preserve_unknown(),
            other => return other,
        };

        if let Some(reference) = node.remove("$ref") {
            return self.inline(reference, node);
        }

        drop_unsupported_keywords(&mut node);
        normalize_type(&mut node);

        if let Some(Value::Object(properties)) = node.get_mut("properties") {
            for schema in properties.values_mut() {
                *schema = self.rewrite(std::mem::take(schema));
            }
        }
        if let Some(Value::Object(mut patterns)) = node.remove("patternProperties")
            && !node.contains_key("additionalProperties")
            && let Some((_, first)) = patterns.iter_mut().next()
        {
            node.insert("additionalProperties".into(), std::mem::take(first));
        }
        if let Some(extra) = node.get_mut("additionalProperties")
            && extra.is_object()
        {
            *extra = self.rewrite(std::mem::take(extra));
        }
        self.rewrite_items(&mut node);
        if let Some(not) = node.get_mut("not") {
            *not = self.rewrite(std::mem::take(not));
        }

        if let Some(Value::Array(parts)) = node.remove("allOf") {
            for part in parts {
                let part = self.rewrite(part);
                if let Value::Object(part) = part {
                    merge_into(&mut node, part);
                }
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(Value::Array(alternatives)) = node.remove(keyword) {
                self.collapse_alternatives(&mut node, keyword, alternatives);
            }
        }

        normalize_type(&mut node);
        fix_objects(&mut node);
        fix_untyped(&mut node);
        fix_format(&mut node);
        if node.get("default").is_some_and(Value::is_null) {
            node.remove("default");
        }
        if node.get("nullable") == Some(&Value::Bool(false)) {
            node.remove("nullable");
        }
        enum_without_nullable(&mut node);
        Value::Object(node)
    }

    /// Replaces a `$ref` by the definition it points to; `siblings` (a
    /// description, say) take precedence over the definition's own keys.
    fn inline(&mut self, reference: Value, siblings: Map<String, Value>) -> Value {
        if reference.as_str() == Some("#") {
            return self.rewrite(recursion_stand_in(self.root, siblings));
        }
        let name = reference.as_str().and_then(definition_name);
        let definition = name.as_deref().and_then(|name| self.definitions.get(name));
        let (Some(name), Some(definition)) = (name, definition) else {
            return self.rewrite(recursion_stand_in(None, siblings));
        };
        if self.inlining.contains(&name) {
            return self.rewrite(recursion_stand_in(Some(definition), siblings));
        }
        let mut merged = match definition {
            Value::Object(definition) => definition.clone(),
            _ => Map::new(),
        };
        for (key, value) in siblings {
            merged.insert(key, value);
        }
        self.inlining.push(name);
        let rewritten = self.rewrite(Value::Object(merged));
        self.inlining.pop();
        rewritten
    }

    fn rewrite_items(&mut self, node: &mut Map<String, Value>) {
        node.remove("additionalItems");
        match node.remove("items") {
            Some(Value::Array(tuple)) => {
                let mut tuple: Vec<Value> = tuple.into_iter().map(|s| self.rewrite(s)).collect();
                let first = tuple.first().cloned();
                let items = match first {
                    Some(first) if tuple.iter().all(|s| *s == first) => tuple.swap_remove(0),
                    _ => preserve_unknown(),
                };
                node.insert("items".into(), items);
            }
            Some(items) => {
                node.insert("items".into(), self.rewrite(items));
            }
            None => {}
        }
    }

    /// Turns `anyOf`/`oneOf` into something structural: null alternatives become
    /// `nullable`, a single remaining alternative merges into the node, several
    /// merge per [`combine_variants`].
    fn collapse_alternatives(
        &mut self,
        node: &mut Map<String, Value>,
        keyword: &str,
        alternatives: Vec<Value>,
    ) {
        if !alternatives.is_empty() && alternatives.iter().all(is_value_check) {
            node.insert(keyword.into(), Value::Array(alternatives));
            return;
        }
        let mut kept = Vec::new();
        for alternative in alternatives {
            if is_null_schema(&alternative) {
                node.insert("nullable".into(), Value::Bool(true));
            } else if let Value::Object(alternative) = self.rewrite(alternative) {
                kept.push(alternative);
            }
        }
        match kept.len() {
            0 => {}
            1 => {
                if let Some(only) = kept.pop() {
                    merge_into(node, only);
                }
            }
            _ => {
                let combined = combine_variants(kept, keyword == "oneOf");
                merge_into(node, combined);
            }
        }
    }
}

/// The name a local reference points to, decoded.
fn definition_name(reference: &str) -> Option<String> {
    let raw = ["#/components/schemas/", "#/$defs/", "#/definitions/"]
        .iter()
        .find_map(|prefix| reference.strip_prefix(prefix))?;
    let unescaped = raw.replace("~1", "/").replace("~0", "~");
    Some(percent_decode(&unescaped))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// What a recursive (or dangling) reference becomes: an untyped node that keeps
/// whatever it holds, typed `object` when the definition was an object.
fn recursion_stand_in(definition: Option<&Value>, siblings: Map<String, Value>) -> Value {
    let mut node = siblings;
    if definition
        .and_then(|d| d.get("type"))
        .and_then(Value::as_str)
        == Some("object")
    {
        node.insert("type".into(), "object".into());
    }
    if let Some(description) = definition.and_then(|d| d.get("description"))
        && !node.contains_key("description")
    {
        node.insert("description".into(), description.clone());
    }
    node.insert(PRESERVE.into(), Value::Bool(true));
    Value::Object(node)
}

fn preserve_unknown() -> Value {
    let mut node = Map::new();
    node.insert(PRESERVE.into(), Value::Bool(true));
    Value::Object(node)
}

fn drop_unsupported_keywords(node: &mut Map<String, Value>) {
    for key in [
        "$schema",
        "$id",
        "$anchor",
        "$comment",
        "$defs",
        "definitions",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentEncoding",
        "contentMediaType",
        "unevaluatedProperties",
        "unevaluatedItems",
        "propertyNames",
        "dependentRequired",
        "dependentSchemas",
        "if",
        "then",
        "else",
        "contains",
    ] {
        node.remove(key);
    }
    if let Some(Value::Array(examples)) = node.remove("examples")
        && !node.contains_key("example")
        && let Some(first) = examples.into_iter().next()
    {
        node.insert("example".into(), first);
    }
    if let Some(constant) = node.remove("const") {
        node.insert("enum".into(), Value::Array(vec![constant]));
    }
}

/// Turns `type: [T, "null"]` into `type: T` + `nullable: true`; several non-null
/// types become int-or-string (integer and string) or an untyped node.
fn normalize_type(node: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = node.get("type") else {
        return;
    };
    let mut types: Vec<String> = types
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    if types.iter().any(|t| t == "null") {
        types.retain(|t| t != "null");
        node.insert("nullable".into(), Value::Bool(true));
    }
    node.remove("type");
    match types.as_slice() {
        [] => {}
        [single] => {
            node.insert("type".into(), single.as_str().into());
        }
        several if is_int_or_string(several) => {
            node.insert(INT_OR_STRING.into(), Value::Bool(true));
        }
        _ => {
            node.insert(PRESERVE.into(), Value::Bool(true));
        }
    }
}

fn is_int_or_string(types: &[String]) -> bool {
    types.iter().any(|t| t == "string")
        && types.iter().any(|t| t == "integer")
        && types.iter().all(|t| t == "string" || t == "integer")
}

/// Whether a junctor alternative is already structural: it declares no type and
/// only checks values of properties declared around it, as the rewriter's own
/// output does.
fn is_value_check(schema: &Value) -> bool {
    const CHECKS: [&str; 5] = [
        "required",
        "properties",
        "minProperties",
        "maxProperties",
        "not",
    ];
    let Some(object) = schema.as_object() else {
        return false;
    };
    let only_checks = object.keys().all(|key| CHECKS.contains(&key.as_str()));
    let properties_only_enums = match object.get("properties") {
        None => true,
        Some(Value::Object(properties)) => properties
            .values()
            .all(|p| p.as_object().is_some_and(|p| p.keys().all(|k| k == "enum"))),
        Some(_) => false,
    };
    only_checks && properties_only_enums && !object.is_empty()
}

/// Whether a (not yet rewritten) schema only admits `null`.
fn is_null_schema(schema: &Value) -> bool {
    let Some(object) = schema.as_object() else {
        return false;
    };
    match object.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(types)) => !types.is_empty() && types.iter().all(|t| t == "null"),
        Some(_) => false,
        None => {
            object.get("const").is_some_and(Value::is_null)
                || object
                    .get("enum")
                    .and_then(Value::as_array)
                    .is_some_and(|values| values.len() == 1 && values[0].is_null())
        }
    }
}

/// Objects: a map next to declared properties (a flattened map) keeps unknown
/// fields instead; `additionalProperties: true` and objects without any
/// declared shape keep unknown fields; `additionalProperties: false` goes.
fn fix_objects(node: &mut Map<String, Value>) {
    let has_properties = node.contains_key("properties");
    match node.get("additionalProperties") {
        Some(Value::Bool(false)) => {
            node.remove("additionalProperties");
        }
        Some(Value::Bool(true)) => {
            node.remove("additionalProperties");
            node.insert(PRESERVE.into(), Value::Bool(true));
        }
        Some(_) if has_properties => {
            node.remove("additionalProperties");
            node.insert(PRESERVE.into(), Value::Bool(true));
        }
        _ => {}
    }
    let is_object = node.get("type").and_then(Value::as_str) == Some("object");
    if is_object
        && !node.contains_key("properties")
        && !node.contains_key("additionalProperties")
        && !node.contains_key(PRESERVE)
    {
        node.insert(PRESERVE.into(), Value::Bool(true));
    }
}

/// A node without a type must say what it accepts: a string `enum` is a string,
/// anything else keeps unknown fields.
fn fix_untyped(node: &mut Map<String, Value>) {
    if node.contains_key("type") || node.contains_key(INT_OR_STRING) || node.contains_key(PRESERVE)
    {
        return;
    }
    let string_enum = node
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| {
            values.iter().any(Value::is_string)
                && values.iter().all(|v| v.is_string() || v.is_null())
        });
    if string_enum {
        node.insert("type".into(), "string".into());
    } else if node.contains_key("properties") {
        node.insert("type".into(), "object".into());
    } else {
        node.insert(PRESERVE.into(), Value::Bool(true));
    }
}

/// An `enum` node cannot be `nullable`: the apiserver checks a kept `null`
/// against the `enum`, and no `enum` admits it, `null` listed or not
/// ("Unsupported value: null"). Without `nullable`, the apiserver drops a
/// `null` before validating, which is what an `Option` of an enum means: the
/// field is absent.
fn enum_without_nullable(node: &mut Map<String, Value>) {
    let admits_more_than_null = node
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().any(|v| !v.is_null()));
    if !admits_more_than_null || node.remove("nullable").is_none() {
        return;
    }
    if let Some(Value::Array(values)) = node.get_mut("enum") {
        values.retain(|value| !value.is_null());
    }
}

/// Integer formats become the two Kubernetes knows; number formats other than
/// `float` and `double` go.
fn fix_format(node: &mut Map<String, Value>) {
    let Some(format) = node.get("format").and_then(Value::as_str) else {
        return;
    };
    let replacement = match node.get("type").and_then(Value::as_str) {
        Some("integer") => match format {
            "int8" | "int16" | "int32" | "uint8" | "uint16" => Some("int32"),
            _ => Some("int64"),
        },
        Some("number") => match format {
            "float" | "double" => Some(format),
            _ => None,
        },
        _ => return,
    };
    match replacement {
        Some(format) => {
            let format = format.to_string();
            node.insert("format".into(), format.into());
        }
        None => {
            node.remove("format");
        }
    }
}

/// Merges `source` into `target` as `allOf` means it: properties, `required`
/// and validations are joined, other keys of `target` win.
fn merge_into(target: &mut Map<String, Value>, source: Map<String, Value>) {
    for (key, value) in source {
        match (key.as_str(), target.get_mut(&key), value) {
            ("properties", Some(Value::Object(existing)), Value::Object(incoming)) => {
                for (name, schema) in incoming {
                    match existing.get_mut(&name) {
                        Some(Value::Object(present)) => {
                            if let Value::Object(schema) = schema {
                                merge_into(present, schema);
                            }
                        }
                        Some(_) => {}
                        None => {
                            existing.insert(name, schema);
                        }
                    }
                }
            }
            ("required", Some(Value::Array(existing)), Value::Array(incoming)) => {
                for name in incoming {
                    if !existing.contains(&name) {
                        existing.push(name);
                    }
                }
            }
            (VALIDATIONS, Some(Value::Array(existing)), Value::Array(incoming)) => {
                existing.extend(incoming);
            }
            ("nullable", Some(existing), Value::Bool(true)) => {
                *existing = Value::Bool(true);
            }
            (_, Some(_), _) => {}
            (_, None, value) => {
                target.insert(key, value);
            }
        }
    }
}

/// The kind of value a rewritten alternative accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    IntOrString,
    Anything,
}

fn shape(schema: &Map<String, Value>) -> Shape {
    if schema.contains_key(INT_OR_STRING) {
        return Shape::IntOrString;
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => Shape::Object,
        Some("array") => Shape::Array,
        Some("string") => Shape::String,
        Some("integer") => Shape::Integer,
        Some("number") => Shape::Number,
        Some("boolean") => Shape::Boolean,
        _ => Shape::Anything,
    }
}

/// Merges the alternatives of an enum into one structural schema.
///
/// Objects (the variants of tagged enums, or untagged struct variants) become
/// one object declaring every property, with a `oneOf` (tagged) or `anyOf`
/// (untagged) that only states what each variant requires. Strings merge their
/// `enum`s; integers and strings become int-or-string; anything else that
/// cannot be told apart structurally keeps unknown fields.
fn combine_variants(variants: Vec<Map<String, Value>>, exclusive: bool) -> Map<String, Value> {
    let shapes: BTreeSet<Shape> = variants.iter().map(shape).collect();
    let nullable = variants
        .iter()
        .any(|v| v.get("nullable") == Some(&Value::Bool(true)));
    let mut combined = match shapes.iter().copied().collect::<Vec<_>>().as_slice() {
        [Shape::Object] => hoist_objects(variants, exclusive),
        [single] if *single != Shape::Anything => {
            let mut variants = variants.into_iter();
            let first = variants.next().unwrap_or_default();
            variants.fold(first, merge_variant_schemas)
        }
        several
            if several
                .iter()
                .all(|s| matches!(s, Shape::Integer | Shape::String | Shape::IntOrString)) =>
        {
            int_or_string()
        }
        _ => match preserve_unknown() {
            Value::Object(node) => node,
            _ => Map::new(),
        },
    };
    for key in ["title", "description", VALIDATIONS] {
        combined.remove(key);
    }
    if nullable {
        combined.insert("nullable".into(), Value::Bool(true));
    }
    combined
}

fn int_or_string() -> Map<String, Value> {
    let mut node = Map::new();
    node.insert(INT_OR_STRING.into(), Value::Bool(true));
    node
}

/// One object holding the properties of every variant.
fn hoist_objects(variants: Vec<Map<String, Value>>, exclusive: bool) -> Map<String, Value> {
    let required: Vec<Vec<Value>> = variants
        .iter()
        .map(|v| {
            v.get("required")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let common: Vec<Value> = required
        .first()
        .map(|first| {
            first
                .iter()
                .filter(|name| required.iter().all(|r| r.contains(name)))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let tags = tag_properties(&variants);

    let mut properties = Map::new();
    let mut checks: Vec<Value> = Vec::new();
    for (variant, required) in variants.into_iter().zip(required) {
        let mut check = Map::new();
        let own: Vec<Value> = required
            .into_iter()
            .filter(|name| !common.contains(name))
            .collect();
        if !own.is_empty() {
            check.insert("required".into(), Value::Array(own));
        }
        if let Some(Value::Object(variant_properties)) = variant.get("properties") {
            let mut tag_checks = Map::new();
            for tag in &tags {
                if let Some(value) = variant_properties.get(tag).and_then(|s| s.get("enum")) {
                    let mut only = Map::new();
                    only.insert("enum".into(), value.clone());
                    tag_checks.insert(tag.clone(), Value::Object(only));
                }
            }
            if !tag_checks.is_empty() {
                check.insert("properties".into(), Value::Object(tag_checks));
            }
        }
        if let Some(Value::Object(variant_properties)) = variant.get("properties").cloned() {
            for (name, schema) in variant_properties {
                let Value::Object(schema) = schema else {
                    continue;
                };
                let merged = match properties.remove(&name) {
                    Some(Value::Object(existing)) => merge_variant_schemas(existing, schema),
                    _ => schema,
                };
                properties.insert(name, Value::Object(merged));
            }
        }
        let check = Value::Object(check);
        if !checks.contains(&check) {
            checks.push(check);
        }
    }

    let mut node = Map::new();
    node.insert("type".into(), "object".into());
    node.insert("properties".into(), Value::Object(properties));
    if !common.is_empty() {
        node.insert("required".into(), Value::Array(common));
    }
    let vacuous = checks
        .iter()
        .any(|c| c.as_object().is_some_and(Map::is_empty));
    if checks.len() > 1 && !vacuous {
        let keyword = if exclusive { "oneOf" } else { "anyOf" };
        node.insert(keyword.into(), Value::Array(checks));
    }
    node
}

/// Properties that tell variants apart: present in every variant, each time with
/// a single allowed value (the `tag` of internally and adjacently tagged enums).
fn tag_properties(variants: &[Map<String, Value>]) -> Vec<String> {
    let Some(Value::Object(first)) = variants.first().and_then(|v| v.get("properties")) else {
        return Vec::new();
    };
    first
        .keys()
        .filter(|name| {
            let values: Vec<&Value> = variants
                .iter()
                .filter_map(|v| v.get("properties")?.get(name.as_str())?.get("enum"))
                .filter(|e| e.as_array().is_some_and(|e| e.len() == 1))
                .collect();
            values.len() == variants.len()
                && values
                    .iter()
                    .enumerate()
                    .all(|(i, v)| !values[..i].contains(v))
        })
        .cloned()
        .collect()
}

/// Two schemas that the same property has in different variants, as one.
fn merge_variant_schemas(
    mut a: Map<String, Value>,
    mut b: Map<String, Value>,
) -> Map<String, Value> {
    if a == b {
        return a;
    }
    let nullable = [&a, &b]
        .iter()
        .any(|s| s.get("nullable") == Some(&Value::Bool(true)));
    let (shape_a, shape_b) = (shape(&a), shape(&b));
    let mut merged = if shape_a != shape_b {
        if [shape_a, shape_b]
            .iter()
            .all(|s| matches!(s, Shape::Integer | Shape::String | Shape::IntOrString))
        {
            int_or_string()
        } else {
            let mut node = Map::new();
            node.insert(PRESERVE.into(), Value::Bool(true));
            node
        }
    } else {
        match shape_a {
            Shape::Object => {
                let required_b = b.remove("required");
                let required = match (a.remove("required"), required_b) {
                    (Some(Value::Array(ra)), Some(Value::Array(rb))) => {
                        ra.into_iter().filter(|n| rb.contains(n)).collect()
                    }
                    _ => Vec::new(),
                };
                let props_b = b.remove("properties");
                if let (Some(Value::Object(props_a)), Some(Value::Object(props_b))) =
                    (a.get_mut("properties"), props_b)
                {
                    for (name, schema) in props_b {
                        let merged = match (props_a.remove(&name), schema) {
                            (Some(Value::Object(x)), Value::Object(y)) => {
                                Value::Object(merge_variant_schemas(x, y))
                            }
                            (Some(existing), _) => existing,
                            (None, schema) => schema,
                        };
                        props_a.insert(name, merged);
                    }
                }
                if !required.is_empty() {
                    a.insert("required".into(), Value::Array(required));
                }
                if b.get(PRESERVE) == Some(&Value::Bool(true)) {
                    a.insert(PRESERVE.into(), Value::Bool(true));
                }
                a
            }
            Shape::Array => {
                match (a.remove("items"), b.remove("items")) {
                    (Some(Value::Object(x)), Some(Value::Object(y))) => {
                        a.insert("items".into(), Value::Object(merge_variant_schemas(x, y)));
                    }
                    (Some(items), _) | (None, Some(items)) => {
                        a.insert("items".into(), items);
                    }
                    (None, None) => {}
                }
                a
            }
            _ => {
                let enums = (
                    a.get("enum").and_then(Value::as_array),
                    b.get("enum").and_then(Value::as_array),
                );
                let union = match enums {
                    (Some(x), Some(y)) => {
                        let mut union = x.clone();
                        for value in y {
                            if !union.contains(value) {
                                union.push(value.clone());
                            }
                        }
                        Some(union)
                    }
                    _ => None,
                };
                a.remove("enum");
                if let Some(union) = union {
                    a.insert("enum".into(), Value::Array(union));
                }
                if a.get("format") != b.get("format") {
                    a.remove("format");
                }
                a
            }
        }
    };
    if nullable {
        merged.insert("nullable".into(), Value::Bool(true));
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rewrite(schema: Value) -> Value {
        let mut schema = Schema::try_from(schema).expect("schema");
        StructuralSchemaRewriter.transform(&mut schema);
        schema.to_value()
    }

    #[test]
    fn inlines_references_and_drops_definitions() {
        let out = rewrite(json!({
            "$schema": "https://spec.openapis.org/oas/3.0/schema/2021-09-28#/definitions/Schema",
            "title": "Root",
            "type": "object",
            "properties": {
                "inner": { "$ref": "#/components/schemas/Inner", "description": "The inner part." },
                "other": { "$ref": "#/$defs/Other~1Name" }
            },
            "components": { "schemas": {
                "Inner": { "type": "object", "properties": { "a": { "type": "string" } }, "description": "ignored" }
            }},
            "$defs": { "Other/Name": { "type": "integer", "format": "uint16" } }
        }));
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {
                    "inner": {
                        "type": "object",
                        "description": "The inner part.",
                        "properties": { "a": { "type": "string" } }
                    },
                    "other": { "type": "integer", "format": "int32" }
                }
            })
        );
    }

    #[test]
    fn recursive_references_keep_unknown_fields() {
        let out = rewrite(json!({
            "$ref": "#/$defs/Tree",
            "$defs": { "Tree": {
                "type": "object",
                "properties": { "children": { "type": "array", "items": { "$ref": "#/$defs/Tree" } } }
            }}
        }));
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": { "children": {
                    "type": "array",
                    "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
                }}
            })
        );
        let recursive_root = rewrite(json!({
            "type": "object",
            "properties": { "children": { "type": "array", "items": { "$ref": "#" } } }
        }));
        assert_eq!(
            recursive_root["properties"]["children"]["items"],
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
        );
        let dangling =
            rewrite(json!({"type": "object", "properties": {"x": {"$ref": "#/nowhere"}}}));
        assert_eq!(
            dangling["properties"]["x"],
            json!({"x-kubernetes-preserve-unknown-fields": true})
        );
    }

    #[test]
    fn nullable_replaces_null_types_and_alternatives() {
        let out = rewrite(json!({
            "type": "object",
            "properties": {
                "a": { "type": ["string", "null"] },
                "b": { "anyOf": [ { "type": "object", "properties": {} }, { "type": "null" } ], "description": "B." },
                "c": { "anyOf": [ { "x-kubernetes-int-or-string": true }, { "nullable": true, "enum": [null] } ] },
                "d": { "type": ["integer", "string", "null"] },
                "e": { "type": ["boolean", "string"] },
                "f": { "type": "integer", "nullable": false, "default": null }
            }
        }));
        assert_eq!(
            out["properties"],
            json!({
                "a": { "type": "string", "nullable": true },
                "b": { "type": "object", "properties": {}, "nullable": true, "description": "B." },
                "c": { "x-kubernetes-int-or-string": true, "nullable": true },
                "d": { "x-kubernetes-int-or-string": true, "nullable": true },
                "e": { "x-kubernetes-preserve-unknown-fields": true },
                "f": { "type": "integer" }
            })
        );
    }

    #[test]
    fn optional_enums_are_not_nullable() {
        let out = rewrite(json!({
            "type": "object",
            "properties": {
                "a": { "anyOf": [ { "type": "string", "enum": ["x", "y"] }, { "type": "null" } ] },
                "b": { "type": ["string", "null"], "enum": ["x", null] },
                "c": { "oneOf": [
                    { "type": "string", "const": "x" },
                    { "type": "string", "const": "y" },
                    { "type": "null" }
                ]}
            }
        }));
        let expected = json!({ "type": "string", "enum": ["x", "y"] });
        assert_eq!(out["properties"]["a"], expected);
        assert_eq!(
            out["properties"]["b"],
            json!({ "type": "string", "enum": ["x"] })
        );
        assert_eq!(out["properties"]["c"], expected);
    }

    #[test]
    fn documented_unit_variants_become_a_string_enum() {
        let out = rewrite(json!({
            "oneOf": [
                { "type": "string", "enum": ["A"], "description": "First." },
                { "type": "string", "const": "B", "description": "Second." }
            ],
            "description": "Letters."
        }));
        assert_eq!(
            out,
            json!({ "type": "string", "enum": ["A", "B"], "description": "Letters." })
        );
    }

    #[test]
    fn externally_tagged_variants_are_hoisted() {
        let out = rewrite(json!({
            "oneOf": [
                { "type": "object", "properties": { "a": { "type": "string" } }, "required": ["a"], "additionalProperties": false },
                { "type": "object", "properties": { "b": { "type": "object", "properties": { "x": { "type": "integer", "format": "int32" } }, "required": ["x"] } }, "required": ["b"], "additionalProperties": false }
            ]
        }));
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {
                    "a": { "type": "string" },
                    "b": { "type": "object", "properties": { "x": { "type": "integer", "format": "int32" } }, "required": ["x"] }
                },
                "oneOf": [ { "required": ["a"] }, { "required": ["b"] } ]
            })
        );
    }

    #[test]
    fn internally_tagged_variants_check_their_tag() {
        let out = rewrite(json!({
            "oneOf": [
                { "type": "object", "properties": { "kind": { "type": "string", "const": "A" }, "x": { "type": "integer" } }, "required": ["kind", "x"] },
                { "type": "object", "properties": { "kind": { "type": "string", "const": "B" } }, "required": ["kind"] },
                { "type": "object", "properties": { "kind": { "type": "string", "const": "C" } }, "required": ["kind"] }
            ]
        }));
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {
                    "kind": { "type": "string", "enum": ["A", "B", "C"] },
                    "x": { "type": "integer" }
                },
                "required": ["kind"],
                "oneOf": [
                    { "required": ["x"], "properties": { "kind": { "enum": ["A"] } } },
                    { "properties": { "kind": { "enum": ["B"] } } },
                    { "properties": { "kind": { "enum": ["C"] } } }
                ]
            })
        );
    }

    #[test]
    fn untagged_alternatives_merge_by_shape() {
        let objects = rewrite(json!({
            "anyOf": [
                { "type": "object", "properties": { "a": { "type": "string" }, "n": { "type": "integer" } }, "required": ["a", "n"] },
                { "type": "object", "properties": { "b": { "type": "string" }, "n": { "type": "string" } }, "required": ["b", "n"] }
            ]
        }));
        assert_eq!(
            objects,
            json!({
                "type": "object",
                "properties": {
                    "a": { "type": "string" },
                    "n": { "x-kubernetes-int-or-string": true },
                    "b": { "type": "string" }
                },
                "required": ["n"],
                "anyOf": [ { "required": ["a"] }, { "required": ["b"] } ]
            })
        );
        let numbers =
            rewrite(json!({"anyOf": [{"type": "integer", "format": "int32"}, {"type": "string"}]}));
        assert_eq!(numbers, json!({"x-kubernetes-int-or-string": true}));
        let strings = rewrite(
            json!({"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "string", "enum": ["b"]}]}),
        );
        assert_eq!(strings, json!({"type": "string", "enum": ["a", "b"]}));
        let mixed =
            rewrite(json!({"anyOf": [{"type": "object", "properties": {}}, {"type": "string"}]}));
        assert_eq!(mixed, json!({"x-kubernetes-preserve-unknown-fields": true}));
        let arrays = rewrite(json!({"anyOf": [
            {"type": "array", "items": {"type": "string", "enum": ["x"]}},
            {"type": "array", "items": {"type": "string", "enum": ["y"]}}
        ]}));
        assert_eq!(
            arrays,
            json!({"type": "array", "items": {"type": "string", "enum": ["x", "y"]}})
        );
    }

    #[test]
    fn objects_without_a_declared_shape_keep_unknown_fields() {
        let out = rewrite(json!({
            "type": "object",
            "properties": {
                "any": true,
                "empty": {},
                "map": { "type": "object", "additionalProperties": true },
                "open": { "type": "object" },
                "strict": { "type": "object", "properties": { "x": { "type": "string" } }, "additionalProperties": false },
                "flattened": { "type": "object", "properties": { "x": { "type": "string" } }, "additionalProperties": { "type": "string" } },
                "patterned": { "type": "object", "patternProperties": { "^a": { "type": "integer" } }, "propertyNames": { "pattern": "^a" } }
            }
        }));
        assert_eq!(
            out["properties"],
            json!({
                "any": { "x-kubernetes-preserve-unknown-fields": true },
                "empty": { "x-kubernetes-preserve-unknown-fields": true },
                "map": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
                "open": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
                "strict": { "type": "object", "properties": { "x": { "type": "string" } } },
                "flattened": { "type": "object", "properties": { "x": { "type": "string" } }, "x-kubernetes-preserve-unknown-fields": true },
                "patterned": { "type": "object", "additionalProperties": { "type": "integer" } }
            })
        );
    }

    #[test]
    fn all_of_parts_merge_with_their_validations() {
        let out = rewrite(json!({
            "allOf": [
                { "type": "object", "properties": { "a": { "type": "string" } }, "required": ["a"],
                  "x-kubernetes-validations": [{ "rule": "first" }] },
                { "properties": { "b": { "type": "string" } }, "required": ["b"] }
            ],
            "x-kubernetes-validations": [{ "rule": "outer" }]
        }));
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": { "a": { "type": "string" }, "b": { "type": "string" } },
                "required": ["a", "b"],
                "x-kubernetes-validations": [{ "rule": "outer" }, { "rule": "first" }]
            })
        );
    }

    #[test]
    fn tuples_and_formats_are_made_structural() {
        let out = rewrite(json!({
            "type": "object",
            "properties": {
                "pair": { "type": "array", "items": [{ "type": "string" }, { "type": "integer" }], "minItems": 2, "maxItems": 2 },
                "same": { "type": "array", "items": [{ "type": "string" }, { "type": "string" }] },
                "u64": { "type": "integer", "format": "uint64", "minimum": 0 },
                "ratio": { "type": "number", "format": "decimal" },
                "when": { "type": "string", "format": "date-time", "readOnly": true, "examples": ["2024-01-01T00:00:00Z"] }
            }
        }));
        assert_eq!(
            out["properties"],
            json!({
                "pair": { "type": "array", "items": { "x-kubernetes-preserve-unknown-fields": true }, "minItems": 2, "maxItems": 2 },
                "same": { "type": "array", "items": { "type": "string" } },
                "u64": { "type": "integer", "format": "int64", "minimum": 0 },
                "ratio": { "type": "number" },
                "when": { "type": "string", "format": "date-time", "example": "2024-01-01T00:00:00Z" }
            })
        );
    }

    #[test]
    fn rewriting_is_idempotent() {
        let once = rewrite(json!({
            "type": "object",
            "properties": {
                "e": { "oneOf": [
                    { "type": "object", "properties": { "a": { "type": "string" } }, "required": ["a"] },
                    { "type": "object", "properties": { "b": { "type": ["integer", "null"] } }, "required": ["b"] }
                ]},
                "v": {}
            }
        }));
        assert_eq!(rewrite(once.clone()), once);
    }

    #[test]
    fn optional_transforms_collapse_only_their_own_case() {
        let mut schema = Schema::try_from(json!({
            "type": "object",
            "properties": {
                "level": { "anyOf": [{ "enum": [null], "nullable": true }, { "type": "string", "enum": ["a"] }] },
                "size": { "anyOf": [{ "x-kubernetes-int-or-string": true }, { "enum": [null], "nullable": true }] },
                "nested": { "type": "array", "items": {
                    "anyOf": [{ "type": "string", "enum": ["b"] }, { "type": "null" }]
                }},
                "either": { "anyOf": [{ "type": "string", "enum": ["c"] }, { "type": "integer" }] }
            }
        }))
        .expect("schema");
        OptionalEnum.transform(&mut schema);
        let out = schema.to_value();
        assert_eq!(
            out["properties"]["level"],
            json!({ "type": "string", "enum": ["a"] })
        );
        assert_eq!(
            out["properties"]["nested"]["items"],
            json!({ "type": "string", "enum": ["b"] })
        );
        assert!(out["properties"]["size"].get("anyOf").is_some());
        assert!(out["properties"]["either"].get("anyOf").is_some());

        let mut schema = Schema::try_from(out).expect("schema");
        OptionalIntOrString.transform(&mut schema);
        assert_eq!(
            schema.to_value()["properties"]["size"],
            json!({ "x-kubernetes-int-or-string": true, "nullable": true })
        );
    }

    #[test]
    fn percent_escapes_in_references_decode() {
        assert_eq!(
            definition_name("#/components/schemas/Foo%3CBar%3E").as_deref(),
            Some("Foo<Bar>")
        );
        assert_eq!(
            definition_name("#/definitions/a~0b").as_deref(),
            Some("a~b")
        );
        assert_eq!(definition_name("http://elsewhere"), None);
        assert_eq!(percent_decode("100%"), "100%");
    }
}
