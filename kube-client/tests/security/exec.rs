//! Exec plugins run exactly as configured: no shell between the configuration
//! and the program.

use std::{io::Write, os::unix::fs::PermissionsExt, path::Path};

use kube_client::{
    Client, Error,
    config::{ExecConfig, ExecInteractiveMode},
};
use serde_json::json;

use crate::{admin_config, capture, service_account_token, without_credentials};

/// Writes an executable shell script.
pub fn write_script(path: &Path, body: &str) {
    let mut file = std::fs::File::create(path).expect("script");
    writeln!(file, "#!/bin/sh\n{body}").expect("write script");
    drop(file);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn env_var(name: &str, value: &str) -> std::collections::HashMap<String, String> {
    [
        ("name".to_string(), name.to_string()),
        ("value".to_string(), value.to_string()),
    ]
    .into()
}

#[tokio::test]
async fn plugins_get_exactly_their_arguments_and_environment_without_a_shell() {
    capture::start();
    let token = service_account_token("exact-exec").await;
    // A directory with a space and a quote in its name: a shell would split it.
    let dir = tempfile::Builder::new()
        .prefix("exec plugin's ")
        .tempdir()
        .expect("tempdir");
    let marker = |n: u32| dir.path().join(format!("marker-{n}"));
    let args = vec![
        format!("$(touch {})", marker(1).display()),
        format!("a; touch {}", marker(2).display()),
        format!("`touch {}`", marker(3).display()),
        format!("x && touch {} || true", marker(4).display()),
        "two words".to_string(),
        "*".to_string(),
        "'single' \"double\"".to_string(),
        "$HOME".to_string(),
        String::new(),
    ];
    let env_value = format!("$(touch {}); $PATH", marker(5).display());
    let seen_args = dir.path().join("args");
    let seen_env = dir.path().join("env");
    let credential = json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": token},
    });
    let script = dir.path().join("credential plugin.sh");
    // The script finds where to report through its environment, so that its
    // own text needs no quoting of those paths.
    write_script(
        &script,
        &format!(
            "printf '%s\\n' \"$#\" > \"$ARGS_FILE\"\n\
             for arg in \"$@\"; do printf '<%s>\\n' \"$arg\" >> \"$ARGS_FILE\"; done\n\
             printf '<%s>\\n<%s>\\n' \"$PLUGIN_VALUE\" \"${{HOME-unset}}\" > \"$ENV_FILE\"\n\
             cat <<'EOF'\n{credential}\nEOF"
        ),
    );

    let mut config = without_credentials(admin_config().await);
    config.auth_info.exec = Some(ExecConfig {
        api_version: Some("client.authentication.k8s.io/v1".into()),
        command: Some(script.display().to_string()),
        args: Some(args.clone()),
        env: Some(vec![
            env_var("PLUGIN_VALUE", &env_value),
            env_var("ARGS_FILE", &seen_args.display().to_string()),
            env_var("ENV_FILE", &seen_env.display().to_string()),
        ]),
        drop_env: Some(vec!["HOME".into()]),
        interactive_mode: Some(ExecInteractiveMode::Never),
        ..ExecConfig::default()
    });
    let client = Client::try_from(config).expect("client");
    client
        .apiserver_version()
        .await
        .expect("the plugin's token works");

    let mut expected = format!("{}\n", args.len());
    for arg in &args {
        expected.push_str(&format!("<{arg}>\n"));
    }
    assert_eq!(std::fs::read_to_string(&seen_args).expect("args"), expected);
    assert_eq!(
        std::fs::read_to_string(&seen_env).expect("env"),
        format!("<{env_value}>\n<unset>\n")
    );
    for n in 1..=5 {
        assert!(
            !marker(n).exists(),
            "something ran a shell: marker {n} exists"
        );
    }
}

#[tokio::test]
async fn a_missing_plugin_is_named_with_its_install_hint() {
    capture::start();
    let mut config = without_credentials(admin_config().await);
    config.auth_info.exec = Some(ExecConfig {
        api_version: Some("client.authentication.k8s.io/v1".into()),
        command: Some("/nonexistent/kube-credential-helper".into()),
        install_hint: Some("install it with `make helper`".into()),
        interactive_mode: Some(ExecInteractiveMode::Never),
        ..ExecConfig::default()
    });
    let client = Client::try_from(config).expect("client");
    let err = client
        .apiserver_version()
        .await
        .expect_err("no such plugin");
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("/nonexistent/kube-credential-helper"),
        "{text}"
    );
    assert!(text.contains("install it with `make helper`"), "{text}");
}

#[tokio::test]
async fn a_failing_plugin_is_named_with_its_exit_status_and_stderr() {
    capture::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("broken.sh");
    write_script(
        &script,
        "echo 'cannot reach the identity provider' >&2\nexit 7",
    );
    let mut config = without_credentials(admin_config().await);
    config.auth_info.exec = Some(ExecConfig {
        api_version: Some("client.authentication.k8s.io/v1".into()),
        command: Some(script.display().to_string()),
        interactive_mode: Some(ExecInteractiveMode::Never),
        ..ExecConfig::default()
    });
    let client = Client::try_from(config).expect("client");
    let err = client
        .apiserver_version()
        .await
        .expect_err("the plugin fails");
    let text = err.to_string();
    assert!(text.contains(&script.display().to_string()), "{text}");
    assert!(text.contains("7"), "{text}");
    assert!(
        text.contains("cannot reach the identity provider"),
        "{text}"
    );
}
