//! Small parsers shared by the derives' attribute readers.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{
    Attribute, Expr, ExprLit, Ident, Lit, LitBool, LitStr, Meta, Path, Result, Token, Type,
    meta::ParseNestedMeta,
    parse::{ParseStream, Parser},
    punctuated::Punctuated,
};

/// The paths generated code uses to reach the crates it needs.
///
/// Everything defaults to the `kube` facade's re-exports (`::kube::core`,
/// `::kube::core::k8s_openapi`, ...). Overriding `kube` moves the default of
/// `kube_core` to `<kube>::core`, and overriding `kube_core` moves the
/// defaults of the crates it re-exports along with it.
#[derive(Clone)]
pub(crate) struct Crates {
    pub kube_core: Path,
    pub k8s_openapi: Path,
    pub schemars: Path,
    pub serde: Path,
    pub serde_json: Path,
    pub std: Path,
}

/// `crates(...)` as written, before defaults are filled in.
#[derive(Default)]
pub(crate) struct CratesAttr {
    kube: Option<Path>,
    kube_core: Option<Path>,
    k8s_openapi: Option<Path>,
    schemars: Option<Path>,
    serde: Option<Path>,
    serde_json: Option<Path>,
    std: Option<Path>,
}

impl CratesAttr {
    /// Parses the inside of `crates(...)`, accepting only the keys in `allowed`.
    pub fn parse(&mut self, meta: &ParseNestedMeta, allowed: &[&str]) -> Result<()> {
        meta.parse_nested_meta(|inner| {
            let key = key_of(&inner)?;
            let slot = match key.as_str() {
                _ if !allowed.contains(&key.as_str()) => None,
                "kube" => Some(&mut self.kube),
                "kube_core" => Some(&mut self.kube_core),
                "k8s_openapi" => Some(&mut self.k8s_openapi),
                "schemars" => Some(&mut self.schemars),
                "serde" => Some(&mut self.serde),
                "serde_json" => Some(&mut self.serde_json),
                "std" => Some(&mut self.std),
                _ => None,
            };
            let Some(slot) = slot else {
                return Err(unknown_key(&inner, &key, "`crates(...)`", allowed));
            };
            if slot.is_some() {
                return Err(inner.error(format!("`{key}` is given twice in `crates(...)`")));
            }
            *slot = Some(path_value(&inner, &key)?);
            Ok(())
        })
    }

    /// The paths, with defaults for what was not given.
    pub fn resolve(self) -> Crates {
        let kube_core = match (self.kube_core, self.kube) {
            (Some(kube_core), _) => kube_core,
            (None, Some(kube)) => syn::parse_quote!(#kube::core),
            (None, None) => syn::parse_quote!(::kube::core),
        };
        let under = |name: &str| -> Path {
            let ident = Ident::new(name, Span::call_site());
            syn::parse_quote!(#kube_core::#ident)
        };
        Crates {
            k8s_openapi: self.k8s_openapi.unwrap_or_else(|| under("k8s_openapi")),
            schemars: self.schemars.unwrap_or_else(|| under("schemars")),
            serde: self.serde.unwrap_or_else(|| under("serde")),
            serde_json: self.serde_json.unwrap_or_else(|| under("serde_json")),
            std: self.std.unwrap_or_else(|| syn::parse_quote!(::std)),
            kube_core,
        }
    }
}

/// The key of a nested meta item as a string (`group` in `group = "..."`).
pub(crate) fn key_of(meta: &ParseNestedMeta) -> Result<String> {
    meta.path
        .get_ident()
        .map(Ident::to_string)
        .ok_or_else(|| meta.error("expected a plain key such as `group`, not a path"))
}

/// Runs `handler` on each item of an attribute like `#[kube(a = "..", b(..), c)]`
/// on its own, so that a mistake in one item still lets the others be read and
/// checked: every mistake is reported at once, and none hides behind another.
///
/// Returns `false` when the attribute could not even be split into items (its
/// syntax error is then in `errors`), so nothing is known about its keys.
pub(crate) fn for_each_item(
    attr: &Attribute,
    errors: &mut Errors,
    mut handler: impl FnMut(&ParseNestedMeta) -> Result<()>,
) -> bool {
    let items = match attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
        Ok(items) => items,
        Err(err) => {
            errors.push(err);
            return false;
        }
    };
    for item in items {
        let parser = syn::meta::parser(|meta| handler(&meta));
        if let Err(err) = parser.parse2(item.into_token_stream()) {
            errors.push(err);
        }
    }
    true
}

/// The error for a key the attribute does not know, suggesting the closest
/// known key when the unknown one looks like a typo of it.
pub(crate) fn unknown_key(
    meta: &ParseNestedMeta,
    key: &str,
    attribute: &str,
    keys: &[&str],
) -> syn::Error {
    match did_you_mean(key, keys) {
        Some(close) => meta.error(format!(
            "unknown key `{key}` in {attribute}: did you mean `{close}`?"
        )),
        None => meta.error(format!(
            "unknown key `{key}` in {attribute}: expected {}",
            one_of(keys)
        )),
    }
}

/// The candidate `word` most likely is a typo of: the same but for case,
/// `_` or `-`, or at most a couple of letters apart.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let normalize = |s: &str| s.to_ascii_lowercase().replace(['_', '-'], "");
    let wanted = normalize(word);
    if let Some(same) = candidates.iter().find(|c| normalize(c) == wanted) {
        return Some(same);
    }
    let tolerance = (word.chars().count() / 4).clamp(1, 2);
    candidates
        .iter()
        .map(|c| (edit_distance(&wanted, &normalize(c)), *c))
        .filter(|(distance, _)| *distance <= tolerance)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// Levenshtein distance: the fewest insertions, deletions and substitutions
/// turning `a` into `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            let deletion = previous[j + 1] + 1;
            let insertion = current[j] + 1;
            current.push(substitution.min(deletion).min(insertion));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Lists keys for an error message: "`a`, `b` or `c`".
pub(crate) fn one_of(keys: &[&str]) -> String {
    match keys {
        [] => String::new(),
        [only] => format!("`{only}`"),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|k| format!("`{k}`")).collect();
            format!("{} or `{last}`", init.join(", "))
        }
    }
}

/// `key = "string"`.
pub(crate) fn string_value(meta: &ParseNestedMeta, key: &str) -> Result<LitStr> {
    let value = meta.value()?;
    parse_string(value, key)
}

fn parse_string(input: ParseStream, key: &str) -> Result<LitStr> {
    let expr: Expr = input.parse()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` takes a string literal, e.g. `{key} = \"...\"`"),
        )),
    }
}

/// `flag`, `flag = true` or `flag = false`.
pub(crate) fn flag_value(meta: &ParseNestedMeta, key: &str) -> Result<bool> {
    if !meta.input.peek(Token![=]) {
        return Ok(true);
    }
    let value = meta.value()?;
    let expr: Expr = value.parse()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(LitBool { value, .. }),
            ..
        }) => Ok(value),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` takes `true` or `false`, or no value at all (meaning `true`)"),
        )),
    }
}

/// `key = "path::to::Thing"` or `key = path::to::Thing`.
pub(crate) fn path_value(meta: &ParseNestedMeta, key: &str) -> Result<Path> {
    let value = meta.value()?;
    if value.peek(LitStr) {
        let lit: LitStr = value.parse()?;
        lit.parse::<Path>().map_err(|_| {
            syn::Error::new(
                lit.span(),
                format!("`{key}` must be a path, e.g. `{key} = \"::my_crate::path\"`"),
            )
        })
    } else {
        value.parse::<Path>().map_err(|err| {
            syn::Error::new(
                err.span(),
                format!("`{key}` must be a path, e.g. `{key} = \"::my_crate::path\"`"),
            )
        })
    }
}

/// `key = "Type"` or `key = Type`; `what` describes the expected type in errors.
pub(crate) fn type_value(meta: &ParseNestedMeta, key: &str, what: &str) -> Result<Type> {
    let value = meta.value()?;
    let error = |span: Span| {
        syn::Error::new(
            span,
            format!("`{key}` must name a type: {what}, e.g. `{key} = \"FooStatus\"`"),
        )
    };
    if value.peek(LitStr) {
        let lit: LitStr = value.parse()?;
        match lit.parse::<Type>() {
            Ok(ty @ (Type::Path(_) | Type::Tuple(_))) => Ok(ty),
            _ => Err(error(lit.span())),
        }
    } else {
        let expr: Expr = value.parse()?;
        let tokens = quote::ToTokens::to_token_stream(&expr);
        match syn::parse2::<Type>(tokens) {
            Ok(ty @ Type::Path(_)) => Ok(ty),
            _ => Err(syn::Error::new_spanned(
                expr,
                format!("`{key}` must name a type: {what}, e.g. `{key} = \"FooStatus\"`"),
            )),
        }
    }
}

/// `key = <expression>`.
pub(crate) fn expr_value(meta: &ParseNestedMeta) -> Result<Expr> {
    meta.value()?.parse()
}

/// `key("a", "b")`: a pair of strings.
pub(crate) fn string_pair(meta: &ParseNestedMeta, key: &str) -> Result<(LitStr, LitStr)> {
    let usage = format!("`{key}` takes a key and a value: `{key}(\"key\", \"value\")`");
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(usage));
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let first: LitStr = content
        .parse()
        .map_err(|err| syn::Error::new(err.span(), &usage))?;
    let _: Token![,] = content
        .parse()
        .map_err(|err| syn::Error::new(err.span(), &usage))?;
    let second: LitStr = content
        .parse()
        .map_err(|err| syn::Error::new(err.span(), &usage))?;
    let _: Option<Token![,]> = content.parse()?;
    if !content.is_empty() {
        return Err(content.error(usage));
    }
    Ok((first, second))
}

/// Collects errors so one expansion can report them all.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(existing) => existing.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn finish(self) -> Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_but_not_strangers() {
        let keys = ["shortname", "singular", "status", "selectable", "scale"];
        assert_eq!(did_you_mean("shortnames", &keys), Some("shortname"));
        assert_eq!(did_you_mean("short_name", &keys), Some("shortname"));
        assert_eq!(did_you_mean("Status", &keys), Some("status"));
        assert_eq!(did_you_mean("selectible", &keys), Some("selectable"));
        assert_eq!(did_you_mean("frobnicate", &keys), None);
        assert_eq!(did_you_mean("x", &keys), None);
    }

    #[test]
    fn edit_distance_counts_single_changes() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn key_lists_read_as_prose() {
        assert_eq!(one_of(&[]), "");
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }

    #[test]
    fn every_item_is_read_even_after_a_bad_one() {
        let attr: Attribute = syn::parse_quote!(#[kube(a = 1, b = "x", c)]);
        let mut errors = Errors::default();
        let mut seen = Vec::new();
        let readable = for_each_item(&attr, &mut errors, |meta| {
            let key = key_of(meta)?;
            seen.push(key.clone());
            if key == "a" {
                return Err(meta.error("bad a"));
            }
            if meta.input.peek(Token![=]) {
                let _: Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
        assert!(readable);
        assert_eq!(seen, ["a", "b", "c"]);
        let error = errors.finish().expect_err("one bad item");
        assert_eq!(error.to_string(), "bad a");

        let broken: Attribute = syn::parse_quote!(#[kube]);
        let mut errors = Errors::default();
        assert!(!for_each_item(&broken, &mut errors, |_| Ok(())));
        assert!(!errors.is_empty());
    }
}
