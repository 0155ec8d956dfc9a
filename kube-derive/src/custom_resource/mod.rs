//! `#[derive(CustomResource)]`: the root type of a custom resource, its trait
//! impls, and its `CustomResourceDefinition`.

mod attrs;
mod names;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Expr, ExprLit, Fields as StructFields, Lit};

use attrs::{KubeAttrs, SchemaMode};
use names::guess_plural;

/// Expands `#[derive(CustomResource)]` on `input`.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    match syn::parse2::<DeriveInput>(input).and_then(|input| expand(&input)) {
        Ok(tokens) => tokens,
        Err(err) => err.to_compile_error(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    check_spec_shape(input)?;
    let attrs = attrs::parse(&input.attrs, &input.ident)?;
    let names = Names::new(&attrs);
    let impls = [
        resource_impl(&attrs, &names),
        spec_and_status_impls(input, &attrs),
        serde_impls(input, &attrs),
        schema_impl(input, &attrs),
        crd_impl(&attrs, &names),
    ];
    let root = root_struct(input, &attrs);
    let constructor = constructor(input, &attrs);
    let apiext = apiext_path(&attrs);
    let std = &attrs.crates.std;
    Ok(quote! {
        #root
        #constructor

        const _: () = {
            use #std::borrow::Cow;
            use #apiext as apiext;

            #(#impls)*
        };
    })
}

/// The spec must be a plain struct with named fields: it is serialized as the
/// object's `spec`, which Kubernetes expects to be an object.
fn check_spec_shape(input: &DeriveInput) -> syn::Result<()> {
    let shape_error = |what: &str| {
        syn::Error::new(
            input.ident.span(),
            format!(
                "#[derive(CustomResource)] needs the spec to be a struct with named fields, not {what}: its fields become the object's `spec`"
            ),
        )
    };
    match &input.data {
        Data::Struct(data) => match &data.fields {
            StructFields::Named(_) => {}
            StructFields::Unnamed(_) => return Err(shape_error("a tuple struct")),
            StructFields::Unit => return Err(shape_error("a unit struct")),
        },
        Data::Enum(_) => {
            return Err(shape_error(
                "an enum (wrap it in a struct, e.g. `struct FooSpec { choice: Choice }`)",
            ));
        }
        Data::Union(_) => return Err(shape_error("a union")),
    }
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "#[derive(CustomResource)] does not support generic spec types: the definition needs one concrete schema",
        ));
    }
    Ok(())
}

/// The names the definition declares.
struct Names {
    plural: String,
    singular: String,
    api_version: String,
    crd_name: String,
}

impl Names {
    fn new(attrs: &KubeAttrs) -> Self {
        let plural = attrs
            .plural
            .clone()
            .unwrap_or_else(|| guess_plural(&attrs.kind));
        Self {
            singular: attrs
                .singular
                .clone()
                .unwrap_or_else(|| attrs.kind.to_ascii_lowercase()),
            api_version: format!("{}/{}", attrs.group, attrs.version),
            crd_name: format!("{plural}.{}", attrs.group),
            plural,
        }
    }
}

fn root_struct(input: &DeriveInput, attrs: &KubeAttrs) -> TokenStream {
    let KubeAttrs {
        root, crates, kind, ..
    } = attrs;
    let kube_core = &crates.kube_core;
    let vis = &input.vis;
    let spec = &input.ident;
    let doc = match &attrs.doc {
        Some(doc) => format!(" {doc}"),
        None => format!(
            " The `{kind}` custom resource (`{}/{}`), with [`{spec}`] as its spec.",
            attrs.group, attrs.version
        ),
    };
    let derives = attrs
        .derives
        .iter()
        .filter(|path| !path.is_ident("Clone") && !path.is_ident("Debug"));
    let extra_attrs = attrs.attrs.iter().map(|meta| quote!(#[#meta]));
    let status_field = attrs.status.as_ref().map(|status| {
        quote! {
            /// The observed state, written by controllers through the status subresource.
            #vis status: Option<#status>,
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug #(, #derives)*)]
        #(#extra_attrs)*
        #vis struct #root {
            /// The object's metadata: name, namespace, labels, annotations and the rest.
            #vis metadata: #kube_core::ObjectMeta,
            /// The desired state.
            #vis spec: #spec,
            #status_field
        }
    }
}

fn constructor(input: &DeriveInput, attrs: &KubeAttrs) -> TokenStream {
    let KubeAttrs {
        root, crates, kind, ..
    } = attrs;
    let kube_core = &crates.kube_core;
    let vis = &input.vis;
    let spec = &input.ident;
    let (doc, status_init) = match &attrs.status {
        Some(_) => (
            format!(" A new `{kind}` named `name`, with no other metadata and no status."),
            Some(quote!(status: None,)),
        ),
        None => (
            format!(" A new `{kind}` named `name`, with no other metadata."),
            None,
        ),
    };
    quote! {
        impl #root {
            #[doc = #doc]
            #vis fn new(name: &str, spec: #spec) -> Self {
                Self {
                    metadata: #kube_core::ObjectMeta {
                        name: Some(name.to_string()),
                        ..Default::default()
                    },
                    spec,
                    #status_init
                }
            }
        }
    }
}

fn resource_impl(attrs: &KubeAttrs, names: &Names) -> TokenStream {
    let KubeAttrs {
        root,
        crates,
        kind,
        group,
        version,
        ..
    } = attrs;
    let kube_core = &crates.kube_core;
    let Names {
        plural,
        api_version,
        ..
    } = names;
    let scope = if attrs.namespaced {
        quote!(#kube_core::NamespaceResourceScope)
    } else {
        quote!(#kube_core::ClusterResourceScope)
    };
    quote! {
        impl #kube_core::Resource for #root {
            type DynamicType = ();
            type Scope = #scope;

            fn kind(_: &()) -> Cow<'_, str> {
                #kind.into()
            }

            fn group(_: &()) -> Cow<'_, str> {
                #group.into()
            }

            fn version(_: &()) -> Cow<'_, str> {
                #version.into()
            }

            fn api_version(_: &()) -> Cow<'_, str> {
                #api_version.into()
            }

            fn plural(_: &()) -> Cow<'_, str> {
                #plural.into()
            }

            fn meta(&self) -> &#kube_core::ObjectMeta {
                &self.metadata
            }

            fn meta_mut(&mut self) -> &mut #kube_core::ObjectMeta {
                &mut self.metadata
            }
        }
    }
}

fn spec_and_status_impls(input: &DeriveInput, attrs: &KubeAttrs) -> TokenStream {
    let KubeAttrs { root, crates, .. } = attrs;
    let kube_core = &crates.kube_core;
    let spec = &input.ident;
    let status_impl = attrs.status.as_ref().map(|status| {
        quote! {
            impl #kube_core::object::HasStatus for #root {
                type Status = #status;

                fn status(&self) -> Option<&#status> {
                    self.status.as_ref()
                }

                fn status_mut(&mut self) -> &mut Option<#status> {
                    &mut self.status
                }
            }
        }
    });
    quote! {
        impl #kube_core::object::HasSpec for #root {
            type Spec = #spec;

            fn spec(&self) -> &#spec {
                &self.spec
            }

            fn spec_mut(&mut self) -> &mut #spec {
                &mut self.spec
            }
        }

        #status_impl
    }
}

fn serde_impls(input: &DeriveInput, attrs: &KubeAttrs) -> TokenStream {
    let KubeAttrs {
        root, crates, kind, ..
    } = attrs;
    let kube_core = &crates.kube_core;
    let serde = &crates.serde;
    let serde_str = quote!(#serde).to_string().replace(' ', "");
    let spec = &input.ident;
    let api_version = format!("{}/{}", attrs.group, attrs.version);
    let root_name = root.to_string();
    let mismatch =
        format!("{{field}} {{found:?}} is not {{expected:?}}: this is not a {root_name}");

    let (field_count, serialize_status, wire_status, build_status) = match &attrs.status {
        Some(status) => (
            quote!(4 + usize::from(self.status.is_some())),
            quote! {
                match &self.status {
                    Some(status) => object.serialize_field("status", status)?,
                    None => object.skip_field("status")?,
                }
            },
            quote! {
                #[serde(default)]
                status: Option<#status>,
            },
            quote!(status: wire.status,),
        ),
        None => (quote!(4), quote!(), quote!(), quote!()),
    };

    quote! {
        impl #serde::Serialize for #root {
            fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
            where
                S: #serde::Serializer,
            {
                use #serde::ser::SerializeStruct as _;

                let mut object = serializer.serialize_struct(#root_name, #field_count)?;
                object.serialize_field("apiVersion", #api_version)?;
                object.serialize_field("kind", #kind)?;
                object.serialize_field("metadata", &self.metadata)?;
                object.serialize_field("spec", &self.spec)?;
                #serialize_status
                object.end()
            }
        }

        impl<'de> #serde::Deserialize<'de> for #root {
            fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
            where
                D: #serde::Deserializer<'de>,
            {
                #[derive(#serde::Deserialize)]
                #[serde(crate = #serde_str, rename_all = "camelCase")]
                struct Wire {
                    #[serde(default)]
                    api_version: Option<String>,
                    #[serde(default)]
                    kind: Option<String>,
                    #[serde(default)]
                    metadata: #kube_core::ObjectMeta,
                    spec: #spec,
                    #wire_status
                }

                let wire = Wire::deserialize(deserializer)?;
                for (field, found, expected) in [
                    ("apiVersion", wire.api_version.as_deref(), #api_version),
                    ("kind", wire.kind.as_deref(), #kind),
                ] {
                    if let Some(found) = found.filter(|found| *found != expected) {
                        return Err(#serde::de::Error::custom(format_args!(#mismatch)));
                    }
                }
                Ok(Self {
                    metadata: wire.metadata,
                    spec: wire.spec,
                    #build_status
                })
            }
        }
    }
}

/// A `validation = ...` value as a rule expression.
fn rule_expr(expr: &Expr, kube_core: &syn::Path) -> TokenStream {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => quote!(#kube_core::cel::Rule::new(#lit)),
        other => quote!(#kube_core::cel::Rule::from(#other)),
    }
}

fn schema_impl(input: &DeriveInput, attrs: &KubeAttrs) -> TokenStream {
    if attrs.schema != SchemaMode::Derived {
        return TokenStream::new();
    }
    let KubeAttrs {
        root, crates, kind, ..
    } = attrs;
    let schemars = &crates.schemars;
    let spec = &input.ident;
    let root_name = root.to_string();
    let description = attrs.doc.clone().unwrap_or_else(|| {
        format!(
            "The `{kind}` custom resource (`{}/{}`).",
            attrs.group, attrs.version
        )
    });
    let status = match &attrs.status {
        Some(status) => quote!(Some(generator.subschema_for::<Option<#status>>())),
        None => quote!(None),
    };
    let rules = attrs
        .validations
        .iter()
        .map(|expr| rule_expr(expr, &crates.kube_core));
    let kube_core = &crates.kube_core;
    quote! {
        impl #schemars::JsonSchema for #root {
            fn schema_name() -> Cow<'static, str> {
                #root_name.into()
            }

            fn json_schema(generator: &mut #schemars::SchemaGenerator) -> #schemars::Schema {
                #kube_core::schema::custom_resource_schema(
                    #description,
                    generator.subschema_for::<#spec>(),
                    #status,
                    [#(#rules),*],
                )
            }
        }
    }
}

fn crd_impl(attrs: &KubeAttrs, names: &Names) -> TokenStream {
    let KubeAttrs {
        root,
        crates,
        kind,
        group,
        version,
        ..
    } = attrs;
    let kube_core = &crates.kube_core;
    let serde_json = &crates.serde_json;
    let std = &crates.std;
    let Names {
        plural,
        singular,
        crd_name,
        ..
    } = names;
    let scope = if attrs.namespaced {
        "Namespaced"
    } else {
        "Cluster"
    };

    let string_list = |items: &[String]| -> Option<TokenStream> {
        (!items.is_empty()).then(|| quote!(Some(vec![#(#items.into()),*])))
    };
    let string_map = |pairs: &[(String, String)]| -> Option<TokenStream> {
        (!pairs.is_empty()).then(|| {
            let entries = pairs.iter().map(|(k, v)| quote!((#k.into(), #v.into())));
            quote!(Some(#std::collections::BTreeMap::from([#(#entries),*])))
        })
    };

    let mut metadata = Fields::default();
    metadata.set("name", quote!(Some(#crd_name.into())));
    metadata.set_opt("annotations", string_map(&attrs.annotations));
    metadata.set_opt("labels", string_map(&attrs.labels));
    let metadata = metadata.build(quote!(#kube_core::ObjectMeta), 17);

    let mut names_fields = Fields::default();
    names_fields.set("kind", quote!(#kind.into()));
    names_fields.set("plural", quote!(#plural.into()));
    names_fields.set("singular", quote!(Some(#singular.into())));
    names_fields.set_opt("short_names", string_list(&attrs.shortnames));
    names_fields.set_opt("categories", string_list(&attrs.categories));
    let crd_names = names_fields.build(quote!(apiext::CustomResourceDefinitionNames), 6);

    let schema = match attrs.schema {
        SchemaMode::Derived | SchemaMode::Manual => Some(quote! {
            Some(apiext::CustomResourceValidation {
                open_api_v3_schema: Some(#kube_core::schema::json_schema_props_for::<Self>()),
            })
        }),
        SchemaMode::Disabled => None,
    };
    let columns = (!attrs.printcolumns.is_empty()).then(|| {
        let columns = attrs.printcolumns.iter().map(|column| {
            let mut fields = Fields::default();
            let (name, type_, json_path) = (&column.name, &column.type_, &column.json_path);
            fields.set("name", quote!(#name.into()));
            fields.set("type_", quote!(#type_.into()));
            fields.set("json_path", quote!(#json_path.into()));
            fields.set_opt(
                "description",
                column.description.as_ref().map(|d| quote!(Some(#d.into()))),
            );
            fields.set_opt(
                "format",
                column.format.as_ref().map(|f| quote!(Some(#f.into()))),
            );
            fields.set_opt(
                "priority",
                column
                    .priority
                    .map(proc_macro2::Literal::i32_unsuffixed)
                    .map(|p| quote!(Some(#p))),
            );
            fields.build(quote!(apiext::CustomResourceColumnDefinition), 6)
        });
        quote!(Some(Vec::from([#(#columns),*])))
    });
    let selectable = (!attrs.selectable.is_empty()).then(|| {
        let fields = attrs
            .selectable
            .iter()
            .map(|path| quote!(apiext::SelectableField { json_path: #path.into() }));
        quote!(Some(Vec::from([#(#fields),*])))
    });
    let subresources = (attrs.status.is_some() || attrs.scale.is_some()).then(|| {
        let mut fields = Fields::default();
        if attrs.status.is_some() {
            fields.set(
                "status",
                quote!(Some(apiext::CustomResourceSubresourceStatus(
                    #serde_json::Value::Object(Default::default())
                ))),
            );
        }
        if let Some(scale) = &attrs.scale {
            let (spec_path, status_path) = (&scale.spec_replicas_path, &scale.status_replicas_path);
            let selector = match &scale.label_selector_path {
                Some(path) => quote!(Some(#path.into())),
                None => quote!(None),
            };
            fields.set(
                "scale",
                quote!(Some(apiext::CustomResourceSubresourceScale {
                    spec_replicas_path: #spec_path.into(),
                    status_replicas_path: #status_path.into(),
                    label_selector_path: #selector,
                })),
            );
        }
        let subresources = fields.build(quote!(apiext::CustomResourceSubresources), 2);
        quote!(Some(#subresources))
    });

    let mut version_fields = Fields::default();
    let (served, storage) = (attrs.served, attrs.storage);
    version_fields.set("name", quote!(#version.into()));
    version_fields.set("served", quote!(#served));
    version_fields.set("storage", quote!(#storage));
    if let Some(warning) = &attrs.deprecated {
        version_fields.set("deprecated", quote!(Some(true)));
        version_fields.set_opt(
            "deprecation_warning",
            warning.as_ref().map(|w| quote!(Some(#w.into()))),
        );
    }
    version_fields.set_opt("schema", schema);
    version_fields.set_opt("additional_printer_columns", columns);
    version_fields.set_opt("selectable_fields", selectable);
    version_fields.set_opt("subresources", subresources);
    let crd_version = version_fields.build(quote!(apiext::CustomResourceDefinitionVersion), 9);

    let shortnames = &attrs.shortnames;
    quote! {
        impl #kube_core::CustomResourceExt for #root {
            fn crd() -> apiext::CustomResourceDefinition {
                apiext::CustomResourceDefinition {
                    metadata: #metadata,
                    spec: apiext::CustomResourceDefinitionSpec {
                        group: #group.into(),
                        names: #crd_names,
                        scope: #scope.into(),
                        versions: Vec::from([#crd_version]),
                        ..Default::default()
                    },
                    status: None,
                }
            }

            fn crd_name() -> &'static str {
                #crd_name
            }

            fn api_resource() -> #kube_core::ApiResource {
                #kube_core::ApiResource::erase::<Self>(&())
            }

            fn shortnames() -> &'static [&'static str] {
                &[#(#shortnames),*]
            }
        }
    }
}

/// The module of `k8s-openapi` holding `CustomResourceDefinition` and its parts.
fn apiext_path(attrs: &KubeAttrs) -> TokenStream {
    let k8s = &attrs.crates.k8s_openapi;
    quote!(#k8s::apiextensions_apiserver::pkg::apis::apiextensions::v1)
}

/// The fields of a struct literal, completed with `..Default::default()` when
/// some of the struct's fields are left out.
#[derive(Default)]
struct Fields(Vec<TokenStream>);

impl Fields {
    fn set(&mut self, name: &str, value: TokenStream) {
        let name = format_ident!("{name}");
        self.0.push(quote!(#name: #value));
    }

    fn set_opt(&mut self, name: &str, value: Option<TokenStream>) {
        if let Some(value) = value {
            self.set(name, value);
        }
    }

    /// `Path { fields.. }`, where the type has `total` fields.
    fn build(self, path: TokenStream, total: usize) -> TokenStream {
        let fields = &self.0;
        if fields.len() < total {
            quote!(#path { #(#fields,)* ..Default::default() })
        } else {
            quote!(#path { #(#fields),* })
        }
    }
}
