//! Derived custom resources against a real kube-apiserver, started by
//! `kube-test`: the definitions are accepted and become Established, objects
//! round-trip through `Api<K>`, the schema and its CEL rules are enforced by
//! the server, and the status and scale subresources behave as declared.

use std::collections::BTreeMap;

use k8s_openapi::{
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    apimachinery::pkg::{api::resource::Quantity, apis::meta::v1::Time, util::intstr::IntOrString},
};
use kube::{
    Api, Client, CustomResource, CustomResourceExt, Error, KubeSchema, Resource,
    api::{DynamicObject, ListParams, Patch, PatchParams, PostParams, Status},
    core::{
        cel::{ListMerge, Rule},
        crd::merge_crds,
    },
};
use kube_test::TestEnv;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

mod bucket;

use bucket::{Bucket, BucketFields};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A widget: most shapes a spec holds, two CEL rules, a status, the scale
/// subresource, printer columns and a selectable field.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "derive.example.com",
    version = "v1",
    kind = "Widget",
    namespaced
)]
#[kube(status = "WidgetStatus", shortname = "wd", category = "examples")]
#[kube(scale(
    spec_replicas_path = ".spec.replicas",
    status_replicas_path = ".status.replicas",
    label_selector_path = ".status.selector"
))]
#[kube(printcolumn(name = "Replicas", type_ = "integer", json_path = ".spec.replicas"))]
#[kube(printcolumn(
    name = "Color",
    type_ = "string",
    json_path = ".spec.color",
    priority = 1
))]
#[kube(selectable = ".spec.color")]
#[kube(validation = Rule::new("self.metadata.name.size() <= 20").message("widget names are at most 20 characters"))]
#[kube(derive = "PartialEq")]
#[x_kube(validation = Rule::new("self.replicas <= self.maxReplicas").message("replicas must not exceed maxReplicas"))]
#[serde(rename_all = "camelCase")]
pub struct WidgetSpec {
    /// How many copies to run.
    pub replicas: i32,
    /// The most copies allowed.
    pub max_replicas: i32,
    /// The color.
    pub color: Color,
    /// The size, when it matters.
    pub size: Option<Size>,
    /// Where the widget's content comes from.
    pub source: Source,
    /// How to check the widget, if at all.
    pub probe: Option<Probe>,
    /// Free-form labels.
    pub labels: BTreeMap<String, String>,
    /// The ports it listens on.
    pub ports: Vec<Port>,
    /// Who owns it.
    pub owner: Option<Owner>,
    /// A port by number or by name.
    pub target_port: IntOrString,
    /// Anything else.
    pub extra: Option<serde_json::Value>,
}

/// A color.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, JsonSchema)]
pub enum Color {
    /// Red.
    Red,
    /// Blue.
    Blue,
}

/// A size.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// Small.
    Small,
    /// Large.
    Large,
}

/// Where content comes from: an externally tagged enum.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// From a config map.
    ConfigMap {
        /// Its name.
        name: String,
    },
    /// From a URL.
    Url(String),
}

/// A health check: an internally tagged enum.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Probe {
    /// An HTTP request.
    Http {
        /// The path.
        path: String,
        /// The port.
        port: u16,
    },
    /// A TCP connection.
    Tcp {
        /// The port.
        port: u16,
    },
}

/// A named port.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct Port {
    /// The name.
    pub name: String,
    /// The number.
    pub number: u16,
}

/// An owner.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct Owner {
    /// The team.
    pub team: String,
    /// How to reach them.
    pub contacts: Vec<String>,
}

/// What a widget looks like now.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
pub struct WidgetStatus {
    /// How many copies run.
    pub replicas: i32,
    /// The copies' label selector.
    pub selector: Option<String>,
    /// Whether all copies are ready.
    pub ready: bool,
}

/// The harder shapes of a spec in one resource, for the apiserver to accept
/// as structural and to store faithfully.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "derive.example.com",
    version = "v1",
    kind = "Assortment",
    namespaced
)]
pub struct AssortmentSpec {
    /// An adjacently tagged enum.
    pub adjacent: Adjacent,
    /// An untagged number or name.
    pub number_or_name: NumberOrName,
    /// Untagged struct variants.
    pub lookup: Lookup,
    /// Unit and data variants mixed.
    pub mixed: Mixed,
    /// A flattened struct and map.
    pub flattened: Flattened,
    /// A recursive type.
    pub tree: Tree,
    /// Arbitrary JSON by name.
    pub values: BTreeMap<String, serde_json::Value>,
    /// A tuple.
    pub pair: (String, i32),
    /// Fields with defaults.
    pub defaults: Defaults,
    /// A list merged as a set.
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub tags: Vec<String>,
    /// A quantity.
    pub memory: Quantity,
    /// A time.
    pub since: Option<Time>,
    /// A float.
    pub ratio: f64,
}

/// Adjacently tagged.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(tag = "kind", content = "value")]
pub enum Adjacent {
    /// A count.
    Count(i64),
    /// A name.
    Name(String),
}

/// A number or a name, untagged.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum NumberOrName {
    /// A number.
    Number(i32),
    /// A name.
    Name(String),
}

/// Untagged struct variants.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Lookup {
    /// By name.
    ByName {
        /// The name.
        name: String,
    },
    /// By id.
    ById {
        /// The id.
        id: i64,
    },
}

/// Unit and data variants together.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub enum Mixed {
    /// Nothing.
    Nothing,
    /// Something.
    Something(String),
}

/// A struct with flattened parts.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct Flattened {
    /// Its own field.
    pub id: String,
    /// A flattened struct.
    #[serde(flatten)]
    pub port: Port,
    /// Everything else.
    #[serde(flatten)]
    pub rest: BTreeMap<String, serde_json::Value>,
}

/// A tree.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct Tree {
    /// The node's name.
    pub name: String,
    /// The subtrees.
    pub children: Vec<Tree>,
}

/// Fields the apiserver fills in when absent.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(default)]
pub struct Defaults {
    /// Defaults to 1.
    pub replicas: i32,
    /// Defaults to "main".
    pub name: String,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            replicas: 1,
            name: "main".into(),
        }
    }
}

fn assortment(name: &str) -> Assortment {
    Assortment::new(
        name,
        AssortmentSpec {
            adjacent: Adjacent::Count(3),
            number_or_name: NumberOrName::Name("http".into()),
            lookup: Lookup::ById { id: 7 },
            mixed: Mixed::Something("else".into()),
            flattened: Flattened {
                id: "f".into(),
                port: Port {
                    name: "http".into(),
                    number: 80,
                },
                rest: BTreeMap::from([("extra".into(), json!({"kept": true}))]),
            },
            tree: Tree {
                name: "root".into(),
                children: vec![Tree {
                    name: "leaf".into(),
                    children: vec![Tree {
                        name: "deeper".into(),
                        children: vec![],
                    }],
                }],
            },
            values: BTreeMap::from([("anything".into(), json!([1, "two", {"three": 3}]))]),
            pair: ("left".into(), 2),
            defaults: Defaults {
                replicas: 4,
                name: "given".into(),
            },
            tags: vec!["a".into(), "b".into()],
            memory: Quantity("512Mi".into()),
            since: Some(Time(
                "2024-05-01T12:00:00Z".parse().expect("a valid timestamp"),
            )),
            ratio: 0.25,
        },
    )
}

/// Two versions of a cluster-scoped kind, merged into one definition.
mod gauge {
    /// The first version.
    pub mod v1 {
        use kube::CustomResource;
        use schemars::JsonSchema;
        use serde::{Deserialize, Serialize};

        /// A gauge with a reading.
        #[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
        #[kube(group = "derive.example.com", version = "v1", kind = "Gauge")]
        #[kube(deprecated = "derive.example.com/v1 Gauge is deprecated; use v2")]
        pub struct GaugeSpec {
            /// The reading.
            pub reading: i64,
        }
    }

    /// The second version, adding an optional unit.
    pub mod v2 {
        use kube::CustomResource;
        use schemars::JsonSchema;
        use serde::{Deserialize, Serialize};

        /// A gauge with a reading and its unit.
        #[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
        #[kube(group = "derive.example.com", version = "v2", kind = "Gauge")]
        pub struct GaugeSpec {
            /// The reading.
            pub reading: i64,
            /// The unit of the reading.
            pub unit: Option<String>,
        }
    }
}

fn widget(name: &str, color: Color) -> Widget {
    Widget::new(
        name,
        WidgetSpec {
            replicas: 3,
            max_replicas: 10,
            color,
            size: None,
            source: Source::ConfigMap {
                name: "content".into(),
            },
            probe: Some(Probe::Http {
                path: "/healthz".into(),
                port: 8080,
            }),
            labels: BTreeMap::from([("tier".into(), "web".into())]),
            ports: vec![Port {
                name: "http".into(),
                number: 80,
            }],
            owner: Some(Owner {
                team: "platform".into(),
                contacts: vec!["ops@example.com".into()],
            }),
            target_port: IntOrString::String("http".into()),
            extra: Some(json!({"anything": ["goes", 1, true]})),
        },
    )
}

/// The control plane with `Widget`'s definition installed, a client and a
/// fresh namespace.
async fn widgets() -> Result<(Api<Widget>, Client, String), Box<dyn std::error::Error>> {
    let env = TestEnv::start().await?;
    env.install_crd(Widget::crd()).await?;
    let client = env.client().await?;
    let namespace = env.fresh_namespace().await?;
    Ok((
        Api::namespaced(client.clone(), &namespace),
        client,
        namespace,
    ))
}

/// The apiserver's refusal in `result`, which must be one.
fn refusal<T>(result: Result<T, Error>) -> Box<Status> {
    match result {
        Err(Error::Api(status)) => status,
        Err(other) => panic!("expected the apiserver to refuse the request, got {other}"),
        Ok(_) => panic!("expected the apiserver to refuse the request, but it succeeded"),
    }
}

#[tokio::test]
async fn derived_definitions_are_accepted_and_established() -> TestResult {
    let env = TestEnv::start().await?;
    env.install_crd(Widget::crd()).await?;
    let crds: Api<CustomResourceDefinition> = Api::all(env.client().await?);
    let stored = crds.get(Widget::crd_name()).await?;

    let conditions = stored.status.and_then(|s| s.conditions).unwrap_or_default();
    let condition = |kind: &str| {
        conditions
            .iter()
            .find(|c| c.type_ == kind)
            .map(|c| c.status.clone())
    };
    assert_eq!(condition("Established").as_deref(), Some("True"));
    assert_eq!(condition("NamesAccepted").as_deref(), Some("True"));

    let version = &stored.spec.versions[0];
    assert_eq!(stored.spec.names.short_names, Some(vec!["wd".to_string()]));
    assert_eq!(
        stored.spec.names.categories,
        Some(vec!["examples".to_string()])
    );
    let columns: Vec<_> = version
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| (c.name.as_str(), c.json_path.as_str(), c.priority))
        .collect();
    assert_eq!(
        columns,
        [
            ("Replicas", ".spec.replicas", None),
            ("Color", ".spec.color", Some(1))
        ]
    );
    let selectable: Vec<_> = version
        .selectable_fields
        .iter()
        .flatten()
        .map(|f| f.json_path.as_str())
        .collect();
    assert_eq!(selectable, [".spec.color"]);
    assert_eq!(
        version.schema,
        Widget::crd().spec.versions[0].schema,
        "the apiserver keeps the schema as sent"
    );
    Ok(())
}

#[tokio::test]
async fn objects_round_trip_through_the_api() -> TestResult {
    let (widgets, _, namespace) = widgets().await?;
    let mut sent = widget("round-trip", Color::Red);
    sent.spec.size = Some(Size::Large);
    sent.spec.probe = Some(Probe::Tcp { port: 9000 });
    sent.spec.target_port = IntOrString::Int(8080);
    let created = widgets.create(&PostParams::default(), &sent).await?;
    assert_eq!(created.spec, sent.spec);
    assert_eq!(
        created.meta().namespace.as_deref(),
        Some(namespace.as_str())
    );
    assert!(created.meta().uid.is_some());

    let fetched = widgets.get("round-trip").await?;
    assert_eq!(fetched.spec, sent.spec);

    let listed = widgets.list(&ListParams::default()).await?;
    let names: Vec<_> = listed
        .items
        .iter()
        .filter_map(|w| w.meta().name.as_deref())
        .collect();
    assert_eq!(names, ["round-trip"]);

    let patched = widgets
        .patch(
            "round-trip",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 5, "labels": { "zone": "b" } } })),
        )
        .await?;
    assert_eq!(patched.spec.replicas, 5);
    assert_eq!(
        patched.spec.labels,
        BTreeMap::from([("tier".into(), "web".into()), ("zone".into(), "b".into())])
    );
    assert_eq!(patched.spec.ports, sent.spec.ports);
    Ok(())
}

#[tokio::test]
async fn absent_options_round_trip_as_none() -> TestResult {
    let (widgets, _, _) = widgets().await?;
    let mut sparse = widget("sparse", Color::Blue);
    sparse.spec.size = None;
    sparse.spec.probe = None;
    sparse.spec.owner = None;
    sparse.spec.extra = None;
    let created = widgets.create(&PostParams::default(), &sparse).await?;
    assert_eq!(created.spec, sparse.spec);

    let cleared = widgets
        .patch(
            "sparse",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "size": "small" } })),
        )
        .await?;
    assert_eq!(cleared.spec.size, Some(Size::Small));
    let cleared = widgets
        .patch(
            "sparse",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "size": null } })),
        )
        .await?;
    assert_eq!(cleared.spec.size, None);
    Ok(())
}

#[tokio::test]
async fn externally_tagged_enums_hold_exactly_one_variant() -> TestResult {
    let (widgets, _, _) = widgets().await?;
    widgets
        .create(&PostParams::default(), &widget("one-variant", Color::Blue))
        .await?;
    let both = refusal(
        widgets
            .patch(
                "one-variant",
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": { "source": { "url": "https://example.com" } } })),
            )
            .await,
    );
    assert_eq!(both.code, 422, "{both:?}");

    let switched = widgets
        .patch(
            "one-variant",
            &PatchParams::default(),
            &Patch::Merge(json!({
                "spec": { "source": { "configMap": null, "url": "https://example.com" } }
            })),
        )
        .await?;
    assert_eq!(
        switched.spec.source,
        Source::Url("https://example.com".into())
    );
    Ok(())
}

#[tokio::test]
async fn objects_violating_the_schema_are_refused() -> TestResult {
    let (_, client, namespace) = widgets().await?;
    let untyped: Api<DynamicObject> =
        Api::namespaced_with(client, &namespace, &Widget::api_resource());
    let mut object = serde_json::to_value(widget("purple", Color::Red))?;
    object["spec"]["color"] = json!("Purple");
    object["spec"]["replicas"] = json!("three");
    let object: DynamicObject = serde_json::from_value(object)?;

    let status = refusal(untyped.create(&PostParams::default(), &object).await);
    assert_eq!(status.code, 422, "{status:?}");
    assert_eq!(status.reason, "Invalid");
    let fields: Vec<_> = status
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .map(|c| c.field.as_str())
        .collect();
    assert!(fields.contains(&"spec.color"), "{fields:?}");
    assert!(fields.contains(&"spec.replicas"), "{fields:?}");
    Ok(())
}

#[tokio::test]
async fn cel_rules_are_enforced_with_their_messages() -> TestResult {
    let (widgets, _, _) = widgets().await?;
    let mut too_many = widget("too-many", Color::Red);
    too_many.spec.replicas = 11;
    let status = refusal(widgets.create(&PostParams::default(), &too_many).await);
    assert_eq!(status.code, 422, "{status:?}");
    assert!(
        status
            .message
            .contains("replicas must not exceed maxReplicas"),
        "{}",
        status.message
    );

    let long_name = widget("a-name-longer-than-twenty", Color::Red);
    let status = refusal(widgets.create(&PostParams::default(), &long_name).await);
    assert_eq!(status.code, 422, "{status:?}");
    assert!(
        status
            .message
            .contains("widget names are at most 20 characters"),
        "{}",
        status.message
    );

    widgets
        .create(&PostParams::default(), &widget("fine", Color::Red))
        .await?;
    let status = refusal(
        widgets
            .patch(
                "fine",
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": { "maxReplicas": 2 } })),
            )
            .await,
    );
    assert_eq!(status.code, 422, "{status:?}");
    Ok(())
}

#[tokio::test]
async fn status_is_written_only_through_its_subresource() -> TestResult {
    let (widgets, _, _) = widgets().await?;
    let mut sent = widget("with-status", Color::Red);
    sent.status = Some(WidgetStatus {
        replicas: 7,
        selector: None,
        ready: true,
    });
    let created = widgets.create(&PostParams::default(), &sent).await?;
    assert_eq!(created.status, None, "status on create is dropped");

    let patched = widgets
        .patch_status(
            "with-status",
            &PatchParams::default(),
            &Patch::Merge(json!({
                "spec": { "replicas": 1 },
                "status": { "replicas": 2, "ready": true }
            })),
        )
        .await?;
    assert_eq!(
        patched.status,
        Some(WidgetStatus {
            replicas: 2,
            selector: None,
            ready: true
        })
    );
    assert_eq!(
        patched.spec.replicas, 3,
        "spec changes through status are dropped"
    );

    let ignored = widgets
        .patch(
            "with-status",
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": { "replicas": 9 } })),
        )
        .await?;
    assert_eq!(ignored.status.map(|s| s.replicas), Some(2));
    assert_eq!(
        widgets.get_status("with-status").await?.status,
        patched.status
    );
    Ok(())
}

#[tokio::test]
async fn scale_reads_and_writes_the_declared_paths() -> TestResult {
    let (widgets, _, _) = widgets().await?;
    widgets
        .create(&PostParams::default(), &widget("scaled", Color::Blue))
        .await?;
    widgets
        .patch_status(
            "scaled",
            &PatchParams::default(),
            &Patch::Merge(
                json!({ "status": { "replicas": 2, "selector": "app=scaled", "ready": false } }),
            ),
        )
        .await?;

    let scale = widgets.get_scale("scaled").await?;
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(3));
    let status = scale.status.expect("scale status");
    assert_eq!(status.replicas, 2);
    assert_eq!(status.selector.as_deref(), Some("app=scaled"));

    let scaled = widgets
        .patch_scale(
            "scaled",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 6 } })),
        )
        .await?;
    assert_eq!(scaled.spec.and_then(|s| s.replicas), Some(6));
    assert_eq!(widgets.get("scaled").await?.spec.replicas, 6);

    let status = refusal(
        widgets
            .patch_scale(
                "scaled",
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": { "replicas": 50 } })),
            )
            .await,
    );
    assert_eq!(
        status.code, 422,
        "the CEL rule guards scaling too: {status:?}"
    );
    Ok(())
}

#[tokio::test]
async fn selectable_fields_filter_lists() -> TestResult {
    let (widgets, _, _) = widgets().await?;
    for (name, color) in [
        ("red-one", Color::Red),
        ("blue-one", Color::Blue),
        ("red-two", Color::Red),
    ] {
        widgets
            .create(&PostParams::default(), &widget(name, color))
            .await?;
    }
    let red = widgets
        .list(&ListParams::default().fields("spec.color=Red"))
        .await?;
    let mut names: Vec<_> = red
        .items
        .iter()
        .filter_map(|w| w.meta().name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["red-one", "red-two"]);

    let status = refusal(
        widgets
            .list(&ListParams::default().fields("spec.replicas=3"))
            .await,
    );
    assert_eq!(
        status.code, 400,
        "only declared fields are selectable: {status:?}"
    );
    Ok(())
}

#[tokio::test]
async fn merged_versions_are_served_side_by_side() -> TestResult {
    let env = TestEnv::start().await?;
    let crd = merge_crds(vec![gauge::v1::Gauge::crd(), gauge::v2::Gauge::crd()], "v2")?;
    env.install_crd(crd).await?;
    let client = env.client().await?;

    let old: Api<gauge::v1::Gauge> = Api::all(client.clone());
    let new: Api<gauge::v2::Gauge> = Api::all(client);
    old.create(
        &PostParams::default(),
        &gauge::v1::Gauge::new("pressure", gauge::v1::GaugeSpec { reading: 42 }),
    )
    .await?;
    let read = new.get("pressure").await?;
    assert_eq!(read.spec.reading, 42);
    assert_eq!(read.spec.unit, None);

    new.patch(
        "pressure",
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": { "unit": "kPa" } })),
    )
    .await?;
    assert_eq!(new.get("pressure").await?.spec.unit.as_deref(), Some("kPa"));
    assert_eq!(old.get("pressure").await?.spec.reading, 42);
    Ok(())
}

#[tokio::test]
async fn hard_shapes_are_accepted_and_stored_faithfully() -> TestResult {
    let env = TestEnv::start().await?;
    env.install_crd(Assortment::crd()).await?;
    let client = env.client().await?;
    let namespace = env.fresh_namespace().await?;
    let assortments: Api<Assortment> = Api::namespaced(client.clone(), &namespace);

    let sent = assortment("everything");
    let created = assortments.create(&PostParams::default(), &sent).await?;
    assert_eq!(created.spec, sent.spec);
    assert_eq!(assortments.get("everything").await?.spec, sent.spec);

    let mut other = assortment("variants");
    other.spec.adjacent = Adjacent::Name("n".into());
    other.spec.number_or_name = NumberOrName::Number(8080);
    other.spec.lookup = Lookup::ByName { name: "x".into() };
    other.spec.mixed = Mixed::Nothing;
    other.spec.since = None;
    let created = assortments.create(&PostParams::default(), &other).await?;
    assert_eq!(created.spec, other.spec);

    // Absent fields with a serde default get it from the apiserver.
    let untyped: Api<DynamicObject> =
        Api::namespaced_with(client, &namespace, &Assortment::api_resource());
    let mut object = serde_json::to_value(assortment("defaulted"))?;
    object["spec"]["defaults"] = json!({});
    let created = untyped
        .create(&PostParams::default(), &serde_json::from_value(object)?)
        .await?;
    assert_eq!(
        created.data["spec"]["defaults"],
        json!({ "replicas": 1, "name": "main" })
    );

    // An untagged struct variant must be complete.
    let mut object = serde_json::to_value(assortment("incomplete"))?;
    object["spec"]["lookup"] = json!({ "other": 1 });
    let status = refusal(
        untyped
            .create(&PostParams::default(), &serde_json::from_value(object)?)
            .await,
    );
    assert_eq!(status.code, 422, "{status:?}");
    Ok(())
}

#[tokio::test]
async fn objects_without_a_spec_keep_their_fields_at_the_root() -> TestResult {
    let env = TestEnv::start().await?;
    env.install_crd(Bucket::crd()).await?;
    let client = env.client().await?;
    let namespace = env.fresh_namespace().await?;
    let buckets: Api<Bucket> = Api::namespaced(client.clone(), &namespace);
    for (name, region) in [("logs", "eu"), ("media", "us"), ("backups", "eu")] {
        let fields = BucketFields {
            region: region.into(),
            copies: Some(2),
        };
        buckets
            .create(&PostParams::default(), &Bucket::new(name, fields))
            .await?;
    }

    // On the wire, the fields are beside `metadata`, not under `spec`.
    let gvk = kube::core::GroupVersionKind::gvk("derive.example.com", "v1", "Bucket");
    let untyped: Api<DynamicObject> =
        Api::namespaced_with(client, &namespace, &kube::core::ApiResource::from_gvk(&gvk));
    let stored = untyped.get("logs").await?;
    assert_eq!(stored.data["region"], "eu");
    assert_eq!(stored.data["copies"], 2);
    assert!(stored.data.get("spec").is_none(), "{:?}", stored.data);

    let logs = buckets.get("logs").await?;
    assert_eq!(
        logs.spec,
        BucketFields {
            region: "eu".into(),
            copies: Some(2)
        }
    );

    let in_eu = buckets
        .list(&ListParams::default().fields("region=eu"))
        .await?;
    let mut names: Vec<_> = in_eu
        .items
        .iter()
        .filter_map(|b| b.meta().name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["backups", "logs"]);

    // A field the schema does not know is pruned, and a missing required one refused.
    let status = refusal(
        untyped
            .create(
                &PostParams::default(),
                &DynamicObject::new("nowhere", &kube::core::ApiResource::from_gvk(&gvk))
                    .data(json!({ "copies": 1 })),
            )
            .await,
    );
    assert_eq!(status.code, 422, "region is required: {status:?}");
    Ok(())
}
