//! Kubernetes API versions (`v1`, `v2beta1`, `v1alpha3`, ...) and how they rank.
//!
//! The apiserver and `kubectl` order the versions of a group by a fixed rule:
//! versions that follow the Kubernetes pattern come first, general availability
//! before beta before alpha; within each level larger numbers come first; versions
//! that follow no pattern come last, in alphabetical order. [`Version::priority`]
//! encodes that rule, [`Version::generation`] a "which is newest" order.
//!
//! ```
//! use kube_core::Version;
//!
//! let mut versions = vec!["v1beta1", "foo", "v2", "v1", "v2alpha1", "v1beta2"];
//! versions.sort_by_cached_key(|v| std::cmp::Reverse(Version::parse(v).priority()));
//! assert_eq!(versions, ["v2", "v1", "v1beta2", "v1beta1", "v2alpha1", "foo"]);
//! ```

use std::{cmp::Reverse, convert::Infallible, fmt, str::FromStr};

/// One version of an API group, parsed by the Kubernetes naming pattern
/// `v<major>[(alpha|beta)[<minor>]]`.
#[derive(PartialEq, Eq, Debug, Clone, Hash)]
pub enum Version {
    /// A generally available version, e.g. `v1` is `Stable(1)`.
    Stable(u32),
    /// A beta version, e.g. `v2beta3` is `Beta(2, Some(3))` and `v1beta` is
    /// `Beta(1, None)`.
    Beta(u32, Option<u32>),
    /// An alpha version, e.g. `v1alpha1` is `Alpha(1, Some(1))`.
    Alpha(u32, Option<u32>),
    /// A version that does not follow the pattern, e.g. `foo` or `V1`, kept as written.
    Nonconformant(String),
}

impl Version {
    /// Parses a version string. Never fails: strings that do not follow the
    /// Kubernetes pattern become [`Version::Nonconformant`].
    pub fn parse(v: &str) -> Version {
        parse_conformant(v).unwrap_or_else(|| Version::Nonconformant(v.to_string()))
    }

    /// A key ordering versions by the preference Kubernetes gives them: the
    /// greatest key is the most preferred version.
    ///
    /// Stable versions beat beta versions, which beat alpha versions, which beat
    /// non-conforming ones. Within a level, a higher major version wins, then a
    /// higher minor (`v1beta2` over `v1beta1`; a beta without a number ranks below
    /// numbered betas of the same major). Non-conforming versions rank
    /// alphabetically, the first in alphabetical order being preferred.
    pub fn priority(&self) -> impl Ord + use<> {
        match self {
            Version::Stable(major) => Priority::Conformant(Level::Stable, *major, 0),
            Version::Beta(major, minor) => {
                Priority::Conformant(Level::Beta, *major, minor_rank(*minor))
            }
            Version::Alpha(major, minor) => {
                Priority::Conformant(Level::Alpha, *major, minor_rank(*minor))
            }
            Version::Nonconformant(name) => Priority::Nonconformant(Reverse(name.clone())),
        }
    }

    /// A key ordering versions by how new they are: the greatest key is the latest.
    ///
    /// The major version decides first, so `v2alpha1` is newer than `v1`; within a
    /// major version, stable is newer than beta, which is newer than alpha; then the
    /// minor number decides. Non-conforming versions are older than every
    /// conforming one and rank alphabetically among themselves, like in
    /// [`priority`](Self::priority).
    pub fn generation(&self) -> impl Ord + use<> {
        match self {
            Version::Stable(major) => Generation::Conformant(*major, Level::Stable, 0),
            Version::Beta(major, minor) => {
                Generation::Conformant(*major, Level::Beta, minor_rank(*minor))
            }
            Version::Alpha(major, minor) => {
                Generation::Conformant(*major, Level::Alpha, minor_rank(*minor))
            }
            Version::Nonconformant(name) => Generation::Nonconformant(Reverse(name.clone())),
        }
    }
}

impl FromStr for Version {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Version::parse(s))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn level(
            f: &mut fmt::Formatter<'_>,
            major: u32,
            word: &str,
            minor: Option<u32>,
        ) -> fmt::Result {
            write!(f, "v{major}{word}")?;
            match minor {
                Some(minor) => write!(f, "{minor}"),
                None => Ok(()),
            }
        }
        match self {
            Version::Stable(major) => write!(f, "v{major}"),
            Version::Beta(major, minor) => level(f, *major, "beta", *minor),
            Version::Alpha(major, minor) => level(f, *major, "alpha", *minor),
            Version::Nonconformant(name) => f.write_str(name),
        }
    }
}

/// The stability level of a conforming version; later variants rank higher.
#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Level {
    Alpha,
    Beta,
    Stable,
}

/// Orders by level, then major, then minor. Derived `Ord` compares variants in
/// declaration order, so every conforming version outranks a non-conforming one.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Priority {
    Nonconformant(Reverse<String>),
    Conformant(Level, u32, u64),
}

/// Orders by major, then level, then minor.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Generation {
    Nonconformant(Reverse<String>),
    Conformant(u32, Level, u64),
}

/// `None` (as in `v1beta`) ranks below every numbered minor version.
fn minor_rank(minor: Option<u32>) -> u64 {
    minor.map_or(0, |m| u64::from(m) + 1)
}

/// Parses `v<digits>` optionally followed by `alpha` or `beta` and optional digits.
fn parse_conformant(v: &str) -> Option<Version> {
    let rest = v.strip_prefix('v')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let major: u32 = rest[..digits].parse().ok()?;
    let rest = &rest[digits..];
    if rest.is_empty() {
        return Some(Version::Stable(major));
    }
    let (is_beta, minor) = if let Some(minor) = rest.strip_prefix("beta") {
        (true, minor)
    } else if let Some(minor) = rest.strip_prefix("alpha") {
        (false, minor)
    } else {
        return None;
    };
    let minor = if minor.is_empty() {
        None
    } else if minor.bytes().all(|b| b.is_ascii_digit()) {
        Some(minor.parse().ok()?)
    } else {
        return None;
    };
    Some(if is_beta {
        Version::Beta(major, minor)
    } else {
        Version::Alpha(major, minor)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_shape() {
        for (input, expected) in [
            ("v1", Version::Stable(1)),
            ("v10", Version::Stable(10)),
            ("v0", Version::Stable(0)),
            ("v1beta1", Version::Beta(1, Some(1))),
            ("v2beta", Version::Beta(2, None)),
            ("v1alpha3", Version::Alpha(1, Some(3))),
            ("v3alpha", Version::Alpha(3, None)),
            ("v", Version::Nonconformant("v".into())),
            ("V1", Version::Nonconformant("V1".into())),
            ("1", Version::Nonconformant("1".into())),
            ("v1gamma1", Version::Nonconformant("v1gamma1".into())),
            ("v1beta1x", Version::Nonconformant("v1beta1x".into())),
            ("v1beta+1", Version::Nonconformant("v1beta+1".into())),
            ("v-1", Version::Nonconformant("v-1".into())),
            ("", Version::Nonconformant(String::new())),
            ("foo", Version::Nonconformant("foo".into())),
            // Too large for u32: not a conforming version.
            (
                "v99999999999",
                Version::Nonconformant("v99999999999".into()),
            ),
        ] {
            assert_eq!(Version::parse(input), expected, "parsing {input:?}");
            assert_eq!(input.parse::<Version>(), Ok(expected), "from_str {input:?}");
        }
    }

    #[test]
    fn display_round_trips() {
        for v in [
            "v1", "v2beta3", "v1beta", "v1alpha1", "v4alpha", "foo", "v1gamma",
        ] {
            assert_eq!(Version::parse(v).to_string(), v);
        }
    }

    fn by_priority(input: &[&str]) -> Vec<String> {
        let mut versions: Vec<String> = input.iter().map(|s| s.to_string()).collect();
        versions.sort_by_cached_key(|v| Reverse(Version::parse(v).priority()));
        versions
    }

    #[test]
    fn priority_follows_the_kubernetes_rules() {
        // The example order from the Kubernetes documentation on CRD versions.
        let expected = [
            "v10",
            "v2",
            "v1",
            "v11beta2",
            "v10beta3",
            "v3beta1",
            "v12alpha1",
            "v11alpha2",
            "foo1",
            "foo10",
        ];
        let mut shuffled = expected.to_vec();
        shuffled.reverse();
        shuffled.swap(0, 4);
        shuffled.swap(2, 7);
        assert_eq!(by_priority(&shuffled), expected);
    }

    #[test]
    fn priority_ranks_betas_without_a_number_last_within_their_major() {
        assert_eq!(
            by_priority(&["v1beta", "v1beta2", "v1", "v1beta1"]),
            ["v1", "v1beta2", "v1beta1", "v1beta"]
        );
        assert!(Version::parse("v1alpha").priority() < Version::parse("v1alpha1").priority());
    }

    #[test]
    fn any_conforming_version_outranks_any_nonconforming_one() {
        let alpha = Version::parse("v1alpha1").priority();
        for other in ["a", "v", "zzz", "V9"] {
            assert!(alpha > Version::parse(other).priority(), "{other}");
        }
    }

    #[test]
    fn generation_puts_the_major_version_first() {
        let mut versions = vec![
            "v1", "v2alpha1", "v1beta1", "v2beta1", "foo", "v1alpha2", "v2",
        ];
        versions.sort_by_cached_key(|v| Reverse(Version::parse(v).generation()));
        assert_eq!(
            versions,
            [
                "v2", "v2beta1", "v2alpha1", "v1", "v1beta1", "v1alpha2", "foo"
            ]
        );
    }

    #[test]
    fn equal_versions_have_equal_keys() {
        assert!(Version::parse("v1beta1").priority() == Version::parse("v1beta1").priority());
        assert!(Version::parse("x").generation() == Version::parse("x").generation());
    }
}
