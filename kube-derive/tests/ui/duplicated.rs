use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Twice")]
#[kube(group = "example.org")]
struct TwiceSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Scaled", status = "ScaledStatus")]
#[kube(scale(spec_replicas_path = ".spec.size", status_replicas_path = ".status.size"))]
#[kube(scale = r#"{"specReplicasPath": ".spec.size", "statusReplicasPath": ".status.size"}"#)]
struct ScaledSpec {
    size: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
struct ScaledStatus {
    size: u32,
}

fn main() {}
