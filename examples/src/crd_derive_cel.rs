//! Checking objects against their CEL rules in the program, without an
//! apiserver: `#[kube(cel)]` gives the custom resource `validate_cel` and
//! `validate_cel_update`, and `#[x_kube(cel)]` gives its spec a
//! `validate_cel` taking a JSON value, handy in unit tests (feature `cel`).

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// How far a pool of workers may scale.
///
/// A rule on the whole object, the same bound on the spec alone, a rule on a
/// field, and a transition rule keeping the zone fixed.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "WorkerPool",
    namespaced,
    cel,
    validation = "self.spec.minWorkers <= self.spec.maxWorkers"
)]
#[x_kube(cel, validation = "self.minWorkers <= self.maxWorkers")]
#[serde(rename_all = "camelCase")]
pub struct WorkerPoolSpec {
    /// The fewest workers; never negative.
    #[x_kube(validation = Rule::new("self >= 0").message("minWorkers must not be negative"))]
    pub min_workers: i32,
    /// The most workers.
    pub max_workers: i32,
    /// The zone the pool runs in, fixed once created.
    #[x_kube(validation = Rule::new("self == oldSelf").message("the zone is fixed"))]
    pub zone: String,
}

/// A pool named `name` with the given bounds and zone.
pub fn pool(name: &str, min_workers: i32, max_workers: i32, zone: &str) -> WorkerPool {
    WorkerPool::new(
        name,
        WorkerPoolSpec {
            min_workers,
            max_workers,
            zone: zone.into(),
        },
    )
}

/// What each check said: `None` when it passed, otherwise the failures.
#[derive(Debug)]
pub struct Outcome {
    /// A pool within its bounds.
    pub valid: Option<String>,
    /// A pool whose minimum exceeds its maximum.
    pub inverted: Option<String>,
    /// A pool with a negative minimum.
    pub negative: Option<String>,
    /// The valid pool moved to another zone (an update).
    pub moved: Option<String>,
    /// A spec alone, as JSON, whose minimum exceeds its maximum.
    pub inverted_spec: Option<String>,
}

/// Runs each check, no cluster needed.
pub fn run() -> Outcome {
    let failures = |result: Result<(), kube::core::cel::ValidationErrors>| {
        result.err().map(|errors| errors.to_string())
    };
    let valid = pool("web", 1, 5, "north");
    let inverted_spec = serde_json::json!({ "minWorkers": 3, "maxWorkers": 1, "zone": "north" });
    Outcome {
        valid: failures(valid.validate_cel()),
        inverted: failures(pool("web", 9, 5, "north").validate_cel()),
        negative: failures(pool("web", -1, 5, "north").validate_cel()),
        moved: failures(pool("web", 1, 5, "south").validate_cel_update(&valid)),
        inverted_spec: failures(WorkerPoolSpec::validate_cel(&inverted_spec, None)),
    }
}
