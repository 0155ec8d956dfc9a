//! [`Duration`]: a span of time as Kubernetes writes it in objects
//! (`metav1.Duration`), e.g. `"30s"`, `"1h30m"` or `"1.5ms"`.
//!
//! The text form is Go's: a sign, then one or more numbers (with optional
//! fractions) each followed by a unit — `ns`, `us` (or `µs`), `ms`, `s`, `m`,
//! `h` — or just `0`. Printing gives what Go prints: `1h0m0s`, `1m30s`,
//! `1.5s`, `100ms`, `0s`. Go durations are signed; [`std::time::Duration`]s
//! are not, so a [`Duration`] keeps the sign next to the magnitude.

use std::{cmp::Ordering, fmt, str::FromStr, time};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOS_PER_MICRO: u128 = 1_000;
const NANOS_PER_MILLI: u128 = 1_000_000;
const NANOS_PER_SECOND: u128 = 1_000_000_000;
const NANOS_PER_MINUTE: u128 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: u128 = 60 * NANOS_PER_MINUTE;

/// The longest duration Go can hold, in nanoseconds: positive ones up to
/// `2^63 - 1`, negative ones down to `-2^63`.
const MAX_POSITIVE_NANOS: u128 = i64::MAX as u128;
const MAX_NEGATIVE_NANOS: u128 = MAX_POSITIVE_NANOS + 1;

/// Fraction digits beyond this many cannot change the nanoseconds of any unit.
const MAX_FRACTION_DIGITS: u32 = 19;

/// A signed span of time with the text form of Kubernetes objects.
///
/// ```
/// use kube_core::Duration;
///
/// let d: Duration = "1h30m".parse()?;
/// assert_eq!(d, std::time::Duration::from_secs(90 * 60));
/// assert_eq!(d.to_string(), "1h30m0s");
///
/// let back: Duration = "-1.5s".parse()?;
/// assert!(back.is_negative());
/// assert_eq!(std::time::Duration::from(back).as_millis(), 1500);
/// # Ok::<(), kube_core::duration::ParseError>(())
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct Duration {
    duration: time::Duration,
    is_negative: bool,
}

/// Why a text is not a [`Duration`].
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// A unit is not one of `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`.
    #[error("{0:?} is not a duration unit; expected one of ns, us, µs, ms, s, m, h")]
    InvalidUnit(String),

    /// A number has no unit after it.
    #[error("the number at the end of {0:?} has no unit; expected one of ns, us, µs, ms, s, m, h")]
    NoUnit(String),

    /// A part of the text is not a number where one must be, or the text is
    /// empty.
    #[error(
        "{0:?} is not a duration: expected numbers each followed by a unit, like 1h30m or 2.5s"
    )]
    NotANumber(String),

    /// The duration is longer than about 292 years, which Kubernetes (Go)
    /// cannot hold.
    #[error("{0:?} is longer than the longest duration Kubernetes can hold (about 292 years)")]
    Overflow(String),
}

impl Duration {
    /// Whether the duration is below zero (zero is never negative).
    #[inline]
    #[must_use]
    pub fn is_negative(&self) -> bool {
        self.is_negative
    }

    /// The duration with the given sign; zero stays non-negative.
    fn signed(duration: time::Duration, is_negative: bool) -> Self {
        Self {
            duration,
            is_negative: is_negative && !duration.is_zero(),
        }
    }

    /// Nanoseconds with the sign, for ordering.
    fn signed_nanos(&self) -> i128 {
        // A std Duration has fewer than 2^96 nanoseconds: it fits an i128.
        let nanos = i128::try_from(self.duration.as_nanos()).unwrap_or(i128::MAX);
        if self.is_negative { -nanos } else { nanos }
    }
}

impl From<time::Duration> for Duration {
    fn from(duration: time::Duration) -> Self {
        Self::signed(duration, false)
    }
}

impl From<Duration> for time::Duration {
    /// The magnitude: the sign is lost.
    fn from(duration: Duration) -> Self {
        duration.duration
    }
}

impl FromStr for Duration {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (is_negative, mut rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if rest == "0" {
            return Ok(Self::default());
        }
        if rest.is_empty() {
            return Err(ParseError::NotANumber(text.to_string()));
        }
        let limit = if is_negative {
            MAX_NEGATIVE_NANOS
        } else {
            MAX_POSITIVE_NANOS
        };
        let overflow = || ParseError::Overflow(text.to_string());
        let mut total: u128 = 0;
        while !rest.is_empty() {
            let (whole, after_whole) = split_digits(rest);
            let (fraction, after_fraction) = match after_whole.strip_prefix('.') {
                Some(after_dot) => split_digits(after_dot),
                None => ("", after_whole),
            };
            if whole.is_empty() && fraction.is_empty() {
                return Err(ParseError::NotANumber(text.to_string()));
            }
            let unit_end = after_fraction
                .find(|c: char| c == '.' || c.is_ascii_digit())
                .unwrap_or(after_fraction.len());
            let (unit, after_unit) = after_fraction.split_at(unit_end);
            let unit_nanos = match unit {
                "" => return Err(ParseError::NoUnit(text.to_string())),
                "ns" => 1,
                // Go accepts both the micro sign and the Greek letter mu.
                "us" | "\u{00b5}s" | "\u{03bc}s" => NANOS_PER_MICRO,
                "ms" => NANOS_PER_MILLI,
                "s" => NANOS_PER_SECOND,
                "m" => NANOS_PER_MINUTE,
                "h" => NANOS_PER_HOUR,
                other => return Err(ParseError::InvalidUnit(other.to_string())),
            };
            let mut whole_value: u128 = 0;
            for digit in whole.bytes() {
                whole_value = whole_value * 10 + u128::from(digit - b'0');
                if whole_value > limit {
                    return Err(overflow());
                }
            }
            let mut fraction_value: u128 = 0;
            let mut scale: u128 = 1;
            for digit in fraction.bytes().take(MAX_FRACTION_DIGITS as usize) {
                fraction_value = fraction_value * 10 + u128::from(digit - b'0');
                scale *= 10;
            }
            let part = whole_value
                .checked_mul(unit_nanos)
                .and_then(|nanos| nanos.checked_add(fraction_value * unit_nanos / scale))
                .ok_or_else(overflow)?;
            total = total.checked_add(part).ok_or_else(overflow)?;
            if total > limit {
                return Err(overflow());
            }
            rest = after_unit;
        }
        let secs = u64::try_from(total / NANOS_PER_SECOND).map_err(|_| overflow())?;
        let nanos = u32::try_from(total % NANOS_PER_SECOND).map_err(|_| overflow())?;
        Ok(Self::signed(time::Duration::new(secs, nanos), is_negative))
    }
}

/// The leading ASCII digits of `text`, and what follows them.
fn split_digits(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

impl fmt::Display for Duration {
    /// Go's form: `1h2m3.5s`, `1.5s`, `100ms`, `1.5µs`, `10ns`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.duration.as_nanos();
        if nanos == 0 {
            return f.write_str("0s");
        }
        if self.is_negative {
            f.write_str("-")?;
        }
        if nanos < NANOS_PER_MICRO {
            return write!(f, "{nanos}ns");
        }
        if nanos < NANOS_PER_MILLI {
            write_fraction(f, nanos, 3)?;
            return f.write_str("\u{00b5}s");
        }
        if nanos < NANOS_PER_SECOND {
            write_fraction(f, nanos, 6)?;
            return f.write_str("ms");
        }
        let hours = nanos / NANOS_PER_HOUR;
        let minutes = nanos % NANOS_PER_HOUR / NANOS_PER_MINUTE;
        let seconds = nanos % NANOS_PER_MINUTE;
        if hours > 0 {
            write!(f, "{hours}h{minutes}m")?;
        } else if minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        write_fraction(f, seconds, 9)?;
        f.write_str("s")
    }
}

/// `value / 10^digits` with the remainder as a fraction, without trailing
/// zeros.
fn write_fraction(f: &mut fmt::Formatter<'_>, value: u128, digits: u32) -> fmt::Result {
    let divisor = 10_u128.pow(digits);
    let whole = value / divisor;
    let fraction = value % divisor;
    if fraction == 0 {
        return write!(f, "{whole}");
    }
    let width = digits as usize;
    let fraction = format!("{fraction:0width$}");
    write!(f, "{whole}.{}", fraction.trim_end_matches('0'))
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Duration({self})")
    }
}

impl Default for Duration {
    /// Zero.
    fn default() -> Self {
        Self::from(time::Duration::ZERO)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl PartialEq<time::Duration> for Duration {
    fn eq(&self, other: &time::Duration) -> bool {
        !self.is_negative && self.duration == *other
    }
}

impl PartialEq<time::Duration> for &'_ Duration {
    fn eq(&self, other: &time::Duration) -> bool {
        (*self).eq(other)
    }
}

impl PartialEq<Duration> for time::Duration {
    fn eq(&self, other: &Duration) -> bool {
        other.eq(self)
    }
}

impl PartialEq<Duration> for &'_ time::Duration {
    fn eq(&self, other: &Duration) -> bool {
        other.eq(*self)
    }
}

impl PartialOrd for Duration {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Duration {
    fn cmp(&self, other: &Self) -> Ordering {
        self.signed_nanos().cmp(&other.signed_nanos())
    }
}

impl PartialOrd<time::Duration> for Duration {
    fn partial_cmp(&self, other: &time::Duration) -> Option<Ordering> {
        Some(self.cmp(&Duration::from(*other)))
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // A plain string: JSON Schema's `format: duration` means ISO 8601,
        // which this is not.
        schemars::json_schema!({ "type": "string" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Duration {
        text.parse()
            .unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn nanos(n: u64) -> time::Duration {
        time::Duration::from_nanos(n)
    }

    #[test]
    fn parses_what_go_parses() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("5s", 5_000_000_000),
            ("30s", 30_000_000_000),
            ("1478s", 1_478_000_000_000),
            ("+5s", 5_000_000_000),
            ("5.0s", 5_000_000_000),
            ("5.6s", 5_600_000_000),
            ("5.s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1.004s", 1_004_000_000),
            ("1.0040s", 1_004_000_000),
            ("100.00100s", 100_001_000_000),
            ("10ns", 10),
            ("11us", 11_000),
            ("12\u{00b5}s", 12_000),
            ("12\u{03bc}s", 12_000),
            ("13ms", 13_000_000),
            ("14s", 14_000_000_000),
            ("15m", 900_000_000_000),
            ("16h", 57_600_000_000_000),
            ("3h30m", 12_600_000_000_000),
            ("10.5s4m", 250_500_000_000),
            ("1h1m1s1ms1us1ns", 3_661_001_001_001),
            ("39h9m14.425s", 140_954_425_000_000),
            ("52763797000ns", 52_763_797_000),
            ("0.25h", 900_000_000_000),
            ("1.0000000005s", 1_000_000_000),
            ("9007199254740993ns", 9_007_199_254_740_993),
            ("9223372036854775807ns", 9_223_372_036_854_775_807),
            ("0.100000000000000000000h", 360_000_000_000),
        ];
        for (text, expected) in cases {
            let d = parse(text);
            assert!(!d.is_negative(), "{text}");
            assert_eq!(d, nanos(*expected), "{text}");
        }
        let negative = parse("-3h30m");
        assert!(negative.is_negative());
        assert_eq!(time::Duration::from(negative), nanos(12_600_000_000_000));
        assert!(!parse("-0").is_negative(), "zero has no sign");
        assert!(!parse("-0s").is_negative(), "zero has no sign");
        assert!(parse("-9223372036854775808ns").is_negative());
    }

    #[test]
    fn refuses_what_go_refuses() {
        for text in [
            "", "-", "+", "s", ".s", "+.s", "3", "1d", "1.5", "x1s", "1s ", " 1s", "1sx", "1..5s",
            "--1s", "1h-1m",
        ] {
            assert!(
                text.parse::<Duration>().is_err(),
                "{text:?} should not parse"
            );
        }
        assert!(matches!("".parse::<Duration>(), Err(ParseError::NotANumber(t)) if t.is_empty()));
        assert!(matches!(
            "3".parse::<Duration>(),
            Err(ParseError::NoUnit(_))
        ));
        assert!(matches!("1d".parse::<Duration>(), Err(ParseError::InvalidUnit(u)) if u == "d"));
        assert!(matches!(
            ".s".parse::<Duration>(),
            Err(ParseError::NotANumber(_))
        ));
        for text in [
            "9223372036854775808ns",
            "-9223372036854775809ns",
            "2562048h",
            "9223372036s854775808ns",
            "99999999999999999999999999999s",
        ] {
            assert!(
                matches!(text.parse::<Duration>(), Err(ParseError::Overflow(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn prints_what_go_prints() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1\u{00b5}s"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            (240_000_000_000, "4m0s"),
            (270_000_000_000, "4m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (4_500_000_000_000, "1h15m0s"),
            (3_661_001_001_001, "1h1m1.001001001s"),
            (9_223_372_036_854_775_807, "2562047h47m16.854775807s"),
        ];
        for (n, expected) in cases {
            assert_eq!(Duration::from(nanos(*n)).to_string(), *expected, "{n}");
        }
        assert_eq!(parse("-1.5s").to_string(), "-1.5s");
        assert_eq!(parse("-0s").to_string(), "0s");
        assert_eq!(format!("{:?}", parse("90m")), "Duration(1h30m0s)");
    }

    #[test]
    fn printing_then_parsing_gives_the_same_duration() {
        // Values spread over every unit, with and without fractions.
        let mut n: u64 = 1;
        while n < i64::MAX as u64 / 3 {
            for value in [n, n + 1, n * 3 - 1] {
                for negative in [false, true] {
                    let d = Duration::signed(nanos(value), negative);
                    let text = d.to_string();
                    assert_eq!(parse(&text), d, "{text}");
                }
            }
            n = n * 7 + 3;
        }
    }

    #[test]
    fn order_and_comparison_respect_the_sign() {
        let mut durations: Vec<Duration> = ["1s", "-2s", "0s", "-1s", "500ms", "1m"]
            .into_iter()
            .map(parse)
            .collect();
        durations.sort();
        let texts: Vec<String> = durations.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["-2s", "-1s", "0s", "500ms", "1s", "1m0s"]);
        assert!(parse("-1s") < time::Duration::ZERO);
        assert!(parse("2s") > time::Duration::from_secs(1));
        assert_ne!(parse("-1s"), time::Duration::from_secs(1));
        assert_eq!(time::Duration::from_secs(60), parse("1m"));
        assert_eq!(&parse("1m"), time::Duration::from_secs(60));
    }

    #[test]
    fn serializes_as_its_text() {
        let d: Duration = serde_json::from_str("\"1h30m\"").expect("a duration");
        assert_eq!(serde_json::to_string(&d).expect("encodes"), "\"1h30m0s\"");
        let err = serde_json::from_str::<Duration>("\"soon\"").expect_err("not a duration");
        assert!(err.to_string().contains("soon"), "{err}");
        assert!(
            serde_json::from_str::<Duration>("30").is_err(),
            "a number is not a duration"
        );
    }
}
