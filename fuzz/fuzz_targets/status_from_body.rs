//! The body of a failed response becomes the error's `Status`: whatever the
//! body (a Status, another JSON document, an HTML page, binary), the result
//! carries a code and a failure, and a message quoting a body that is not a
//! Status stays short.
//!
//! Input: two bytes of HTTP status code (little endian), then the body.

#![no_main]

use kube_client::client::fuzzing::status_from_body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((code, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let Some(status) = status_from_body(u16::from_le_bytes(*code), body) else {
        return;
    };
    assert_ne!(status.code, 0);
    assert!(status.status.is_some());
    if status.message.contains("not a Kubernetes Status") {
        // The snippet is at most 300 characters and an ellipsis.
        assert!(status.message.chars().count() < 500, "{}", status.message);
    }
});
