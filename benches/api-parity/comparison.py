"""Comparing the public APIs of kube 5 and ours, path by path and item by item."""

from __future__ import annotations

from collections import defaultdict

from public_api import CrateApi, Entry

# Crates in the order their re-exports depend on each other: a crate's re-exports
# of another compared crate are resolved against the one walked before it.
CRATES = ["kube-core", "kube-derive", "kube-client", "kube-runtime", "kube"]

# Dependencies of kube 5 that it re-exports wholesale (`pub use kube_cel::*` in
# `kube_core::cel`): documented too, so that such a glob lists the names it brings,
# but not compared themselves.
PEER_REEXPORTED_CRATES = ["kube-cel"]

COMPARED = [crate.replace("-", "_") for crate in CRATES]


def load_side(docs: dict) -> dict:
    """Walk the crates of one side in dependency order: {crate name: CrateApi}."""
    apis = {}
    for crate in PEER_REEXPORTED_CRATES + CRATES:
        name = crate.replace("-", "_")
        if name in docs:
            apis[name] = CrateApi(docs[name], apis.get, frozenset(COMPARED))
    return apis


def crate_of(path: str) -> str:
    return path.split("::")[0].split(" ")[0]


def details_of(apis: dict, entry: Entry) -> dict | None:
    crate, item_id = entry.uid
    api = apis.get(crate)
    return api.details(item_id) if api else None


def compare_details(peer: dict, ours: dict) -> tuple[list, list]:
    """Differences that break kube 5 code, and things only we have (informational)."""
    diffs, extra = [], []
    if "shape" in peer and "shape" in ours:
        diffs += compare_shapes(peer["shape"], ours["shape"], peer.get("non_exhaustive"))
    if peer.get("non_exhaustive") is False and ours.get("non_exhaustive"):
        diffs.append("ours is #[non_exhaustive], kube 5's is not")
    if "variants" in peer:
        ours_variants = ours.get("variants", {})
        for name, shape in sorted(peer["variants"].items()):
            if name not in ours_variants:
                diffs.append(f"missing variant {name} ({shape})")
            elif ours_variants[name] != shape:
                diffs.append(f"variant {name}: {shape} in kube 5, {ours_variants[name]} in ours")
        added = sorted(set(ours_variants) - set(peer["variants"]))
        if added and not peer.get("non_exhaustive"):
            diffs.append("extra variants in an enum kube 5 keeps exhaustive "
                         f"(exhaustive matches break): {', '.join(added)}")
        elif added:
            extra.append(f"extra variants: {', '.join(added)}")
    for key in ("methods", "trait_items"):
        if key not in peer:
            continue
        ours_members = ours.get(key, {})
        for name, member in sorted(peer[key].items()):
            if name not in ours_members:
                diffs.append(f"missing {describe_member(key, name, member)}")
            else:
                diffs += compare_members(name, member, ours_members[name])
        for name, member in sorted(ours_members.items()):
            if name in peer[key]:
                continue
            if key == "trait_items" and member.get("required"):
                diffs.append(f"extra required {describe_member(key, name, member)} "
                             "(kube 5's implementors lack it)")
            else:
                extra.append(f"extra {describe_member(key, name, member)}")
    if "impls" in peer:
        ours_impls = set(ours.get("impls", []))
        for impl in peer["impls"]:
            if impl not in ours_impls:
                diffs.append(f"missing impl {impl}")
        added = sorted(ours_impls - set(peer["impls"]))
        if added:
            extra.append(f"extra impls: {', '.join(added)}")
    if "fn" in peer and "fn" in ours:
        diffs += compare_members(None, peer["fn"], ours["fn"])
    return diffs, extra


def compare_shapes(peer: dict, ours: dict, peer_non_exhaustive) -> list:
    if peer["kind"] == "unit":
        return [] if ours["kind"] == "unit" else [f"unit struct in kube 5, {ours['kind']} in ours"]
    if peer["kind"] == "tuple":
        if not peer["public"]:
            return []  # nothing a caller can build or take apart
        if ours["kind"] != "tuple":
            return [f"tuple struct with public fields in kube 5, {ours['kind']} in ours"]
        if peer["public"] != ours["public"] or peer["count"] != ours["count"]:
            return [f"tuple fields: {peer['count']} (public {peer['public']}) in kube 5, "
                    f"{ours['count']} (public {ours['public']}) in ours"]
        return []
    diffs = []
    ours_fields = ours.get("fields", [])
    if peer["fields"] and ours["kind"] != "struct":
        return [f"struct with public fields in kube 5, {ours['kind']} in ours"]
    for name in peer["fields"]:
        if name not in ours_fields:
            diffs.append(f"missing public field {name}")
    literal_ok = peer["fields"] and not peer["has_private_fields"] and not peer_non_exhaustive
    if literal_ok:
        if ours.get("has_private_fields"):
            diffs.append("kube 5 can be built with a struct literal; ours has private fields")
        added = [f for f in ours_fields if f not in peer["fields"]]
        if added:
            diffs.append("extra public fields break kube 5 struct literals that name every "
                         f"field: {', '.join(added)}")
    return diffs


def compare_members(name, peer: dict, ours: dict) -> list:
    label = f"{name}: " if name else ""
    if peer.get("kind") != ours.get("kind"):
        return [f"{label}{peer.get('kind')} in kube 5, {ours.get('kind')} in ours"]
    if peer.get("kind") != "fn":
        if peer.get("required") is False and ours.get("required"):
            return [f"{label}required in ours, has a default in kube 5"]
        return []
    diffs = []
    if peer["params"] != ours["params"]:
        diffs.append(f"{label}{peer['params']} params in kube 5, {ours['params']} in ours")
    if peer["async"] != ours["async"]:
        which = "async in kube 5, not in ours" if peer["async"] else "async in ours, not in kube 5"
        diffs.append(f"{label}{which}")
    if peer.get("type_params", 0) != ours.get("type_params", 0):
        diffs.append(f"{label}{peer.get('type_params', 0)} type parameters in kube 5, "
                     f"{ours.get('type_params', 0)} in ours (turbofish calls break)")
    if peer.get("required") is False and ours.get("required"):
        diffs.append(f"{label}required in ours, has a default in kube 5")
    return diffs


def describe_member(key: str, name: str, member: dict) -> str:
    """`method get (async, 2 params)`, `trait item Ty (type)`, `associated const MAX`."""
    kind = member.get("kind")
    if kind == "fn":
        label = "trait method" if key == "trait_items" else "method"
        asyncness = "async, " if member.get("async") else ""
        return f"{label} {name} ({asyncness}{member['params']} params)"
    if key == "trait_items":
        return f"trait item {name} ({kind})"
    return f"associated {kind} {name}"


def compare(peer_docs: dict, our_docs: dict) -> dict:
    """The report: per crate, what kube 5 has that we lack, what differs, and
    what only we have."""
    peer, ours = load_side(peer_docs), load_side(our_docs)
    crates = {name: {"missing": [], "differing": [], "extra": []} for name in COMPARED}

    # 1. Paths kube 5 has and we lack, one line per item (an item reached at
    # several paths lists the others), nested under a missing parent module.
    missing_by_item, extra_by_item = defaultdict(list), defaultdict(list)
    pairs = defaultdict(list)
    for name in COMPARED:
        peer_api, our_api = peer.get(name), ours.get(name)
        if peer_api is None:
            continue
        our_paths = our_api.paths if our_api else {}
        for path, entry in peer_api.paths.items():
            theirs = our_paths.get(path)
            if theirs is None:
                missing_by_item[entry.uid].append((path, entry))
            elif theirs.kind != entry.kind and not kinds_compatible(entry.kind, theirs.kind):
                crates[name]["differing"].append({
                    "path": path, "kind": entry.kind,
                    "differences": [f"a {entry.kind} in kube 5, a {theirs.kind} in ours"]})
            else:
                pairs[(entry.uid, theirs.uid)].append(path)
        for path, entry in (our_api.paths.items() if our_api else []):
            if path not in peer_api.paths:
                extra_by_item[entry.uid].append((path, entry))

    for section, by_item in (("missing", missing_by_item), ("extra", extra_by_item)):
        all_paths = {path for group in by_item.values() for path, _ in group}
        for group in by_item.values():
            group.sort(key=lambda pe: path_rank(pe[0], pe[1]))
            path, entry = group[0]
            crates[crate_of(path)][section].append({
                "path": path, "kind": entry.kind, "alias_of": entry.alias_of,
                "also_at": [p for p, _ in group[1:]],
                "inside_listed_module": listed_ancestor(path, all_paths)})

    # 2. Items both have: compare once per pair of items, at their best path.
    for (peer_uid, our_uid), paths in pairs.items():
        paths.sort(key=lambda p: path_rank(p, peer[crate_of(p)].paths[p]))
        path = paths[0]
        if peer_uid[0] == "extern" or our_uid[0] == "extern":
            # Another crate's item: the same one on both sides, or a different type.
            diffs = [] if peer_uid == our_uid else [
                f"kube 5: {describe_origin(peer_uid)}; ours: {describe_origin(our_uid)}"]
            extra = []
        else:
            peer_details = details_of(peer, peer[crate_of(path)].paths[path])
            our_details = details_of(ours, ours[crate_of(path)].paths[path])
            if peer_details is None or our_details is None:
                continue
            diffs, extra = compare_details(peer_details, our_details)
        if diffs or extra:
            crates[crate_of(path)]["differing"].append({
                "path": path, "kind": peer[crate_of(path)].paths[path].kind,
                "differences": diffs, "ours_only": extra})

    for report in crates.values():
        report["missing"].sort(key=lambda m: m["path"])
        report["differing"].sort(key=lambda d: d["path"])
        report["extra"].sort(key=lambda e: e["path"])
    return {"crates": crates}


def describe_origin(uid: tuple) -> str:
    if uid[0] == "extern":
        return f"re-exports {uid[1]}"
    return f"its own, from {uid[0]}"


def kinds_compatible(peer_kind: str, our_kind: str) -> bool:
    """A kube 5 struct or enum that we offer as a type alias still names a type."""
    return peer_kind in ("struct", "enum", "union") and our_kind == "type_alias"


def path_rank(path: str, entry: Entry):
    """Which of an item's paths to report it under: its own crate first, then the
    shortest path."""
    crate = crate_of(path)
    defined_here = entry.uid[0] == crate
    return (not defined_here, COMPARED.index(crate) if crate in COMPARED else 99,
            path.count("::"), len(path), path)


def listed_ancestor(path: str, listed: set) -> str | None:
    """The outermost module above `path` that is in the same list, if any."""
    parts = path.split(" ")[0].split("::")
    for end in range(1, len(parts)):
        candidate = "::".join(parts[:end])
        if candidate in listed:
            return candidate
    return None
