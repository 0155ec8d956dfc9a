//! Derive macros for Kubernetes custom resources.
//!
//! - [`CustomResource`](macro@CustomResource) turns a spec struct into a custom
//!   resource: the root type with `metadata`, `spec` and `status`, its
//!   `Resource` impl, and the `CustomResourceDefinition` to install.
//! - [`KubeSchema`](macro@KubeSchema) derives `schemars::JsonSchema` with CEL
//!   validation rules and merge strategies attached to fields and structs.
//! - [`Resource`](macro@Resource) gives a wrapper type the `Resource` impl of an
//!   existing Kubernetes type.
//!
//! Use them through the `kube` crate's `derive` feature: the generated code
//! names `::kube::core` (and the crates it re-exports), which `crates(...)`
//! overrides when `kube` is not a dependency.

mod cel_names;
mod custom_resource;
mod kube_schema;
mod parse;
mod resource;
#[cfg(test)]
mod snapshots;

/// Derives a custom resource from its spec struct.
///
/// ```
/// use kube::{CustomResource, core::{CustomResourceExt, Resource}};
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// /// What a `Document` should look like.
/// #[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
/// #[kube(group = "example.com", version = "v1", kind = "Document", namespaced)]
/// #[kube(status = "DocumentStatus", shortname = "doc")]
/// pub struct DocumentSpec {
///     /// The title.
///     pub title: String,
///     /// How many copies to keep.
///     pub copies: Option<u32>,
/// }
///
/// /// What a `Document` looks like now.
/// #[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
/// pub struct DocumentStatus {
///     /// Whether the document was published.
///     pub published: bool,
/// }
///
/// let doc = Document::new("readme", DocumentSpec { title: "Read me".into(), copies: None });
/// assert_eq!(doc.metadata.name.as_deref(), Some("readme"));
/// assert_eq!(Document::plural(&()), "documents");
/// assert_eq!(Document::crd_name(), "documents.example.com");
/// assert_eq!(Document::shortnames(), &["doc"]);
///
/// let json = serde_json::to_value(&doc).unwrap();
/// assert_eq!(json["apiVersion"], "example.com/v1");
/// assert_eq!(json["kind"], "Document");
/// ```
///
/// # What is generated
///
/// For a spec struct `FooSpec` with `kind = "Foo"`:
///
/// - `struct Foo { metadata: ObjectMeta, spec: FooSpec, status: Option<FooStatus> }`
///   (no `status` field without `status = "..."`), deriving `Clone` and `Debug`
///   plus what `derive = "..."` adds, with the spec struct's visibility;
/// - `Foo::new(name, spec)`;
/// - `Resource` (with `DynamicType = ()`), `HasSpec`, and `HasStatus` when there
///   is a status;
/// - `Serialize`, writing `apiVersion` and `kind`, and `Deserialize`, which
///   refuses an `apiVersion` or `kind` other than this resource's (and accepts
///   objects without them);
/// - `JsonSchema` for `Foo` (unless `schema` says otherwise);
/// - `CustomResourceExt`: `crd()`, `crd_name()`, `api_resource()`, `shortnames()`.
///
/// The spec (and status) must implement `Serialize`, `Deserialize`, `Clone`,
/// `Debug` and, for the derived schema, `JsonSchema`.
///
/// # Attributes
///
/// Required:
///
/// - `group = "example.com"`: the API group.
/// - `version = "v1"`: the version within the group.
/// - `kind = "Foo"`: the kind, and the name of the generated type.
///
/// Names and scope:
///
/// - `namespaced`: the resource lives in namespaces (it is cluster-scoped
///   otherwise).
/// - `root = "FooResource"`: names the generated type differently from the kind.
/// - `plural = "fooes"`: the URL plural; by default the lowercase kind with an
///   English plural ending (`Policy` → `policies`).
/// - `singular = "foo"`: the singular name; by default the lowercase kind.
/// - `shortname = "fo"` (repeatable): short names for `kubectl`.
/// - `category = "all"` (repeatable): categories for `kubectl get <category>`.
///
/// Status and subresources:
///
/// - `status = "FooStatus"`: adds the `status` field and the status subresource.
/// - `scale(spec_replicas_path = ".spec.replicas", status_replicas_path = ".status.replicas", label_selector_path = ".status.selector")`
///   (or `scale = r#"{"specReplicasPath": ..., "statusReplicasPath": ...}"#`):
///   adds the scale subresource; `label_selector_path` is optional.
///
/// Printing and selecting:
///
/// - `printcolumn(name = "Replicas", type_ = "integer", json_path = ".spec.replicas", description = "...", format = "...", priority = 1)`
///   (repeatable; or the JSON form `printcolumn = r#"{"name": ..., "type": ..., "jsonPath": ...}"#`):
///   columns for `kubectl get`. `name`, `type_` and `json_path` are required.
/// - `selectable = ".spec.owner"` (repeatable): fields usable in field selectors.
///
/// The definition version:
///
/// - `storage = false` / `served = false`: whether this version is the stored
///   one and whether it is served (both `true` by default).
/// - `deprecated` or `deprecated = "use v2"`: marks the version deprecated, with
///   an optional warning for clients.
///
/// Schema:
///
/// - `schema = "derived"` (default): `JsonSchema` is implemented for `Foo` from the
///   spec's and status' impls, and the definition carries its structural form.
/// - `schema = "manual"`: implement `JsonSchema` for `Foo` yourself; the
///   definition still carries its structural form.
/// - `schema = "disabled"`: no schema at all; set one on the definition before
///   installing it, since the apiserver requires one.
/// - `validation = "self.spec.min <= self.spec.max"` (repeatable): a CEL rule at
///   the root of the schema; also takes any expression convertible into
///   `kube::core::cel::Rule`, e.g. `validation = Rule::new("...").message("...")`.
///   `Rule`, `Message`, `Reason`, `ListMerge`, `MapMerge` and `StructMerge` need
///   no import there (a name of your module's own wins over them).
/// - `cel`: also generates `Foo::validate_cel(&self)` and
///   `Foo::validate_cel_update(&self, old: &Self)`, which check an object
///   against the definition's CEL rules without an apiserver (`kube`'s `cel`
///   feature; needs the derived schema).
///
/// The object's shape:
///
/// - `no_spec`: the spec struct's fields sit at the root of the object, beside
///   `metadata`, instead of under `spec` — for kinds defined that way. The
///   generated type keeps its `spec` field (`Foo::new`, `HasSpec` and `Api<Foo>`
///   work as usual); serialization and the schema flatten it. Paths in
///   `printcolumn` and `selectable` then leave out `.spec`, and no field may be
///   named (or renamed to) `apiVersion`, `kind`, `metadata` or `status`.
///
/// The generated type:
///
/// - `doc = "..."`: its doc comment (and the schema's root description).
/// - `derive = "PartialEq"` (repeatable): more derives. `Clone` and `Debug` are
///   always derived; `Serialize` and `Deserialize` are always implemented.
/// - `attr = "allow(deprecated)"` (repeatable): more attributes.
///
/// The definition's metadata:
///
/// - `annotation("example.com/owner", "team-a")` (repeatable).
/// - `label("example.com/tier", "backend")` (repeatable).
///
/// Crate paths, for crates that do not depend on `kube`:
///
/// - `crates(kube_core = "::kube_core", k8s_openapi = "::k8s_openapi", schemars = "::schemars", serde = "::serde", serde_json = "::serde_json", std = "::std")`:
///   any subset; the defaults are `::kube::core` and the crates it re-exports, and
///   overriding `kube_core` moves the others' defaults along (`kube = "::my_kube"`
///   moves `kube_core` to `::my_kube::core`). `kube_core` needs its `schema`
///   feature unless `schema = "disabled"`.
///
/// # Mistakes are compile errors
///
/// Each `#[kube(...)]` item is checked on its own, and every mistake is
/// reported at the item, with the fix: an unknown key (with the closest known
/// one, `shortnames` → `shortname`), a missing `group`, `version` or `kind`, a
/// value of the wrong type, a key given twice, an unknown schema mode or
/// printer column type. Values the apiserver would refuse when installing the
/// definition are refused here already: a group without a dot, a version or
/// plural that is not a lowercase DNS label, a JSON path not starting with
/// `.`, scale paths outside `.spec` / `.status`.
#[proc_macro_derive(CustomResource, attributes(kube))]
pub fn derive_custom_resource(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    custom_resource::derive(input.into()).into()
}

/// Derives `schemars::JsonSchema` with CEL validation rules and merge strategies.
///
/// Write `#[x_kube(...)]` on the struct or on its fields:
///
/// - `validation = "self.min <= self.max"` (repeatable): a CEL rule added to the
///   node's `x-kubernetes-validations`. Any expression convertible into
///   `kube::core::cel::Rule` works too, e.g.
///   `validation = Rule::new("self != ''").message("must not be empty")`.
/// - `merge_strategy = ListMerge::Set` (fields; or `MapMerge::Atomic`,
///   `StructMerge::Granular`, ...): how server-side apply merges the field.
/// - `cel` (struct only): also generates
///   `T::validate_cel(value: &serde_json::Value, old: Option<&serde_json::Value>)`,
///   which checks a JSON value against the type's CEL rules without an
///   apiserver, e.g. a part of a resource in a unit test (`kube`'s `cel` feature).
///
/// `Rule`, `Message`, `Reason`, `ListMerge`, `MapMerge` and `StructMerge` need
/// no import in these expressions; a name of your module's own wins over them.
/// - `crates(kube_core = "::kube_core", schemars = "::schemars", std = "::std")`
///   (struct only): crate paths, as for `CustomResource`; `serde` and
///   `serde_json` are accepted too, though the derive needs neither.
///
/// Every other attribute `schemars` understands (`#[schemars(...)]`,
/// `#[serde(...)]`, doc comments) works as with `#[derive(JsonSchema)]`.
///
/// ```
/// use kube::{CustomResource, KubeSchema};
/// use serde::{Deserialize, Serialize};
///
/// /// Limits on a pool.
/// #[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug)]
/// #[kube(group = "example.com", version = "v1", kind = "Pool")]
/// #[x_kube(validation = "self.min <= self.max")]
/// pub struct PoolSpec {
///     /// The least number of members.
///     #[x_kube(validation = Rule::new("self >= 0").message("min must not be negative"))]
///     pub min: i32,
///     /// The most.
///     pub max: i32,
/// }
///
/// let schema = kube::core::schema::structural_schema_for::<PoolSpec>();
/// assert_eq!(
///     schema.get("x-kubernetes-validations").unwrap(),
///     &serde_json::json!([{ "rule": "self.min <= self.max" }])
/// );
/// assert_eq!(
///     schema.pointer("/properties/min/x-kubernetes-validations").unwrap(),
///     &serde_json::json!([{ "rule": "self >= 0", "message": "min must not be negative" }])
/// );
/// ```
#[proc_macro_derive(KubeSchema, attributes(x_kube, schemars, validate))]
pub fn derive_schema_validation(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    kube_schema::derive(input.into()).into()
}

/// Gives a wrapper type the `Resource` impl of an existing type.
///
/// `#[resource(inherit = "ConfigMap")]` (or `inherit = ConfigMap`) takes the kind,
/// group, version, plural and scope of `ConfigMap`; the wrapper's own `metadata`
/// field serves as the object's metadata. Useful to read built-in objects into a
/// narrower or richer type of your own. `crates(kube_core = "...", k8s_openapi = "...", std = "...")`
/// overrides the paths to `kube_core`, `k8s_openapi` and `std`.
///
/// ```
/// use std::collections::BTreeMap;
///
/// use k8s_openapi::api::core::v1::ConfigMap;
/// use kube::{Resource, core::ObjectMeta};
/// use kube::core::Resource as _;
///
/// /// A config map holding only string data.
/// #[derive(Resource, Clone, Debug, serde::Deserialize)]
/// #[resource(inherit = "ConfigMap")]
/// struct Settings {
///     metadata: ObjectMeta,
///     data: BTreeMap<String, String>,
/// }
///
/// assert_eq!(Settings::kind(&()), "ConfigMap");
/// assert_eq!(Settings::plural(&()), "configmaps");
/// ```
#[proc_macro_derive(Resource, attributes(resource))]
pub fn derive_resource(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    resource::derive(input.into()).into()
}
