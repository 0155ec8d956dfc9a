//! `printcolumn`: the columns `kubectl get` shows, in the structured and the
//! JSON form.

use syn::{LitInt, LitStr, Result, meta::ParseNestedMeta, spanned::Spanned};

use super::{
    attrs::{checked_string, json_path_problem, set_once},
    json_form::JsonFields,
};
use crate::parse::{did_you_mean, key_of, one_of, string_value, unknown_key};

/// One printer column.
pub(crate) struct PrintColumn {
    pub name: String,
    pub type_: String,
    pub json_path: String,
    pub description: Option<String>,
    pub format: Option<String>,
    pub priority: Option<i32>,
}

const COLUMN_TYPES: &[&str] = &["integer", "number", "string", "boolean", "date"];

fn column_type_problem(type_: &str) -> Option<String> {
    (!COLUMN_TYPES.contains(&type_)).then(|| {
        let hint = match did_you_mean(type_, COLUMN_TYPES) {
            Some(close) => format!("did you mean \"{close}\"?"),
            None => format!("expected {}", one_of(COLUMN_TYPES)),
        };
        format!("printer column type \"{type_}\" is not one Kubernetes knows: {hint}")
    })
}

/// `printcolumn(name = "...", type_ = "...", json_path = "...", ...)`.
pub(super) fn from_meta(meta: &ParseNestedMeta) -> Result<PrintColumn> {
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
                let value = checked_string(&inner, "type_", column_type_problem)?;
                set_once(&inner, "type_", &mut type_, value)
            }
            "json_path" => {
                let value = checked_string(&inner, &key, |p| json_path_problem("json_path", p))?;
                set_once(&inner, &key, &mut json_path, value)
            }
            "description" => {
                let value = string_value(&inner, &key)?.value();
                set_once(&inner, &key, &mut description, value)
            }
            "format" => set_once(
                &inner,
                &key,
                &mut format,
                string_value(&inner, &key)?.value(),
            ),
            "priority" => {
                let value = inner.value()?;
                let lit: LitInt = value.parse().map_err(|err| {
                    syn::Error::new(
                        err.span(),
                        "`priority` takes an integer, e.g. `priority = 1`",
                    )
                })?;
                let number = lit.base10_parse::<i32>().map_err(|_| {
                    syn::Error::new(
                        lit.span(),
                        "`priority` must fit in an i32, e.g. `priority = 1`",
                    )
                })?;
                set_once(&inner, &key, &mut priority, number)
            }
            _ => Err(unknown_key(&inner, &key, "`printcolumn(...)`", COLUMN_KEYS)),
        }
    })?;
    let missing = |key: &str| {
        syn::Error::new(
            meta.path.span(),
            format!(
                "`printcolumn(...)` needs `{key}`, e.g. `printcolumn(name = \"Replicas\", type_ = \"integer\", json_path = \".spec.replicas\")`"
            ),
        )
    };
    Ok(PrintColumn {
        name: name.ok_or_else(|| missing("name"))?,
        type_: type_.ok_or_else(|| missing("type_"))?,
        json_path: json_path.ok_or_else(|| missing("json_path"))?,
        description,
        format,
        priority,
    })
}

/// `printcolumn = r#"{"name": ..., "type": ..., "jsonPath": ...}"#`.
pub(super) fn from_json(lit: &LitStr) -> Result<PrintColumn> {
    let fields = JsonFields::new(
        lit,
        "printcolumn",
        &[
            "name",
            "type",
            "jsonPath",
            "description",
            "format",
            "priority",
        ],
    )?;
    let priority = match fields.object.get("priority") {
        None => None,
        Some(value) => Some(
            value
                .as_i64()
                .and_then(|p| i32::try_from(p).ok())
                .ok_or_else(|| {
                    fields.error(format!(
                        "\"priority\" in `printcolumn` must be an integer, not {value}"
                    ))
                })?,
        ),
    };
    Ok(PrintColumn {
        name: fields.required("name")?,
        type_: fields.checked("type", column_type_problem)?,
        json_path: fields.checked("jsonPath", |p| json_path_problem("jsonPath", p))?,
        description: fields.string("description")?,
        format: fields.string("format")?,
        priority,
    })
}
