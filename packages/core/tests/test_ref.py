import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax.ref import NamedRef, freeze, get, new_ref, swap

pytestmark = pytest.mark.skipif(not hasattr(jax, "new_ref"), reason="this JAX has no mutable array refs")


def _x() -> hax.NamedArray:
    return hax.named(jnp.arange(6.0).reshape(2, 3), ("layer", "embed"))


def test_reads_by_name_match_numpy():
    ref = new_ref(_x())
    assert isinstance(ref, NamedRef)
    np.testing.assert_array_equal(ref["layer", 1].array, np.arange(6.0).reshape(2, 3)[1])
    np.testing.assert_array_equal(ref[{"embed": slice(0, 2)}].array, np.arange(6.0).reshape(2, 3)[:, :2])
    assert ref.value().axes == _x().axes
    assert get(ref).axes == _x().axes


def test_writes_update_in_place_with_named_broadcasting():
    ref = new_ref(_x())
    ref["layer", 0] = hax.zeros({"embed": 3})
    ref[{"embed": 2}] = -1.0
    expected = np.arange(6.0).reshape(2, 3)
    expected[0] = 0
    expected[:, 2] = -1
    np.testing.assert_array_equal(ref.value().array, expected)


def test_slice_stages_a_prefix_selector():
    ref = new_ref(_x())
    row = ref.slice({"layer": 1})
    assert row.axes == (hax.Axis("embed", 3),)
    assert row.shape == {"embed": 3}
    assert row.resolve_axis("embed") == hax.Axis("embed", 3)
    row["embed", 0] = 100.0
    assert ref["layer", 1, "embed", 0].item() == 100.0
    assert row.unsliced().axes == ref.axes
    assert row.dtype == jnp.float32


def test_swap_returns_the_previous_contents():
    ref = new_ref(_x())
    old = swap(ref, {"layer": 0}, hax.ones({"embed": 3}))
    np.testing.assert_array_equal(old.array, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(ref["layer", 0].array, [1.0, 1.0, 1.0])


def test_freeze_returns_the_contents():
    ref = new_ref(_x())
    out = freeze(ref)
    assert out.axes == _x().axes
    np.testing.assert_array_equal(out.array, _x().array)


def test_refs_work_under_jit_and_grad():
    def f(x: hax.NamedArray) -> jax.Array:
        ref = new_ref(x)
        ref["layer", 0] = ref["layer", 0] * 3.0
        return freeze(ref).sum().array

    np.testing.assert_array_equal(jax.jit(f)(_x()), 3 * 3.0 + 12.0)
    g = jax.grad(f)(_x())
    np.testing.assert_array_equal(g.array, [[3.0, 3.0, 3.0], [1.0, 1.0, 1.0]])


def test_a_ref_passed_into_jit_is_written_through():
    ref = new_ref(_x())

    @jax.jit
    def write(r: NamedRef, v: hax.NamedArray) -> None:
        r["layer", 1] = v

    write(ref, hax.full({"embed": 3}, 9.0))
    np.testing.assert_array_equal(ref["layer", 1].array, [9.0, 9.0, 9.0])


def test_new_ref_needs_a_named_array():
    with pytest.raises(TypeError, match=r"^new_ref: expected a NamedArray, got ArrayImpl"):
        new_ref(jnp.zeros(3))  # type: ignore[arg-type]  # the error is the point


def test_slice_stages_one_selector_per_axis_and_folds_windows():
    from jax._src.indexing import Slice

    ref = new_ref(hax.arange(hax.Axis("x", 10)))
    assert ref._prefix == (slice(None),)
    window = ref.slice({"x": hax.ds(2, 5)})
    assert isinstance(window._prefix[0], Slice)
    assert (window._prefix[0].start, window._prefix[0].size) == (2, 5)
    assert window.axes == (hax.Axis("x", 5),)
    inner = window.slice({"x": slice(1, 3)})
    assert (inner._prefix[0].start, inner._prefix[0].size, inner._prefix[0].stride) == (3, 2, 1)
    assert window.slice({"x": -1})._prefix[0] == 6
    assert window.slice({"x": [0, 2]})._prefix[0] == [2, 4]
    strided = ref.slice({"x": slice(1, 9, 2)}).slice({"x": slice(1, 3)})
    assert (strided._prefix[0].start, strided._prefix[0].size, strided._prefix[0].stride) == (3, 2, 2)
    np.testing.assert_array_equal(strided.value().array, [3, 5])
    Sel = hax.Axis("sel", 2)
    gathered = window.slice({"x": hax.arange(Sel)})
    assert gathered.axes == (Sel,)
    np.testing.assert_array_equal(gathered.value().array, [2, 3])


def test_writes_through_a_window_view_reach_the_buffer():
    Layer, Head = hax.Axis("layer", 10), hax.Axis("head", 4)
    ref = new_ref(hax.zeros((Layer, Head)))
    sub = ref.slice({"layer": hax.ds(3, 3)})
    assert sub.axes == (Layer.resize(3), Head)
    sub[{"layer": 1, "head": slice(None)}] = hax.ones(Head)
    np.testing.assert_array_equal(ref["layer", 4].array, np.ones(4))
    assert sub.unsliced()._prefix == (slice(None), slice(None))


def test_indexing_a_staged_index_array_again_is_unsupported():
    ref = new_ref(hax.arange(hax.Axis("x", 6)))
    view = ref.slice({"x": hax.arange(hax.Axis("sel", 2))})
    with pytest.raises(NotImplementedError, match="axis 'x' is already indexed by an index array"):
        view.slice({"x": 0})


def test_a_view_with_a_traced_index_works_under_jit_and_scan():
    X = hax.Axis("x", 5)
    ref = new_ref(hax.zeros(X, dtype=jnp.int32))

    @jax.jit
    def fill(r: NamedRef) -> None:
        def body(_, i):
            r.slice({"x": i})[...] = i * i
            return None, None

        jax.lax.scan(body, None, jnp.arange(X.size))

    fill(ref)
    np.testing.assert_array_equal(ref.value().array, np.arange(5) ** 2)
    view = ref.slice({"x": hax.ds(1, 2)})
    leaves, tree = jax.tree_util.tree_flatten(view)
    rebuilt = jax.tree_util.tree_unflatten(tree, leaves)
    assert rebuilt.axes == view.axes
    np.testing.assert_array_equal(jax.jit(lambda v: v.value())(view).array, [1, 4])
