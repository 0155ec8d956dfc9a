//! Reading `#[kube(...)]`.
//!
//! Every item of every `#[kube(...)]` attribute is read on its own, so all
//! mistakes are reported in one compilation, each at the item it concerns.
//! Values the apiserver would refuse (a version like `V1`, a printer column of
//! an unknown type, a scale path outside `.spec`) are refused here already.

use std::collections::BTreeSet;

use proc_macro2::Span;
use syn::{
    Attribute, Expr, Ident, LitStr, Meta, Path, Result, Type, meta::ParseNestedMeta,
    spanned::Spanned,
};

use super::{
    names::{group_problem, kind_problem, resource_name_problem, version_problem},
    printcolumn::{self, PrintColumn},
    scale::{self, Scale},
};
use crate::parse::{
    Crates, CratesAttr, Errors, did_you_mean, expr_value, flag_value, for_each_item, key_of,
    one_of, path_value, string_pair, string_value, type_value, unknown_key,
};

const KEYS: &[&str] = &[
    "group",
    "version",
    "kind",
    "namespaced",
    "status",
    "root",
    "plural",
    "singular",
    "shortname",
    "category",
    "printcolumn",
    "scale",
    "selectable",
    "derive",
    "attr",
    "schema",
    "doc",
    "annotation",
    "label",
    "storage",
    "served",
    "deprecated",
    "validation",
    "cel",
    "no_spec",
    "crates",
];

const CRATES: &[&str] = &[
    "kube",
    "kube_core",
    "k8s_openapi",
    "schemars",
    "serde",
    "serde_json",
    "std",
];

/// How the schema of the custom resource comes about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SchemaMode {
    /// `JsonSchema` is derived for the root type from the spec's and status' impls.
    Derived,
    /// The user implements `JsonSchema` for the root type.
    Manual,
    /// The definition has no schema.
    Disabled,
}

impl SchemaMode {
    const NAMES: &[&str] = &["derived", "manual", "disabled"];

    fn name(self) -> &'static str {
        match self {
            Self::Derived => "derived",
            Self::Manual => "manual",
            Self::Disabled => "disabled",
        }
    }
}

/// Everything `#[kube(...)]` says.
pub(crate) struct KubeAttrs {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub root: Ident,
    pub namespaced: bool,
    pub status: Option<Type>,
    pub plural: Option<String>,
    pub singular: Option<String>,
    pub shortnames: Vec<String>,
    pub categories: Vec<String>,
    pub printcolumns: Vec<PrintColumn>,
    pub scale: Option<Scale>,
    pub selectable: Vec<String>,
    pub derives: Vec<Path>,
    pub attrs: Vec<Meta>,
    pub schema: SchemaMode,
    pub doc: Option<String>,
    pub annotations: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub storage: bool,
    pub served: bool,
    pub deprecated: Option<Option<String>>,
    pub validations: Vec<Expr>,
    /// `cel`: generate `validate_cel` and `validate_cel_update`.
    pub cel: bool,
    /// `no_spec`: the spec's fields sit at the root of the object.
    pub no_spec: bool,
    pub crates: Crates,
}

/// Attributes as they are read, before required keys are checked.
#[derive(Default)]
struct Partial {
    /// Every key met, valid or not: a key given with a wrong value is not
    /// reported missing on top of its own error.
    given: BTreeSet<String>,
    group: Option<String>,
    version: Option<String>,
    kind: Option<LitStr>,
    root: Option<Ident>,
    namespaced: Option<bool>,
    status: Option<Type>,
    plural: Option<String>,
    singular: Option<String>,
    shortnames: Vec<String>,
    categories: Vec<String>,
    printcolumns: Vec<PrintColumn>,
    scale: Option<Scale>,
    selectable: Vec<String>,
    derives: Vec<Path>,
    attrs: Vec<Meta>,
    schema: Option<SchemaMode>,
    doc: Option<String>,
    annotations: Vec<(String, String)>,
    labels: Vec<(String, String)>,
    storage: Option<bool>,
    served: Option<bool>,
    deprecated: Option<Option<String>>,
    validations: Vec<Expr>,
    cel: Option<bool>,
    /// Where `cel` was written, for errors about it.
    cel_at: Option<Span>,
    no_spec: Option<bool>,
    crates: CratesAttr,
    crates_given: bool,
}

/// Reads every `#[kube(...)]` attribute of the spec struct.
pub(crate) fn parse(attrs: &[Attribute], spec: &Ident) -> Result<KubeAttrs> {
    let mut errors = Errors::default();
    let mut partial = Partial::default();
    let kube_attrs: Vec<&Attribute> = attrs.iter().filter(|a| a.path().is_ident("kube")).collect();
    let Some(first_attr) = kube_attrs.first() else {
        return Err(syn::Error::new(
            spec.span(),
            "#[derive(CustomResource)] needs to know what it derives: add `#[kube(group = \"example.com\", version = \"v1\", kind = \"Foo\")]`",
        ));
    };
    let mut all_readable = true;
    for attr in &kube_attrs {
        all_readable &= for_each_item(attr, &mut errors, |meta| partial.entry(meta));
    }

    let missing: Vec<&str> = ["group", "version", "kind"]
        .into_iter()
        .filter(|key| !partial.given.contains(*key))
        .collect();
    if !missing.is_empty() && all_readable {
        let list = one_of(&missing).replace(" or ", " and ");
        errors.push(syn::Error::new_spanned(
            &first_attr.meta,
            format!(
                "#[kube(...)] needs {list}, e.g. `#[kube(group = \"example.com\", version = \"v1\", kind = \"Foo\")]`"
            ),
        ));
    }

    let root = root_ident(partial.root.take(), partial.kind.as_ref(), &mut errors);
    let schema = partial.schema.unwrap_or(SchemaMode::Derived);
    check_validations(schema, &partial.validations, &mut errors);
    if let (Some(true), Some(at)) = (partial.cel, partial.cel_at) {
        check_cel(schema, at, &mut errors);
    }
    check_derives(schema, &partial.derives, &mut errors);

    errors.finish()?;
    let (Some(group), Some(version), Some(kind), Some(root)) =
        (partial.group, partial.version, partial.kind, root)
    else {
        // Unreachable: a missing key or an invalid value was reported above.
        return Err(syn::Error::new(spec.span(), "#[kube(...)] is incomplete"));
    };
    Ok(KubeAttrs {
        group,
        version,
        kind: kind.value(),
        root,
        namespaced: partial.namespaced.unwrap_or(false),
        status: partial.status,
        plural: partial.plural,
        singular: partial.singular,
        shortnames: partial.shortnames,
        categories: partial.categories,
        printcolumns: partial.printcolumns,
        scale: partial.scale,
        selectable: partial.selectable,
        derives: partial.derives,
        attrs: partial.attrs,
        schema,
        doc: partial.doc,
        annotations: partial.annotations,
        labels: partial.labels,
        storage: partial.storage.unwrap_or(true),
        served: partial.served.unwrap_or(true),
        deprecated: partial.deprecated,
        validations: partial.validations,
        cel: partial.cel.unwrap_or(false),
        no_spec: partial.no_spec.unwrap_or(false),
        crates: partial.crates.resolve(),
    })
}

/// The name of the generated type: `root`, or else the kind.
///
/// It is spanned at the derive rather than at the string it comes from: rustc
/// would otherwise suggest edits inside that string in its own errors.
fn root_ident(root: Option<Ident>, kind: Option<&LitStr>, errors: &mut Errors) -> Option<Ident> {
    match (root, kind) {
        (Some(mut root), _) => {
            root.set_span(Span::call_site());
            Some(root)
        }
        (None, Some(kind)) => match syn::parse_str::<Ident>(&kind.value()) {
            Ok(_) => Some(Ident::new(&kind.value(), Span::call_site())),
            Err(_) => {
                errors.push(syn::Error::new(
                    kind.span(),
                    format!(
                        "kind \"{}\" cannot name the generated type: name it with `root = \"...\"`",
                        kind.value()
                    ),
                ));
                None
            }
        },
        (None, None) => None,
    }
}

/// `validation` rules go into the derived schema, so they need one.
fn check_validations(schema: SchemaMode, validations: &[Expr], errors: &mut Errors) {
    let advice = match schema {
        SchemaMode::Derived => return,
        SchemaMode::Manual => {
            "add the rule in your own `JsonSchema` impl instead (see `kube::core::cel::validate`)"
        }
        SchemaMode::Disabled => "remove the rule, or let the schema be derived",
    };
    for rule in validations {
        errors.push(syn::Error::new_spanned(
            rule,
            format!(
                "`validation` adds a rule to the derived schema, which `schema = \"{}\"` turns off: {advice}",
                schema.name()
            ),
        ));
    }
}

/// `cel` checks the rules of the derived schema, so it needs one.
fn check_cel(schema: SchemaMode, at: Span, errors: &mut Errors) {
    if schema != SchemaMode::Derived {
        errors.push(syn::Error::new(
            at,
            format!(
                "`cel` checks the rules of the derived schema, which `schema = \"{}\"` turns off: remove `cel`, or let the schema be derived",
                schema.name()
            ),
        ));
    }
}

/// Refuses `derive`s of traits the derive implements itself.
fn check_derives(schema: SchemaMode, derives: &[Path], errors: &mut Errors) {
    for derive in derives {
        let name = derive
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let problem = match name.as_str() {
            "Serialize" | "Deserialize" => format!(
                "`{name}` is always implemented for the generated type: remove it from `derive`"
            ),
            "JsonSchema" if schema == SchemaMode::Derived => {
                "`JsonSchema` is already implemented for the generated type; use `schema = \"manual\"` to write it yourself"
                    .to_string()
            }
            _ => continue,
        };
        errors.push(syn::Error::new_spanned(derive, problem));
    }
}

impl Partial {
    fn entry(&mut self, meta: &ParseNestedMeta) -> Result<()> {
        let key = key_of(meta)?;
        self.given.insert(key.clone());
        match key.as_str() {
            "group" => {
                let value = checked_string(meta, &key, group_problem)?;
                set_once(meta, &key, &mut self.group, value)
            }
            "version" => {
                let value = checked_string(meta, &key, version_problem)?;
                set_once(meta, &key, &mut self.version, value)
            }
            "kind" => {
                let lit = string_value(meta, &key)?;
                check(&lit, kind_problem)?;
                set_once(meta, &key, &mut self.kind, lit)
            }
            "plural" => {
                let value = checked_string(meta, &key, |v| resource_name_problem("plural", v))?;
                set_once(meta, &key, &mut self.plural, value)
            }
            "singular" => {
                let value = checked_string(meta, &key, |v| resource_name_problem("singular", v))?;
                set_once(meta, &key, &mut self.singular, value)
            }
            "shortname" => {
                let value = checked_string(meta, &key, |v| resource_name_problem("shortname", v))?;
                self.shortnames.push(value);
                Ok(())
            }
            "namespaced" => set_once(meta, &key, &mut self.namespaced, flag_value(meta, &key)?),
            "storage" => set_once(meta, &key, &mut self.storage, flag_value(meta, &key)?),
            "served" => set_once(meta, &key, &mut self.served, flag_value(meta, &key)?),
            "root" => {
                let lit = string_value(meta, &key)?;
                let ident = lit.parse::<Ident>().map_err(|_| {
                    syn::Error::new(
                        lit.span(),
                        "`root` must be a type name, e.g. `root = \"FooResource\"`",
                    )
                })?;
                set_once(meta, &key, &mut self.root, ident)
            }
            "status" => {
                let ty = type_value(meta, &key, "the status struct")?;
                set_once(meta, &key, &mut self.status, ty)
            }
            "doc" => {
                let doc = string_value(meta, &key)?.value();
                set_once(meta, &key, &mut self.doc, doc)
            }
            "category" => {
                self.categories.push(string_value(meta, &key)?.value());
                Ok(())
            }
            "selectable" => {
                let lit = string_value(meta, &key)?;
                check(&lit, |path| json_path_problem(&key, path))?;
                self.selectable.push(lit.value());
                Ok(())
            }
            "derive" => {
                self.derives.push(path_value(meta, &key)?);
                Ok(())
            }
            "attr" => {
                let lit = string_value(meta, &key)?;
                self.attrs.push(root_attr(&lit)?);
                Ok(())
            }
            "schema" => {
                let lit = string_value(meta, &key)?;
                let mode = match lit.value().as_str() {
                    "derived" => SchemaMode::Derived,
                    "manual" => SchemaMode::Manual,
                    "disabled" => SchemaMode::Disabled,
                    other => {
                        let hint = match did_you_mean(other, SchemaMode::NAMES) {
                            Some(close) => format!("did you mean \"{close}\"?"),
                            None => {
                                "expected \"derived\" (the default), \"manual\" or \"disabled\""
                                    .to_string()
                            }
                        };
                        return Err(syn::Error::new(
                            lit.span(),
                            format!("unknown schema mode \"{other}\": {hint}"),
                        ));
                    }
                };
                set_once(meta, &key, &mut self.schema, mode)
            }
            "annotation" => {
                let (k, v) = string_pair(meta, &key)?;
                self.annotations.push((k.value(), v.value()));
                Ok(())
            }
            "label" => {
                let (k, v) = string_pair(meta, &key)?;
                self.labels.push((k.value(), v.value()));
                Ok(())
            }
            "deprecated" => {
                let warning = if meta.input.peek(syn::Token![=]) {
                    Some(string_value(meta, &key).map_err(|err| {
                        syn::Error::new(
                            err.span(),
                            "`deprecated` takes no value or a warning for clients, e.g. `deprecated = \"use v2\"`",
                        )
                    })?)
                } else {
                    None
                };
                set_once(meta, &key, &mut self.deprecated, warning.map(|w| w.value()))
            }
            "validation" => {
                self.validations.push(expr_value(meta)?);
                Ok(())
            }
            "printcolumn" => {
                let column = if meta.input.peek(syn::Token![=]) {
                    printcolumn::from_json(&string_value(meta, &key)?)?
                } else {
                    printcolumn::from_meta(meta)?
                };
                self.printcolumns.push(column);
                Ok(())
            }
            "scale" => {
                let scale = if meta.input.peek(syn::Token![=]) {
                    scale::from_json(&string_value(meta, &key)?)?
                } else {
                    scale::from_meta(meta)?
                };
                set_once(meta, &key, &mut self.scale, scale)
            }
            "crates" => {
                if self.crates_given {
                    return Err(meta.error("`crates(...)` is given twice: list every crate in one"));
                }
                self.crates_given = true;
                self.crates.parse(meta, CRATES)
            }
            "no_spec" => set_once(meta, &key, &mut self.no_spec, flag_value(meta, &key)?),
            "cel" => {
                self.cel_at = Some(meta.path.span());
                set_once(meta, &key, &mut self.cel, flag_value(meta, &key)?)
            }
            _ => Err(unknown_key(meta, &key, "#[kube(...)]", KEYS)),
        }
    }
}

pub(super) fn set_once<T>(
    meta: &ParseNestedMeta,
    key: &str,
    slot: &mut Option<T>,
    value: T,
) -> Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("`{key}` is given twice: keep one")));
    }
    *slot = Some(value);
    Ok(())
}

/// Refuses `lit` with the message `problem` finds, if it finds one.
pub(super) fn check(lit: &LitStr, problem: impl Fn(&str) -> Option<String>) -> Result<()> {
    match problem(&lit.value()) {
        Some(message) => Err(syn::Error::new(lit.span(), message)),
        None => Ok(()),
    }
}

/// `key = "..."`, checked with `problem`.
pub(super) fn checked_string(
    meta: &ParseNestedMeta,
    key: &str,
    problem: impl Fn(&str) -> Option<String>,
) -> Result<String> {
    let lit = string_value(meta, key)?;
    check(&lit, problem)?;
    Ok(lit.value())
}

/// An `attr = "..."` entry, refusing what would not work on the generated type.
fn root_attr(lit: &LitStr) -> Result<Meta> {
    let meta: Meta = lit.parse().map_err(|_| {
        syn::Error::new(
            lit.span(),
            "`attr` takes the inside of an attribute, e.g. `attr = \"allow(clippy::large_enum_variant)\"`",
        )
    })?;
    if meta.path().is_ident("derive") {
        return Err(syn::Error::new(
            lit.span(),
            "derive traits on the generated type with `derive = \"Trait\"`, not `attr`",
        ));
    }
    for (name, what) in [("serde", "serde impls"), ("schemars", "schema")] {
        if meta.path().is_ident(name) {
            return Err(syn::Error::new(
                lit.span(),
                format!(
                    "the derive writes the generated type's {what}: `{name}` attributes on it would have no effect"
                ),
            ));
        }
    }
    Ok(meta)
}

pub(super) fn json_path_problem(key: &str, path: &str) -> Option<String> {
    (!path.starts_with('.')).then(|| {
        format!(
            "`{key}` must be a JSON path starting with `.`, e.g. \".spec.name\", not \"{path}\""
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_struct(input: syn::DeriveInput) -> Result<KubeAttrs> {
        parse(&input.attrs, &input.ident)
    }

    #[test]
    fn defaults_apply_to_what_is_not_said() {
        let attrs = parse_struct(syn::parse_quote! {
            #[kube(group = "example.com", version = "v1", kind = "Foo")]
            struct FooSpec {}
        })
        .expect("valid");
        assert_eq!(attrs.root, "Foo");
        assert!(!attrs.namespaced);
        assert!(attrs.served && attrs.storage);
        assert_eq!(attrs.schema, SchemaMode::Derived);
        assert!(attrs.status.is_none() && attrs.scale.is_none() && attrs.deprecated.is_none());
        assert!(attrs.plural.is_none() && attrs.singular.is_none());
        let kube_core = &attrs.crates.kube_core;
        assert_eq!(quote::quote!(#kube_core).to_string(), ":: kube :: core");
    }

    #[test]
    fn repeated_keys_collect_in_order_across_attributes() {
        let attrs = parse_struct(syn::parse_quote! {
            #[kube(group = "example.com", version = "v1", kind = "Foo", shortname = "f")]
            #[kube(shortname = "fo", category = "all", category = "mine")]
            #[kube(label("a", "1"), label("b", "2"), annotation("c", "3"))]
            #[kube(selectable = ".spec.a", selectable = ".spec.b", derive = "PartialEq")]
            struct FooSpec {}
        })
        .expect("valid");
        assert_eq!(attrs.shortnames, ["f", "fo"]);
        assert_eq!(attrs.categories, ["all", "mine"]);
        assert_eq!(
            attrs.labels,
            [("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(attrs.annotations, [("c".into(), "3".into())]);
        assert_eq!(attrs.selectable, [".spec.a", ".spec.b"]);
        assert_eq!(attrs.derives.len(), 1);
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let error = parse_struct(syn::parse_quote! {
            #[kube(group = "example", version = "v1", kind = "Foo", namespaced = "yes")]
            #[kube(plural = "Foos", shortnames = "f", schema = "none")]
            struct FooSpec {}
        })
        .err()
        .expect("five mistakes");
        let messages: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 5, "{messages:#?}");
        assert!(messages[0].starts_with("group \"example\" needs at least one dot"));
        assert!(messages[1].starts_with("`namespaced` takes `true` or `false`"));
        assert!(messages[2].starts_with("plural \"Foos\" is not a valid resource name"));
        assert_eq!(
            messages[3],
            "unknown key `shortnames` in #[kube(...)]: did you mean `shortname`?"
        );
        assert!(messages[4].starts_with("unknown schema mode \"none\""));
    }

    #[test]
    fn a_key_given_with_a_bad_value_is_not_also_missing() {
        let error = parse_struct(syn::parse_quote! {
            #[kube(group = 1, version = "v1", kind = "Foo")]
            struct FooSpec {}
        })
        .err()
        .expect("bad group");
        let messages: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(
            messages,
            ["`group` takes a string literal, e.g. `group = \"...\"`"]
        );
    }

    #[test]
    fn structured_and_json_forms_agree() {
        let structured = parse_struct(syn::parse_quote! {
            #[kube(group = "example.com", version = "v1", kind = "Foo")]
            #[kube(printcolumn(name = "N", type_ = "string", json_path = ".spec.n", description = "d", format = "f", priority = 3))]
            #[kube(scale(spec_replicas_path = ".spec.r", status_replicas_path = ".status.r", label_selector_path = ".status.s"))]
            struct FooSpec {}
        })
        .expect("valid");
        let json = parse_struct(syn::parse_quote! {
            #[kube(group = "example.com", version = "v1", kind = "Foo")]
            #[kube(printcolumn = r#"{"name": "N", "type": "string", "jsonPath": ".spec.n", "description": "d", "format": "f", "priority": 3}"#)]
            #[kube(scale = r#"{"specReplicasPath": ".spec.r", "statusReplicasPath": ".status.r", "labelSelectorPath": ".status.s"}"#)]
            struct FooSpec {}
        })
        .expect("valid");
        for attrs in [&structured, &json] {
            let column = &attrs.printcolumns[0];
            assert_eq!(
                (
                    column.name.as_str(),
                    column.type_.as_str(),
                    column.json_path.as_str(),
                    column.description.as_deref(),
                    column.format.as_deref(),
                    column.priority
                ),
                ("N", "string", ".spec.n", Some("d"), Some("f"), Some(3))
            );
            let scale = attrs.scale.as_ref().expect("scale");
            assert_eq!(
                (
                    scale.spec_replicas_path.as_str(),
                    scale.status_replicas_path.as_str(),
                    scale.label_selector_path.as_deref()
                ),
                (".spec.r", ".status.r", Some(".status.s"))
            );
        }
    }
}
