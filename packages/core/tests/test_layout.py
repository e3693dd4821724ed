"""LeafLayout (haliax.extend): the one split/rebuild protocol behind vmap, scan, named_jit and shard_map."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax.errors import NamedTypeError, ShapeMismatchError
from haliax.extend import LeafLayout

B, E = hax.Axis("batch", 2), hax.Axis("embed", 3)


def _tree():
    return {"x": hax.ones((B, E)), "raw": jnp.arange(4.0), "act": "relu", "n": 3}


def test_split_sorts_leaves_into_named_raw_and_static_and_rebuild_inverts_it():
    tree = _tree()
    layout, arrays = LeafLayout.split(tree)
    assert [a.shape for a in arrays] == [(4,), (2, 3)]  # dict keys flatten sorted: act, n, raw, x
    assert layout.dynamic_axes == (None, (B, E))
    assert layout.dynamic_indices == (2, 3)
    back = layout.rebuild(arrays)
    assert back["x"].axes == (B, E) and back["act"] == "relu" and back["n"] == 3
    assert back["raw"] is arrays[0]


def test_is_dynamic_decides_what_is_static():
    x = hax.ones((B, E))
    layout, arrays = LeafLayout.split((x, jnp.zeros(())), is_dynamic=lambda leaf: leaf.ndim > 0)
    assert len(arrays) == 1 and layout.dynamic_axes == ((B, E),)
    assert layout.rebuild([arrays[0] * 2])[1].shape == ()


def test_axes_can_be_stripped_prepended_and_replaced():
    layout, _ = LeafLayout.split((hax.ones((B, E)), hax.ones(E), jnp.ones(2)))
    inner = layout.without_axis("batch")
    assert inner.dynamic_axes == ((E,), (E,), None)
    assert inner.with_leading_axis(B).dynamic_axes == ((B, E), (B, E), None)
    half = hax.Axis("batch", 1)
    assert layout.with_axes([(half, E), (E,), None]).dynamic_axes == ((half, E), (E,), None)
    with pytest.raises(ShapeMismatchError, match=r"LeafLayout.with_axes: got 2 entries for a layout with 3"):
        layout.with_axes([(E,), None])
    with pytest.raises(NamedTypeError, match=r"LeafLayout.with_axes: a raw array leaf was given"):
        layout.with_axes([(B, E), (E,), (E,)])


def test_layouts_are_hashable_cache_keys_and_unhashable_statics_compare_by_identity():
    a, _ = LeafLayout.split(_tree())
    b, _ = LeafLayout.split(_tree())  # other arrays, same layout
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != LeafLayout.split({**_tree(), "n": 4})[0]
    assert a != LeafLayout.split({**_tree(), "x": hax.ones((E, B))})[0]
    table = np.arange(3)  # numpy arrays are not hashable: a static one is compared by identity
    t1, _ = LeafLayout.split([table], is_dynamic=lambda leaf: False)
    t2, _ = LeafLayout.split([table], is_dynamic=lambda leaf: False)
    t3, _ = LeafLayout.split([np.arange(3)], is_dynamic=lambda leaf: False)
    assert t1 == t2 and hash(t1) == hash(t2) and t1 != t3
    with pytest.raises(AttributeError, match="frozen"):
        a.kinds = ()  # type: ignore[misc]


def test_a_layout_is_a_leafless_pytree_that_a_jitted_function_can_return():
    x = hax.ones((B, E))

    @jax.jit
    def f(raw):
        layout, arrays = LeafLayout.split({"y": hax.named(raw * 2, (B, E)), "tag": "doubled"})
        return arrays, layout

    arrays, layout = f(x.array)
    assert jax.tree_util.tree_leaves(layout) == []
    out = layout.rebuild(arrays)
    assert out["tag"] == "doubled" and out["y"].axes == (B, E)
    assert float(out["y"].array.sum()) == 12.0
    assert "{batch: 2, embed: 3}" in repr(layout)
