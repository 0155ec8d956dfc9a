//! What an OIDC issuer answers, and the ID tokens it hands out: discovery
//! documents, token responses and the JWT `exp` check must accept or refuse
//! any input cleanly, and a refused token response never quotes its tokens.
//!
//! Input: one byte choosing the parser (discovery document, token response,
//! or an ID token after eight bytes of "now"), then its input.

#![no_main]

use kube_client::client::fuzzing::{oidc_discovery, oidc_expires_soon, oidc_token_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, input)) = data.split_first() else {
        return;
    };
    match choice % 3 {
        0 => {
            let _ = oidc_discovery(input);
        }
        1 => {
            let Err(message) = oidc_token_response(input) else {
                return;
            };
            let answer = serde_json::from_slice::<serde_json::Value>(input).ok();
            let body = String::from_utf8_lossy(input);
            for field in ["id_token", "refresh_token"] {
                let token = answer
                    .as_ref()
                    .and_then(|a| a[field].as_str())
                    .filter(|t| t.len() >= 12 && body.matches(*t).count() == 1);
                if let Some(token) = token {
                    assert!(!message.contains(token), "{field} shows in {message}");
                }
            }
        }
        _ => {
            let Some((now, token)) = input.split_first_chunk::<8>() else {
                return;
            };
            let Ok(token) = std::str::from_utf8(token) else {
                return;
            };
            let now = i64::from_le_bytes(*now);
            // Deterministic: the same token and time give the same answer.
            assert_eq!(oidc_expires_soon(token, now), oidc_expires_soon(token, now));
        }
    }
});
