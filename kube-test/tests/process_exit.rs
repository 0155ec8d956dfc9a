//! The shared control plane is never dropped: it must stop by itself, and
//! remove its temporary state, when the test process that started it dies.
//!
//! This test runs itself again as a child process that starts the shared
//! control plane and then aborts, as a crashing test binary would.

use std::{
    io::{BufRead, BufReader},
    net::TcpStream,
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use kube_test::TestEnv;

const CHILD_FLAG: &str = "--start-shared-control-plane-then-abort";
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(60);

const TEST_NAME: &str = "shared_control_plane_stops_when_the_test_process_aborts";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == CHILD_FLAG) {
        start_then_abort();
    }
    // Answer test runners that list tests, or ask for ignored ones only, as
    // the standard harness would.
    if args.iter().any(|arg| arg == "--list") {
        println!("{TEST_NAME}: test");
        return;
    }
    if args.iter().any(|arg| arg == "--ignored") {
        return;
    }
    shared_control_plane_stops_when_the_test_process_aborts();
    println!("test {TEST_NAME} ... ok");
}

fn start_then_abort() -> ! {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let env = runtime.block_on(TestEnv::start()).expect("control plane");
    println!("STATE_DIR={}", env.state_dir().display());
    println!("SERVER={}", env.server_url());
    std::process::abort();
}

fn shared_control_plane_stops_when_the_test_process_aborts() {
    let mut child = Command::new(std::env::current_exe().expect("current exe"))
        .arg(CHILD_FLAG)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the child test process");
    let stdout = child.stdout.take().expect("child stdout");
    let mut state_dir = None;
    let mut server = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("child output");
        if let Some(dir) = line.strip_prefix("STATE_DIR=") {
            state_dir = Some(PathBuf::from(dir));
        } else if let Some(url) = line.strip_prefix("SERVER=") {
            server = Some(url.trim_start_matches("https://").to_string());
        }
    }
    let status = child.wait().expect("child exit");
    assert!(!status.success(), "the child was meant to abort: {status}");
    let state_dir = state_dir.expect("the child started a control plane");
    let server = server.expect("the child reported the server");

    let deadline = Instant::now() + CLEANUP_TIMEOUT;
    loop {
        let stopped = TcpStream::connect(&server).is_err();
        let cleaned = !state_dir.exists();
        if stopped && cleaned {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{CLEANUP_TIMEOUT:?} after the test process died: server {server} stopped: {stopped}, \
             state dir {} removed: {cleaned}",
            state_dir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
