"""NamedArray's op-backed methods: installed from one table, each the public op itself."""

from __future__ import annotations

import ast
import inspect
import pathlib

import jax.numpy as jnp

import haliax as hax
from haliax._src.base import named_array


def _declared_for_type_checkers() -> set[str]:
    """Method names declared in named_array.py's ``if TYPE_CHECKING:`` blocks (class bodies)."""
    tree = ast.parse(pathlib.Path(named_array.__file__).read_text())
    names: set[str] = set()
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for node in cls.body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                for stmt in node.body:
                    if isinstance(stmt, ast.FunctionDef):
                        names.add(stmt.name)
                    elif isinstance(stmt, ast.Assign):
                        names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
    return names


def test_every_method_declared_for_type_checkers_exists_at_runtime():
    declared = _declared_for_type_checkers()
    assert {"sum", "__add__", "__radd__", "__getitem__", "rename", "__repr__"} <= declared
    missing = sorted(name for name in declared if not hasattr(hax.NamedArray, name))
    assert not missing, missing
    assert "__getitem__" in vars(named_array.NamedArrayMeta)  # NamedArray["batch embed"]


def test_a_method_is_the_public_op_and_shows_its_docstring():
    assert hax.NamedArray.sum is hax.sum
    assert hax.NamedArray.rename is hax.rename
    assert inspect.getdoc(hax.named(jnp.ones(2), "a").sum) == inspect.getdoc(hax.sum)


def test_reflected_operators_swap_their_operands():
    x = hax.named(jnp.array([1.0, 2.0]), "a")
    assert (10 - x).array.tolist() == [9.0, 8.0]
    assert (2**x).array.tolist() == [2.0, 4.0]
    q, r = divmod(7, hax.named(jnp.array([2, 3]), "a"))
    assert q.array.tolist() == [3, 2] and r.array.tolist() == [1, 1]
