"""mkdocs hooks: let the API reference see ``haliax`` as one package.

``haliax.nn``, ``haliax.partitioning``, ... ship in other distributions, each under its own
``packages/*/src/haliax/``. The reference generator (griffe) looks for submodules in one
directory, so this hook links the five source trees into one (``build/apitree/haliax``) and
imports every distribution first: griffe then finds each submodule on disk and inspects the live
objects (op tables built by factories carry their docstrings only at run time).
"""

from __future__ import annotations

import importlib
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
TREE = ROOT / "build" / "apitree" / "haliax"


def _link_tree() -> None:
    TREE.mkdir(parents=True, exist_ok=True)
    for src in sorted(ROOT.glob("packages/*/src/haliax")):
        for entry in src.iterdir():
            link = TREE / entry.name
            if entry.name == "__pycache__" or link.is_symlink() or link.exists():
                continue
            link.symlink_to(entry)


def on_startup(**kwargs: object) -> None:
    _link_tree()
    importlib.import_module("pkgutil")  # griffe imports with only its own paths on sys.path
    for sub in ("nn", "partitioning", "quantization", "testing"):
        importlib.import_module(f"haliax.{sub}")


if __name__ == "__main__":  # `python docs/hooks.py`: build the merged tree only (pyright reads it too)
    _link_tree()
