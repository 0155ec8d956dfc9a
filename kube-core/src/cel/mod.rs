//! CEL validation rules and merge strategies for custom resource schemas.
//!
//! The apiserver evaluates [CEL] expressions listed under a schema node's
//! `x-kubernetes-validations` whenever an object is created or updated: `self`
//! is the value at that node, and `oldSelf` its previous value on updates. A
//! failing rule makes the request fail with `422 Unprocessable Entity` and the
//! rule's [`Message`].
//!
//! [`Rule`] describes one such rule. With the `schema` feature, rules attach to
//! `schemars` schemas: [`Rule`] is a [`Transform`](schemars::transform::Transform)
//! (so it fits `#[schemars(transform = ...)]`), and [`validate`] /
//! [`validate_property`] add rules to a schema by hand. `#[derive(KubeSchema)]`
//! with `#[x_kube(validation = ...)]`, and `#[kube(validation = ...)]` on a
//! custom resource, write them for you.
//!
//! [`MergeStrategy`] sets how server-side apply merges lists, maps and structs
//! (`x-kubernetes-list-type`, and `x-kubernetes-map-type` for maps and structs).
//!
//! ```
//! use kube_core::cel::{Reason, Rule};
//!
//! let rule = Rule::new("self.replicas <= self.maxReplicas")
//!     .message("replicas must not exceed maxReplicas")
//!     .reason(Reason::FieldValueForbidden)
//!     .field_path(".replicas");
//! assert_eq!(
//!     serde_json::to_value(&rule).unwrap(),
//!     serde_json::json!({
//!         "rule": "self.replicas <= self.maxReplicas",
//!         "message": "replicas must not exceed maxReplicas",
//!         "reason": "FieldValueForbidden",
//!         "fieldPath": ".replicas",
//!     })
//! );
//! ```
//!
//! With the `cel` feature, the rules can also be evaluated here, without an
//! apiserver: [`validate_cel`] and [`validate_cel_update`] check a custom
//! resource against the rules of its derived definition, and
//! [`validate_cel_schema`] a JSON value against the rules of a type's schema.
//! `#[kube(cel)]` and `#[x_kube(cel)]` generate methods calling them. The
//! evaluator, and every item of the `kube-cel` crate it comes from, are
//! re-exported here.
//!
//! [CEL]: https://kubernetes.io/docs/reference/using-api/cel/

#[cfg(feature = "cel")]
mod evaluate;

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One CEL validation rule: an entry of `x-kubernetes-validations`.
///
/// Build it with [`Rule::new`] and the chained setters, or convert from a
/// string (`"self.a > 0".into()`) or a `(rule, message)` pair.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// The CEL expression; the object is valid when it evaluates to `true`.
    pub rule: String,
    /// What the apiserver reports when the rule fails: a fixed message or a CEL
    /// expression computing one.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// The path, relative to the node carrying the rule, that the failure is
    /// reported against, e.g. `.spec.replicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
    /// The machine-readable reason of the failure; `FieldValueInvalid` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Whether the rule also runs on creation and when the old value is absent,
    /// with `oldSelf` as an optional (`oldSelf.hasValue()`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional_old_self: Option<bool>,
}

impl Rule {
    /// A rule from a CEL expression, with no message (the apiserver then reports
    /// the expression itself).
    ///
    /// ```
    /// let rule = kube_core::cel::Rule::new("self == oldSelf");
    /// assert_eq!(rule.rule, "self == oldSelf");
    /// ```
    pub fn new(rule: impl Into<String>) -> Self {
        Self {
            rule: rule.into(),
            ..Self::default()
        }
    }

    /// Sets the message reported on failure: a `&str` or `String` is a fixed
    /// message, [`Message::Expression`] a CEL expression yielding one.
    ///
    /// ```
    /// use kube_core::cel::{Message, Rule};
    ///
    /// let fixed = Rule::new("self.a > 0").message("a must be positive");
    /// assert_eq!(fixed.message, Some(Message::Message("a must be positive".into())));
    /// let computed = Rule::new("self.a > 0")
    ///     .message(Message::Expression("'a is ' + string(self.a)".into()));
    /// assert!(matches!(computed.message, Some(Message::Expression(_))));
    /// ```
    #[must_use]
    pub fn message(mut self, message: impl Into<Message>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the reason reported on failure.
    #[must_use]
    pub fn reason(mut self, reason: impl Into<Reason>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the path the failure is reported against, relative to the node
    /// carrying the rule.
    #[must_use]
    pub fn field_path(mut self, field_path: impl Into<String>) -> Self {
        self.field_path = Some(field_path.into());
        self
    }

    /// Sets whether the rule runs when there is no old value (on create), with
    /// `oldSelf` as an optional.
    #[must_use]
    pub fn optional_old_self(mut self, optional: bool) -> Self {
        self.optional_old_self = Some(optional);
        self
    }
}

impl From<&str> for Rule {
    fn from(rule: &str) -> Self {
        Self::new(rule)
    }
}

impl From<String> for Rule {
    fn from(rule: String) -> Self {
        Self::new(rule)
    }
}

impl From<(&str, &str)> for Rule {
    /// A rule and its failure message.
    fn from((rule, message): (&str, &str)) -> Self {
        Self::new(rule).message(message)
    }
}

/// The message of a failed [`Rule`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// A fixed message (`message`).
    #[serde(rename = "message")]
    Message(String),
    /// A CEL expression evaluating to the message (`messageExpression`).
    #[serde(rename = "messageExpression")]
    Expression(String),
}

impl From<&str> for Message {
    fn from(message: &str) -> Self {
        Self::Message(message.to_string())
    }
}

impl From<String> for Message {
    fn from(message: String) -> Self {
        Self::Message(message)
    }
}

/// The machine-readable reason of a failed [`Rule`], as the apiserver reports it
/// in the `Status` details' causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Reason {
    /// The value is invalid (HTTP 422 `FieldValueInvalid`); the default.
    #[default]
    FieldValueInvalid,
    /// The value is forbidden.
    FieldValueForbidden,
    /// A required value is missing.
    FieldValueRequired,
    /// The value duplicates another.
    FieldValueDuplicate,
}

impl Reason {
    /// The reason as Kubernetes spells it, e.g. `FieldValueInvalid`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::FieldValueInvalid => "FieldValueInvalid",
            Self::FieldValueForbidden => "FieldValueForbidden",
            Self::FieldValueRequired => "FieldValueRequired",
            Self::FieldValueDuplicate => "FieldValueDuplicate",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`Reason`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown CEL rule reason {0:?}: expected FieldValueInvalid, FieldValueForbidden, FieldValueRequired or FieldValueDuplicate"
)]
pub struct ParseReasonError(pub String);

impl FromStr for Reason {
    type Err = ParseReasonError;

    /// Parses the Kubernetes spelling, e.g. `"FieldValueForbidden"`.
    ///
    /// ```
    /// use kube_core::cel::Reason;
    ///
    /// assert_eq!("FieldValueRequired".parse(), Ok(Reason::FieldValueRequired));
    /// assert!("Invalid".parse::<Reason>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::FieldValueInvalid,
            Self::FieldValueForbidden,
            Self::FieldValueRequired,
            Self::FieldValueDuplicate,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == s)
        .ok_or_else(|| ParseReasonError(s.to_string()))
    }
}

/// How server-side apply merges a list (`x-kubernetes-list-type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListMerge {
    /// The list is replaced whole.
    Atomic,
    /// The list is a set of scalars: each item is owned separately.
    Set,
    /// The list is a map of objects keyed by these fields (`x-kubernetes-list-map-keys`).
    Map(Vec<String>),
}

/// How server-side apply merges a map (`x-kubernetes-map-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MapMerge {
    /// The map is replaced whole.
    Atomic,
    /// Each entry is owned separately.
    Granular,
}

/// How server-side apply merges a struct (`x-kubernetes-map-type` on an object
/// with properties).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StructMerge {
    /// The struct is replaced whole.
    Atomic,
    /// Each field is owned separately.
    Granular,
}

/// A merge strategy for one schema node.
///
/// ```
/// use kube_core::cel::{ListMerge, MergeStrategy};
///
/// let strategy = MergeStrategy::from(ListMerge::Map(vec!["name".into()]));
/// assert_eq!(
///     strategy.extensions(),
///     serde_json::json!({
///         "x-kubernetes-list-type": "map",
///         "x-kubernetes-list-map-keys": ["name"],
///     })
/// );
/// ```
///
/// Serialized as a tagged variant, e.g. `{"x-kubernetes-list-type": "set"}`,
/// the form kube-rs writes. The schema extensions themselves come from
/// [`extensions`](Self::extensions): a struct's strategy goes into
/// `x-kubernetes-map-type` there, as the apiserver expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MergeStrategy {
    /// For lists.
    #[serde(rename = "x-kubernetes-list-type")]
    ListType(ListMerge),
    /// For maps.
    #[serde(rename = "x-kubernetes-map-type")]
    MapType(MapMerge),
    /// For structs.
    #[serde(rename = "x-kubernetes-struct-type")]
    StructType(StructMerge),
}

impl MergeStrategy {
    /// The schema extensions expressing this strategy, as a JSON object.
    pub fn extensions(&self) -> Value {
        let mut out = serde_json::Map::new();
        match self {
            Self::ListType(ListMerge::Atomic) => {
                out.insert("x-kubernetes-list-type".into(), "atomic".into());
            }
            Self::ListType(ListMerge::Set) => {
                out.insert("x-kubernetes-list-type".into(), "set".into());
            }
            Self::ListType(ListMerge::Map(keys)) => {
                out.insert("x-kubernetes-list-type".into(), "map".into());
                out.insert(
                    "x-kubernetes-list-map-keys".into(),
                    keys.iter().map(|k| Value::from(k.as_str())).collect(),
                );
            }
            Self::MapType(MapMerge::Atomic) | Self::StructType(StructMerge::Atomic) => {
                out.insert("x-kubernetes-map-type".into(), "atomic".into());
            }
            Self::MapType(MapMerge::Granular) | Self::StructType(StructMerge::Granular) => {
                out.insert("x-kubernetes-map-type".into(), "granular".into());
            }
        }
        Value::Object(out)
    }

    /// Writes the strategy's extensions into a schema object, replacing any
    /// strategy set before. Does nothing when `schema` is not an object.
    pub fn apply_to(&self, schema: &mut Value) {
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        if matches!(self, Self::ListType(_)) {
            object.remove("x-kubernetes-list-map-keys");
        }
        if let Value::Object(extensions) = self.extensions() {
            object.extend(extensions);
        }
    }
}

impl From<ListMerge> for MergeStrategy {
    fn from(strategy: ListMerge) -> Self {
        Self::ListType(strategy)
    }
}

impl From<MapMerge> for MergeStrategy {
    fn from(strategy: MapMerge) -> Self {
        Self::MapType(strategy)
    }
}

impl From<StructMerge> for MergeStrategy {
    fn from(strategy: StructMerge) -> Self {
        Self::StructType(strategy)
    }
}

/// Sets a merge strategy on a schema given as JSON.
///
/// Returns an error when `s` is not a JSON object.
pub fn merge_strategy(s: &mut Value, strategy: MergeStrategy) -> serde_json::Result<()> {
    if !s.is_object() {
        return Err(serde::de::Error::custom(format!(
            "cannot set a merge strategy on the non-object schema {s}"
        )));
    }
    strategy.apply_to(s);
    Ok(())
}

/// The JSON form of a rule, built without a fallible serializer.
#[cfg(any(feature = "schema", test))]
fn rule_to_value(rule: &Rule) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("rule".into(), rule.rule.as_str().into());
    match &rule.message {
        Some(Message::Message(m)) => {
            out.insert("message".into(), m.as_str().into());
        }
        Some(Message::Expression(e)) => {
            out.insert("messageExpression".into(), e.as_str().into());
        }
        None => {}
    }
    if let Some(path) = &rule.field_path {
        out.insert("fieldPath".into(), path.as_str().into());
    }
    if let Some(reason) = rule.reason {
        out.insert("reason".into(), reason.as_str().into());
    }
    if let Some(optional) = rule.optional_old_self {
        out.insert("optionalOldSelf".into(), optional.into());
    }
    Value::Object(out)
}

/// Appends a rule to the `x-kubernetes-validations` of a JSON schema object.
/// Does nothing when `schema` is not an object.
#[cfg(any(feature = "schema", test))]
fn push_rule(schema: &mut Value, rule: &Rule) {
    if let Some(object) = schema.as_object_mut() {
        push_rule_into(object, rule);
    }
}

#[cfg(any(feature = "schema", test))]
fn push_rule_into(object: &mut serde_json::Map<String, Value>, rule: &Rule) {
    let entry = object
        .entry("x-kubernetes-validations")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(Vec::new());
    }
    if let Value::Array(rules) = entry {
        rules.push(rule_to_value(rule));
    }
}

#[cfg(feature = "schema")]
mod with_schemars {
    use schemars::{Schema, transform::Transform};
    use serde_json::Value;

    use super::{MergeStrategy, Rule, push_rule, push_rule_into};

    /// Adds the rule to the schema's `x-kubernetes-validations`.
    impl Transform for Rule {
        fn transform(&mut self, schema: &mut Schema) {
            push_rule_into(schema.ensure_object(), self);
        }
    }

    /// Sets the merge strategy's extensions on the schema.
    impl Transform for MergeStrategy {
        fn transform(&mut self, schema: &mut Schema) {
            let object = schema.ensure_object();
            let mut value = Value::Object(std::mem::take(object));
            self.apply_to(&mut value);
            if let Value::Object(map) = value {
                *object = map;
            }
        }
    }

    /// Adds a CEL rule to a schema's `x-kubernetes-validations`.
    ///
    /// ```
    /// use kube_core::cel::{validate, Rule};
    ///
    /// let mut schema = schemars::json_schema!({ "type": "object" });
    /// validate(&mut schema, Rule::new("self.a > 0").message("a must be positive")).unwrap();
    /// assert_eq!(
    ///     schema.get("x-kubernetes-validations").unwrap(),
    ///     &serde_json::json!([{ "rule": "self.a > 0", "message": "a must be positive" }])
    /// );
    /// ```
    ///
    /// Never fails; the `Result` keeps the signature other CEL helpers share.
    pub fn validate(s: &mut Schema, rule: impl Into<Rule>) -> serde_json::Result<()> {
        rule.into().transform(s);
        Ok(())
    }

    /// Adds a CEL rule to the `property_index`-th property of an object schema,
    /// counting in the order the schema's properties iterate (alphabetical,
    /// unless `serde_json`'s `preserve_order` feature is on).
    ///
    /// Fails when the schema has no such property.
    ///
    /// ```
    /// use kube_core::cel::validate_property;
    ///
    /// let mut schema = schemars::json_schema!({
    ///     "type": "object",
    ///     "properties": { "a": { "type": "integer" }, "b": { "type": "string" } }
    /// });
    /// validate_property(&mut schema, 1, "self != ''").unwrap();
    /// assert!(schema.pointer("/properties/b/x-kubernetes-validations").is_some());
    /// assert!(validate_property(&mut schema, 5, "true").is_err());
    /// ```
    pub fn validate_property(
        s: &mut Schema,
        property_index: usize,
        rule: impl Into<Rule> + Clone,
    ) -> serde_json::Result<()> {
        let property = nth_property(s, property_index)?;
        push_rule(property, &rule.into());
        Ok(())
    }

    /// Sets a merge strategy on the `property_index`-th property of an object
    /// schema, counted as in [`validate_property`].
    ///
    /// Fails when the schema has no such property.
    pub fn merge_strategy_property(
        s: &mut Schema,
        property_index: usize,
        strategy: impl Into<MergeStrategy>,
    ) -> serde_json::Result<()> {
        let property = nth_property(s, property_index)?;
        strategy.into().apply_to(property);
        Ok(())
    }

    /// Copies the properties of `merge` into `s`, keeping those `s` already
    /// declares; `required` lists are joined.
    ///
    /// ```
    /// use kube_core::cel::merge_properties;
    ///
    /// let mut a = schemars::json_schema!({ "type": "object", "properties": { "x": {} } });
    /// let mut b = schemars::json_schema!({ "type": "object", "properties": { "y": {} }, "required": ["y"] });
    /// merge_properties(&mut a, &mut b);
    /// assert!(a.pointer("/properties/y").is_some());
    /// assert_eq!(a.get("required").unwrap(), &serde_json::json!(["y"]));
    /// ```
    pub fn merge_properties(s: &mut Schema, merge: &mut Schema) {
        let Some(source) = merge.as_object_mut() else {
            return;
        };
        let incoming = source.remove("properties");
        let incoming_required = source.remove("required");
        let target = s.ensure_object();
        if let Some(Value::Object(incoming)) = incoming {
            let properties = target
                .entry("properties")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let Value::Object(properties) = properties {
                for (name, schema) in incoming {
                    properties.entry(name).or_insert(schema);
                }
            }
        }
        if let Some(Value::Array(incoming)) = incoming_required {
            let required = target
                .entry("required")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(required) = required {
                for name in incoming {
                    if !required.contains(&name) {
                        required.push(name);
                    }
                }
            }
        }
    }

    fn nth_property(s: &mut Schema, index: usize) -> serde_json::Result<&mut Value> {
        s.get_mut("properties")
            .and_then(Value::as_object_mut)
            .and_then(|properties| properties.values_mut().nth(index))
            .ok_or_else(|| {
                serde::de::Error::custom(format!("the schema has no property number {index}"))
            })
    }
}

#[cfg(feature = "schema")]
pub use with_schemars::{merge_properties, merge_strategy_property, validate, validate_property};

// Names defined in this module (`Rule`, `validate`) take precedence over the
// glob.
#[cfg(all(feature = "cel", feature = "schema"))]
pub use evaluate::validate_cel_schema;
#[cfg(feature = "cel")]
pub use evaluate::{validate_cel, validate_cel_update};
#[cfg(feature = "cel")]
pub use kube_cel::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_strategies_serialize_as_tagged_variants_and_read_back() {
        let cases = [
            (
                MergeStrategy::from(ListMerge::Map(vec!["name".into()])),
                serde_json::json!({ "x-kubernetes-list-type": { "map": ["name"] } }),
            ),
            (
                MergeStrategy::from(ListMerge::Set),
                serde_json::json!({ "x-kubernetes-list-type": "set" }),
            ),
            (
                MergeStrategy::from(MapMerge::Atomic),
                serde_json::json!({ "x-kubernetes-map-type": "atomic" }),
            ),
            (
                MergeStrategy::from(StructMerge::Granular),
                serde_json::json!({ "x-kubernetes-struct-type": "granular" }),
            ),
        ];
        for (strategy, json) in cases {
            assert_eq!(serde_json::to_value(&strategy).expect("serializable"), json);
            let back: MergeStrategy = serde_json::from_value(json).expect("deserializable");
            assert_eq!(back, strategy);
        }
    }
    use serde_json::json;

    #[test]
    fn rules_serialize_like_the_apiserver_expects() {
        let rule = Rule::new("self.a == oldSelf.a")
            .message(Message::Expression("'a is immutable'".into()))
            .reason(Reason::FieldValueForbidden)
            .optional_old_self(true);
        let value = serde_json::to_value(&rule).expect("serializable");
        assert_eq!(
            value,
            json!({
                "rule": "self.a == oldSelf.a",
                "messageExpression": "'a is immutable'",
                "reason": "FieldValueForbidden",
                "optionalOldSelf": true,
            })
        );
        assert_eq!(rule_to_value(&rule), value);
        let back: Rule = serde_json::from_value(value).expect("deserializable");
        assert_eq!(back, rule);
    }

    #[test]
    fn rules_convert_from_strings_and_pairs() {
        assert_eq!(Rule::from("x"), Rule::new("x"));
        assert_eq!(Rule::from(String::from("x")), Rule::new("x"));
        let pair = Rule::from(("self > 0", "must be positive"));
        assert_eq!(
            pair.message,
            Some(Message::Message("must be positive".into()))
        );
        assert_eq!(
            serde_json::to_value(Rule::new("r")).expect("serializable"),
            json!({"rule": "r"})
        );
    }

    #[test]
    fn reasons_round_trip_through_strings() {
        for reason in [
            Reason::FieldValueInvalid,
            Reason::FieldValueForbidden,
            Reason::FieldValueRequired,
            Reason::FieldValueDuplicate,
        ] {
            assert_eq!(reason.to_string().parse(), Ok(reason));
            assert_eq!(
                serde_json::to_value(reason).expect("serializable"),
                json!(reason.as_str())
            );
        }
        let err = "Nope".parse::<Reason>().expect_err("unknown reason");
        assert!(err.to_string().contains("Nope"));
        assert_eq!(Reason::default(), Reason::FieldValueInvalid);
    }

    #[test]
    fn merge_strategies_write_their_extensions() {
        let mut schema = json!({"type": "array", "x-kubernetes-list-map-keys": ["old"]});
        merge_strategy(&mut schema, ListMerge::Set.into()).expect("object schema");
        assert_eq!(
            schema,
            json!({"type": "array", "x-kubernetes-list-type": "set"})
        );
        let mut map = json!({"type": "object"});
        merge_strategy(&mut map, MapMerge::Atomic.into()).expect("object schema");
        assert_eq!(map["x-kubernetes-map-type"], "atomic");
        let mut strukt = json!({"type": "object"});
        merge_strategy(&mut strukt, StructMerge::Granular.into()).expect("object schema");
        assert_eq!(strukt["x-kubernetes-map-type"], "granular");
        assert!(merge_strategy(&mut json!(true), ListMerge::Atomic.into()).is_err());
    }

    #[test]
    fn push_rule_appends_in_order() {
        let mut schema = json!({"type": "object"});
        push_rule(&mut schema, &Rule::new("a"));
        push_rule(&mut schema, &Rule::new("b").message("m"));
        assert_eq!(
            schema["x-kubernetes-validations"],
            json!([{"rule": "a"}, {"rule": "b", "message": "m"}])
        );
    }

    #[cfg(feature = "schema")]
    #[test]
    fn rules_and_strategies_are_schemars_transforms() {
        use schemars::transform::Transform;

        let mut schema = schemars::json_schema!({"type": "array"});
        Rule::new("size(self) < 3").transform(&mut schema);
        MergeStrategy::from(ListMerge::Map(vec!["name".into()])).transform(&mut schema);
        assert_eq!(
            schema.as_value(),
            &json!({
                "type": "array",
                "x-kubernetes-validations": [{"rule": "size(self) < 3"}],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
            })
        );
        let mut boolean = schemars::Schema::from(true);
        Rule::new("true").transform(&mut boolean);
        assert_eq!(
            boolean.as_value(),
            &json!({"x-kubernetes-validations": [{"rule": "true"}]})
        );
    }

    #[cfg(feature = "schema")]
    #[test]
    fn property_helpers_address_properties_by_position() {
        let mut schema = schemars::json_schema!({
            "type": "object",
            "properties": {"a": {"type": "array"}, "b": {"type": "string"}}
        });
        validate_property(&mut schema, 1, ("self != ''", "b is empty")).expect("has b");
        merge_strategy_property(&mut schema, 0, ListMerge::Atomic).expect("has a");
        assert_eq!(
            schema.as_value()["properties"],
            json!({
                "a": {"type": "array", "x-kubernetes-list-type": "atomic"},
                "b": {"type": "string", "x-kubernetes-validations": [
                    {"rule": "self != ''", "message": "b is empty"}
                ]}
            })
        );
        assert!(merge_strategy_property(&mut schema, 2, ListMerge::Atomic).is_err());
    }
}
