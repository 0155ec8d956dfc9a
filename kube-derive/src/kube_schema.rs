//! `#[derive(KubeSchema)]`: `schemars::JsonSchema` plus CEL rules and merge
//! strategies from `#[x_kube(...)]`.
//!
//! The derive writes a private copy of the struct that carries the same
//! `serde`/`schemars` attributes and doc comments, with each `#[x_kube(...)]`
//! turned into a `#[schemars(transform = ...)]`, derives `JsonSchema` for the
//! copy, and implements `JsonSchema` for the original by delegating to it.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Attribute, Data, DeriveInput, Expr, Fields, Path};

use crate::cel_names::{merge_strategy_expr, rule_expr};

use crate::parse::{
    CratesAttr, Errors, expr_value, flag_value, for_each_item, key_of, unknown_key,
};

/// Attributes the copy keeps: the ones `schemars` reads.
const KEPT_ATTRIBUTES: &[&str] = &["doc", "serde", "schemars", "validate", "garde"];

/// Expands `#[derive(KubeSchema)]` on `input`.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    match syn::parse2::<DeriveInput>(input).and_then(|input| expand(&input)) {
        Ok(tokens) => tokens,
        Err(err) => err.to_compile_error(),
    }
}

/// What `#[x_kube(...)]` says about one item (the struct or a field).
#[derive(Default)]
struct XKube {
    validations: Vec<Expr>,
    merge_strategy: Option<Expr>,
    /// `cel`: generate `validate_cel` (struct only).
    cel: bool,
}

fn parse_x_kube(
    attrs: &[Attribute],
    crates: Option<&mut CratesAttr>,
    errors: &mut Errors,
) -> XKube {
    let mut out = XKube::default();
    let mut crates = crates;
    let keys: &[&str] = if crates.is_some() {
        &["validation", "merge_strategy", "cel", "crates"]
    } else {
        &["validation", "merge_strategy"]
    };
    for attr in attrs.iter().filter(|a| a.path().is_ident("x_kube")) {
        for_each_item(attr, errors, |meta| {
            let key = key_of(meta)?;
            match key.as_str() {
                "validation" => {
                    out.validations.push(expr_value(meta)?);
                    Ok(())
                }
                "merge_strategy" => {
                    if out.merge_strategy.is_some() {
                        return Err(meta.error(
                            "`merge_strategy` is given twice: a field merges in one way only",
                        ));
                    }
                    out.merge_strategy = Some(expr_value(meta)?);
                    Ok(())
                }
                "crates" => match crates.as_deref_mut() {
                    Some(crates) => crates.parse(meta, &["kube_core", "schemars", "serde", "serde_json", "std"]),
                    None => Err(meta.error("`crates(...)` belongs on the struct, not on a field")),
                },
                "cel" if crates.is_some() => {
                    if out.cel {
                        return Err(meta.error("`cel` is given twice: keep one"));
                    }
                    out.cel = flag_value(meta, &key)?;
                    Ok(())
                }
                "cel" => Err(meta.error(
                    "`cel` belongs on the struct: it generates `validate_cel` for the whole type",
                )),
                "rule" => Err(meta.error(
                    "unknown key `rule` in #[x_kube(...)]: CEL rules are written `validation = \"...\"`",
                )),
                _ => Err(unknown_key(meta, &key, "#[x_kube(...)]", keys)),
            }
        });
    }
    out
}

/// The `#[schemars(transform = ...)]` attributes standing for `x_kube`.
fn transforms(x_kube: &XKube, kube_core: &Path) -> Vec<TokenStream> {
    let rules = x_kube.validations.iter().map(|expr| {
        let rule = rule_expr(expr, kube_core);
        quote!(#[schemars(transform = #rule)])
    });
    let strategy = x_kube.merge_strategy.iter().map(|expr| {
        let strategy = merge_strategy_expr(expr, kube_core);
        quote!(#[schemars(transform = #strategy)])
    });
    rules.chain(strategy).collect()
}

fn kept(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs
        .iter()
        .filter(|a| KEPT_ATTRIBUTES.iter().any(|name| a.path().is_ident(name)))
}

/// Whether the container asks for `Self::default()` for missing fields.
fn has_container_default(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde") || a.path().is_ident("schemars"))
        .any(|attr| {
            let mut found = false;
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("default") && !meta.input.peek(syn::Token![=]) {
                    found = true;
                }
                if meta.input.peek(syn::Token![=]) {
                    let _: Expr = meta.value()?.parse()?;
                } else if meta.input.peek(syn::token::Paren) {
                    let _: TokenStream = meta.input.parse()?;
                }
                Ok(())
            });
            found
        })
}

fn has_container_rename(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde") || a.path().is_ident("schemars"))
        .any(|attr| {
            let mut found = false;
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    found = true;
                }
                if meta.input.peek(syn::Token![=]) {
                    let _: Expr = meta.value()?.parse()?;
                } else if meta.input.peek(syn::token::Paren) {
                    let _: TokenStream = meta.input.parse()?;
                }
                Ok(())
            });
            found
        })
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let not_a_struct = |what: &str| {
        syn::Error::new(
            input.ident.span(),
            format!(
                "#[derive(KubeSchema)] applies to structs with named fields, not to {what}: derive `schemars::JsonSchema` for it, and put rules on the fields that hold it"
            ),
        )
    };
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => fields,
            Fields::Unnamed(_) => return Err(not_a_struct("a tuple struct")),
            Fields::Unit => return Err(not_a_struct("a unit struct")),
        },
        Data::Enum(_) => return Err(not_a_struct("an enum")),
        Data::Union(_) => return Err(not_a_struct("a union")),
    };

    let mut errors = Errors::default();
    let mut crates_attr = CratesAttr::default();
    let container = parse_x_kube(&input.attrs, Some(&mut crates_attr), &mut errors);
    let field_rules: Vec<XKube> = fields
        .named
        .iter()
        .map(|field| parse_x_kube(&field.attrs, None, &mut errors))
        .collect();
    errors.finish()?;
    let crates = crates_attr.resolve();
    let kube_core = &crates.kube_core;
    let std = &crates.std;
    let schemars = &crates.schemars;
    let schemars_str = quote!(#schemars).to_string().replace(' ', "");

    let ident = &input.ident;
    let copy = format_ident!("Schemars{}", ident);
    let name = ident.to_string();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let generics = &input.generics;

    let container_attrs = kept(&input.attrs);
    let container_transforms = transforms(&container, kube_core);
    let rename = (!has_container_rename(&input.attrs)).then(|| quote!(#[schemars(rename = #name)]));
    let copied_fields = fields.named.iter().zip(&field_rules).map(|(field, rules)| {
        let field_attrs = kept(&field.attrs);
        let field_transforms = transforms(rules, kube_core);
        let field_ident = &field.ident;
        let ty = &field.ty;
        quote! {
            #(#field_attrs)*
            #(#field_transforms)*
            #field_ident: #ty
        }
    });

    let default_impl = has_container_default(&input.attrs).then(|| {
        let names: Vec<_> = fields.named.iter().map(|f| &f.ident).collect();
        quote! {
            impl #impl_generics Default for #copy #ty_generics #where_clause {
                fn default() -> Self {
                    let #ident { #(#names),* } = Default::default();
                    Self { #(#names),* }
                }
            }
        }
    });

    let mut bounds = where_clause
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(where));
    bounds
        .predicates
        .push(syn::parse_quote!(#copy #ty_generics: #schemars::JsonSchema));

    let validate_cel = container.cel.then(|| {
        let serde_json = &crates.serde_json;
        quote! {
            impl #impl_generics #ident #ty_generics #where_clause {
                /// Checks `value` (this type serialized to JSON) against the
                /// CEL rules of this type's schema, without an apiserver;
                /// `old` is the previous value, for rules comparing with
                /// `oldSelf`, or `None` for a creation.
                pub fn validate_cel(
                    value: &#serde_json::Value,
                    old: #std::option::Option<&#serde_json::Value>,
                ) -> #std::result::Result<(), #kube_core::cel::ValidationErrors> {
                    #kube_core::cel::validate_cel_schema::<Self>(value, old)
                }
            }
        }
    });

    Ok(quote! {
        #validate_cel

        const _: () = {
            #[derive(#schemars::JsonSchema)]
            #[schemars(crate = #schemars_str)]
            #rename
            #(#container_attrs)*
            #(#container_transforms)*
            #[allow(dead_code)]
            struct #copy #generics #where_clause {
                #(#copied_fields),*
            }

            #default_impl

            impl #impl_generics #schemars::JsonSchema for #ident #ty_generics #bounds {
                fn schema_name() -> #std::borrow::Cow<'static, str> {
                    <#copy #ty_generics as #schemars::JsonSchema>::schema_name()
                }

                fn schema_id() -> #std::borrow::Cow<'static, str> {
                    <#copy #ty_generics as #schemars::JsonSchema>::schema_id()
                }

                fn inline_schema() -> bool {
                    <#copy #ty_generics as #schemars::JsonSchema>::inline_schema()
                }

                fn json_schema(generator: &mut #schemars::SchemaGenerator) -> #schemars::Schema {
                    <#copy #ty_generics as #schemars::JsonSchema>::json_schema(generator)
                }
            }
        };
    })
}
