//! Mistakes only the type checker sees: the errors point at the type named in
//! the attribute, or at the spec struct.
use kube::CustomResource;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, schemars::JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Lost", status = "LostStatus")]
struct LostSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug)]
#[kube(group = "example.com", version = "v1", kind = "Schemaless")]
struct SchemalessSpec {
    size: u32,
}

fn main() {}
