use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "example", version = "V1", kind = "Foo_Bar", root = "FooBar")]
struct FooBarSpec {
    size: u32,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(group = "Example.com", version = "v1", kind = "Named")]
#[kube(plural = "Nameds", singular = "named_one", shortname = "nm", shortname = "1n")]
struct NamedSpec {
    size: u32,
}

fn main() {}
