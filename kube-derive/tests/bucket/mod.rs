//! A kind whose fields sit at the root of the object (`#[kube(no_spec)]`),
//! shared by the tests of what the derive generates and of what the apiserver
//! makes of it.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The fields of a `Bucket`, beside its `metadata`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "derive.example.com",
    version = "v1",
    kind = "Bucket",
    namespaced
)]
#[kube(no_spec, status = "BucketStatus", derive = "PartialEq")]
#[kube(printcolumn(name = "Region", type_ = "string", json_path = ".region"))]
#[kube(selectable = ".region")]
#[serde(rename_all = "camelCase")]
pub struct BucketFields {
    /// Where the bucket lives.
    pub region: String,
    /// How many copies of each object are kept.
    pub copies: Option<u32>,
}

/// What a `Bucket` looks like now.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct BucketStatus {
    /// Whether it can be written to.
    pub ready: bool,
}
