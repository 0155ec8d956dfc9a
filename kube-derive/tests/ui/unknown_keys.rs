use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Typo", shortnames = "t")]
struct TypoSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Unknown", frobnicate)]
struct UnknownSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Pathed", serde::rename = "x")]
struct PathedSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Crates", crates(kube_client = "::kube_client"))]
struct CratesSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Flat", no_spec)]
struct FlatSpec {
    size: u32,
    status: String,
    #[serde(rename = "kind")]
    flavour: String,
}

fn main() {}
