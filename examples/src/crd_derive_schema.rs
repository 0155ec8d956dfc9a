//! How a derived schema shapes what the apiserver stores: defaults filled in
//! for missing fields, nullable fields kept or left out, a list merged as a
//! set by server-side apply, and CEL rules refusing objects with their own
//! messages and reasons.
//!
//! The CEL types (`Rule`, `Message`, `Reason`, `ListMerge`) are not imported:
//! `#[kube(validation = ...)]` and `#[x_kube(...)]` know them.

use anyhow::Context as _;
use kube::{
    Api, Client, CustomResource, CustomResourceExt, KubeSchema,
    api::{
        ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
    },
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A recipe: the spec of the `Recipe` custom resource.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Default, Debug, PartialEq, Clone)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Recipe",
    namespaced,
    derive = "PartialEq",
    derive = "Default",
    validation = Rule::new("self.metadata.name != 'secret-sauce'").message("that recipe stays secret")
)]
#[x_kube(validation = Rule::new("self.dish == oldSelf.dish").message("a recipe keeps its dish"))]
#[serde(rename_all = "camelCase")]
pub struct RecipeSpec {
    /// What the recipe makes; required, since it has no default.
    pub dish: String,
    /// How many it serves; the apiserver fills in 2 when it is left out.
    #[serde(default = "two")]
    pub servings: u32,
    /// The cuisine; left out of the object when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuisine: Option<String>,
    /// Tools needed; each field manager owns its own entries.
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub tools: Vec<String>,
    /// Oven temperatures, also merged as a set, with the schema written by hand.
    #[serde(default)]
    #[schemars(schema_with = "temperatures_schema")]
    pub temperatures: Vec<u32>,
    /// How hot it is.
    #[serde(default = "mild", skip_serializing_if = "Option::is_none")]
    #[x_kube(
        validation = Rule::new("self != 'volcanic'")
            .message(Message::Expression("'too hot to serve: ' + self".into()))
            .reason(Reason::FieldValueForbidden),
        validation = Rule::new("self != ''").reason(Reason::FieldValueRequired),
    )]
    pub heat: Option<String>,
    /// Where it comes from, fixed once written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("the origin is fixed once written"))]
    pub origin: Option<Origin>,
    /// Whether it is vegetarian; true unless said otherwise.
    #[serde(default = "RecipeSpec::vegetarian_by_default")]
    pub vegetarian: bool,
}

impl RecipeSpec {
    fn vegetarian_by_default() -> bool {
        true
    }
}

/// Where a recipe comes from.
#[derive(KubeSchema, Serialize, Deserialize, Default, Debug, PartialEq, Clone)]
pub struct Origin {
    /// The region; three rules in the three forms a rule can be written in.
    #[x_kube(validation = "self != ''", validation = Rule::new("self.size() <= 40"))]
    #[x_kube(validation = ("self != 'nowhere'", "an origin is somewhere"))]
    pub region: String,
    /// Who wrote it down first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

fn two() -> u32 {
    2
}

fn mild() -> Option<String> {
    Some("mild".into())
}

fn temperatures_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": { "type": "integer", "format": "int64", "minimum": 0 },
        "x-kubernetes-list-type": "set",
    })
}

/// What [`run`] saw.
#[derive(Debug)]
pub struct Outcome {
    /// `servings` of a recipe created without it: the schema's default.
    pub defaulted_servings: serde_json::Value,
    /// `heat` of a recipe created without it: the schema's default.
    pub defaulted_heat: serde_json::Value,
    /// Whether `cuisine` was absent from a typed recipe that left it unset.
    pub cuisine_left_out: bool,
    /// `tools` after two field managers each applied their own to a recipe
    /// created with one.
    pub merged_tools: Vec<String>,
    /// Why the apiserver refused each invalid recipe or change.
    pub refusals: Vec<String>,
}

/// Installs the definition, then creates and changes recipes in `namespace`
/// to show defaulting, merging and the CEL rules at work.
pub async fn run(client: Client, namespace: &str) -> anyhow::Result<Outcome> {
    crate::cluster::install_crd(&client, &Recipe::crd(), "crd-derive-schema-example").await?;
    let recipes: Api<Recipe> = Api::namespaced(client.clone(), namespace);
    let gvk = GroupVersionKind::gvk("example.com", "v1", "Recipe");
    let untyped: Api<DynamicObject> =
        Api::namespaced_with(client, namespace, &ApiResource::from_gvk(&gvk));
    for name in ["soup", "stew", "curry", "secret-sauce"] {
        let _ = recipes.delete(name, &DeleteParams::default()).await;
    }

    // A typed recipe: unset options are left out, so the server's defaults apply.
    let soup = Recipe::new(
        "soup",
        RecipeSpec {
            dish: "soup".into(),
            servings: 4,
            heat: None,
            ..RecipeSpec::default()
        },
    );
    recipes.create(&PostParams::default(), &soup).await?;
    let stored = untyped.get("soup").await?;
    let cuisine_left_out = stored.data["spec"].get("cuisine").is_none();

    // An untyped recipe without `servings` and `heat`: both are defaulted.
    let stew = DynamicObject::new("stew", &ApiResource::from_gvk(&gvk))
        .data(json!({ "spec": { "dish": "stew", "tools": ["pot"] } }));
    let stew = untyped.create(&PostParams::default(), &stew).await?;
    let defaulted_servings = stew.data["spec"]["servings"].clone();
    let defaulted_heat = stew.data["spec"]["heat"].clone();

    // Two field managers each apply their own tools; the set keeps both.
    for (manager, tool) in [("kitchen", "ladle"), ("pantry", "knife")] {
        let patch = json!({
            "apiVersion": "example.com/v1",
            "kind": "Recipe",
            "spec": { "dish": "stew", "tools": [tool] },
        });
        recipes
            .patch("stew", &PatchParams::apply(manager), &Patch::Apply(patch))
            .await
            .with_context(|| format!("applying the tools of {manager}"))?;
    }
    let mut merged_tools = recipes.get("stew").await?.spec.tools;
    merged_tools.sort();

    let mut refusals = Vec::new();
    let mut refused = |result: kube::Result<Recipe>| -> anyhow::Result<()> {
        match result {
            Err(kube::Error::Api(status)) => {
                refusals.push(status.message);
                Ok(())
            }
            Err(other) => Err(other.into()),
            Ok(accepted) => anyhow::bail!("the apiserver accepted {:?}", accepted.spec),
        }
    };
    let secret = Recipe::new(
        "secret-sauce",
        RecipeSpec {
            dish: "sauce".into(),
            ..RecipeSpec::default()
        },
    );
    refused(recipes.create(&PostParams::default(), &secret).await)?;
    let too_hot = Recipe::new(
        "curry",
        RecipeSpec {
            dish: "curry".into(),
            heat: Some("volcanic".into()),
            ..RecipeSpec::default()
        },
    );
    refused(recipes.create(&PostParams::default(), &too_hot).await)?;
    let nowhere = Recipe::new(
        "curry",
        RecipeSpec {
            dish: "curry".into(),
            origin: Some(Origin {
                region: "nowhere".into(),
                author: None,
            }),
            ..RecipeSpec::default()
        },
    );
    refused(recipes.create(&PostParams::default(), &nowhere).await)?;
    let merge = |spec: serde_json::Value| Patch::Merge(json!({ "spec": spec }));
    let pp = PatchParams::default();
    refused(
        recipes
            .patch("soup", &pp, &merge(json!({ "dish": "broth" })))
            .await,
    )?;
    recipes
        .patch(
            "soup",
            &pp,
            &merge(json!({ "origin": { "region": "Lyon" } })),
        )
        .await?;
    refused(
        recipes
            .patch(
                "soup",
                &pp,
                &merge(json!({ "origin": { "region": "Paris" } })),
            )
            .await,
    )?;

    Ok(Outcome {
        defaulted_servings,
        defaulted_heat,
        cuisine_left_out,
        merged_tools,
        refusals,
    })
}
