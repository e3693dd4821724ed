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
