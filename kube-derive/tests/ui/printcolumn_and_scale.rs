use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Nameless")]
#[kube(printcolumn(type_ = "integer", json_path = ".spec.size"))]
struct NamelessSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Typed")]
#[kube(printcolumn(name = "Size", type_ = "int", json_path = ".spec.size"))]
struct TypedSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Pathless")]
#[kube(printcolumn(name = "Size", type_ = "integer", json_path = "spec.size", priority = "high"))]
struct PathlessSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Jsonish")]
#[kube(printcolumn = r#"{"name": "Size", "type": "integer", "json_path": ".spec.size"}"#)]
#[kube(printcolumn = r#"{"name": "Size", "type": "integer", "#)]
struct JsonishSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Unscaled")]
#[kube(scale(status_replicas_path = ".status.size", selector = ".status.selector"))]
struct UnscaledSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "HalfScaled")]
#[kube(scale = r#"{"specReplicasPath": ".spec.size"}"#)]
struct HalfScaledSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Misplaced")]
#[kube(scale(spec_replicas_path = ".status.size", status_replicas_path = ".status.size"))]
#[kube(printcolumn(name = "Size", type_ = "integer", json_path = ".spec.size", priority = 4294967296))]
#[kube(printcolumn(name = "Size", type_ = "integer", json_path = ".spec.size", width = 4))]
#[kube(deprecated = 1)]
struct MisplacedSpec {
    size: u32,
}

fn main() {}
