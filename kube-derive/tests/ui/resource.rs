use kube::Resource;
use kube::core::ObjectMeta;

#[derive(Resource)]
struct NoInherit {
    metadata: ObjectMeta,
}

#[derive(Resource)]
#[resource(inherit = "ConfigMap")]
struct NoMetadata {
    data: String,
}

#[derive(Resource)]
#[resource(inherits = "ConfigMap")]
struct Typo {
    metadata: ObjectMeta,
}

fn main() {}
