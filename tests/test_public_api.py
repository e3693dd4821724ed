"""Every public name Haliax users reach exists, carries a docstring and is in the API reference.

``api_inventory.txt`` lists (module, name, kind) for the whole target API.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib
import warnings

import pytest

HERE = pathlib.Path(__file__).resolve().parent
API_DOCS = HERE.parent / "docs" / "api"
UNDOCUMENTED_KINDS = {"type", "constant"}  # type aliases and constants carry no docstring of their own


def inventory() -> list[tuple[str, str, str]]:
    rows = []
    for line in (HERE / "api_inventory.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            module, name, kind = line.split(" ", 2)
            rows.append((module, name, kind))
    return rows


ROWS = inventory()


def reference_text() -> str:
    return "\n".join(p.read_text() for p in sorted(API_DOCS.glob("*.md")))


@pytest.mark.parametrize(("module", "name", "kind"), ROWS, ids=[f"{m}.{n}" for m, n, _ in ROWS])
def test_public_name_exists_and_is_documented(module: str, name: str, kind: str) -> None:
    mod = importlib.import_module(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated aliases are still public
        obj = getattr(mod, name)
    if kind.split()[0] in UNDOCUMENTED_KINDS or inspect.ismodule(obj):
        return
    ours = (getattr(obj, "__module__", None) or "").startswith("haliax")
    if ours and (inspect.isfunction(obj) or inspect.isclass(obj) or hasattr(obj, "__wrapped_jnp__")):
        assert inspect.getdoc(obj), f"{module}.{name} has no docstring"


def test_every_public_name_is_in_the_api_reference() -> None:
    text = reference_text()
    missing = [f"{m}.{n}" for m, n, _ in ROWS if f"{m}.{n}" not in text]
    assert not missing, f"{len(missing)} public names missing from docs/api/: {missing[:20]}"


def test_the_reference_shows_objects_under_the_paths_users_import() -> None:
    text = reference_text()
    for path in ("haliax.NamedArray", "haliax.Axis", "haliax.nn.Linear", "haliax.partitioning.shard"):
        assert f"::: {path}\n" in text, f"{path} is not rendered under its public path"
    assert "::: haliax.nn.linear.Linear\n" not in text  # the module path is only an anchor
    assert "[](){#haliax.nn.linear.Linear}" in text
