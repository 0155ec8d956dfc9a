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
use syn::{Data, DeriveInput, Expr, ExprLit, Fields, Lit};

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
