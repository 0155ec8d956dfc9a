use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use super::{Expression, ParseExpressionError, Selector, SelectorExt};

fn set(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|v| v.to_string()).collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parse(s: &str) -> Selector {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

fn parse_error(s: &str) -> String {
    match s.parse::<Selector>() {
        Ok(selector) => panic!("{s:?} should not parse, got {selector:?}"),
        Err(ParseExpressionError(message)) => message,
    }
}

#[test]
fn parses_every_operator() {
    let selector = parse("a=b,c!=d,e in (x,y),f notin (z),g,!h,i==j");
    assert_eq!(
        selector.expressions(),
        &[
            Expression::Equal("a".into(), "b".into()),
            Expression::NotEqual("c".into(), "d".into()),
            Expression::In("e".into(), set(&["x", "y"])),
            Expression::NotIn("f".into(), set(&["z"])),
            Expression::Exists("g".into()),
            Expression::DoesNotExist("h".into()),
            Expression::Equal("i".into(), "j".into()),
        ]
    );
}

#[test]
fn prints_the_canonical_form() {
    let selector = parse(" a == b , e in ( y , x ) ,  ! h ");
    assert_eq!(selector.to_string(), "a=b,e in (x,y),!h");
}

#[test]
fn printing_then_parsing_gives_the_same_selector() {
    for text in [
        "",
        "a=b",
        "app.kubernetes.io/name=web,tier!=cache",
        "env in (prod,staging),zone notin (a),managed,!legacy",
        "a=,b!=",
        "x in ()",
    ] {
        let selector = parse(text);
        assert_eq!(
            parse(&selector.to_string()),
            selector,
            "round trip of {text:?}"
        );
    }
}

#[test]
fn empty_values_are_allowed_where_the_apiserver_allows_them() {
    assert_eq!(
        parse("a=").expressions(),
        &[Expression::Equal("a".into(), String::new())]
    );
    assert_eq!(
        parse("a in (,b)").expressions(),
        &[Expression::In("a".into(), set(&["", "b"]))]
    );
}

#[test]
fn empty_selector_selects_everything() {
    let selector = parse("   ");
    assert!(selector.selects_all());
    assert!(selector.matches(&labels(&[("any", "thing")])));
    assert_eq!(selector.to_string(), "");
}

#[test]
fn matching_follows_kubernetes_semantics() {
    let object = labels(&[("app", "web"), ("env", "prod")]);
    let cases = [
        ("app=web", true),
        ("app=db", false),
        ("app!=db", true),
        ("missing!=x", true),
        ("env in (prod,staging)", true),
        ("env in (staging)", false),
        ("missing in (x)", false),
        ("env notin (staging)", true),
        ("env notin (prod)", false),
        ("missing notin (x)", true),
        ("app", true),
        ("missing", false),
        ("!missing", true),
        ("!app", false),
        ("app=web,env=prod", true),
        ("app=web,env=dev", false),
    ];
    for (text, expected) in cases {
        assert_eq!(
            parse(text).matches(&object),
            expected,
            "{text:?} against {object:?}"
        );
    }
}

#[test]
fn single_expressions_parse_alone() {
    let expression: Expression = "env notin (a,b)".parse().expect("one requirement");
    assert_eq!(
        expression,
        Expression::NotIn("env".into(), set(&["a", "b"]))
    );
    assert_eq!(expression.key(), "env");
    assert!("a,b".parse::<Expression>().is_err());
    assert!("".parse::<Expression>().is_err());
}

#[test]
fn malformed_selectors_name_the_bad_part() {
    let cases = [
        ("a in b", "'('"),
        ("a in (b", "the end of the selector"),
        ("a in (b c)", "\"c\""),
        ("a=b=c", "'='"),
        ("a b", "\"b\""),
        (",a", "expected a label key"),
        ("a,", "after ','"),
        ("!a=b", "!a"),
        ("!", "expected a label key"),
        ("a>1", "'>'"),
        ("a=(b)", "'('"),
        ("a in (b),", "after ','"),
    ];
    for (text, needle) in cases {
        let message = parse_error(text);
        assert!(
            message.contains(needle),
            "error for {text:?} should mention {needle}: {message}"
        );
        assert!(
            message.contains(&format!("{text:?}")) || message.contains("key"),
            "{message}"
        );
    }
}

#[test]
fn invalid_keys_and_values_are_refused_with_the_reason() {
    let message = parse_error("-app=web");
    assert!(message.contains("\"-app\""), "{message}");
    let message = parse_error("Example.COM/app=web");
    assert!(message.contains("prefix \"Example.COM\""), "{message}");
    let message = parse_error(&format!("{}=x", "k".repeat(64)));
    assert!(message.contains("at most 63"), "{message}");
    let message = parse_error("app=web!");
    assert!(message.contains("'!'"), "{message}");
    let message = parse_error("app=we$b");
    assert!(message.contains("\"we$b\""), "{message}");
    let message = parse_error("app in (ok,-bad)");
    assert!(message.contains("\"-bad\""), "{message}");
    // A prefixed key with a valid DNS subdomain is fine.
    parse("example.com/app=web");
}

#[test]
fn converts_from_a_label_selector() {
    let api = LabelSelector {
        match_labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
        match_expressions: Some(vec![
            LabelSelectorRequirement {
                key: "env".into(),
                operator: "In".into(),
                values: Some(vec!["prod".into(), "dev".into()]),
            },
            LabelSelectorRequirement {
                key: "legacy".into(),
                operator: "DoesNotExist".into(),
                values: None,
            },
        ]),
    };
    let selector = Selector::try_from(api).expect("a valid LabelSelector");
    assert_eq!(selector.to_string(), "app=web,env in (dev,prod),!legacy");
}

#[test]
fn refuses_label_selectors_the_apiserver_would_refuse() {
    let unknown = LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "a".into(),
            operator: "Gt".into(),
            values: Some(vec!["1".into()]),
        }]),
        ..LabelSelector::default()
    };
    let message = Selector::try_from(unknown).expect_err("unknown operator").0;
    assert!(message.contains("\"Gt\""), "{message}");
    let no_values = LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "a".into(),
            operator: "In".into(),
            values: Some(vec![]),
        }]),
        ..LabelSelector::default()
    };
    let message = Selector::try_from(no_values)
        .expect_err("In without values")
        .0;
    assert!(message.contains("at least one value"), "{message}");
}

#[test]
fn converts_to_a_label_selector_and_back() {
    let selector = parse("app=web,tier!=cache,env in (a,b),zone notin (z),managed,!legacy");
    let api = LabelSelector::from(selector.clone());
    assert_eq!(
        api.match_labels,
        Some(BTreeMap::from([("app".to_string(), "web".to_string())]))
    );
    let operators: Vec<_> = api
        .match_expressions
        .iter()
        .flatten()
        .map(|r| r.operator.as_str())
        .collect();
    assert_eq!(
        operators,
        ["NotIn", "In", "NotIn", "Exists", "DoesNotExist"]
    );
    // `!=` comes back as `notin` with one value: the same meaning.
    let back = Selector::try_from(api).expect("round trip");
    let object = labels(&[("app", "web"), ("env", "a"), ("managed", "yes")]);
    assert_eq!(back.matches(&object), selector.matches(&object));
    assert_eq!(
        back.to_string(),
        "app=web,tier notin (cache),env in (a,b),zone notin (z),managed,!legacy"
    );
}

#[test]
fn builds_from_pairs_and_expressions() {
    let from_pairs: Selector = [("a", "1"), ("b", "2")].into_iter().collect();
    assert_eq!(from_pairs.to_string(), "a=1,b=2");
    let mut selector = Selector::from(Expression::Exists("x".into()));
    selector.extend(Expression::DoesNotExist("y".into()));
    assert_eq!(selector.to_string(), "x,!y");
}

#[test]
fn selectors_serialize_as_tagged_expressions_and_read_back() {
    let selector = parse("tier in (db,web),app=shop,!legacy");
    let json = serde_json::to_value(&selector).expect("serializable");
    assert_eq!(
        json,
        serde_json::json!([
            { "In": ["tier", ["db", "web"]] },
            { "Equal": ["app", "shop"] },
            { "DoesNotExist": "legacy" },
        ])
    );
    let back: Selector = serde_json::from_value(json).expect("deserializable");
    assert_eq!(back, selector);

    let expression: Expression =
        serde_json::from_str(r#"{"NotEqual":["app","db"]}"#).expect("deserializable");
    assert_eq!(expression, Expression::NotEqual("app".into(), "db".into()));
}
