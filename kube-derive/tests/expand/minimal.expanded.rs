/// The `Gadget` custom resource (`example.com/v1`), with [`GadgetSpec`] as its spec.
#[derive(Clone, Debug)]
pub struct Gadget {
    /// The object's metadata: name, namespace, labels, annotations and the rest.
    pub metadata: ::kube::core::ObjectMeta,
    /// The desired state.
    pub spec: GadgetSpec,
}
impl Gadget {
    /// A new `Gadget` named `name`, with no other metadata.
    pub fn new(name: &str, spec: GadgetSpec) -> Self {
        Self {
            metadata: ::kube::core::ObjectMeta {
                name: Some(name.to_string()),
                ..Default::default()
            },
            spec,
        }
    }
}
const _: () = {
    use ::std::borrow::Cow;
    use ::kube::core::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
    impl ::kube::core::Resource for Gadget {
        type DynamicType = ();
        type Scope = ::kube::core::ClusterResourceScope;
        fn kind(_: &()) -> Cow<'_, str> {
            "Gadget".into()
        }
        fn group(_: &()) -> Cow<'_, str> {
            "example.com".into()
        }
        fn version(_: &()) -> Cow<'_, str> {
            "v1".into()
        }
        fn api_version(_: &()) -> Cow<'_, str> {
            "example.com/v1".into()
        }
        fn plural(_: &()) -> Cow<'_, str> {
            "gadgets".into()
        }
        fn meta(&self) -> &::kube::core::ObjectMeta {
            &self.metadata
        }
        fn meta_mut(&mut self) -> &mut ::kube::core::ObjectMeta {
            &mut self.metadata
        }
    }
    impl ::kube::core::object::HasSpec for Gadget {
        type Spec = GadgetSpec;
        fn spec(&self) -> &GadgetSpec {
            &self.spec
        }
        fn spec_mut(&mut self) -> &mut GadgetSpec {
            &mut self.spec
        }
    }
    impl ::kube::core::serde::Serialize for Gadget {
        fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
        where
            S: ::kube::core::serde::Serializer,
        {
            use ::kube::core::serde::ser::SerializeStruct as _;
            let mut object = serializer.serialize_struct("Gadget", 4)?;
            object.serialize_field("apiVersion", "example.com/v1")?;
            object.serialize_field("kind", "Gadget")?;
            object.serialize_field("metadata", &self.metadata)?;
            object.serialize_field("spec", &self.spec)?;
            object.end()
        }
    }
    impl<'de> ::kube::core::serde::Deserialize<'de> for Gadget {
        fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
        where
            D: ::kube::core::serde::Deserializer<'de>,
        {
            #[derive(::kube::core::serde::Deserialize)]
            #[serde(crate = "::kube::core::serde", rename_all = "camelCase")]
            struct Wire {
                #[serde(default)]
                api_version: Option<String>,
                #[serde(default)]
                kind: Option<String>,
                #[serde(default)]
                metadata: ::kube::core::ObjectMeta,
                spec: GadgetSpec,
            }
            let wire = Wire::deserialize(deserializer)?;
            for (field, found, expected) in [
                ("apiVersion", wire.api_version.as_deref(), "example.com/v1"),
                ("kind", wire.kind.as_deref(), "Gadget"),
            ] {
                if let Some(found) = found.filter(|found| *found != expected) {
                    return Err(
                        ::kube::core::serde::de::Error::custom(
                            format_args!(
                                "{field} {found:?} is not {expected:?}: this is not a Gadget"
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
    impl ::kube::core::schemars::JsonSchema for Gadget {
        fn schema_name() -> Cow<'static, str> {
            "Gadget".into()
        }
        fn json_schema(
            generator: &mut ::kube::core::schemars::SchemaGenerator,
        ) -> ::kube::core::schemars::Schema {
            ::kube::core::schema::custom_resource_schema(
                "The `Gadget` custom resource (`example.com/v1`).",
                generator.subschema_for::<GadgetSpec>(),
                None,
                [],
            )
        }
    }
    impl ::kube::core::CustomResourceExt for Gadget {
        fn crd() -> apiext::CustomResourceDefinition {
            apiext::CustomResourceDefinition {
                metadata: ::kube::core::ObjectMeta {
                    name: Some("gadgets.example.com".into()),
                    ..Default::default()
                },
                spec: apiext::CustomResourceDefinitionSpec {
                    group: "example.com".into(),
                    names: apiext::CustomResourceDefinitionNames {
                        kind: "Gadget".into(),
                        plural: "gadgets".into(),
                        singular: Some("gadget".into()),
                        ..Default::default()
                    },
                    scope: "Cluster".into(),
                    versions: Vec::from([
                        apiext::CustomResourceDefinitionVersion {
                            name: "v1".into(),
                            served: true,
                            storage: true,
                            schema: Some(apiext::CustomResourceValidation {
                                open_api_v3_schema: Some(
                                    ::kube::core::schema::json_schema_props_for::<Self>(),
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
            "gadgets.example.com"
        }
        fn api_resource() -> ::kube::core::ApiResource {
            ::kube::core::ApiResource::erase::<Self>(&())
        }
        fn shortnames() -> &'static [&'static str] {
            &[]
        }
    }
};
