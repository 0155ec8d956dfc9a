use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Capital", schema = "Disabled")]
struct CapitalSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Unknown", schema = "generated")]
struct UnknownSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug)]
#[kube(group = "example.com", version = "v1", kind = "Rules", schema = "disabled")]
#[kube(validation = "self.spec.size > 0")]
struct RulesSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Twice", derive = "JsonSchema")]
struct TwiceSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug)]
#[kube(group = "example.com", version = "v1", kind = "Checked", schema = "manual", cel)]
struct CheckedSpec {
    size: u32,
}

fn main() {}
