//! Label selectors: parse, print, match, and convert to and from `LabelSelector`.
//!
//! A selector is a conjunction of requirements on an object's labels, written the
//! way `kubectl -l` and the apiserver's `labelSelector` query parameter expect:
//!
//! ```text
//! app=web,tier!=cache,env in (prod,staging),zone notin (a),managed,!legacy
//! ```
//!
//! ```
//! use kube_core::{Expression, Selector, SelectorExt};
//! use std::collections::BTreeMap;
//!
//! let selector: Selector = "app=web,env in (prod,staging),!legacy".parse()?;
//! let labels = BTreeMap::from([
//!     ("app".to_string(), "web".to_string()),
//!     ("env".to_string(), "prod".to_string()),
//! ]);
//! assert!(selector.matches(&labels));
//! // Printing gives the canonical form back, ready for a query.
//! assert_eq!(selector.to_string(), "app=web,env in (prod,staging),!legacy");
//! # Ok::<(), kube_core::ParseExpressionError>(())
//! ```
//!
//! Keys are validated as Kubernetes qualified names (`prefix/name`, the prefix a
//! DNS subdomain) and values as label values, so a typo is reported here with the
//! offending part rather than as a `400 Bad Request` from the server.

mod parse;

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use serde::{Deserialize, Serialize};

/// A label selector (or one of its parts) that is not valid, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector: {0}")]
pub struct ParseExpressionError(pub String);

mod private {
    pub trait Sealed {}
    impl Sealed for super::Selector {}
    impl Sealed for super::Expression {}
}

/// Testing a set of labels against a [`Selector`] or a single [`Expression`].
pub trait SelectorExt: private::Sealed {
    /// What the selector is tested against: an object's labels.
    type Search;

    /// Whether `on` satisfies every requirement.
    ///
    /// ```
    /// use kube_core::{Expression, SelectorExt};
    /// use std::collections::BTreeMap;
    ///
    /// let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
    /// assert!(Expression::Exists("app".into()).matches(&labels));
    /// assert!(!Expression::Equal("app".into(), "db".into()).matches(&labels));
    /// ```
    fn matches(&self, on: &Self::Search) -> bool;
}

/// One requirement on an object's labels.
///
/// Serialized as a tagged variant, e.g. `{"In": ["tier", ["db", "web"]]}`, the
/// form kube-rs writes, so selectors kept in an object's status or a config
/// file read back the same with either.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Expression {
    /// The label is set to one of the values: `key in (a,b)`.
    In(String, BTreeSet<String>),
    /// The label is absent or set to none of the values: `key notin (a,b)`.
    NotIn(String, BTreeSet<String>),
    /// The label is set to the value: `key=value`.
    Equal(String, String),
    /// The label is absent or set to another value: `key!=value`.
    NotEqual(String, String),
    /// The label is set, to anything: `key`.
    Exists(String),
    /// The label is not set: `!key`.
    DoesNotExist(String),
}

impl Expression {
    /// The label key this requirement is about.
    pub fn key(&self) -> &str {
        match self {
            Expression::In(key, _)
            | Expression::NotIn(key, _)
            | Expression::Equal(key, _)
            | Expression::NotEqual(key, _)
            | Expression::Exists(key)
            | Expression::DoesNotExist(key) => key,
        }
    }
}

impl SelectorExt for Expression {
    type Search = BTreeMap<String, String>;

    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Expression::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            Expression::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Expression::Equal(key, value) => labels.get(key) == Some(value),
            Expression::NotEqual(key, value) => labels.get(key) != Some(value),
            Expression::Exists(key) => labels.contains_key(key),
            Expression::DoesNotExist(key) => !labels.contains_key(key),
        }
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn write_set(f: &mut fmt::Formatter<'_>, values: &BTreeSet<String>) -> fmt::Result {
            f.write_str("(")?;
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                f.write_str(value)?;
            }
            f.write_str(")")
        }
        match self {
            Expression::In(key, values) => {
                write!(f, "{key} in ")?;
                write_set(f, values)
            }
            Expression::NotIn(key, values) => {
                write!(f, "{key} notin ")?;
                write_set(f, values)
            }
            Expression::Equal(key, value) => write!(f, "{key}={value}"),
            Expression::NotEqual(key, value) => write!(f, "{key}!={value}"),
            Expression::Exists(key) => f.write_str(key),
            Expression::DoesNotExist(key) => write!(f, "!{key}"),
        }
    }
}

impl std::str::FromStr for Expression {
    type Err = ParseExpressionError;

    /// Parses exactly one requirement, e.g. `env in (prod,staging)`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut expressions = parse::parse(s)?;
        match (expressions.pop(), expressions.is_empty()) {
            (Some(expression), true) => Ok(expression),
            (None, _) => Err(ParseExpressionError(format!("{s:?} holds no requirement"))),
            (Some(_), false) => Err(ParseExpressionError(format!(
                "{s:?} holds several requirements where one was expected"
            ))),
        }
    }
}

/// A label selector: every [`Expression`] must hold. The empty selector selects
/// everything.
///
/// Serialized as the list of its [`Expression`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Selector(Vec<Expression>);

impl Selector {
    /// Whether this selector has no requirement, so it matches every object.
    pub fn selects_all(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds requirements to this selector.
    ///
    /// ```
    /// use kube_core::{Expression, Selector};
    /// let mut selector = Selector::from(Expression::Exists("app".into()));
    /// selector.extend([Expression::DoesNotExist("legacy".into())]);
    /// assert_eq!(selector.to_string(), "app,!legacy");
    /// ```
    pub fn extend(&mut self, expressions: impl IntoIterator<Item = Expression>) -> &mut Self {
        self.0.extend(expressions);
        self
    }

    /// The requirements, in the order they were given.
    pub fn expressions(&self) -> &[Expression] {
        &self.0
    }
}

impl SelectorExt for Selector {
    type Search = BTreeMap<String, String>;

    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|expression| expression.matches(labels))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, expression) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{expression}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Selector {
    type Err = ParseExpressionError;

    /// Parses kubectl's selector syntax; the empty string selects everything.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse::parse(s).map(Selector)
    }
}

impl From<Expression> for Selector {
    fn from(expression: Expression) -> Self {
        Selector(vec![expression])
    }
}

impl FromIterator<Expression> for Selector {
    fn from_iter<I: IntoIterator<Item = Expression>>(iter: I) -> Self {
        Selector(iter.into_iter().collect())
    }
}

/// `key=value` requirements from pairs, as in `matchLabels`.
impl FromIterator<(String, String)> for Selector {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        iter.into_iter()
            .map(|(key, value)| Expression::Equal(key, value))
            .collect()
    }
}

/// `key=value` requirements from pairs, as in `matchLabels`.
impl FromIterator<(&'static str, &'static str)> for Selector {
    fn from_iter<I: IntoIterator<Item = (&'static str, &'static str)>>(iter: I) -> Self {
        iter.into_iter()
            .map(|(key, value)| Expression::Equal(key.to_owned(), value.to_owned()))
            .collect()
    }
}

impl IntoIterator for Selector {
    type IntoIter = std::vec::IntoIter<Expression>;
    type Item = Expression;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl IntoIterator for Expression {
    type IntoIter = std::iter::Once<Expression>;
    type Item = Expression;

    fn into_iter(self) -> Self::IntoIter {
        std::iter::once(self)
    }
}

/// Converts an API `LabelSelector` (`matchLabels` and `matchExpressions`).
///
/// Fails on an unknown operator, or on `In`/`NotIn` without values, which the
/// apiserver would refuse too.
impl TryFrom<LabelSelector> for Selector {
    type Error = ParseExpressionError;

    fn try_from(selector: LabelSelector) -> Result<Self, Self::Error> {
        let mut expressions: Vec<Expression> = selector
            .match_labels
            .unwrap_or_default()
            .into_iter()
            .map(|(key, value)| Expression::Equal(key, value))
            .collect();
        for requirement in selector.match_expressions.unwrap_or_default() {
            expressions.push(requirement.try_into()?);
        }
        Ok(Selector(expressions))
    }
}

impl TryFrom<LabelSelectorRequirement> for Expression {
    type Error = ParseExpressionError;

    fn try_from(requirement: LabelSelectorRequirement) -> Result<Self, Self::Error> {
        let LabelSelectorRequirement {
            key,
            operator,
            values,
        } = requirement;
        let values: BTreeSet<String> = values.unwrap_or_default().into_iter().collect();
        let needs_values = |values: BTreeSet<String>| {
            if values.is_empty() {
                Err(ParseExpressionError(format!(
                    "operator {operator:?} on key {key:?} needs at least one value"
                )))
            } else {
                Ok(values)
            }
        };
        match operator.as_str() {
            "In" => Ok(Expression::In(key.clone(), needs_values(values)?)),
            "NotIn" => Ok(Expression::NotIn(key.clone(), needs_values(values)?)),
            "Exists" => Ok(Expression::Exists(key)),
            "DoesNotExist" => Ok(Expression::DoesNotExist(key)),
            other => Err(ParseExpressionError(format!(
                "unknown operator {other:?} on key {key:?} (expected In, NotIn, Exists or DoesNotExist)"
            ))),
        }
    }
}

/// Converts to an API `LabelSelector`: `Equal` becomes a `matchLabels` entry,
/// everything else a `matchExpressions` requirement (`NotEqual` as `NotIn` with one
/// value, which means the same).
impl From<Selector> for LabelSelector {
    fn from(selector: Selector) -> Self {
        let mut match_labels = BTreeMap::new();
        let mut match_expressions = Vec::new();
        let requirement =
            |key: String, operator: &str, values: Option<Vec<String>>| LabelSelectorRequirement {
                key,
                operator: operator.to_owned(),
                values,
            };
        for expression in selector.0 {
            match expression {
                Expression::Equal(key, value) => {
                    match_labels.insert(key, value);
                }
                Expression::NotEqual(key, value) => {
                    match_expressions.push(requirement(key, "NotIn", Some(vec![value])));
                }
                Expression::In(key, values) => {
                    match_expressions.push(requirement(
                        key,
                        "In",
                        Some(values.into_iter().collect()),
                    ));
                }
                Expression::NotIn(key, values) => {
                    match_expressions.push(requirement(
                        key,
                        "NotIn",
                        Some(values.into_iter().collect()),
                    ));
                }
                Expression::Exists(key) => match_expressions.push(requirement(key, "Exists", None)),
                Expression::DoesNotExist(key) => {
                    match_expressions.push(requirement(key, "DoesNotExist", None));
                }
            }
        }
        LabelSelector {
            match_labels: (!match_labels.is_empty()).then_some(match_labels),
            match_expressions: (!match_expressions.is_empty()).then_some(match_expressions),
        }
    }
}

#[cfg(test)]
mod tests;
