//! Reading `#[kube(...)]`.

use proc_macro2::Span;
use serde_json::Value;
use syn::{
    Attribute, Expr, Ident, LitStr, Meta, Path, Result, Type, meta::ParseNestedMeta,
    spanned::Spanned,
};

use crate::parse::{
    Crates, CratesAttr, Errors, expr_value, flag_value, key_of, one_of, path_value, string_pair,
    string_value, type_value,
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
    "crates",
];

const CRATES: &[&str] = &["kube_core", "k8s_openapi", "schemars", "serde", "serde_json"];

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

/// One printer column.
pub(crate) struct PrintColumn {
    pub name: String,
    pub type_: String,
    pub json_path: String,
    pub description: Option<String>,
    pub format: Option<String>,
    pub priority: Option<i32>,
}

/// The scale subresource's paths.
pub(crate) struct Scale {
    pub spec_replicas_path: String,
    pub status_replicas_path: String,
    pub label_selector_path: Option<String>,
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
    pub crates: Crates,
}

/// Attributes as they are read, before required keys are checked.
#[derive(Default)]
struct Partial {
    group: Option<LitStr>,
    version: Option<LitStr>,
    kind: Option<LitStr>,
    root: Option<Ident>,
    namespaced: Option<bool>,
    status: Option<Type>,
    plural: Option<LitStr>,
    singular: Option<LitStr>,
    shortnames: Vec<String>,
    categories: Vec<String>,
    printcolumns: Vec<PrintColumn>,
    scale: Option<Scale>,
    selectable: Vec<String>,
    derives: Vec<Path>,
    attrs: Vec<Meta>,
    schema: Option<(SchemaMode, Span)>,
    doc: Option<String>,
    annotations: Vec<(String, String)>,
    labels: Vec<(String, String)>,
    storage: Option<bool>,
    served: Option<bool>,
    deprecated: Option<Option<String>>,
    validations: Vec<Expr>,
    crates: CratesAttr,
    seen_crates: bool,
}

/// Reads every `#[kube(...)]` attribute of the spec struct.
pub(crate) fn parse(attrs: &[Attribute], spec: &Ident) -> Result<KubeAttrs> {
    let mut errors = Errors::default();
    let mut partial = Partial::default();
    let mut first_attr: Option<Span> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("kube")) {
        first_attr.get_or_insert_with(|| attr.span());
        if let Err(err) = attr.parse_nested_meta(|meta| partial.entry(&meta)) {
            errors.push(err);
        }
    }
    let Some(attr_span) = first_attr else {
        return Err(syn::Error::new(
            spec.span(),
            "#[derive(CustomResource)] needs a `#[kube(group = \"...\", version = \"...\", kind = \"...\")]` attribute",
        ));
    };

    let mut required = |value: &Option<LitStr>, key: &str, example: &str| -> String {
        match value {
            Some(lit) if !lit.value().is_empty() => lit.value(),
            Some(lit) => {
                errors.push(syn::Error::new(lit.span(), format!("`{key}` must not be empty")));
                String::new()
            }
            None => {
                errors.push(syn::Error::new(
                    attr_span,
                    format!("missing `{key}` in #[kube(...)], e.g. `{key} = \"{example}\"`"),
                ));
                String::new()
            }
        }
    };
    let group = required(&partial.group, "group", "example.com");
    let version = required(&partial.version, "version", "v1");
    let kind = required(&partial.kind, "kind", "Foo");

    let root = match (partial.root.take(), &partial.kind) {
        (Some(root), _) => Some(root),
        (None, Some(lit)) if !kind.is_empty() => match syn::parse_str::<Ident>(&kind) {
            Ok(_) => Some(Ident::new(&kind, lit.span())),
            Err(_) => {
                errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "kind `{kind}` is not a valid type name: name the generated type with `root = \"...\"`"
                    ),
                ));
                None
            }
        },
        _ => None,
    };

    let schema = partial.schema.map_or(SchemaMode::Derived, |(mode, _)| mode);
    if let Some((mode, span)) = partial.schema
        && mode != SchemaMode::Derived
        && let Some(first) = partial.validations.first()
    {
        let mut err = syn::Error::new(
            first.span(),
            "`validation` rules are added to the derived schema: they need `schema = \"derived\"`",
        );
        err.combine(syn::Error::new(span, "the schema is not derived here"));
        errors.push(err);
    }
    for derive in &partial.derives {
        let name = derive
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let problem = match name.as_str() {
            "Serialize" | "Deserialize" => Some(format!(
                "`{name}` is always implemented for the generated type: remove it from `derive`"
            )),
            "JsonSchema" if schema == SchemaMode::Derived => Some(
                "`JsonSchema` is already implemented for the generated type; use `schema = \"manual\"` to write it yourself"
                    .to_string(),
            ),
            _ => None,
        };
        if let Some(problem) = problem {
            errors.push(syn::Error::new_spanned(derive, problem));
        }
    }

    errors.finish()?;
    Ok(KubeAttrs {
        group,
        version,
        kind,
        root: root.unwrap_or_else(|| Ident::new("Unnamed", Span::call_site())),
        namespaced: partial.namespaced.unwrap_or(false),
        status: partial.status,
        plural: partial.plural.map(|l| l.value()),
        singular: partial.singular.map(|l| l.value()),
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
        crates: partial.crates.resolve(),
    })
}

impl Partial {
    fn entry(&mut self, meta: &ParseNestedMeta) -> Result<()> {
        let key = key_of(meta)?;
        match key.as_str() {
            "group" => set_once(meta, &key, &mut self.group, string_value(meta, &key)?),
            "version" => set_once(meta, &key, &mut self.version, string_value(meta, &key)?),
            "kind" => set_once(meta, &key, &mut self.kind, string_value(meta, &key)?),
            "plural" => set_once(meta, &key, &mut self.plural, string_value(meta, &key)?),
            "singular" => set_once(meta, &key, &mut self.singular, string_value(meta, &key)?),
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
            "shortname" => {
                self.shortnames.push(string_value(meta, &key)?.value());
                Ok(())
            }
            "category" => {
                self.categories.push(string_value(meta, &key)?.value());
                Ok(())
            }
            "selectable" => {
                let lit = string_value(meta, &key)?;
                check_json_path(&lit, &key)?;
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
                        return Err(syn::Error::new(
                            lit.span(),
                            format!(
                                "unknown schema mode \"{other}\": expected \"derived\", \"manual\" or \"disabled\""
                            ),
                        ));
                    }
                };
                set_once(meta, &key, &mut self.schema, (mode, lit.span()))
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
                    Some(string_value(meta, &key)?.value())
                } else {
                    None
                };
                set_once(meta, &key, &mut self.deprecated, warning)
            }
            "validation" => {
                self.validations.push(expr_value(meta)?);
                Ok(())
            }
            "printcolumn" => {
                let column = if meta.input.peek(syn::Token![=]) {
                    let lit = string_value(meta, &key)?;
                    print_column_from_json(&lit)?
                } else {
                    print_column_from_meta(meta)?
                };
                self.printcolumns.push(column);
                Ok(())
            }
            "scale" => {
                let scale = if meta.input.peek(syn::Token![=]) {
                    let lit = string_value(meta, &key)?;
                    scale_from_json(&lit)?
                } else {
                    scale_from_meta(meta)?
                };
                set_once(meta, &key, &mut self.scale, scale)
            }
            "crates" => {
                if self.seen_crates {
                    return Err(meta.error("`crates(...)` is given twice"));
                }
                self.seen_crates = true;
                self.crates.parse(meta, CRATES)
            }
            _ => Err(meta.error(format!(
                "unknown key `{key}` in #[kube(...)]: expected one of {}",
                one_of(KEYS)
            ))),
        }
    }
}

fn set_once<T>(meta: &ParseNestedMeta, key: &str, slot: &mut Option<T>, value: T) -> Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("`{key}` is given twice")));
    }
    *slot = Some(value);
    Ok(())
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
    if meta.path().is_ident("serde") {
        return Err(syn::Error::new(
            lit.span(),
            "the generated type's serde impls are written by the derive: serde attributes would have no effect",
        ));
    }
    Ok(meta)
}

const COLUMN_TYPES: &[&str] = &["integer", "number", "string", "boolean", "date"];

fn check_json_path(lit: &LitStr, key: &str) -> Result<()> {
    if lit.value().starts_with('.') {
        Ok(())
    } else {
        Err(syn::Error::new(
            lit.span(),
            format!("`{key}` must be a JSON path starting with `.`, e.g. \".spec.name\""),
        ))
    }
}

fn check_column(column: &PrintColumn, span: Span) -> Result<()> {
    if !COLUMN_TYPES.contains(&column.type_.as_str()) {
        return Err(syn::Error::new(
            span,
            format!(
                "printer column type \"{}\" is not one Kubernetes knows: expected {}",
                column.type_,
                one_of(COLUMN_TYPES)
            ),
        ));
    }
    if !column.json_path.starts_with('.') {
        return Err(syn::Error::new(
            span,
            format!(
                "printer column json_path \"{}\" must start with `.`, e.g. \".spec.name\"",
                column.json_path
            ),
        ));
    }
    Ok(())
}

fn print_column_from_meta(meta: &ParseNestedMeta) -> Result<PrintColumn> {
    const COLUMN_KEYS: &[&str] = &[
        "name",
        "type_",
        "json_path",
        "description",
        "format",
        "priority",
    ];
    let mut name = None;
    let mut type_ = None;
    let mut json_path = None;
    let mut description = None;
    let mut format = None;
    let mut priority = None;
    meta.parse_nested_meta(|inner| {
        let key = key_of(&inner)?;
        match key.as_str() {
            "name" => set_once(&inner, &key, &mut name, string_value(&inner, &key)?.value()),
            "type_" | "type" => {
                set_once(&inner, "type_", &mut type_, string_value(&inner, &key)?.value())
            }
            "json_path" => set_once(
                &inner,
                &key,
                &mut json_path,
                string_value(&inner, &key)?.value(),
            ),
            "description" => set_once(
                &inner,
                &key,
                &mut description,
                string_value(&inner, &key)?.value(),
            ),
            "format" => set_once(&inner, &key, &mut format, string_value(&inner, &key)?.value()),
            "priority" => {
                let lit: syn::LitInt = inner.value()?.parse().map_err(|err| {
                    syn::Error::new(err.span(), "`priority` takes an integer, e.g. `priority = 1`")
                })?;
                set_once(&inner, &key, &mut priority, lit.base10_parse::<i32>()?)
            }
            _ => Err(inner.error(format!(
                "unknown key `{key}` in `printcolumn(...)`: expected one of {}",
                one_of(COLUMN_KEYS)
            ))),
        }
    })?;
    let missing = |key: &str| {
        meta.error(format!(
            "`printcolumn(...)` needs `{key}`, e.g. `printcolumn(name = \"Replicas\", type_ = \"integer\", json_path = \".spec.replicas\")`"
        ))
    };
    let column = PrintColumn {
        name: name.ok_or_else(|| missing("name"))?,
        type_: type_.ok_or_else(|| missing("type_"))?,
        json_path: json_path.ok_or_else(|| missing("json_path"))?,
        description,
        format,
        priority,
    };
    check_column(&column, meta.path.span())?;
    Ok(column)
}

/// Parses the JSON object form of `printcolumn` / `scale`.
fn json_object(lit: &LitStr, key: &str) -> Result<serde_json::Map<String, Value>> {
    match serde_json::from_str::<Value>(&lit.value()) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(syn::Error::new(
            lit.span(),
            format!("`{key}` must be a JSON object"),
        )),
        Err(err) => Err(syn::Error::new(
            lit.span(),
            format!("`{key}` is not valid JSON: {err}"),
        )),
    }
}

fn json_string(
    object: &serde_json::Map<String, Value>,
    field: &str,
    lit: &LitStr,
    key: &str,
) -> Result<Option<String>> {
    match object.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(syn::Error::new(
            lit.span(),
            format!("`{field}` in `{key}` must be a string"),
        )),
    }
}

fn check_json_keys(
    object: &serde_json::Map<String, Value>,
    allowed: &[&str],
    lit: &LitStr,
    key: &str,
) -> Result<()> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(syn::Error::new(
            lit.span(),
            format!(
                "unknown field \"{unknown}\" in `{key}`: expected one of {}",
                one_of(allowed)
            ),
        )),
        None => Ok(()),
    }
}

fn print_column_from_json(lit: &LitStr) -> Result<PrintColumn> {
    let key = "printcolumn";
    let object = json_object(lit, key)?;
    check_json_keys(
        &object,
        &[
            "name",
            "type",
            "jsonPath",
            "description",
            "format",
            "priority",
        ],
        lit,
        key,
    )?;
    let required = |field: &str| -> Result<String> {
        json_string(&object, field, lit, key)?.ok_or_else(|| {
            syn::Error::new(lit.span(), format!("`{key}` needs a \"{field}\""))
        })
    };
    let priority = match object.get("priority") {
        None => None,
        Some(value) => Some(
            value
                .as_i64()
                .and_then(|p| i32::try_from(p).ok())
                .ok_or_else(|| {
                    syn::Error::new(lit.span(), "`priority` in `printcolumn` must be an integer")
                })?,
        ),
    };
    let column = PrintColumn {
        name: required("name")?,
        type_: required("type")?,
        json_path: required("jsonPath")?,
        description: json_string(&object, "description", lit, key)?,
        format: json_string(&object, "format", lit, key)?,
        priority,
    };
    check_column(&column, lit.span())?;
    Ok(column)
}

fn scale_from_meta(meta: &ParseNestedMeta) -> Result<Scale> {
    const SCALE_KEYS: &[&str] = &[
        "spec_replicas_path",
        "status_replicas_path",
        "label_selector_path",
    ];
    let mut spec = None;
    let mut status = None;
    let mut selector = None;
    meta.parse_nested_meta(|inner| {
        let key = key_of(&inner)?;
        let slot = match key.as_str() {
            "spec_replicas_path" => &mut spec,
            "status_replicas_path" => &mut status,
            "label_selector_path" => &mut selector,
            _ => {
                return Err(inner.error(format!(
                    "unknown key `{key}` in `scale(...)`: expected one of {}",
                    one_of(SCALE_KEYS)
                )));
            }
        };
        let lit = string_value(&inner, &key)?;
        check_json_path(&lit, &key)?;
        set_once(&inner, &key, slot, lit.value())
    })?;
    let missing = |key: &str| {
        meta.error(format!(
            "`scale(...)` needs `{key}`, e.g. `scale(spec_replicas_path = \".spec.replicas\", status_replicas_path = \".status.replicas\")`"
        ))
    };
    Ok(Scale {
        spec_replicas_path: spec.ok_or_else(|| missing("spec_replicas_path"))?,
        status_replicas_path: status.ok_or_else(|| missing("status_replicas_path"))?,
        label_selector_path: selector,
    })
}

fn scale_from_json(lit: &LitStr) -> Result<Scale> {
    let key = "scale";
    let object = json_object(lit, key)?;
    check_json_keys(
        &object,
        &[
            "specReplicasPath",
            "statusReplicasPath",
            "labelSelectorPath",
        ],
        lit,
        key,
    )?;
    let required = |field: &str| -> Result<String> {
        json_string(&object, field, lit, key)?.ok_or_else(|| {
            syn::Error::new(lit.span(), format!("`{key}` needs a \"{field}\""))
        })
    };
    Ok(Scale {
        spec_replicas_path: required("specReplicasPath")?,
        status_replicas_path: required("statusReplicasPath")?,
        label_selector_path: json_string(&object, "labelSelectorPath", lit, key)?,
    })
}
