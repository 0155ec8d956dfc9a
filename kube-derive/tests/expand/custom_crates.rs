/// A resource naming its crates itself, with a hand-written schema.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug)]
#[kube(group = "example.com", version = "v2", kind = "Widget", root = "WidgetResource")]
#[kube(schema = "manual", served = false)]
#[kube(crates(kube_core = "::kube_core", serde = "::serde"))]
pub(crate) struct WidgetSpec {
    pub color: String,
}
