//! An exec credential plugin's output is read as an `ExecCredential`: any
//! output must be taken (a token, or a client certificate that is loaded) or
//! refused cleanly, and a refusal never quotes the token it was given.

#![no_main]

use kube_client::client::fuzzing::exec_credential;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let outcome = exec_credential(data);
    let Err(message) = outcome else {
        return;
    };
    let token = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v["status"]["token"].as_str().map(str::to_string));
    let output = String::from_utf8_lossy(data);
    if let Some(token) = token
        && token.len() >= 12
        && output.matches(token.as_str()).count() == 1
    {
        assert!(!message.contains(&token), "the token shows in {message}");
    }
});
