"""What a type checker sees haliax's public functions return.

Each ``assert_type`` line is checked statically by pyright (``nox -s types`` covers this file) and
runs under pytest too, where it is a no-op beside a runtime check that the static type is true.
A line that fails here means a signature went back to ``Any`` or started to lie.
"""

from __future__ import annotations

from typing import assert_type

import jax
import jax.numpy as jnp

import haliax as hax
import haliax.nn as hnn
from haliax import Axis, NamedArray

Batch = Axis("batch", 2)
Embed = Axis("embed", 3)


def _x() -> NamedArray:
    return hax.arange((Batch, Embed), dtype=jnp.float32)


def test_ops_built_by_factories_return_named_arrays_for_named_arrays() -> None:
    x = _x()
    checks = [
        assert_type(hax.exp(x), NamedArray),
        assert_type(hax.sum(x, "embed"), NamedArray),
        assert_type(hax.sum(x), NamedArray),
        assert_type(hax.mean(x, ("batch", "embed"), where=x > 0), NamedArray),
        assert_type(hax.argmax(x, "embed"), NamedArray),
        assert_type(hax.add(x, 1), NamedArray),
        assert_type(hax.add(1.0, x), NamedArray),
        assert_type(hax.maximum(x, x), NamedArray),
        assert_type(hax.cumsum(x, "embed"), NamedArray),
        assert_type(hnn.relu(x), NamedArray),
        assert_type(hnn.gelu(x, approximate=False), NamedArray),
    ]
    assert all(isinstance(c, NamedArray) for c in checks)


def test_ops_give_jax_arrays_for_unnamed_arrays_and_trees_for_trees() -> None:
    raw = jnp.ones((2, 3))
    arrays = [
        assert_type(hax.exp(raw), jax.Array),
        assert_type(hax.sum(raw, axis=1), jax.Array),
        assert_type(hax.add(raw, 1), jax.Array),
        assert_type(hax.cumsum(_x(), None), jax.Array),
        assert_type(hnn.relu(raw), jax.Array),
    ]
    assert all(isinstance(a, jax.Array) for a in arrays)
    tree = {"w": _x()}
    summed = assert_type(hax.sum(tree, "embed"), dict[str, NamedArray])
    assert summed["w"].axes == (Batch,)


def test_methods_and_operators() -> None:
    x = _x()
    checks = [
        assert_type(x.sum("embed"), NamedArray),
        assert_type(x + 1, NamedArray),
        assert_type(2 * x, NamedArray),
        assert_type(x / x, NamedArray),
        assert_type(x < 1, NamedArray),
        assert_type(-x, NamedArray),
        assert_type(x["batch", 0], NamedArray),
        assert_type(x[{"batch": 0, "embed": hax.dslice(0, 2)}], NamedArray),
        assert_type(x.rename({"batch": "b"}), NamedArray),
        assert_type(hax.dot(x, x, axis="embed"), NamedArray),
    ]
    assert all(isinstance(c, NamedArray) for c in checks)


def test_selectors_give_one_result_for_one_axis_and_a_tuple_for_several() -> None:
    x = _x()
    assert assert_type(x.axis_size("batch"), int) == 2
    assert assert_type(x.axis_size(("batch", "embed")), tuple[int, ...]) == (2, 3)
    assert assert_type(x.resolve_axis("embed"), Axis) == Embed
    assert assert_type(x.resolve_axis(("batch", Embed)), tuple[Axis, ...]) == (Batch, Embed)
    assert assert_type(x.resolve_axis({"batch": None}), dict[str, int]) == {"batch": 2}
    assert assert_type(x.axis_indices("embed"), int | None) == 1
    assert assert_type(hax.resolve_axis((Batch, Embed), "batch"), Axis) == Batch


def test_spec_helpers_give_back_the_kind_of_spec_they_get() -> None:
    assert assert_type(hax.concat_axes((Batch,), Embed), tuple[Axis, ...]) == (Batch, Embed)
    assert assert_type(hax.concat_axes({"batch": 2}, {"embed": 3}), dict[str, int]) == {
        "batch": 2,
        "embed": 3,
    }
    assert assert_type(hax.concat_axes(("batch",), ("embed",)), tuple[hax.AxisSelector, ...]) == (
        "batch",
        "embed",
    )
    assert assert_type(hax.eliminate_axes((Batch, Embed), "batch"), tuple[Axis, ...]) == (Embed,)
    assert (
        assert_type(hax.replace_axis((Batch, Embed), "batch", Axis("b", 2)), tuple[Axis, ...])[0].name == "b"
    )
    assert assert_type(hax.axis.unsize_axes((Batch, Embed)), tuple[str, ...]) == ("batch", "embed")


def test_selection_ops() -> None:
    x = _x()
    assert isinstance(assert_type(hax.where(x > 1, x, 0.0), NamedArray), NamedArray)
    assert isinstance(assert_type(hax.where(jnp.ones(2) > 0, jnp.ones(2), 0.0), jax.Array), jax.Array)
    assert isinstance(assert_type(hax.clip(x, 0.0, 1.0), NamedArray), NamedArray)
    flat = assert_type(hax.flatten_axes(x, ("batch", "embed"), "flat"), NamedArray)
    assert flat.axes == (Axis("flat", 6),)
    assert (
        assert_type(hax.flatten_axes((Batch, Embed), ("batch", "embed"), "flat"), tuple[Axis, ...])
        == flat.axes
    )
    assert isinstance(assert_type(hax.sum(x).scalar(), jax.Array), jax.Array)
