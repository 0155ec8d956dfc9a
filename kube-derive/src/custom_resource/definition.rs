//! `CustomResourceExt`: the `CustomResourceDefinition` the attributes
//! describe, written as one struct literal.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{
    Names,
    attrs::{KubeAttrs, SchemaMode},
};

/// `CustomResourceExt` for the root type.
pub(super) fn crd_impl(attrs: &KubeAttrs, names: &Names) -> TokenStream {
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
pub(super) fn apiext_path(attrs: &KubeAttrs) -> TokenStream {
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
