"""Sibling packages reach core only through its public modules and `haliax.extend`.

An installed ``haliax-nn`` wheel must keep working when a file moves inside ``haliax-core``'s
private ``haliax._src``; so nn, partitioning, quantization and testing never import it. (Their own
``haliax.nn._src`` and the like are theirs to import.)
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SIBLINGS = ("nn", "partitioning", "quantization", "testing")


def _is_core_private(module: str) -> bool:
    return module == "haliax._src" or module.startswith("haliax._src.")


def core_private_imports(path: pathlib.Path) -> list[str]:
    """``path:line: module`` for each import of core's ``haliax._src`` in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "haliax":  # from haliax import _src
                modules += [f"haliax.{alias.name}" for alias in node.names]
        else:
            continue
        found += [f"{path}:{node.lineno}: {m}" for m in modules if _is_core_private(m)]
    return found


def test_the_scanner_finds_every_import_form_of_core_private_modules(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text(
        "import haliax._src.base.axis\n"
        "from haliax._src.base.errors import format_shape\n"
        "from haliax._src import sharding_hook\n"
        "from haliax import _src\n"
        "def f():\n"
        "    from haliax._src.contractions.dot import contraction_plan\n"
        "from haliax.nn._src.linear import Linear\n"
        "from haliax.extend import named_unchecked\n"
        "from ._src import linear\n"
    )
    assert [line.rsplit(":", 2)[1:] for line in core_private_imports(path)] == [
        ["1", " haliax._src.base.axis"],
        ["2", " haliax._src.base.errors"],
        ["3", " haliax._src"],
        ["4", " haliax._src"],
        ["6", " haliax._src.contractions.dot"],
    ]


def test_sibling_packages_do_not_import_core_private_modules() -> None:
    offenders = []
    for pkg in SIBLINGS:
        for path in sorted((ROOT / "packages" / pkg / "src").rglob("*.py")):
            offenders += [line.replace(f"{ROOT}/", "") for line in core_private_imports(path)]
    assert not offenders, (
        "import core through its public modules or haliax.extend, not haliax._src:\n" + "\n".join(offenders)
    )


# ----- core's layer order -----
CORE_SRC = ROOT / "packages" / "core" / "src" / "haliax" / "_src"


def _layer_order() -> list[str]:
    """The layer names, top to bottom, as listed in ``_src/__init__.py``'s docstring."""
    doc = ast.get_docstring(ast.parse((CORE_SRC / "__init__.py").read_text())) or ""
    listing = doc.split("Layer order", 1)[1]
    return [
        line.split()[0]
        for line in listing.splitlines()
        if line.startswith("    ") and not line.startswith("     ") and line.split()
    ]


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(CORE_SRC.parent.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _module_level_imports(path: pathlib.Path) -> list[tuple[int, str]]:
    """``(line, module)`` for each import run when ``path`` is imported (not under TYPE_CHECKING)."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
            elif isinstance(node, ast.Import):
                found.extend((node.lineno, a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                found.extend((node.lineno, f"{base}.{a.name}") for a in node.names)
                found.append((node.lineno, base))

    visit(ast.parse(path.read_text()).body)
    return [(line, m) for line, m in found if m.startswith("haliax._src.")]


def _core_modules() -> dict[str, pathlib.Path]:
    return {_module_name(p): p for p in CORE_SRC.rglob("*.py")}


def _layer_of(module: str, order: list[str]) -> int | None:
    parts = module.split(".")
    return order.index(parts[2]) if len(parts) > 2 and parts[2] in order else None


def test_the_layer_listing_names_every_layer_folder() -> None:
    folders = sorted(p.name for p in CORE_SRC.iterdir() if p.is_dir() and p.name != "__pycache__")
    order = _layer_order()
    assert sorted(name for name in order if name != "methods") == folders
    assert order[-1] == "methods"


def test_core_modules_import_only_their_own_layer_or_lower_ones() -> None:
    order = _layer_order()
    modules = _core_modules()
    offenders = []
    for name, path in modules.items():
        own = _layer_of(name, order)
        if own is None:  # the package itself and the Haliax alias modules sit above every layer
            continue
        for line, target in _module_level_imports(path):
            theirs = _layer_of(target, order)
            if theirs is not None and theirs > own:
                offenders.append(
                    f"{name}:{line} imports {target} ({order[theirs]} comes after {order[own]} in the layer order)"
                )
    assert not offenders, "\n".join(offenders)


def test_core_has_no_import_cycle() -> None:
    modules = _core_modules()
    graph = {
        name: {t for _, t in _module_level_imports(path) if t in modules and t != name}
        for name, path in modules.items()
    }
    # A package's __init__ runs before its submodules; an edge into a package is not a cycle through it.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, stack: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend([*stack[stack.index(nxt) :], nxt] if nxt in stack else [node, nxt])
                return True
            if nxt not in state and visit(nxt, [*stack, nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if start not in state and visit(start, [start]):
            break
    assert not cycle, " -> ".join(cycle)
