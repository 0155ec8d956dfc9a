//! Evaluating CEL rules here rather than in the apiserver, with the
//! `kube-cel` evaluator.

use kube_cel::{ValidationErrors, Validator};
use serde::Serialize;
use serde_json::Value;

use crate::CustomResourceExt;

/// Checks a custom resource against the CEL rules of its derived definition,
/// as the apiserver would when creating it.
///
/// Rules comparing with `oldSelf` (transition rules) do not apply to a
/// creation; [`validate_cel_update`] checks them. `#[kube(cel)]` generates
/// `Foo::validate_cel(&self)`, which calls this.
///
/// An object that cannot be serialized to JSON, or a definition without a
/// schema, is reported as a failed validation naming the problem.
pub fn validate_cel<T>(obj: &T) -> Result<(), ValidationErrors>
where
    T: CustomResourceExt + Serialize,
{
    validate_against_definition(obj, None)
}

/// Checks a change of a custom resource from `old` to `obj` against the CEL
/// rules of its derived definition, transition rules included, as the
/// apiserver would when updating it.
///
/// `#[kube(cel)]` generates `Foo::validate_cel_update(&self, old)`, which
/// calls this.
pub fn validate_cel_update<T>(obj: &T, old: &T) -> Result<(), ValidationErrors>
where
    T: CustomResourceExt + Serialize,
{
    let old = serde_json::to_value(old).map_err(|err| {
        failure(format!(
            "the old object cannot be serialized to JSON: {err}"
        ))
    })?;
    validate_against_definition(obj, Some(&old))
}

/// Checks a JSON value against the CEL rules of `T`'s schema, as generated
/// for a custom resource definition; `old` is the previous value for
/// transition rules, `None` for a creation.
///
/// `#[x_kube(cel)]` generates `T::validate_cel(value, old)`, which calls this:
/// a part of a resource can be checked on its own, e.g. in a unit test.
#[cfg(feature = "schema")]
pub fn validate_cel_schema<T>(value: &Value, old: Option<&Value>) -> Result<(), ValidationErrors>
where
    T: schemars::JsonSchema,
{
    let schema = crate::schema::structural_schema_for::<T>().to_value();
    Validator::new().validate(&schema, value, old)
}

fn validate_against_definition<T>(obj: &T, old: Option<&Value>) -> Result<(), ValidationErrors>
where
    T: CustomResourceExt + Serialize,
{
    let crd = T::crd();
    let resource = T::api_resource();
    let schema = crd
        .spec
        .versions
        .iter()
        .find(|v| v.name == resource.version)
        .or_else(|| crd.spec.versions.first())
        .and_then(|v| v.schema.as_ref())
        .and_then(|validation| validation.open_api_v3_schema.as_ref())
        .ok_or_else(|| {
            failure(format!(
                "the definition {} has no schema holding rules to check",
                T::crd_name()
            ))
        })?;
    let schema = serde_json::to_value(schema)
        .map_err(|err| failure(format!("the schema cannot be serialized to JSON: {err}")))?;
    let object = serde_json::to_value(obj).map_err(|err| {
        failure(format!(
            "the {} cannot be serialized to JSON: {err}",
            resource.kind
        ))
    })?;
    Validator::new().validate(&schema, &object, old)
}

/// A validation failure that is not a rule's verdict: the check could not be
/// made.
fn failure(message: String) -> ValidationErrors {
    // `ValidationError` has no public constructor, but it deserializes.
    let error = serde_json::json!({
        "rule": "",
        "message": message,
        "field_path": "",
        "reason": null,
        "kind": "EvaluationError",
    });
    match serde_json::from_value(error) {
        Ok(error) => ValidationErrors::from(vec![error]),
        // Should the evaluator's error format change: a rule that always
        // fails, with the message.
        Err(_) => {
            let schema = serde_json::json!({
                "x-kubernetes-validations": [{ "rule": "false", "message": message }],
            });
            Validator::new()
                .validate(&schema, &Value::Null, None)
                .err()
                .unwrap_or_else(|| ValidationErrors::from(Vec::new()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_that_is_no_rule_verdict_carries_its_message() {
        let errors =
            failure("the Widget cannot be serialized to JSON: key must be a string".into());
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            "the Widget cannot be serialized to JSON: key must be a string"
        );
        assert_eq!(errors[0].kind, kube_cel::ErrorKind::EvaluationError);
    }
}
