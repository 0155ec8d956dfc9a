//! `scale`: the paths of the scale subresource, in the structured and the
//! JSON form.

use syn::{LitStr, Result, meta::ParseNestedMeta, spanned::Spanned};

use super::{
    attrs::{checked_string, set_once},
    json_form::JsonFields,
};
use crate::parse::{key_of, unknown_key};

/// The scale subresource's paths.
pub(crate) struct Scale {
    pub spec_replicas_path: String,
    pub status_replicas_path: String,
    pub label_selector_path: Option<String>,
}

/// Why a scale path is refused: the apiserver wants the replica paths under
/// `.spec` and `.status`, and the selector under either.
fn scale_path_problem(key: &str, path: &str) -> Option<String> {
    let (prefixes, example): (&[&str], _) = match key {
        "spec_replicas_path" | "specReplicasPath" => (&[".spec."], ".spec.replicas"),
        "status_replicas_path" | "statusReplicasPath" => (&[".status."], ".status.replicas"),
        _ => (&[".status.", ".spec."], ".status.selector"),
    };
    let under = prefixes
        .iter()
        .map(|p| format!("`{}`", p.trim_end_matches('.')))
        .collect::<Vec<_>>()
        .join(" or ");
    (!prefixes.iter().any(|p| path.starts_with(p))).then(|| {
        format!("`{key}` must be a JSON path under {under}, e.g. \"{example}\", not \"{path}\"")
    })
}

/// `scale(spec_replicas_path = "...", status_replicas_path = "...", ...)`.
pub(super) fn from_meta(meta: &ParseNestedMeta) -> Result<Scale> {
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
            _ => return Err(unknown_key(&inner, &key, "`scale(...)`", SCALE_KEYS)),
        };
        let value = checked_string(&inner, &key, |p| scale_path_problem(&key, p))?;
        set_once(&inner, &key, slot, value)
    })?;
    let missing = |key: &str| {
        syn::Error::new(
            meta.path.span(),
            format!(
                "`scale(...)` needs `{key}`, e.g. `scale(spec_replicas_path = \".spec.replicas\", status_replicas_path = \".status.replicas\")`"
            ),
        )
    };
    Ok(Scale {
        spec_replicas_path: spec.ok_or_else(|| missing("spec_replicas_path"))?,
        status_replicas_path: status.ok_or_else(|| missing("status_replicas_path"))?,
        label_selector_path: selector,
    })
}

/// `scale = r#"{"specReplicasPath": ..., "statusReplicasPath": ...}"#`.
pub(super) fn from_json(lit: &LitStr) -> Result<Scale> {
    let fields = JsonFields::new(
        lit,
        "scale",
        &[
            "specReplicasPath",
            "statusReplicasPath",
            "labelSelectorPath",
        ],
    )?;
    let label_selector_path = match fields.string("labelSelectorPath")? {
        Some(path) => match scale_path_problem("labelSelectorPath", &path) {
            Some(message) => return Err(fields.error(message)),
            None => Some(path),
        },
        None => None,
    };
    Ok(Scale {
        spec_replicas_path: fields.checked("specReplicasPath", |p| {
            scale_path_problem("specReplicasPath", p)
        })?,
        status_replicas_path: fields.checked("statusReplicasPath", |p| {
            scale_path_problem("statusReplicasPath", p)
        })?,
        label_selector_path,
    })
}
