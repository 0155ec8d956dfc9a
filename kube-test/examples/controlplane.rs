//! Builds the kube-test control plane, or runs it in the foreground.
//!
//! ```text
//! cargo run -p kube-test --example controlplane -- build
//!     builds the binary if its sources changed, prints its path
//! cargo run -p kube-test --example controlplane -- run [--state-dir DIR] [--port N] ...
//!     builds it if needed, then becomes it: prints `export KUBECONFIG=...`
//!     once ready and runs until Ctrl-C
//! ```

use std::{ffi::OsString, process::ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let command = args.next();
    let binary = match kube_test::controlplane_binary() {
        Ok(binary) => binary,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match command.as_ref().and_then(|c| c.to_str()) {
        None | Some("build") => {
            println!("{}", binary.display());
            ExitCode::SUCCESS
        }
        Some("run") => run(&binary, args.collect()),
        Some(other) => {
            eprintln!("unknown command {other:?}; expected `build` or `run`");
            ExitCode::from(2)
        }
    }
}

/// Replaces this process with the control plane, so signals reach it directly.
#[cfg(unix)]
fn run(binary: &std::path::Path, args: Vec<OsString>) -> ExitCode {
    use std::os::unix::process::CommandExt;

    let error = std::process::Command::new(binary).args(args).exec();
    eprintln!("error: running {}: {error}", binary.display());
    ExitCode::FAILURE
}

#[cfg(not(unix))]
fn run(binary: &std::path::Path, args: Vec<OsString>) -> ExitCode {
    match std::process::Command::new(binary).args(args).status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: running {}: {error}", binary.display());
            ExitCode::FAILURE
        }
    }
}
