"""Write the API reference pages (docs/api/*.md) from the public manifests.

Run ``python docs/gen_api.py`` after adding a public name; tests/test_public_api.py fails when a
name is missing from the reference. Each object is rendered once, on the page of the most
specific public module that exports it; other modules list it as an alias with a link.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pathlib
import re

DOCS = pathlib.Path(__file__).resolve().parent
PAGES: list[tuple[str, str, list[str]]] = [
    ("haliax", "haliax", ["haliax"]),
    ("axis", "haliax.axis", ["haliax.axis"]),
    ("core", "haliax.core", ["haliax.core"]),
    (
        "ops",
        "Ops, wrapping, FFT, polynomials",
        ["haliax.ops", "haliax.wrap", "haliax.specialized_fns", "haliax.fft", "haliax.poly"],
    ),
    (
        "transforms",
        "Transforms, trees and jax utilities",
        ["haliax.hof", "haliax.tree", "haliax.tree_util", "haliax.jax_utils"],
    ),
    ("random", "haliax.random", ["haliax.random"]),
    ("typing", "Typing", ["haliax.haxtyping", "haliax.types", "haliax.field", "haliax.util"]),
    ("refs-debug", "Refs, debugging, registries", ["haliax.ref", "haliax.debug", "haliax.registry"]),
    ("errors", "haliax.errors", ["haliax.errors"]),
    ("state-dict", "haliax.state_dict", ["haliax.state_dict"]),
    ("extend", "haliax.extend", ["haliax.extend"]),
    (
        "nn",
        "haliax.nn",
        [
            "haliax.nn",
            "haliax.nn.activations",
            "haliax.nn.attention",
            "haliax.nn.conv",
            "haliax.nn.dropout",
            "haliax.nn.embedding",
            "haliax.nn.linear",
            "haliax.nn.loss",
            "haliax.nn.mlp",
            "haliax.nn.mup",
            "haliax.nn.normalization",
            "haliax.nn.pool",
            "haliax.nn.scan",
        ],
    ),
    ("partitioning", "haliax.partitioning", ["haliax.partitioning"]),
    ("quantization", "haliax.quantization", ["haliax.quantization"]),
    ("testing", "haliax.testing", ["haliax.testing"]),
]


def _reachable(mod: object, name: str) -> bool:
    try:
        getattr(mod, name)
    except ImportError:  # a lazy name whose distribution is not installed
        return False
    return True


# Names with a leading underscore that are public all the same (Haliax lists them in __all__).
PUBLIC_UNDERSCORED = {"haliax.core._broadcast_order"}


def _dist_root(module: str) -> str:
    """The public package a module belongs to: haliax.nn, haliax.partitioning, ... or haliax."""
    for sub in ("nn", "partitioning", "quantization", "testing"):
        if module == f"haliax.{sub}" or module.startswith(f"haliax.{sub}."):
            return f"haliax.{sub}"
    return "haliax"


def _is_module(path: str) -> bool:
    try:
        return importlib.util.find_spec(path) is not None
    except (ImportError, ValueError):
        return False


def _renderable(obj: object) -> bool:
    """Functions and classes of ours get a full entry; type aliases and constants a line."""
    ours = (getattr(obj, "__module__", None) or "").startswith("haliax")
    return (
        ours
        and callable(obj)
        and (
            inspect.isfunction(obj)
            or inspect.isclass(obj)
            or hasattr(obj, "__wrapped_jnp__")
            or inspect.isfunction(getattr(obj, "__wrapped__", None))  # functools.lru_cache and kin
        )
    )


def _manual_entry(full: str, obj: object) -> list[str]:
    """An entry written from the live object, for functions made at run time by a decorator
    (e.g. hypothesis's ``@composite``) whose code the reference generator cannot locate."""
    try:
        sig = str(inspect.signature(obj))  # type: ignore[arg-type]  # callables only reach here
    except (TypeError, ValueError):
        sig = "(...)"
    name = full.rsplit(".", 1)[1]
    return [f"### `{full}`", "", "```python", f"{name}{sig}", "```", "", inspect.getdoc(obj) or "", ""]


def _describe(obj: object) -> str:
    text = repr(obj).replace("`", "'")
    return text if len(text) < 120 else text[:117] + "..."


def manifest_names(module: str) -> list[str]:
    """Public names a manifest binds with ``from x import name as name`` (submodules excluded)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return []
    tree = ast.parse(pathlib.Path(spec.origin).read_text())
    mod = importlib.import_module(module)
    names = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                name = alias.asname or alias.name
                if (
                    name.startswith("_") and f"{module}.{name}" not in PUBLIC_UNDERSCORED
                ) or alias.name == "*":
                    continue
                if type(getattr(mod, name, None)).__name__ == "module":
                    continue
                names.append(name)
    lazy = getattr(mod, "__dir__", None)
    if module == "haliax" and lazy is not None:
        names += [n for n in mod.__dir__() if not n.startswith("_") and n not in names and _reachable(mod, n)]
    return list(dict.fromkeys(names))


_GROUP = re.compile(r"^# ----- (.+?) -----$")

# One line of prose under each group heading of a manifest (keyed by the heading's text).
GROUP_PROSE = {
    "axes": "Axes are names with sizes; these build, compare and combine axis specs.",
    "the NamedArray, broadcasting and typing": "The array type itself, how operands line up by name, and shape checks.",
    "creation": "New arrays from axes: filled, ranges, spaced values.",
    "indexing": "Selecting by name: integers, slices, `dslice`, index arrays; functional updates.",
    "shape manipulation": "Reshaping by name: concatenate, flatten, split, stack, pad, rename, roll.",
    "elementwise ops": "One jax.numpy function each, broadcasting by name.",
    "reductions, cumulative and sorting ops": "Ops that remove or scan along named axes.",
    "contraction and rearrangement": "`dot` and `einsum` contract by name; `rearrange` reorders, splits and merges.",
    "other ops": "Ops that fit no table: `where`, `clip`, `top_k`, `unique`, ...",
    "fft, polynomials and fields": "Named FFTs, polynomial ops and Equinox field helpers.",
    "wrapping jax.numpy functions": "Turn any positional jax function into a named one.",
    "transforms": "`vmap`, `scan`, `fold`, `map` and checkpointing over named axes.",
    "mutable references": "Named views of JAX mutable array references.",
    "plugin registries": "Ops, sharding strategies and kernels that other distributions add by entry point.",
    "types": "Type aliases used in signatures.",
    "names from other distributions and deprecated aliases, resolved lazily": (
        "Reached from `haliax` on first use; owned by nn, partitioning and quantization, or deprecated."
    ),
    "assertions": "Compare NamedArrays by axis name, with failure messages in named shapes.",
    "errors": "Check that bad calls fail the way haliax promises: typed, in the caller's words, no values.",
    "devices and meshes": "Simulated CPU devices and meshes for sharding tests.",
    "compiling for a GPU without one": (
        "Compile for an H100/H200 on a CPU-only host (CUDA plugin, no device) and read the optimized program."
    ),
    "hypothesis strategies": "Random axes, arrays and meshes for property tests.",
}


def manifest_groups(module: str, names: list[str]) -> list[tuple[str, list[str]]]:
    """``names`` grouped under the ``# ----- title -----`` comments of the manifest's source.

    Names bound before any heading, or resolved lazily, go to the last group. A manifest without
    headings gives one untitled group.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return [("", names)]
    source = pathlib.Path(spec.origin).read_text()
    headings = [
        (i + 1, m.group(1)) for i, line in enumerate(source.splitlines()) if (m := _GROUP.match(line))
    ]
    if len(headings) < 2:
        return [("", names)]
    group_of: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom):
            title = next((t for line, t in reversed(headings) if line < node.lineno), headings[-1][1])
            for alias in node.names:
                group_of.setdefault(alias.asname or alias.name, title)
    groups: dict[str, list[str]] = {t.split(" (")[0]: [] for _, t in headings}
    for name in names:
        groups[group_of.get(name, headings[-1][1]).split(" (")[0]].append(name)
    return [(t, ns) for t, ns in groups.items() if ns]


def main() -> None:
    exported: dict[int, list[str]] = {}
    per_module: dict[str, list[str]] = {}
    for _, _, modules in PAGES:
        for module in modules:
            try:
                mod = importlib.import_module(module)
            except ImportError:
                continue
            names = [n for n in manifest_names(module) if type(getattr(mod, n)).__name__ != "module"]
            per_module[module] = names
            for n in names:
                exported.setdefault(id(getattr(mod, n)), []).append(f"{module}.{n}")

    def canonical(module: str, name: str) -> str:
        obj = getattr(importlib.import_module(module), name)
        homes = exported[id(obj)]
        root = _dist_root(getattr(obj, "__module__", None) or module)
        return max(homes, key=lambda h: (_dist_root(h) == root, h.count("."), -homes.index(h)))

    def public(module: str, name: str) -> str:
        """The shortest path users import the object by (``haliax.nn.Linear``): its heading."""
        obj = getattr(importlib.import_module(module), name)
        homes = exported[id(obj)]
        root = _dist_root(getattr(obj, "__module__", None) or module)
        # A path that is also a module's name (``haliax.fft``) would name the module: skip it.
        return min(homes, key=lambda h: (_is_module(h), _dist_root(h) != root, h.count("."), homes.index(h)))

    (DOCS / "api").mkdir(exist_ok=True)
    index = ["# API reference", "", "Every public name, by module.", ""]
    for slug, title, modules in PAGES:
        lines = [f"# {title}", ""]
        for module in modules:
            if module not in per_module:
                continue
            groups = manifest_groups(module, per_module[module]) if len(modules) == 1 else []
            grouped = len(groups) > 1
            if not grouped:
                lines += [f"## `{module}`", ""]
                groups = [("", per_module[module])]
            for group, group_names in groups:
                aliases: list[str] = []
                elsewhere: list[str] = []
                constants: list[str] = []
                if grouped:
                    lines += [f"## {(group[0].upper() + group[1:]).replace('Fft', 'FFT')}", ""]
                    if group in GROUP_PROSE:
                        lines += [GROUP_PROSE[group], ""]
                for name in group_names:
                    full = f"{module}.{name}"
                    home = canonical(module, name)
                    shown = public(module, name)
                    obj = getattr(importlib.import_module(module), name)
                    # Rendered under the name users import (`shown`), with an anchor for this
                    # module's path too, so `[haliax.x.name][]` resolves wherever it is written.
                    anchors = [f"[](){{#{full}}}"] if shown != full else []
                    if home == full and _renderable(obj) and "<locals>" in getattr(obj, "__qualname__", ""):
                        lines += [f"[](){{#{shown}}}", *anchors, "", *_manual_entry(shown, obj)]
                    elif home == full and _renderable(obj):
                        lines += [*anchors, "", f"::: {shown}", ""]
                    elif home == full:
                        constants.append(
                            "\n".join([f"[](){{#{shown}}}", *anchors, f"`{shown}`: `{_describe(obj)}`\n"])
                        )
                    elif full != shown:
                        aliases.append(f"[](){{#{full}}}\n`{full}`: same as [`{shown}`][{shown}]\n")
                    else:  # documented under this name, on the page of its module
                        summary = (inspect.getdoc(obj) or "").split("\n", 1)[0] if _renderable(obj) else ""
                        elsewhere.append(f"- [`{full}`][{full}]" + (f": {summary}" if summary else ""))
                if elsewhere:
                    lines += [*elsewhere, ""]
                if constants:
                    lines += ["Type aliases and constants:", "", *constants, ""]
                if aliases:
                    lines += ["Also available here:", "", *aliases, ""]
        (DOCS / "api" / f"{slug}.md").write_text("\n".join(lines))
        index.append(f"- [{title}]({slug}.md)")
    (DOCS / "api" / "index.md").write_text("\n".join(index) + "\n")


if __name__ == "__main__":
    main()
