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
        "import haliax._src.axis\n"
        "from haliax._src.errors import format_shape\n"
        "from haliax._src import sharding_hook\n"
        "from haliax import _src\n"
        "def f():\n"
        "    from haliax._src.dot import contraction_plan\n"
        "from haliax.nn._src.linear import Linear\n"
        "from haliax.extend import named_unchecked\n"
        "from ._src import linear\n"
    )
    assert [line.rsplit(":", 2)[1:] for line in core_private_imports(path)] == [
        ["1", " haliax._src.axis"],
        ["2", " haliax._src.errors"],
        ["3", " haliax._src"],
        ["4", " haliax._src"],
        ["6", " haliax._src.dot"],
    ]


def test_sibling_packages_do_not_import_core_private_modules() -> None:
    offenders = []
    for pkg in SIBLINGS:
        for path in sorted((ROOT / "packages" / pkg / "src").rglob("*.py")):
            offenders += [line.replace(f"{ROOT}/", "") for line in core_private_imports(path)]
    assert not offenders, (
        "import core through its public modules or haliax.extend, not haliax._src:\n" + "\n".join(offenders)
    )
