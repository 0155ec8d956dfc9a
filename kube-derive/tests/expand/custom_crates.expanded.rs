/// The `Widget` custom resource (`example.com/v2`), with [`WidgetSpec`] as its spec.
#[derive(Clone, Debug)]
pub(crate) struct WidgetResource {
    /// The object's metadata: name, namespace, labels, annotations and the rest.
    pub(crate) metadata: ::kube_core::ObjectMeta,
    /// The desired state.
    pub(crate) spec: WidgetSpec,
}
impl WidgetResource {
    /// A new `Widget` named `name`, with no other metadata.
    pub(crate) fn new(name: &str, spec: WidgetSpec) -> Self {
        Self {
            metadata: ::kube_core::ObjectMeta {
                name: Some(name.to_string()),
                ..Default::default()
            },
            spec,
        }
    }
}
const _: () = {
    use ::std::borrow::Cow;
    use ::kube_core::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
    impl ::kube_core::Resource for WidgetResource {
        type DynamicType = ();
        type Scope = ::kube_core::ClusterResourceScope;
        fn kind(_: &()) -> Cow<'_, str> {
            "Widget".into()
        }
        fn group(_: &()) -> Cow<'_, str> {
            "example.com".into()
        }
        fn version(_: &()) -> Cow<'_, str> {
            "v2".into()
        }
        fn api_version(_: &()) -> Cow<'_, str> {
            "example.com/v2".into()
        }
        fn plural(_: &()) -> Cow<'_, str> {
            "widgets".into()
        }
        fn meta(&self) -> &::kube_core::ObjectMeta {
            &self.metadata
        }
        fn meta_mut(&mut self) -> &mut ::kube_core::ObjectMeta {
            &mut self.metadata
        }
    }
    impl ::kube_core::object::HasSpec for WidgetResource {
        type Spec = WidgetSpec;
        fn spec(&self) -> &WidgetSpec {
            &self.spec
        }
        fn spec_mut(&mut self) -> &mut WidgetSpec {
            &mut self.spec
        }
    }
    impl ::serde::Serialize for WidgetResource {
        fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
        where
            S: ::serde::Serializer,
        {
            use ::serde::ser::SerializeStruct as _;
            let mut object = serializer.serialize_struct("WidgetResource", 4)?;
            object.serialize_field("apiVersion", "example.com/v2")?;
            object.serialize_field("kind", "Widget")?;
            object.serialize_field("metadata", &self.metadata)?;
            object.serialize_field("spec", &self.spec)?;
            object.end()
        }
    }
    impl<'de> ::serde::Deserialize<'de> for WidgetResource {
        fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
        where
            D: ::serde::Deserializer<'de>,
        {
            #[derive(::serde::Deserialize)]
            #[serde(crate = "::serde", rename_all = "camelCase")]
            struct Wire {
                #[serde(default)]
                api_version: Option<String>,
                #[serde(default)]
                kind: Option<String>,
                #[serde(default)]
                metadata: ::kube_core::ObjectMeta,
                spec: WidgetSpec,
            }
            let wire = Wire::deserialize(deserializer)?;
            for (field, found, expected) in [
                ("apiVersion", wire.api_version.as_deref(), "example.com/v2"),
                ("kind", wire.kind.as_deref(), "Widget"),
            ] {
                if let Some(found) = found.filter(|found| *found != expected) {
                    return Err(
                        ::serde::de::Error::custom(
                            format_args!(
                                "{field} {found:?} is not {expected:?}: this is not a WidgetResource"
                            ),
                        ),
                    );
                }
            }
            Ok(Self {
                metadata: wire.metadata,
                spec: wire.spec,
            })
        }
    }
    impl ::kube_core::CustomResourceExt for WidgetResource {
        fn crd() -> apiext::CustomResourceDefinition {
            apiext::CustomResourceDefinition {
                metadata: ::kube_core::ObjectMeta {
                    name: Some("widgets.example.com".into()),
                    ..Default::default()
                },
                spec: apiext::CustomResourceDefinitionSpec {
                    group: "example.com".into(),
                    names: apiext::CustomResourceDefinitionNames {
                        kind: "Widget".into(),
                        plural: "widgets".into(),
                        singular: Some("widget".into()),
                        ..Default::default()
                    },
                    scope: "Cluster".into(),
                    versions: Vec::from([
                        apiext::CustomResourceDefinitionVersion {
                            name: "v2".into(),
                            served: false,
                            storage: true,
                            schema: Some(apiext::CustomResourceValidation {
                                open_api_v3_schema: Some(
                                    ::kube_core::schema::json_schema_props_for::<Self>(),
                                ),
                            }),
                            ..Default::default()
                        },
                    ]),
                    ..Default::default()
                },
                status: None,
            }
        }
        fn crd_name() -> &'static str {
            "widgets.example.com"
        }
        fn api_resource() -> ::kube_core::ApiResource {
            ::kube_core::ApiResource::erase::<Self>(&())
        }
        fn shortnames() -> &'static [&'static str] {
            &[]
        }
    }
};
