//! A kubeconfig file, as bytes (UTF-8, or UTF-16 with a byte order mark),
//! becomes the configuration of its current context: base64 and PEM data,
//! server and proxy URLs, every field a client reads. Any input must load or
//! fail cleanly, and the configuration's `Debug` must not show the user's
//! secrets.

#![no_main]

use kube_client::client::fuzzing::config_from_kubeconfig;
use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;

fuzz_target!(|data: &[u8]| {
    let Ok(config) = config_from_kubeconfig(data) else {
        return;
    };
    let shown = format!("{config:?}");
    let file = String::from_utf8_lossy(data);
    let auth = &config.auth_info;
    let secrets = [
        auth.token.as_ref().map(|s| s.expose_secret().to_string()),
        auth.password.as_ref().map(|s| s.expose_secret().to_string()),
        auth.client_key_data
            .as_ref()
            .map(|s| s.expose_secret().to_string()),
    ];
    // A secret written once in the file can only show in Debug by leaking;
    // short ones may appear by chance in other fields.
    for secret in secrets.into_iter().flatten() {
        if secret.len() >= 12 && file.matches(secret.as_str()).count() == 1 {
            assert!(!shown.contains(&secret), "a secret shows in {shown}");
        }
    }
});
