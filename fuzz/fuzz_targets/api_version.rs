//! API versions (`apps/v1`, `v1beta2`) come from discovery and from objects:
//! parsing them never fails or panics, versions print as what they parse
//! from, and the orderings used to pick a preferred version are consistent.

#![no_main]

use std::{cmp::Ordering, str::FromStr};

use kube_core::{GroupVersion, Version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (left, right) = text.split_once('|').unwrap_or((text, "v1"));
    let a = Version::parse(left);
    let b = Version::parse(right);
    assert_eq!(Version::parse(&a.to_string()), a, "{left:?} printed as {a}");
    // Orderings are antisymmetric and agree with equality.
    assert_eq!(
        a.priority().cmp(&b.priority()),
        b.priority().cmp(&a.priority()).reverse()
    );
    assert_eq!(
        a.generation().cmp(&b.generation()),
        b.generation().cmp(&a.generation()).reverse()
    );
    if a == b {
        assert_eq!(a.priority().cmp(&b.priority()), Ordering::Equal);
    }
    if let Ok(gv) = GroupVersion::from_str(text) {
        assert_eq!(GroupVersion::from_str(&gv.api_version()).ok(), Some(gv));
    }
});
