/// A config map read into a type of our own.
#[derive(Resource, Deserialize, Clone, Debug)]
#[resource(inherit = "ConfigMap")]
pub struct Settings {
    pub metadata: ObjectMeta,
    pub data: BTreeMap<String, String>,
}
