/// Bounds with rules on the struct and its fields.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default)]
#[x_kube(validation = "self.min <= self.max")]
#[serde(rename_all = "camelCase", default)]
pub struct Bounds {
    /// The lower bound.
    #[x_kube(validation = Rule::new("self >= 0").message("must not be negative"))]
    pub min: i32,
    /// The upper bound.
    #[serde(rename = "maximum")]
    pub max: i32,
    /// Names, merged as a set.
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub names: Vec<String>,
}
