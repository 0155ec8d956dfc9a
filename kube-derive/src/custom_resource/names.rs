//! The names a custom resource definition declares, and the rules the
//! apiserver holds them to: checking them here turns a refused installation
//! at run time into a compile error at the attribute.

/// The plural of a kind by English rules, as `kube-core` guesses plurals of
/// kinds it did not discover (`Policy` → `policies`, `Box` → `boxes`).
pub(crate) fn guess_plural(kind: &str) -> String {
    let word = kind.to_ascii_lowercase();
    if word.ends_with("endpoints") || word.ends_with("metrics") {
        return word;
    }
    if let Some(stem) = word.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|suffix| word.ends_with(suffix))
    {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

/// Why `value` cannot be the API group, if it cannot: the apiserver wants a
/// lowercase DNS subdomain with at least one dot.
pub(crate) fn group_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some(
            "`group` must not be empty: Kubernetes wants a domain name, e.g. \"example.com\""
                .into(),
        );
    }
    if !value.contains('.') {
        return Some(format!(
            "group \"{value}\" needs at least one dot: Kubernetes wants a domain name, e.g. \"{value}.example.com\""
        ));
    }
    let valid = value.len() <= 253 && value.split('.').all(is_dns_label);
    (!valid).then(|| {
        format!(
            "group \"{value}\" is not a domain name: Kubernetes wants lowercase letters, digits, `-` and `.`, e.g. \"apps.example.com\""
        )
    })
}

/// Why `value` cannot be the version, if it cannot: the apiserver wants a
/// lowercase name starting with a letter.
pub(crate) fn version_problem(value: &str) -> Option<String> {
    (!is_dns1035_label(value)).then(|| {
        format!(
            "version \"{value}\" is not a valid version name: Kubernetes wants lowercase letters, digits and `-`, starting with a letter, e.g. \"v1\" or \"v1beta1\""
        )
    })
}

/// Why `value` cannot be the kind, if it cannot: once lowercased it must be a
/// name the apiserver accepts as a resource name.
pub(crate) fn kind_problem(value: &str) -> Option<String> {
    (!is_dns1035_label(&value.to_ascii_lowercase())).then(|| {
        format!(
            "kind \"{value}\" is not a valid kind: Kubernetes wants letters, digits and `-`, starting with a letter, e.g. \"Foo\""
        )
    })
}

/// Why `value` cannot be the plural, singular or a short name (`what`), if it
/// cannot: those are lowercase names starting with a letter.
pub(crate) fn resource_name_problem(what: &str, value: &str) -> Option<String> {
    (!is_dns1035_label(value)).then(|| {
        format!(
            "{what} \"{value}\" is not a valid resource name: Kubernetes wants lowercase letters, digits and `-`, starting with a letter"
        )
    })
}

/// A DNS-1035 label: at most 63 lowercase letters, digits and `-`, starting
/// with a letter and not ending with `-`.
fn is_dns1035_label(value: &str) -> bool {
    is_dns_label(value) && value.starts_with(|c: char| c.is_ascii_lowercase())
}

/// A DNS-1123 label: at most 63 lowercase letters, digits and `-`, starting
/// and ending with a letter or digit.
fn is_dns_label(value: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !value.is_empty()
        && value.len() <= 63
        && value.chars().all(|c| alphanumeric(c) || c == '-')
        && value.starts_with(alphanumeric)
        && value.ends_with(alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_follow_english_endings() {
        let cases = [
            ("Foo", "foos"),
            ("Policy", "policies"),
            ("Gateway", "gateways"),
            ("Box", "boxes"),
            ("Ingress", "ingresses"),
            ("Match", "matches"),
            ("Mesh", "meshes"),
            ("Endpoints", "endpoints"),
            ("PodMetrics", "podmetrics"),
        ];
        for (kind, plural) in cases {
            assert_eq!(guess_plural(kind), plural, "plural of {kind}");
        }
    }

    #[test]
    fn groups_are_domains_with_a_dot() {
        assert_eq!(group_problem("example.com"), None);
        assert_eq!(group_problem("apps.my-company.io"), None);
        let dotless = group_problem("example").expect("no dot");
        assert!(dotless.contains("at least one dot"), "{dotless}");
        for bad in ["Example.com", "example..com", "-a.com", "a_b.com", "a.com."] {
            assert!(group_problem(bad).is_some(), "{bad} should be refused");
        }
    }

    #[test]
    fn versions_kinds_and_resource_names_are_labels() {
        for good in ["v1", "v1beta1", "v2alpha3", "a-b"] {
            assert_eq!(version_problem(good), None, "{good}");
        }
        for bad in ["V1", "1", "v1.0", "v1-", "", &"v".repeat(64)] {
            assert!(version_problem(bad).is_some(), "{bad:?} should be refused");
        }
        assert_eq!(kind_problem("FooBar"), None);
        assert!(kind_problem("Foo_Bar").is_some());
        assert!(kind_problem("9Lives").is_some());
        assert_eq!(resource_name_problem("plural", "foo-bars"), None);
        let upper = resource_name_problem("plural", "Foos").expect("uppercase");
        assert!(upper.starts_with("plural \"Foos\""), "{upper}");
    }
}
