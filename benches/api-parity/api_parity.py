#!/usr/bin/env python3
"""Compare the public API of this repository's kube crates with kube 5.0.0.

Code written for kube-rs 5 should compile against our crates after changing only
its dependency lines. This tool checks that mechanically: it has rustdoc describe
both sets of crates as JSON (every feature on), lists every publicly reachable
path of each, and reports

  1. what kube 5 has that we lack,
  2. what both have but differently (shapes of variants and structs, parameter
     counts, async-ness, trait impls, trait items),
  3. what we have that kube 5 lacks (for information).

The text report goes to stdout, the same as JSON to target/api-parity/report.json.

Only the standard library is used. Run it through `just api-parity`, or directly:

    python3 benches/api-parity/api_parity.py            # build the JSON, then compare
    python3 benches/api-parity/api_parity.py --no-build # compare the JSON built before
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from comparison import CRATES, PEER_REEXPORTED_CRATES, compare
from public_api import KNOWN_FORMAT_VERSIONS

PEER_VERSION = "5.0.0"


# ---------------------------------------------------------------------------
# Building the rustdoc JSON
# ---------------------------------------------------------------------------


def run(cmd: list, cwd: Path, env: dict) -> None:
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    result = subprocess.run(cmd, cwd=cwd, env=env)
    if result.returncode != 0:
        sys.exit(f"api-parity: command failed ({result.returncode}): {' '.join(cmd)}")


def k8s_openapi_version(manifest: Path, cwd: Path) -> str:
    """The Kubernetes version k8s-openapi's `latest` feature means, for the
    K8S_OPENAPI_ENABLED_VERSION variable: library crates pick no version, and
    rustdoc of a library still needs one."""
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--manifest-path", str(manifest)],
        cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"api-parity: cargo metadata failed:\n{out.stderr}")
    for package in json.loads(out.stdout)["packages"]:
        if package["name"] == "k8s-openapi":
            latest = package["features"].get("latest", [])
            if latest and latest[0].startswith("v1_"):
                return "1." + latest[0][len("v1_"):]
    sys.exit("api-parity: cannot tell which Kubernetes version k8s-openapi's `latest` means")


def build_json(repo: Path, target_dir: Path, out_dir: Path) -> None:
    """rustdoc JSON of our crates (all features) and of kube 5 (the peer manifest's
    features), copied to out_dir/{ours,peer}/<crate>.json."""
    peer_manifest = repo / "benches" / "api-parity" / "peer" / "Cargo.toml"
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(target_dir)
    env["RUSTC_BOOTSTRAP"] = "1"  # rustdoc's JSON output is unstable
    env.setdefault("K8S_OPENAPI_ENABLED_VERSION", k8s_openapi_version(peer_manifest, repo))
    rustdoc_json = ["--", "-Z", "unstable-options", "--output-format", "json"]
    peer = ["--manifest-path", str(peer_manifest)]
    builds = [
        ("ours", [(crate, ["-p", crate, "--all-features"]) for crate in CRATES]),
        ("peer", [(crate, [*peer, "-p", f"{crate}@{PEER_VERSION}"]) for crate in CRATES]
         + [(crate, [*peer, "-p", crate]) for crate in PEER_REEXPORTED_CRATES]),
    ]
    for side, commands in builds:
        (out_dir / side).mkdir(parents=True, exist_ok=True)
        for crate, args in commands:
            name = crate.replace("-", "_")
            produced = target_dir / "doc" / f"{name}.json"
            produced.unlink(missing_ok=True)
            run(["cargo", "rustdoc", "--lib", *args, *rustdoc_json], repo, env)
            if not produced.exists():
                sys.exit(f"api-parity: rustdoc wrote no {produced} for {crate} ({side})")
            with open(produced, encoding="utf-8") as f:
                version = json.load(f).get("crate_version")
            if crate in CRATES and (version == PEER_VERSION) != (side == "peer"):
                sys.exit(f"api-parity: {produced} describes {crate} {version}, "
                         f"not the {side} side's")
            # Both sides write target/doc/<crate>.json: move each away at once.
            shutil.move(produced, out_dir / side / f"{name}.json")


def load_docs(directory: Path) -> tuple[dict, set]:
    docs, versions = {}, set()
    for crate in CRATES + PEER_REEXPORTED_CRATES:
        name = crate.replace("-", "_")
        path = directory / f"{name}.json"
        if not path.exists():
            if crate in PEER_REEXPORTED_CRATES:
                continue
            sys.exit(f"api-parity: {path} is missing; run without --no-build first")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        versions.add(doc.get("format_version"))
        docs[name] = doc
    return docs, versions


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------


def render_text(report: dict) -> str:
    lines = []
    totals = report["totals"]
    lines.append(f"API parity: kube {PEER_VERSION} (crates.io) against this repository, "
                 "every feature on both sides")
    lines.append(f"rustdoc JSON format_version {report['format_version']}; parameter counts "
                 "include `self`; an item reached at several paths is listed once")
    for warning in report.get("warnings", []):
        lines.append(f"warning: {warning}")
    lines.append(f"kube 5 items we lack: {totals['missing']}; items that differ: "
                 f"{totals['differing']}; paths only we have: {totals['extra']}")
    for crate, data in report["crates"].items():
        lines.append("")
        lines.append(f"== {crate}")
        missing = data["missing"]
        lines.append(f"-- kube 5 has, we lack ({len(missing)})")
        nested = defaultdict(list)
        for m in missing:
            if m["inside_listed_module"]:
                nested[m["inside_listed_module"]].append(m)
        for m in missing:
            if m["inside_listed_module"]:
                continue
            line = f"  {m['kind']:<16} {m['path']}"
            if m["alias_of"]:
                line += f"  (re-export of {m['alias_of']})"
            if m["also_at"]:
                line += f"  (also at {', '.join(m['also_at'])})"
            lines.append(line)
            inside = nested.get(m["path"], [])
            if inside:
                start = len(m["path"]) + 2
                names = [f"{i['path'][start:]} ({i['kind']})" for i in inside]
                lines.append(f"  {'':<16}   and everything in it ({len(inside)}): "
                             + ", ".join(names))
        differing = [d for d in data["differing"] if d["differences"]]
        lines.append(f"-- in both, but different ({len(differing)})")
        for d in differing:
            lines.append(f"  {d['kind']:<16} {d['path']}")
            for diff in d["differences"]:
                lines.append(f"  {'':<16}   - {diff}")
        extra = data["extra"]
        lines.append(f"-- only ours (informational, {len(extra)})")
        for e in extra:
            if e["inside_listed_module"]:
                continue
            below = sum(1 for i in extra if i["inside_listed_module"] == e["path"])
            suffix = f" (and {below} items in it)" if below else ""
            also = f" (also at {', '.join(e['also_at'])})" if e["also_at"] else ""
            lines.append(f"  {e['kind']:<16} {e['path']}{suffix}{also}")
        only_details = sum(len(d.get("ours_only", [])) for d in data["differing"])
        if only_details:
            lines.append(f"  (plus {only_details} extra methods, variants or impls on shared "
                         "items: see ours_only in the JSON report)")
    return "\n".join(lines) + "\n"


def make_report(peer_docs: dict, our_docs: dict, versions: set) -> dict:
    report = compare(peer_docs, our_docs)
    report["format_version"] = ", ".join(str(v) for v in sorted(versions, key=str))
    report["warnings"] = [
        f"rustdoc JSON format_version {v} is not one this tool was checked against "
        f"({KNOWN_FORMAT_VERSIONS.start}..{KNOWN_FORMAT_VERSIONS.stop - 1}); "
        "check the report against the sources"
        for v in sorted(versions, key=str) if v not in KNOWN_FORMAT_VERSIONS
    ]
    report["totals"] = {
        "missing": sum(len(c["missing"]) for c in report["crates"].values()),
        "differing": sum(1 for c in report["crates"].values()
                         for d in c["differing"] if d["differences"]),
        "extra": sum(len(c["extra"]) for c in report["crates"].values()),
    }
    return report


def main(argv=None) -> int:
    repo = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-build", action="store_true",
                        help="compare the rustdoc JSON built by an earlier run")
    parser.add_argument("--target-dir", type=Path,
                        default=Path(os.environ.get("CARGO_TARGET_DIR", repo / "target")))
    args = parser.parse_args(argv)
    out_dir = args.target_dir / "api-parity"
    if not args.no_build:
        build_json(repo, args.target_dir.resolve(), out_dir)
    peer_docs, peer_versions = load_docs(out_dir / "peer")
    our_docs, our_versions = load_docs(out_dir / "ours")
    report = make_report(peer_docs, our_docs, peer_versions | our_versions)
    with open(out_dir / "report.json", "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, sort_keys=True)
    sys.stdout.write(render_text(report))
    print(f"(JSON report: {out_dir / 'report.json'})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
