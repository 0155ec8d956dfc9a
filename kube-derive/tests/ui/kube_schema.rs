use kube::KubeSchema;
use serde::{Deserialize, Serialize};

#[derive(KubeSchema, Serialize, Deserialize)]
#[x_kube(validation = "self.a > 0", rule = "self.a < 10")]
struct UnknownKey {
    a: i32,
}

#[derive(KubeSchema, Serialize, Deserialize)]
struct FieldCrates {
    #[x_kube(crates(kube_core = "::kube_core"))]
    a: i32,
}

#[derive(KubeSchema, Serialize, Deserialize)]
struct TwoStrategies {
    #[x_kube(merge_strategy = ListMerge::Set, merge_strategy = ListMerge::Atomic)]
    a: Vec<String>,
}

#[derive(KubeSchema, Serialize, Deserialize)]
struct FieldCel {
    #[x_kube(cel)]
    a: i32,
}

#[derive(KubeSchema, Serialize, Deserialize)]
enum NotAStruct {
    A,
}

fn main() {}
