//! `#[derive(CustomResource)]`: the root type of a custom resource, its trait
//! impls, and its `CustomResourceDefinition`.

mod attrs;
mod definition;
mod json_form;
mod names;
mod printcolumn;
mod scale;
mod serde_impls;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

use attrs::{KubeAttrs, SchemaMode};
use definition::{apiext_path, crd_impl};
use names::guess_plural;
use serde_impls::serde_impls;

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
    if attrs.no_spec {
        check_liftable_fields(input)?;
    }
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
    let validate_cel = validate_cel(&attrs);
    let apiext = apiext_path(&attrs);
    let std = &attrs.crates.std;
    Ok(quote! {
        #root
        #constructor
        #validate_cel

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
            Fields::Named(_) => {}
            Fields::Unnamed(_) => return Err(shape_error("a tuple struct")),
            Fields::Unit => return Err(shape_error("a unit struct")),
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

/// The object keys besides the spec's fields: a `no_spec` field of the same
/// name would be written twice, and could not be read back.
const OBJECT_KEYS: &[&str] = &["apiVersion", "kind", "metadata", "status"];

/// With `no_spec`, the spec's fields sit beside `apiVersion`, `kind`,
/// `metadata` and `status`, so none may take one of their names.
fn check_liftable_fields(input: &DeriveInput) -> syn::Result<()> {
    let Data::Struct(data) = &input.data else {
        return Ok(());
    };
    let mut errors = crate::parse::Errors::default();
    for field in &data.fields {
        let Some(ident) = &field.ident else { continue };
        let rust_name = ident.to_string();
        let rust_name = rust_name.trim_start_matches("r#");
        let renamed = serde_rename(&field.attrs);
        let clash = OBJECT_KEYS.iter().find(|key| {
            renamed.as_deref() == Some(**key)
                || (renamed.is_none() && (rust_name == **key || rust_name == "api_version"))
        });
        if let Some(key) = clash {
            let key = if *key == "apiVersion" || rust_name == "api_version" {
                "apiVersion"
            } else {
                key
            };
            errors.push(syn::Error::new(
                ident.span(),
                format!(
                    "with `no_spec` this field sits beside the object's `{key}`, which would be written twice: rename it, e.g. `#[serde(rename = \"{key}Field\")]`"
                ),
            ));
        }
    }
    errors.finish()
}

/// The name `#[serde(rename = "...")]` gives a field, if any.
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let mut renamed = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") && meta.input.peek(syn::Token![=]) {
                let lit: syn::LitStr = meta.value()?.parse()?;
                renamed = Some(lit.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _: TokenStream = meta.input.parse()?;
            }
            Ok(())
        });
    }
    renamed
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
        .map(|expr| crate::cel_names::rule_expr(expr, &crates.kube_core))
        .collect::<Vec<_>>();
    let kube_core = &crates.kube_core;
    let body = if attrs.no_spec {
        // The spec's own schema, not a reference to it: its properties are
        // lifted into the root's.
        quote! {
            #kube_core::schema::custom_resource_schema_without_spec(
                #description,
                <#spec as #schemars::JsonSchema>::json_schema(generator),
                #status,
                [#(#rules),*],
            )
        }
    } else {
        quote! {
            #kube_core::schema::custom_resource_schema(
                #description,
                generator.subschema_for::<#spec>(),
                #status,
                [#(#rules),*],
            )
        }
    };
    quote! {
        impl #schemars::JsonSchema for #root {
            fn schema_name() -> Cow<'static, str> {
                #root_name.into()
            }

            fn json_schema(generator: &mut #schemars::SchemaGenerator) -> #schemars::Schema {
                #body
            }
        }
    }
}

/// `validate_cel` and `validate_cel_update` for `cel`.
fn validate_cel(attrs: &KubeAttrs) -> TokenStream {
    if !attrs.cel {
        return TokenStream::new();
    }
    let KubeAttrs { root, crates, .. } = attrs;
    let (kube_core, std) = (&crates.kube_core, &crates.std);
    quote! {
        impl #root {
            /// Checks this object against the CEL rules of its definition, as
            /// the apiserver would when creating it, without an apiserver.
            pub fn validate_cel(&self) -> #std::result::Result<(), #kube_core::cel::ValidationErrors> {
                #kube_core::cel::validate_cel(self)
            }

            /// Checks the change from `old` to this object against the CEL
            /// rules of its definition, rules comparing with `oldSelf`
            /// included, as the apiserver would when updating it.
            pub fn validate_cel_update(
                &self,
                old: &Self,
            ) -> #std::result::Result<(), #kube_core::cel::ValidationErrors> {
                #kube_core::cel::validate_cel_update(self, old)
            }
        }
    }
}
