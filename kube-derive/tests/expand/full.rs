/// A namespaced resource using most attributes.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "clux.dev", version = "v1", kind = "Foo", namespaced)]
#[kube(status = "FooStatus", derive = "PartialEq", derive = "Default")]
#[kube(shortname = "f", shortname = "fo", category = "all", plural = "fooes", singular = "onefoo")]
#[kube(printcolumn(name = "Replicas", type_ = "integer", json_path = ".spec.replicas", priority = 1))]
#[kube(printcolumn = r#"{"name": "Ready", "type": "boolean", "jsonPath": ".status.ready", "description": "Whether it is ready"}"#)]
#[kube(scale(spec_replicas_path = ".spec.replicas", status_replicas_path = ".status.replicas", label_selector_path = ".status.selector"))]
#[kube(selectable = ".spec.owner")]
#[kube(annotation("example.com/team", "platform"), label("example.com/tier", "core"))]
#[kube(deprecated = "use v2", storage = false)]
#[kube(validation = "self.spec.replicas <= 10", validation = Rule::new("has(self.spec.owner)").message("an owner is required"))]
#[kube(doc = "A Foo: replicas owned by someone.", attr = "allow(deprecated)")]
pub struct FooSpec {
    pub replicas: i32,
    pub owner: String,
}
