"""The public API of one crate, read from its rustdoc JSON: every publicly reachable
path (re-exports followed, into other crates too), and for the items behind them
what a caller depends on: struct and variant shapes, public fields, inherent
methods, trait items, trait impls, parameter counts and async-ness."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

# The rustdoc JSON format this was written against. Other versions are tried (the
# reader falls back on older field names where it knows them) with a warning.
KNOWN_FORMAT_VERSIONS = range(57, 58)

# Trait impls worth comparing besides those of traits from the compared crates.
# Auto traits (Send, Sync, Unpin, ...) and blanket impls are never compared.
WELL_KNOWN_TRAITS = {
    "Clone", "Copy", "Debug", "Default", "PartialEq", "Eq", "PartialOrd", "Ord",
    "Hash", "Display", "Error", "From", "TryFrom", "FromStr", "AsRef", "AsMut",
    "Deref", "DerefMut", "Borrow", "Iterator", "IntoIterator", "Extend",
    "FromIterator", "Future", "Stream", "FusedStream", "Sink", "Serialize",
    "Deserialize", "JsonSchema", "Service", "Layer", "Index",
}

# The kinds of macros, as rustdoc names them on items and in its path summaries.
MACRO_KINDS = {
    "derive": "derive macro",
    "attr": "attribute macro",
    "bang": "macro",
    "proc_derive": "derive macro",
    "proc_attribute": "attribute macro",
    "macro": "macro",
}


def inner_kind(item: dict) -> tuple[str, dict]:
    """The kind of an item ("struct", "use", ...) and the body under it."""
    inner = item.get("inner")
    if isinstance(inner, str):
        return inner, {}
    kind, body = next(iter(inner.items()))
    if kind == "import":  # the name of `use` before format 30 or so
        kind = "use"
    return kind, body if isinstance(body, dict) else {"value": body}


def is_glob_use(item: dict) -> bool:
    kind, body = inner_kind(item)
    return kind == "use" and bool(body.get("is_glob"))


def is_non_exhaustive(item: dict) -> bool:
    return "non_exhaustive" in json.dumps(item.get("attrs", []))


def path_name(path: dict) -> str:
    """The written path of a `Path` (called `name` in older formats)."""
    return path.get("path") or path.get("name") or ""


def render_type(ty) -> str:
    """A short, path-free rendering of a type, so that the same type reached
    through different module paths reads the same on both sides."""
    if ty is None:
        return "_"
    if not isinstance(ty, dict):
        return str(ty)
    kind, body = next(iter(ty.items()))
    if kind == "resolved_path":
        return path_name(body).split("::")[-1] + render_args(body.get("args"))
    if kind == "generic":
        return body
    if kind == "primitive":
        return body
    if kind == "borrowed_ref":
        mut = "mut " if body.get("is_mutable") or body.get("mutable") else ""
        return f"&{mut}{render_type(body.get('type'))}"
    if kind == "raw_pointer":
        mut = "mut" if body.get("is_mutable") or body.get("mutable") else "const"
        return f"*{mut} {render_type(body.get('type'))}"
    if kind == "slice":
        return f"[{render_type(body)}]"
    if kind == "array":
        return f"[{render_type(body.get('type'))}; {body.get('len')}]"
    if kind == "tuple":
        return "(" + ", ".join(render_type(t) for t in body) + ")"
    if kind in ("dyn_trait", "impl_trait"):
        bounds = body.get("traits", []) if kind == "dyn_trait" else body
        names = []
        for bound in bounds:
            trait = bound.get("trait") or bound.get("trait_bound", {}).get("trait")
            if trait:
                names.append(path_name(trait).split("::")[-1] + render_args(trait.get("args")))
        prefix = "dyn " if kind == "dyn_trait" else "impl "
        return prefix + " + ".join(names)
    if kind == "qualified_path":
        return f"{render_type(body.get('self_type'))}::{body.get('name')}"
    if kind == "function_pointer":
        return "fn(..)"
    if kind == "infer":
        return "_"
    return kind


def render_args(args) -> str:
    """Generic arguments without lifetimes: `<Status>`, or "" when none remain."""
    if not args or not isinstance(args, dict):
        return ""
    if "angle_bracketed" in args:
        rendered = []
        for arg in args["angle_bracketed"].get("args", []):
            if "type" in arg:
                rendered.append(render_type(arg["type"]))
            elif "const" in arg:
                rendered.append(str(arg["const"].get("expr", "_")))
        return f"<{', '.join(rendered)}>" if rendered else ""
    if "parenthesized" in args:
        body = args["parenthesized"]
        return "(" + ", ".join(render_type(t) for t in body.get("inputs", [])) + ")"
    return ""


@dataclass
class Entry:
    """One publicly reachable path."""

    kind: str
    # The item behind the path: (crate, id) for items of a compared crate,
    # ("extern", "dep::path") for items of other crates.
    uid: tuple
    # Where the item is defined, when the path re-exports another crate's item.
    alias_of: str | None = None


@dataclass
class CrateApi:
    """The public paths of one crate, read from its rustdoc JSON."""

    doc: dict
    # Another side's crate by name (a CrateApi already read), or None: where
    # re-exports of other crates' items are followed.
    resolve_crate: object
    # Crates whose traits' impls are compared, besides WELL_KNOWN_TRAITS.
    compared_crates: frozenset = frozenset()
    paths: dict = field(default_factory=dict)
    paths_of: dict = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self):
        self.index = self.doc["index"]
        self.root = str(self.doc["root"])
        self.name = self.index[self.root]["name"]
        self.def_paths = {
            tuple(summary["path"]): str(item_id)
            for item_id, summary in self.doc.get("paths", {}).items()
            if summary.get("crate_id") == 0
        }
        self._details = {}
        self._record(self.name, "module", self.root)
        self._walk_module(self.root, self.name, set())

    # -- walking -----------------------------------------------------------

    def item(self, item_id) -> dict | None:
        return None if item_id is None else self.index.get(str(item_id))

    def canonical_path(self, item_id: str) -> str | None:
        """The shortest public path of a local item."""
        paths = self.paths_of.get(str(item_id))
        return min(paths, key=lambda p: (p.count("::"), len(p), p)) if paths else None

    def _record(self, path: str, kind: str, item_id: str):
        self.paths.setdefault(path, Entry(kind, (self.name, str(item_id))))
        self.paths_of[str(item_id)].append(path)

    def _record_alias(self, path: str, entry: Entry):
        self.paths.setdefault(path, entry)

    def _walk_module(self, module_id: str, prefix: str, active: set):
        if module_id in active:  # `pub use self::...` cycles
            return
        active.add(module_id)
        _, body = inner_kind(self.index[module_id])
        children = [(str(i), self.item(i)) for i in body.get("items", [])]
        children = [(i, c) for i, c in children if c and c.get("visibility") == "public"]
        # A module's own items and named imports shadow what its glob imports bring.
        for globs in (False, True):
            for child_id, child in children:
                if is_glob_use(child) == globs:
                    self._place(child_id, child, prefix, active, None)
        active.discard(module_id)

    def _place(self, item_id: str, item: dict, prefix: str, active: set, name: str | None):
        kind, body = inner_kind(item)
        if kind == "use":
            self._place_use(body, prefix, active)
            return
        if kind in ("impl", "primitive"):
            return
        name = name or item.get("name")
        if not name:
            return
        if kind == "proc_macro":
            kind = MACRO_KINDS.get(body.get("kind"), "macro")
        elif kind == "extern_crate":
            kind = "module"
        path = macro_key(f"{prefix}::{name}", kind)
        self._record(path, kind, item_id)
        if kind == "module":
            self._walk_module(item_id, path, active)

    def _place_use(self, use: dict, prefix: str, active: set):
        target_id = use.get("id")
        target = self.item(target_id)
        name = use.get("name") or use.get("source", "").split("::")[-1]
        if name == "_":
            # `pub use Trait as _` brings a trait into scope without a name; keep it,
            # named after what it brings.
            name = "_ as " + use.get("source", "").split("::")[-1]
        if use.get("is_glob"):
            if target is not None:
                self._place_glob_local(str(target_id), target, prefix, active)
            else:
                self._place_glob_extern(target_id, use, prefix)
        elif target is not None:
            self._place(str(target_id), target, prefix, active, name)
        else:
            self._place_extern(target_id, use, f"{prefix}::{name}")

    def _place_glob_local(self, target_id: str, target: dict, prefix: str, active: set):
        kind, body = inner_kind(target)
        if kind == "module":
            self._walk_module(target_id, prefix, active)
        elif kind == "enum":
            for variant_id in body.get("variants", []):
                variant = self.item(variant_id)
                if variant:
                    self._record(f"{prefix}::{variant['name']}", "variant", str(variant_id))

    def _summary(self, target_id):
        summary = self.doc.get("paths", {}).get(str(target_id)) if target_id is not None else None
        if not summary:
            return None, None
        crate = self.doc.get("external_crates", {}).get(str(summary.get("crate_id")), {})
        return summary, crate.get("name")

    def _resolve_extern(self, target_id):
        """(the other crate's CrateApi, its id for the item), or (None, summary)."""
        summary, crate_name = self._summary(target_id)
        if summary is None:
            return None, None
        other = self.resolve_crate(crate_name) if crate_name else None
        if other is not None:
            other_id = other.def_paths.get(tuple(summary["path"]))
            if other_id is None:  # not found by definition path: try it as a public path
                entry = other.paths.get("::".join(summary["path"]))
                other_id = entry.uid[1] if entry and entry.uid[0] == other.name else None
            if other_id is not None:
                return other, other_id
        return None, summary

    def _place_extern(self, target_id, use: dict, path: str):
        other, found = self._resolve_extern(target_id)
        if other is not None:
            self._alias_into(other, found, path)
            return
        summary = found
        if summary is None:
            self._record_alias(path, Entry("use", ("extern", use.get("source", "?")),
                                           use.get("source")))
            return
        source = "::".join(summary["path"])
        kind = MACRO_KINDS.get(summary["kind"], summary["kind"]) if "proc" in summary["kind"] \
            or summary["kind"] == "macro" else summary["kind"]
        self._record_alias(macro_key(path, kind), Entry(kind, ("extern", source), source))

    def _alias_into(self, other: "CrateApi", other_id: str, path: str):
        """Re-export an item of another compared crate at `path`; a module brings
        every public path below it along."""
        canonical = other.canonical_path(other_id)
        if canonical is None:
            return
        entry = other.paths[canonical]
        self._record_alias(macro_key(path, entry.kind), Entry(entry.kind, entry.uid, canonical))
        if entry.kind == "module":
            start = canonical + "::"
            for sub_path, sub in list(other.paths.items()):
                if sub_path.startswith(start):
                    alias_of = sub.alias_of or sub_path
                    self._record_alias(path + "::" + sub_path[len(start):],
                                       Entry(sub.kind, sub.uid, alias_of))

    def _place_glob_extern(self, target_id, use: dict, prefix: str):
        other, found = self._resolve_extern(target_id)
        if other is not None:
            canonical = other.canonical_path(found)
            entry = other.paths.get(canonical) if canonical else None
            if entry is not None and entry.kind == "module":
                start = canonical + "::"
                for sub_path, sub in list(other.paths.items()):
                    if sub_path.startswith(start):
                        self._record_alias(prefix + "::" + sub_path[len(start):],
                                           Entry(sub.kind, sub.uid, sub.alias_of or sub_path))
                return
        source = use.get("source", "?")
        self._record_alias(f"{prefix}::*", Entry("glob", ("extern", source), source))

    # -- details -----------------------------------------------------------

    def details(self, item_id: str) -> dict:
        """What is compared about an item beyond its presence."""
        if item_id not in self._details:
            self._details[item_id] = self._compute_details(item_id)
        return self._details[item_id]

    def _compute_details(self, item_id: str) -> dict:
        item = self.item(item_id)
        if item is None:
            return {}
        kind, body = inner_kind(item)
        out = {}
        if kind == "struct":
            out["shape"] = self._struct_shape(body)
            out["non_exhaustive"] = is_non_exhaustive(item)
        if kind == "enum":
            out["variants"] = {}
            for variant_id in body.get("variants", []):
                variant = self.item(variant_id)
                if variant:
                    out["variants"][variant["name"]] = self._variant_shape(variant)
            out["non_exhaustive"] = is_non_exhaustive(item)
        if kind in ("struct", "enum", "union"):
            out["methods"], out["impls"] = self._impls(item_id, body.get("impls", []))
        if kind == "trait":
            out["trait_items"] = {}
            for member_id in body.get("items", []):
                member = self.item(member_id)
                if member and member.get("name"):
                    out["trait_items"][member["name"]] = self._member(member, in_trait=True)
        if kind == "function":
            out["fn"] = self._member(item, in_trait=False)
        return out

    def _fields(self, field_ids) -> list:
        names = []
        for field_id in field_ids:
            member = self.item(field_id)
            if member is not None and member.get("visibility") in ("public", "default"):
                names.append(member["name"])
        return names

    def _struct_shape(self, body: dict) -> dict:
        kind = body.get("kind", body.get("struct_type"))
        if kind == "unit" or kind is None:
            return {"kind": "unit"}
        if "tuple" in kind:
            slots = kind["tuple"]
            return {"kind": "tuple", "count": len(slots),
                    "public": [i for i, slot in enumerate(slots) if slot is not None]}
        plain = kind.get("plain", {})
        return {"kind": "struct", "fields": sorted(self._fields(plain.get("fields", []))),
                "has_private_fields": bool(plain.get("has_stripped_fields"))}

    def _variant_shape(self, variant: dict) -> str:
        _, body = inner_kind(variant)
        kind = body.get("kind")
        if kind == "plain" or kind is None:
            return "unit"
        if "tuple" in kind:
            return f"tuple({len(kind['tuple'])})"
        fields = kind.get("struct", {})
        names = self._fields(fields.get("fields", []))
        hidden = ", .." if fields.get("has_stripped_fields") else ""
        return "struct{" + ", ".join(sorted(names)) + hidden + "}"

    def _member(self, member: dict, in_trait: bool) -> dict:
        kind, body = inner_kind(member)
        if kind == "function":
            sig = body.get("sig") or body.get("decl") or {}
            inputs = sig.get("inputs", [])
            header = body.get("header", {})
            generics = body.get("generics", {}).get("params", [])
            type_params = [
                p for p in generics
                if "type" in p.get("kind", {}) and not p["kind"]["type"].get("is_synthetic")
            ]
            out = {
                "kind": "fn",
                "params": len(inputs),
                "async": bool(header.get("is_async", header.get("async"))),
                "type_params": len(type_params),
            }
            if in_trait:
                out["required"] = not body.get("has_body", True)
            return out
        if kind == "assoc_type":
            out = {"kind": "type"}
            if in_trait:
                out["required"] = body.get("type", body.get("default")) is None
            return out
        if kind == "assoc_const":
            out = {"kind": "const"}
            if in_trait:
                out["required"] = body.get("value", body.get("default")) is None
            return out
        return {"kind": kind}

    def _impls(self, self_id: str, impl_ids) -> tuple[dict, list]:
        methods, traits = {}, set()
        for impl_id in impl_ids:
            impl_item = self.item(impl_id)
            if impl_item is None:
                continue
            _, impl = inner_kind(impl_item)
            if impl.get("is_synthetic") or impl.get("synthetic") or impl.get("blanket_impl"):
                continue
            trait = impl.get("trait")
            if trait is None:
                for member_id in impl.get("items", []):
                    member = self.item(member_id)
                    if member and member.get("visibility") == "public" and member.get("name"):
                        methods.setdefault(member["name"], self._member(member, in_trait=False))
                continue
            if impl.get("is_negative") or impl.get("negative"):
                continue
            target = impl.get("for", {})
            prefix = ""
            if "borrowed_ref" in target:
                target = target["borrowed_ref"].get("type", {})
                prefix = "&Self: "
            if str(target.get("resolved_path", {}).get("id")) != self_id:
                continue  # e.g. `impl From<ThisType> for Other` is listed here too
            name = path_name(trait).split("::")[-1]
            if name in WELL_KNOWN_TRAITS or self._is_compared_trait(trait.get("id")):
                traits.add(prefix + name + render_args(trait.get("args")))
        return methods, sorted(traits)

    def _is_compared_trait(self, trait_id) -> bool:
        if self.item(trait_id) is not None:
            return True
        _, crate_name = self._summary(trait_id)
        return crate_name in self.compared_crates


def macro_key(path: str, kind: str) -> str:
    """Macros live in their own namespace (`kube::Resource` is a trait and a derive):
    their keys say what they are."""
    return f"{path} ({kind})" if kind in MACRO_KINDS.values() else path
