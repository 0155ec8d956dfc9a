//! Durations in Go's text form (`1h30m`, `-1.5s`) come from objects and
//! configuration: any text must parse or fail cleanly, and a parsed duration
//! must print as text that parses back to it.

#![no_main]

use kube_core::Duration;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(duration) = text.parse::<Duration>() {
        let printed = duration.to_string();
        let reparsed: Duration = printed
            .parse()
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
        assert_eq!(reparsed, duration, "{text:?} printed as {printed:?}");
        assert_eq!(reparsed.to_string(), printed);
    }
});
