//! User expressions in `validation = ...` and `merge_strategy = ...`, placed
//! where they can name the CEL types without importing them.

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::{Expr, Path};

/// The names an expression may use without importing them.
const NAMES: &[&str] = &[
    "ListMerge",
    "MapMerge",
    "Message",
    "Reason",
    "Rule",
    "StructMerge",
];

/// `expr` in a scope where those of `Rule`, `Message`, `Reason`, `ListMerge`,
/// `MapMerge` and `StructMerge` it mentions name `kube_core`'s types.
///
/// The names of the module the derive is in are brought into an inner block
/// again, so they still win: a `Rule` of the user's own is not replaced by
/// ours. (Items declared inside a function around the derive do not win: only
/// module-level names can be brought in this way.)
pub(crate) fn with_cel_names(expr: &Expr, kube_core: &Path) -> TokenStream {
    let tokens = expr.to_token_stream();
    let mut used = BTreeSet::new();
    collect_names(tokens.clone(), &mut used);
    if used.is_empty() {
        return tokens;
    }
    let used = used
        .into_iter()
        .map(|name| Ident::new(name, Span::call_site()));
    quote! {{
        #[allow(unused_imports)]
        use #kube_core::cel::{#(#used),*};
        {
            #[allow(unused_imports)]
            use self::*;
            #tokens
        }
    }}
}

/// Which of [`NAMES`] appear in `tokens`.
fn collect_names(tokens: TokenStream, used: &mut BTreeSet<&'static str>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                if let Some(name) = NAMES.iter().find(|name| ident == **name) {
                    used.insert(name);
                }
            }
            TokenTree::Group(group) => collect_names(group.stream(), used),
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
}

/// A `validation = ...` value as a `Rule`: a string literal is the rule's
/// expression, anything else converts into a `Rule`.
pub(crate) fn rule_expr(expr: &Expr, kube_core: &Path) -> TokenStream {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => quote!(#kube_core::cel::Rule::new(#lit)),
        other => {
            let other = with_cel_names(other, kube_core);
            quote!(#kube_core::cel::Rule::from(#other))
        }
    }
}

/// A `merge_strategy = ...` value as a `MergeStrategy`.
pub(crate) fn merge_strategy_expr(expr: &Expr, kube_core: &Path) -> TokenStream {
    let expr = with_cel_names(expr, kube_core);
    quote!(#kube_core::cel::MergeStrategy::from(#expr))
}
