# Recipes for building, testing and demonstrating the kube toolkit.
# `just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Every crate shares one target directory.
export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", justfile_directory() / "target")

default:
    @just --list

# Run every test: unit tests, and end-to-end tests against a local control plane.
test: controlplane
    cargo test --workspace --all-targets --no-fail-fast
    cargo test --workspace --doc

# Only the end-to-end tests of faults (part of `test` too): injected by the fault proxy
# (kube-test's FaultProxy) and apiserver restarts, for the proxy, the client and watchers.
test-faults: controlplane
    cargo test -p kube-test -p kube-client -p kube-runtime --test faults --no-fail-fast

# Soak (about ten minutes, not part of `test`): a controller managing 500 objects through
# injected faults and 10 apiserver restarts must converge; prints RSS samples and the trend.
# Flags: --objects N, --restarts N, --interval SECONDS.
soak *FLAGS: controlplane
    cargo run -q -p kube-test --example soak -- {{FLAGS}}

# Run each fuzz target (fuzz/, a workspace of its own) for a few seconds. cargo-fuzz needs
# nightly features; RUSTC_BOOTSTRAP=1 lets the stable toolchain provide them.
fuzz-smoke seconds="10":
    cd fuzz && for target in $(cargo fuzz list); do \
        RUSTC_BOOTSTRAP=1 cargo fuzz run --target-dir target "$target" -- -max_total_time={{seconds}}; \
    done

# Check the library crates with every direct dependency at the lowest version
# their manifests declare, in a scratch copy of the workspace (Cargo.lock stays
# as it is), so that a lower bound that is too low fails here.
minimal-versions:
    .ci/minimal-versions

# Build the local control plane (etcd, kube-apiserver, controllers) if its Go sources changed.
controlplane:
    cargo run -q -p kube-test --example controlplane -- build

# Run the local control plane in the foreground; prints `export KUBECONFIG=...` once ready.
# Flags: --state-dir DIR (kept and reused), --port N, --kubeconfig PATH, --v N.
cluster *FLAGS:
    cargo run -q -p kube-test --example controlplane -- run {{FLAGS}}

# See it work: an example operator, end to end, on a local control plane started for the
# demo (or, with KUBECONFIG set, on that cluster). Flags: --local, --kubeconfig PATH.
demo *FLAGS:
    @cargo build -p examples --bin demo
    @"$CARGO_TARGET_DIR/debug/demo" {{FLAGS}}

# Run the example operator until Ctrl-C, on $KUBECONFIG's cluster or else on a local
# control plane, with leader election and /healthz, /readyz and /metrics on 127.0.0.1:8080.
# Flags: --local, --kubeconfig PATH, --namespace NS, --probes-addr ADDR.
operator *FLAGS:
    @cargo build -p examples --bin operator
    @"$CARGO_TARGET_DIR/debug/operator" {{FLAGS}}

# Formatting, lints and docs, as CI wants them.
check:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# Benchmarks side by side with kube 5 from crates.io and against the decoding limit:
# every scenario, each client in fresh processes, medians of several runs; index_lookup
# and indexed_sync measure our store indexes alone (kube 5 has none). Writes
# target/bench/results.json. Flags: --reps N, --only watch_decode,initial_sync,...
bench *FLAGS: controlplane
    cargo build --release --manifest-path benches/Cargo.toml
    "$CARGO_TARGET_DIR/release/kube-benches" run --out "$CARGO_TARGET_DIR/bench/results.json" {{FLAGS}}

# Compare our public API with kube 5's from crates.io, from rustdoc JSON of both with every
# feature on: prints what kube 5 has that we lack or offer differently, and writes the same
# as JSON to target/api-parity/report.json. Flags: --no-build (reuse the last JSON).
api-parity *FLAGS:
    python3 -m unittest discover -s benches/api-parity -q
    python3 benches/api-parity/api_parity.py {{FLAGS}}
