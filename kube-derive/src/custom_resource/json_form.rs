//! The JSON form of `printcolumn` and `scale`: an object in a string, with
//! the field names Kubernetes uses.

use serde_json::Value;
use syn::{LitStr, Result};

use crate::parse::{did_you_mean, one_of};

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

/// Reads the fields of a JSON `printcolumn` / `scale`, refusing unknown ones.
pub(super) struct JsonFields<'a> {
    pub(super) object: serde_json::Map<String, Value>,
    lit: &'a LitStr,
    key: &'static str,
}

impl<'a> JsonFields<'a> {
    pub(super) fn new(lit: &'a LitStr, key: &'static str, allowed: &[&str]) -> Result<Self> {
        let object = json_object(lit, key)?;
        if let Some(unknown) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
            let hint = match did_you_mean(unknown, allowed) {
                Some(close) => format!("did you mean \"{close}\"?"),
                None => format!("expected {}", one_of(allowed)),
            };
            return Err(syn::Error::new(
                lit.span(),
                format!("unknown field \"{unknown}\" in `{key}`: {hint}"),
            ));
        }
        Ok(Self { object, lit, key })
    }

    pub(super) fn error(&self, message: String) -> syn::Error {
        syn::Error::new(self.lit.span(), message)
    }

    pub(super) fn string(&self, field: &str) -> Result<Option<String>> {
        match self.object.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.error(format!(
                "\"{field}\" in `{}` must be a string, not {other}",
                self.key
            ))),
        }
    }

    pub(super) fn required(&self, field: &str) -> Result<String> {
        self.string(field)?
            .ok_or_else(|| self.error(format!("`{}` needs a \"{field}\"", self.key)))
    }

    pub(super) fn checked(
        &self,
        field: &str,
        problem: impl Fn(&str) -> Option<String>,
    ) -> Result<String> {
        let value = self.required(field)?;
        match problem(&value) {
            Some(message) => Err(self.error(message)),
            None => Ok(value),
        }
    }
}
