//! Label selectors come from users and from objects' `spec.selector`. Any text
//! must parse or fail cleanly, and what parses must print as text that parses
//! back to the same selector.

#![no_main]

use std::str::FromStr;

use kube_core::{Expression, Selector};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(selector) = Selector::from_str(text) {
        let printed = selector.to_string();
        let reparsed = Selector::from_str(&printed)
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
        assert_eq!(reparsed, selector, "{text:?} printed as {printed:?}");
        assert_eq!(reparsed.to_string(), printed);
    }
    if let Ok(expression) = Expression::from_str(text) {
        let printed = expression.to_string();
        assert_eq!(
            Expression::from_str(&printed).ok(),
            Some(expression),
            "{printed:?}"
        );
    }
});
