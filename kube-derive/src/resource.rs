//! `#[derive(Resource)]`: a wrapper type taking the `Resource` impl of an
//! existing type.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Path};

use crate::parse::{CratesAttr, Errors, for_each_item, key_of, path_value, unknown_key};

/// Expands `#[derive(Resource)]` on `input`.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    match syn::parse2::<DeriveInput>(input).and_then(|input| expand(&input)) {
        Ok(tokens) => tokens,
        Err(err) => err.to_compile_error(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let mut inherit: Option<Path> = None;
    let mut crates = CratesAttr::default();
    let mut first_attr = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("resource")) {
        first_attr.get_or_insert(attr);
        for_each_item(attr, &mut errors, |meta| {
            let key = key_of(meta)?;
            match key.as_str() {
                "inherit" => {
                    if inherit.is_some() {
                        return Err(meta.error("`inherit` is given twice: keep one"));
                    }
                    inherit = Some(path_value(meta, &key)?);
                    Ok(())
                }
                "crates" => crates.parse(meta, &["kube_core", "k8s_openapi", "std"]),
                _ => Err(unknown_key(
                    meta,
                    &key,
                    "#[resource(...)]",
                    &["inherit", "crates"],
                )),
            }
        });
    }
    let attributes_parsed = errors.is_empty();
    let has_metadata = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => fields
                .named
                .iter()
                .any(|f| f.ident.as_ref().is_some_and(|i| i == "metadata")),
            _ => false,
        },
        _ => false,
    };
    if !has_metadata {
        errors.push(syn::Error::new(
            input.ident.span(),
            "#[derive(Resource)] needs a struct with a `metadata: ObjectMeta` field",
        ));
    }
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &input.generics,
            "#[derive(Resource)] does not support generic types",
        ));
    }
    if inherit.is_none() && attributes_parsed {
        errors.push(match first_attr {
            Some(attr) => syn::Error::new_spanned(
                &attr.meta,
                "missing `inherit` in #[resource(...)], e.g. `inherit = \"ConfigMap\"`",
            ),
            None => syn::Error::new(
                input.ident.span(),
                "#[derive(Resource)] needs `#[resource(inherit = \"ConfigMap\")]`: the type whose kind, group, version, plural and scope to take",
            ),
        });
    }
    errors.finish()?;
    let Some(inherit) = inherit else {
        return Ok(TokenStream::new());
    };
    let crates = crates.resolve();
    let (kube_core, k8s_openapi, std) = (&crates.kube_core, &crates.k8s_openapi, &crates.std);
    let object_meta = quote!(#k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta);
    let ident = &input.ident;
    let inherited = quote!(<#inherit as #kube_core::Resource>);

    Ok(quote! {
        impl #kube_core::Resource for #ident {
            type DynamicType = #inherited::DynamicType;
            type Scope = #inherited::Scope;

            fn kind(dt: &Self::DynamicType) -> #std::borrow::Cow<'_, str> {
                #inherited::kind(dt)
            }

            fn group(dt: &Self::DynamicType) -> #std::borrow::Cow<'_, str> {
                #inherited::group(dt)
            }

            fn version(dt: &Self::DynamicType) -> #std::borrow::Cow<'_, str> {
                #inherited::version(dt)
            }

            fn api_version(dt: &Self::DynamicType) -> #std::borrow::Cow<'_, str> {
                #inherited::api_version(dt)
            }

            fn plural(dt: &Self::DynamicType) -> #std::borrow::Cow<'_, str> {
                #inherited::plural(dt)
            }

            fn meta(&self) -> &#object_meta {
                &self.metadata
            }

            fn meta_mut(&mut self) -> &mut #object_meta {
                &mut self.metadata
            }
        }
    })
}
