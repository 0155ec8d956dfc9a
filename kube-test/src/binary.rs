//! Finding or building the Go control plane binary.
//!
//! The binary is built from the Go module in this crate's `controlplane/`
//! directory with `go build`, once per version of its sources: its file name
//! carries a hash of `go.mod`, `go.sum` and the `*.go` files. Builds are
//! serialised across processes by a lock file, so test binaries started
//! together build it once.

use std::{
    collections::VecDeque,
    env,
    ffi::OsStr,
    fs::{self, File},
    io::{self, BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use crate::Error;

/// Names a prebuilt control plane binary to use instead of building one.
pub const BINARY_ENV: &str = "KUBE_TEST_CONTROLPLANE_BIN";

/// The Go module of the control plane, as shipped with this crate.
const SOURCE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/controlplane");

/// Where Go is commonly installed when it is not in `PATH`.
const GO_FALLBACK: &str = "/usr/local/go/bin/go";

/// How many lines of `go build` output an error carries.
const OUTPUT_TAIL_LINES: usize = 40;

const BINARY_PREFIX: &str = "controlplane-";

/// How often a running build says it is still going.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// How old an unused build must be before it is removed.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The path of the control plane binary, building it first if needed.
///
/// `KUBE_TEST_CONTROLPLANE_BIN` wins when set. Otherwise the binary lives in
/// `$CARGO_TARGET_DIR/kube-test/` (or the `target/kube-test/` directory of the
/// running executable's workspace), and is built there by `go build` when the
/// Go sources have changed since the last build. The build's output goes to
/// stderr as it happens; a first build takes several minutes.
///
/// This blocks; from async code call it through `spawn_blocking`.
pub fn controlplane_binary() -> Result<PathBuf, Error> {
    match binary_override(env::var_os(BINARY_ENV)) {
        Some(result) => result,
        None => build_if_needed(Path::new(SOURCE_DIR), &cache_dir()),
    }
}

/// The binary `KUBE_TEST_CONTROLPLANE_BIN` names, if it is set and not empty.
fn binary_override(value: Option<std::ffi::OsString>) -> Option<Result<PathBuf, Error>> {
    let path = PathBuf::from(value.filter(|v| !v.is_empty())?);
    Some(if path.is_file() {
        Ok(path)
    } else {
        Err(Error::BinaryOverrideMissing { path })
    })
}

fn build_if_needed(source_dir: &Path, cache_dir: &Path) -> Result<PathBuf, Error> {
    let hash = source_hash(source_dir)?;
    let binary = cache_dir.join(format!("{BINARY_PREFIX}{hash:016x}"));
    if binary.is_file() {
        return Ok(binary);
    }

    fs::create_dir_all(cache_dir).map_err(|source| Error::Io {
        action: "creating",
        path: cache_dir.to_path_buf(),
        source,
    })?;
    let lock_path = cache_dir.join("build.lock");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| Error::Io {
            action: "opening",
            path: lock_path.clone(),
            source,
        })?;
    tracing::debug!(lock = %lock_path.display(), "waiting for the control plane build lock");
    lock.lock().map_err(|source| Error::Io {
        action: "locking",
        path: lock_path.clone(),
        source,
    })?;
    // Another process may have finished the build while this one waited.
    if binary.is_file() {
        return Ok(binary);
    }

    go_build(source_dir, &binary)?;
    remove_stale_binaries(cache_dir, &binary);
    // Dropping `lock` releases it.
    Ok(binary)
}

/// Runs `go build`, teeing its output to stderr and keeping its tail for
/// the error, and moves the result into place only when complete.
fn go_build(source_dir: &Path, binary: &Path) -> Result<(), Error> {
    let go = find_go()?;
    let partial = binary.with_extension(format!("partial-{}", std::process::id()));
    tracing::info!(dir = %source_dir.display(), output = %binary.display(), "building the control plane");
    let mut stderr = io::stderr().lock();
    // Progress for a person watching: the first build takes minutes.
    let _ = writeln!(
        stderr,
        "kube-test: building the Kubernetes control plane with `go build` into {} (a first build takes several minutes)",
        binary.display()
    );
    drop(stderr);

    let go_mod_path = source_dir.join("go.mod");
    let go_mod = fs::read_to_string(&go_mod_path).map_err(|source| Error::Io {
        action: "reading",
        path: go_mod_path,
        source,
    })?;
    let mut ldflags = String::from("-s -w");
    if let Some(version) = kubernetes_version(&go_mod) {
        ldflags.push_str(&version_ldflags(version));
    }

    let mut child = Command::new(&go)
        .current_dir(source_dir)
        .arg("build")
        .arg("-trimpath")
        .arg("-buildvcs=false")
        .arg(format!("-ldflags={ldflags}"))
        .arg("-o")
        .arg(&partial)
        .arg(".")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::GoBuildSpawn {
            go: go.clone(),
            dir: source_dir.to_path_buf(),
            source,
        })?;

    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(OUTPUT_TAIL_LINES)));
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|stream| {
        let tail = Arc::clone(&tail);
        thread::spawn(move || tee_to_stderr(stream, &tail))
    })
    .collect();
    let status = wait_with_heartbeat(&mut child).map_err(|source| Error::GoBuildSpawn {
        go: go.clone(),
        dir: source_dir.to_path_buf(),
        source,
    })?;
    for reader in readers {
        let _ = reader.join();
    }

    if !status.success() {
        let _ = fs::remove_file(&partial);
        return Err(Error::BuildFailed {
            dir: source_dir.to_path_buf(),
            status: status.to_string(),
            output_tail: joined_tail(&tail),
        });
    }
    fs::rename(&partial, binary).map_err(|source| Error::Io {
        action: "moving the built control plane to",
        path: binary.to_path_buf(),
        source,
    })
}

/// Waits for `go build`, saying every minute that it is still going: it
/// prints nothing while compiling, for minutes on a first build.
fn wait_with_heartbeat(child: &mut Child) -> io::Result<ExitStatus> {
    let started = Instant::now();
    let mut next_heartbeat = started + HEARTBEAT;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= next_heartbeat {
            let minutes = started.elapsed().as_secs() / 60;
            let _ = writeln!(
                io::stderr().lock(),
                "kube-test: still building the control plane ({minutes} min so far)"
            );
            next_heartbeat += HEARTBEAT;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// The version of `k8s.io/kubernetes` the Go module requires, e.g. `v1.37.2`.
fn kubernetes_version(go_mod: &str) -> Option<&str> {
    go_mod.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let first = words.next()?;
        // Either inside a `require ( ... )` block or a one-line `require`.
        let module = if first == "require" {
            words.next()?
        } else {
            first
        };
        let version = words.next()?;
        (module == "k8s.io/kubernetes" && version.starts_with('v')).then_some(version)
    })
}

/// Linker flags that stamp the Kubernetes version into the binary, as the
/// Kubernetes release build does; without them `/version` reports
/// `v0.0.0-master`.
fn version_ldflags(version: &str) -> String {
    let mut parts = version.trim_start_matches('v').split('.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next().unwrap_or_default();
    let mut flags = String::new();
    for package in [
        "k8s.io/component-base/version",
        "k8s.io/client-go/pkg/version",
    ] {
        for (name, value) in [
            ("gitVersion", version),
            ("gitMajor", major),
            ("gitMinor", minor),
            ("gitTreeState", "clean"),
        ] {
            flags.push_str(&format!(" -X {package}.{name}={value}"));
        }
    }
    flags
}

fn tee_to_stderr(stream: Box<dyn io::Read + Send>, tail: &Mutex<VecDeque<String>>) {
    for line in BufReader::new(stream).split(b'\n').map_while(Result::ok) {
        let line = String::from_utf8_lossy(&line).into_owned();
        let _ = writeln!(io::stderr().lock(), "{line}");
        push_line(tail, line, OUTPUT_TAIL_LINES);
    }
}

/// Appends a line to a bounded tail of output, dropping the oldest.
pub(crate) fn push_line(tail: &Mutex<VecDeque<String>>, line: String, capacity: usize) {
    let mut tail = tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if tail.len() == capacity {
        tail.pop_front();
    }
    tail.push_back(line);
}

/// The lines of a tail of output, one per line.
pub(crate) fn joined_tail(tail: &Mutex<VecDeque<String>>) -> String {
    let tail = tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    tail.iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Older builds are of no use once the sources changed, and each is large.
/// Recent ones are kept: a test process of an older checkout may still be
/// about to start one.
fn remove_stale_binaries(cache_dir: &Path, current: &Path) {
    let Ok(entries) = fs::read_dir(cache_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_build = path
            .file_name()
            .and_then(OsStr::to_str)
            .is_some_and(|name| name.starts_with(BINARY_PREFIX));
        let is_old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if is_build && is_old && path != current {
            let _ = fs::remove_file(&path);
        }
    }
}

fn find_go() -> Result<PathBuf, Error> {
    let in_path = env::var_os("PATH").and_then(|paths| {
        env::split_paths(&paths)
            .map(|dir| dir.join("go"))
            .find(|candidate| candidate.is_file())
    });
    in_path
        .or_else(|| Some(PathBuf::from(GO_FALLBACK)).filter(|p| p.is_file()))
        .ok_or_else(|| Error::GoNotFound {
            fallback: PathBuf::from(GO_FALLBACK),
        })
}

/// Where built binaries are kept: `kube-test/` in Cargo's target directory.
fn cache_dir() -> PathBuf {
    if let Some(target) = env::var_os("CARGO_TARGET_DIR").map(PathBuf::from)
        && target.is_absolute()
    {
        return target.join("kube-test");
    }
    // Test and example executables run from inside the target directory,
    // which Cargo marks with CACHEDIR.TAG.
    if let Ok(exe) = env::current_exe()
        && let Some(target) = exe
            .ancestors()
            .skip(1)
            .find(|dir| dir.join("CACHEDIR.TAG").is_file())
    {
        return target.join("kube-test");
    }
    env::temp_dir().join("kube-test")
}

/// A hash of the Go module's sources: `go.mod`, `go.sum` and `*.go`, by name
/// and content, in name order.
fn source_hash(source_dir: &Path) -> Result<u64, Error> {
    let io_err = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    };
    let mut names: Vec<String> = fs::read_dir(source_dir)
        .map_err(io_err("reading the control plane sources in", source_dir))?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name == "go.mod" || name == "go.sum" || name.ends_with(".go"))
        .collect();
    names.sort();

    let mut hash = Fnv1a::new();
    for name in &names {
        let path = source_dir.join(name);
        let content = fs::read(&path).map_err(io_err("reading", &path))?;
        hash.write(name.as_bytes());
        hash.write(&(content.len() as u64).to_le_bytes());
        hash.write(&content);
    }
    Ok(hash.finish())
}

/// 64-bit FNV-1a: stable across Rust versions and platforms, unlike the
/// standard library's hasher, so cached builds stay valid.
struct Fnv1a(u64);

impl Fnv1a {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Self(Self::OFFSET)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_reference_values() {
        let digest = |data: &[u8]| {
            let mut h = Fnv1a::new();
            h.write(data);
            h.finish()
        };
        assert_eq!(digest(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(digest(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(digest(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn source_hash_changes_with_go_sources_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join("go.mod"), "module x\n").expect("write");
        fs::write(dir.path().join("main.go"), "package main\n").expect("write");
        let first = source_hash(dir.path()).expect("hash");

        fs::write(dir.path().join("README.md"), "not a source").expect("write");
        assert_eq!(source_hash(dir.path()).expect("hash"), first);

        fs::write(
            dir.path().join("main.go"),
            "package main\n\nfunc main() {}\n",
        )
        .expect("write");
        assert_ne!(source_hash(dir.path()).expect("hash"), first);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let tail = Mutex::new(VecDeque::new());
        for i in 0..5 {
            push_line(&tail, format!("line {i}"), 3);
        }
        assert_eq!(joined_tail(&tail), "line 2\nline 3\nline 4");
    }

    #[test]
    fn kubernetes_version_is_read_from_go_mod() {
        let block = "module m\n\ngo 1.26.0\n\nrequire (\n\tk8s.io/api v0.37.2\n\tk8s.io/kubernetes v1.37.2\n)\n";
        assert_eq!(kubernetes_version(block), Some("v1.37.2"));
        let single = "module m\nrequire k8s.io/kubernetes v1.36.0\n";
        assert_eq!(kubernetes_version(single), Some("v1.36.0"));
        let replaced = "module m\nreplace k8s.io/api => k8s.io/api v0.37.2\n";
        assert_eq!(kubernetes_version(replaced), None);
    }

    #[test]
    fn version_ldflags_set_major_minor_and_version() {
        let flags = version_ldflags("v1.37.2");
        assert!(flags.contains(" -X k8s.io/component-base/version.gitVersion=v1.37.2"));
        assert!(flags.contains(" -X k8s.io/component-base/version.gitMajor=1"));
        assert!(flags.contains(" -X k8s.io/component-base/version.gitMinor=37"));
        assert!(flags.contains(" -X k8s.io/client-go/pkg/version.gitVersion=v1.37.2"));
    }

    #[test]
    fn an_override_must_name_a_file() {
        assert!(binary_override(None).is_none());
        assert!(binary_override(Some("".into())).is_none());

        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("controlplane");
        fs::write(&file, "").expect("write");
        let chosen = binary_override(Some(file.clone().into_os_string()));
        assert_eq!(chosen.and_then(Result::ok), Some(file));

        let missing = dir.path().join("missing");
        match binary_override(Some(missing.clone().into_os_string())) {
            Some(Err(Error::BinaryOverrideMissing { path })) => assert_eq!(path, missing),
            other => panic!("expected BinaryOverrideMissing, got {other:?}"),
        }
    }

    #[test]
    fn a_build_is_reused_while_the_sources_are_unchanged() {
        let sources = tempfile::tempdir().expect("temp dir");
        fs::write(sources.path().join("go.mod"), "module x\n").expect("write");
        let cache = tempfile::tempdir().expect("temp dir");
        let hash = source_hash(sources.path()).expect("hash");
        let prebuilt = cache.path().join(format!("{BINARY_PREFIX}{hash:016x}"));
        fs::write(&prebuilt, "built earlier").expect("write");
        // No `go` is run: the cached build matches the sources.
        let found = build_if_needed(sources.path(), cache.path()).expect("cached build");
        assert_eq!(found, prebuilt);
    }

    #[test]
    fn shipped_sources_hash() {
        assert!(source_hash(Path::new(SOURCE_DIR)).is_ok());
    }
}
