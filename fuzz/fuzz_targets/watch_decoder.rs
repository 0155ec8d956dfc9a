//! Watch bodies come from the network in chunks of any size. The client's
//! line splitter must find exactly the lines a plain split finds, wherever the
//! chunks break, and decoding must never panic.
//!
//! Input: one byte choosing the chunk size (1..=64), then the body.

#![no_main]

use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    api::DynamicObject,
    client::fuzzing::{decode_watch_body, split_lines},
};
use libfuzzer_sys::fuzz_target;

/// Lines as the protocol defines them: split on `\n`, blank lines skipped,
/// an unterminated last line kept.
fn reference_lines(body: &[u8]) -> Vec<Vec<u8>> {
    body.split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .map(<[u8]>::to_vec)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&size, body)) = data.split_first() else {
        return;
    };
    let size = usize::from(size % 64) + 1;
    let chunks: Vec<&[u8]> = body.chunks(size).collect();

    let lines = split_lines(&chunks);
    assert_eq!(lines, reference_lines(body), "chunks of {size}");
    let whole = split_lines(&[body]);
    assert_eq!(lines, whole);

    let typed = decode_watch_body::<ConfigMap>(&chunks);
    let dynamic = decode_watch_body::<DynamicObject>(&chunks);
    // The stream ends at its first error; before that, one item per line.
    for items in [typed.len(), dynamic.len()] {
        assert!(
            items <= lines.len(),
            "{items} items from {} lines",
            lines.len()
        );
    }
    assert!(typed.iter().rev().skip(1).all(Result::is_ok));
    for item in typed.iter().filter_map(|item| item.as_ref().err()) {
        let _ = item.to_string();
    }
});
