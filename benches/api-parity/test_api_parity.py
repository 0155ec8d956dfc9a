"""Unit tests of the comparison, on small hand-written rustdoc JSON documents."""

import unittest

from comparison import compare


class Doc:
    """Builds a minimal rustdoc JSON document of one crate."""

    def __init__(self, crate: str):
        self.crate = crate
        self.index, self.paths, self.external_crates = {}, {}, {}
        root = {"module": {"is_crate": True, "items": [], "is_stripped": False}}
        self.root = self.add(crate, root)

    def add(self, name, inner, parent=None, visibility="public", attrs=()):
        item_id = len(self.index) + 1
        self.index[str(item_id)] = {"id": item_id, "crate_id": 0, "name": name,
                                    "visibility": visibility, "attrs": list(attrs),
                                    "inner": inner}
        if parent is not None:
            self.body(parent)["items"].append(item_id)
        return item_id

    def body(self, item_id):
        return next(iter(self.index[str(item_id)]["inner"].values()))

    def module(self, name, parent):
        return self.add(name, {"module": {"is_crate": False, "items": [], "is_stripped": False}},
                        parent)

    def struct(self, name, parent, fields=(), private_fields=False):
        field_ids = [self.add(f, {"struct_field": {"primitive": "u8"}}) for f in fields]
        kind = {"plain": {"fields": field_ids, "has_stripped_fields": private_fields}}
        return self.add(name, {"struct": {"kind": kind, "generics": {}, "impls": []}}, parent)

    def enum(self, name, parent, variants):
        ids = []
        for variant, arity in variants.items():
            kind = "plain" if arity is None else {"tuple": [None] * arity}
            ids.append(self.add(variant, {"variant": {"kind": kind}}, visibility="default"))
        return self.add(name, {"enum": {"variants": ids, "generics": {}, "impls": []}}, parent)

    def function(self, name, params, is_async=False, parent=None):
        inputs = [[f"p{i}", {"generic": "T"}] for i in range(params)]
        return self.add(name, {"function": {"sig": {"inputs": inputs},
                                            "generics": {"params": []},
                                            "header": {"is_async": is_async},
                                            "has_body": True}}, parent)

    def inherent(self, type_id, *fn_ids):
        impl = self.add(None, {"impl": {"trait": None, "items": list(fn_ids),
                                        "for": {"resolved_path": {"path": "X", "id": type_id}}}},
                        visibility="default")
        self.body(type_id)["impls"].append(impl)

    def trait_impl(self, type_id, trait):
        impl = self.add(None, {"impl": {"trait": {"path": trait, "id": 9999, "args": None},
                                        "items": [], "blanket_impl": None,
                                        "for": {"resolved_path": {"path": "X", "id": type_id}}}},
                        visibility="default")
        self.body(type_id)["impls"].append(impl)

    def use(self, name, target, parent, source="", is_glob=False):
        return self.add(None, {"use": {"source": source, "name": name, "id": target,
                                       "is_glob": is_glob}}, parent)

    def extern(self, crate_name, path, kind):
        """An id standing for another crate's item, as rustdoc lists it in `paths`."""
        crate_id = len(self.external_crates) + 1
        self.external_crates[str(crate_id)] = {"name": crate_name}
        item_id = 10_000 + len(self.paths)
        self.paths[str(item_id)] = {"crate_id": crate_id, "path": path, "kind": kind}
        return item_id

    def json(self):
        for item_id, item in self.index.items():
            if item["name"] and item["visibility"] == "public":
                path = [self.crate] if item_id == str(self.root) else [self.crate, item["name"]]
                self.paths.setdefault(item_id, {"crate_id": 0, "path": path,
                                                "kind": next(iter(item["inner"]))})
        return {"root": self.root, "index": self.index, "paths": self.paths,
                "external_crates": self.external_crates, "format_version": 57}


def core_pair():
    return Doc("kube_core"), Doc("kube_core")


class CompareTest(unittest.TestCase):
    def report(self, peer, ours, crate="kube_core"):
        return compare({crate: peer.json()}, {crate: ours.json()})["crates"][crate]

    def test_an_item_only_kube_5_has_is_missing_and_one_only_we_have_is_extra(self):
        peer, ours = core_pair()
        peer.struct("Shared", peer.root)
        peer.struct("TheirsOnly", peer.root)
        ours.struct("Shared", ours.root)
        ours.struct("OursOnly", ours.root)
        report = self.report(peer, ours)
        self.assertEqual([m["path"] for m in report["missing"]], ["kube_core::TheirsOnly"])
        self.assertEqual([e["path"] for e in report["extra"]], ["kube_core::OursOnly"])
        self.assertEqual(report["differing"], [])

    def test_a_re_export_counts_as_the_path_it_makes_reachable(self):
        peer, ours = core_pair()
        peer.struct("Params", peer.module("params", peer.root))
        ours_inner = ours.module("inner", None)  # a private module: not in the root's items
        ours.use("params", ours_inner, ours.root, source="self::inner")
        ours.struct("Params", ours_inner)
        self.assertEqual(self.report(peer, ours)["missing"], [])

    def test_items_inside_a_missing_module_are_listed_under_it(self):
        peer, ours = core_pair()
        peer.struct("Thing", peer.module("cel", peer.root))
        missing = {m["path"]: m for m in self.report(peer, ours)["missing"]}
        self.assertIsNone(missing["kube_core::cel"]["inside_listed_module"])
        self.assertEqual(missing["kube_core::cel::Thing"]["inside_listed_module"],
                         "kube_core::cel")

    def test_variant_shapes_params_async_and_trait_impls_are_compared(self):
        peer, ours = core_pair()
        peer_error = peer.enum("Error", peer.root, {"Api": 1, "SerdeError": 1, "Gone": None})
        peer.inherent(peer_error, peer.function("status", 1, is_async=True))
        peer.trait_impl(peer_error, "std::fmt::Display")
        ours_error = ours.enum("Error", ours.root, {"Api": 2, "Gone": None})
        ours.inherent(ours_error, ours.function("status", 2))
        [error] = self.report(peer, ours)["differing"]
        self.assertEqual(error["path"], "kube_core::Error")
        self.assertEqual(sorted(error["differences"]), sorted([
            "missing variant SerdeError (tuple(1))",
            "variant Api: tuple(1) in kube 5, tuple(2) in ours",
            "status: 1 params in kube 5, 2 in ours",
            "status: async in kube 5, not in ours",
            "missing impl Display",
        ]))

    def test_missing_public_fields_are_reported(self):
        peer, ours = core_pair()
        peer.struct("ListParams", peer.root, fields=["limit", "timeout"], private_fields=True)
        ours.struct("ListParams", ours.root, fields=["limit"], private_fields=True)
        [params] = self.report(peer, ours)["differing"]
        self.assertEqual(params["differences"], ["missing public field timeout"])

    def test_a_facade_re_export_follows_the_item_into_the_crate_that_defines_it(self):
        peer_core, our_core = core_pair()
        peer_core.struct("Gone", peer_core.root)
        peer_facade, our_facade = Doc("kube"), Doc("kube")
        core = peer_facade.extern("kube_core", ["kube_core"], "module")
        peer_facade.use("core", core, peer_facade.root, source="kube_core")
        core = our_facade.extern("kube_core", ["kube_core"], "module")
        our_facade.use("core", core, our_facade.root, source="kube_core")
        report = compare({"kube_core": peer_core.json(), "kube": peer_facade.json()},
                         {"kube_core": our_core.json(), "kube": our_facade.json()})
        [gone] = report["crates"]["kube_core"]["missing"]
        self.assertEqual((gone["path"], gone["also_at"]), ("kube_core::Gone", ["kube::core::Gone"]))
        self.assertEqual(report["crates"]["kube"]["missing"], [])


if __name__ == "__main__":
    unittest.main()
