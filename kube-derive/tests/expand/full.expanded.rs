/// A Foo: replicas owned by someone.
#[derive(Clone, Debug, PartialEq, Default)]
#[allow(deprecated)]
pub struct Foo {
    /// The object's metadata: name, namespace, labels, annotations and the rest.
    pub metadata: ::kube::core::ObjectMeta,
    /// The desired state.
    pub spec: FooSpec,
    /// The observed state, written by controllers through the status subresource.
    pub status: Option<FooStatus>,
}
impl Foo {
    /// A new `Foo` named `name`, with no other metadata and no status.
    pub fn new(name: &str, spec: FooSpec) -> Self {
        Self {
            metadata: ::kube::core::ObjectMeta {
                name: Some(name.to_string()),
                ..Default::default()
            },
            spec,
            status: None,
        }
    }
}
const _: () = {
    use ::std::borrow::Cow;
    use ::kube::core::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
    impl ::kube::core::Resource for Foo {
        type DynamicType = ();
        type Scope = ::kube::core::NamespaceResourceScope;
        fn kind(_: &()) -> Cow<'_, str> {
            "Foo".into()
        }
        fn group(_: &()) -> Cow<'_, str> {
            "clux.dev".into()
        }
        fn version(_: &()) -> Cow<'_, str> {
            "v1".into()
        }
        fn api_version(_: &()) -> Cow<'_, str> {
            "clux.dev/v1".into()
        }
        fn plural(_: &()) -> Cow<'_, str> {
            "fooes".into()
        }
        fn meta(&self) -> &::kube::core::ObjectMeta {
            &self.metadata
        }
        fn meta_mut(&mut self) -> &mut ::kube::core::ObjectMeta {
            &mut self.metadata
        }
    }
    impl ::kube::core::object::HasSpec for Foo {
        type Spec = FooSpec;
        fn spec(&self) -> &FooSpec {
            &self.spec
        }
        fn spec_mut(&mut self) -> &mut FooSpec {
            &mut self.spec
        }
    }
    impl ::kube::core::object::HasStatus for Foo {
        type Status = FooStatus;
        fn status(&self) -> Option<&FooStatus> {
            self.status.as_ref()
        }
        fn status_mut(&mut self) -> &mut Option<FooStatus> {
            &mut self.status
        }
    }
    impl ::kube::core::serde::Serialize for Foo {
        fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
        where
            S: ::kube::core::serde::Serializer,
        {
            use ::kube::core::serde::ser::SerializeStruct as _;
            let mut object = serializer
                .serialize_struct("Foo", 4 + usize::from(self.status.is_some()))?;
            object.serialize_field("apiVersion", "clux.dev/v1")?;
            object.serialize_field("kind", "Foo")?;
            object.serialize_field("metadata", &self.metadata)?;
            object.serialize_field("spec", &self.spec)?;
            match &self.status {
                Some(status) => object.serialize_field("status", status)?,
                None => object.skip_field("status")?,
            }
            object.end()
        }
    }
    impl<'de> ::kube::core::serde::Deserialize<'de> for Foo {
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
                spec: FooSpec,
                #[serde(default)]
                status: Option<FooStatus>,
            }
            let wire = Wire::deserialize(deserializer)?;
            for (field, found, expected) in [
                ("apiVersion", wire.api_version.as_deref(), "clux.dev/v1"),
                ("kind", wire.kind.as_deref(), "Foo"),
            ] {
                if let Some(found) = found.filter(|found| *found != expected) {
                    return Err(
                        ::kube::core::serde::de::Error::custom(
                            format_args!(
                                "{field} {found:?} is not {expected:?}: this is not a Foo"
                            ),
                        ),
                    );
                }
            }
            Ok(Self {
                metadata: wire.metadata,
                spec: wire.spec,
                status: wire.status,
            })
        }
    }
    impl ::kube::core::schemars::JsonSchema for Foo {
        fn schema_name() -> Cow<'static, str> {
            "Foo".into()
        }
        fn json_schema(
            generator: &mut ::kube::core::schemars::SchemaGenerator,
        ) -> ::kube::core::schemars::Schema {
            ::kube::core::schema::custom_resource_schema(
                "A Foo: replicas owned by someone.",
                generator.subschema_for::<FooSpec>(),
                Some(generator.subschema_for::<Option<FooStatus>>()),
                [
                    ::kube::core::cel::Rule::new("self.spec.replicas <= 10"),
                    ::kube::core::cel::Rule::from({
                        #[allow(unused_imports)]
                        use ::kube::core::cel::Rule;
                        {
                            #[allow(unused_imports)]
                            use self::*;
                            Rule::new("has(self.spec.owner)")
                                .message("an owner is required")
                        }
                    }),
                ],
            )
        }
    }
    impl ::kube::core::CustomResourceExt for Foo {
        fn crd() -> apiext::CustomResourceDefinition {
            apiext::CustomResourceDefinition {
                metadata: ::kube::core::ObjectMeta {
                    name: Some("fooes.clux.dev".into()),
                    annotations: Some(
                        ::std::collections::BTreeMap::from([
                            ("example.com/team".into(), "platform".into()),
                        ]),
                    ),
                    labels: Some(
                        ::std::collections::BTreeMap::from([
                            ("example.com/tier".into(), "core".into()),
                        ]),
                    ),
                    ..Default::default()
                },
                spec: apiext::CustomResourceDefinitionSpec {
                    group: "clux.dev".into(),
                    names: apiext::CustomResourceDefinitionNames {
                        kind: "Foo".into(),
                        plural: "fooes".into(),
                        singular: Some("onefoo".into()),
                        short_names: Some(vec!["f".into(), "fo".into()]),
                        categories: Some(vec!["all".into()]),
                        ..Default::default()
                    },
                    scope: "Namespaced".into(),
                    versions: Vec::from([
                        apiext::CustomResourceDefinitionVersion {
                            name: "v1".into(),
                            served: true,
                            storage: false,
                            deprecated: Some(true),
                            deprecation_warning: Some("use v2".into()),
                            schema: Some(apiext::CustomResourceValidation {
                                open_api_v3_schema: Some(
                                    ::kube::core::schema::json_schema_props_for::<Self>(),
                                ),
                            }),
                            additional_printer_columns: Some(
                                Vec::from([
                                    apiext::CustomResourceColumnDefinition {
                                        name: "Replicas".into(),
                                        type_: "integer".into(),
                                        json_path: ".spec.replicas".into(),
                                        priority: Some(1),
                                        ..Default::default()
                                    },
                                    apiext::CustomResourceColumnDefinition {
                                        name: "Ready".into(),
                                        type_: "boolean".into(),
                                        json_path: ".status.ready".into(),
                                        description: Some("Whether it is ready".into()),
                                        ..Default::default()
                                    },
                                ]),
                            ),
                            selectable_fields: Some(
                                Vec::from([
                                    apiext::SelectableField {
                                        json_path: ".spec.owner".into(),
                                    },
                                ]),
                            ),
                            subresources: Some(apiext::CustomResourceSubresources {
                                status: Some(
                                    apiext::CustomResourceSubresourceStatus(
                                        ::kube::core::serde_json::Value::Object(Default::default()),
                                    ),
                                ),
                                scale: Some(apiext::CustomResourceSubresourceScale {
                                    spec_replicas_path: ".spec.replicas".into(),
                                    status_replicas_path: ".status.replicas".into(),
                                    label_selector_path: Some(".status.selector".into()),
                                }),
                            }),
                        },
                    ]),
                    ..Default::default()
                },
                status: None,
            }
        }
        fn crd_name() -> &'static str {
            "fooes.clux.dev"
        }
        fn api_resource() -> ::kube::core::ApiResource {
            ::kube::core::ApiResource::erase::<Self>(&())
        }
        fn shortnames() -> &'static [&'static str] {
            &["f", "fo"]
        }
    }
};
