import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax.ops import raw_array_or_scalar

B, E, R, C = hax.Axis("batch", 2), hax.Axis("embed", 3), hax.Axis("row", 3), hax.Axis("col", 4)


def _x():
    return hax.named(jnp.arange(6.0).reshape(2, 3) - 2.0, (B, E))


# ----- where -----
def test_where_selects_and_broadcasts_by_name():
    x = _x()
    cond = hax.named(jnp.array([True, False, True]), (E,))
    other = hax.named(jnp.full((3, 2), -1.0), (E, B))
    out = hax.where(cond, x, other)
    assert out.axes == (B, E)
    np.testing.assert_array_equal(out.array, jnp.where(cond.array[None, :], x.array, -1.0))


def test_where_with_scalars_and_plain_arrays():
    x = _x()
    out = hax.where(x > 0, x, 0.0)
    assert out.axes == (B, E)
    np.testing.assert_array_equal(out.array, jnp.maximum(x.array, 0.0))
    np.testing.assert_array_equal(hax.where(jnp.array([True, False]), 1, 2), jnp.array([1, 2]))


def test_where_with_a_scalar_condition_and_unnamed_values_is_unnamed():
    flag = hax.all(_x() > -10.0)  # a 0-d NamedArray
    out = hax.where(flag, jnp.ones(3), jnp.zeros(3))
    assert not isinstance(out, hax.NamedArray)
    np.testing.assert_array_equal(out, jnp.ones(3))
    picked = jax.jit(lambda c: hax.where(c, {"w": jnp.ones(2)}, {"w": jnp.zeros(2)}))(False)
    np.testing.assert_array_equal(picked["w"], jnp.zeros(2))


def test_where_under_jit():
    x = _x()
    out = jax.jit(lambda a: hax.where(a > 0, a, -a))(x)
    np.testing.assert_array_equal(out.array, jnp.abs(x.array))


def test_where_one_argument_form_returns_indices():
    x = hax.named(jnp.array([[0, 1, 0], [2, 0, 0]]), (B, E))
    Hit = hax.Axis("hit", 3)
    rows, cols = hax.where(x, fill_value=-1, new_axis=Hit)
    assert rows.axes == (Hit,) and cols.axes == (Hit,)
    assert rows.array.tolist() == [0, 1, -1] and cols.array.tolist() == [1, 0, -1]


def test_where_errors():
    x = _x()
    with pytest.raises(TypeError, match=r"^where: the one-argument form needs fill_value= and new_axis="):
        hax.where(x)  # pyright: ignore[reportCallIssue]  # the error under test
    with pytest.raises(TypeError, match=r"^where: pass both x and y, or neither \(for the index form\)$"):
        hax.where(x > 0, x)  # pyright: ignore[reportCallIssue]  # the error under test
    with pytest.raises(ValueError) as err:
        hax.where(x > 0, x, jnp.zeros(3))
    assert str(err.value) == (
        "where: cannot combine a NamedArray {batch: 2, embed: 3} with an unnamed array of shape (3,); "
        "name its axes first with hax.named(x, axes)"
    )


# ----- clip -----
def test_clip_with_named_bounds():
    x = _x()
    lo = hax.named(jnp.array([-1.0, 0.0, 1.0]), (E,))
    out = hax.clip(x, lo, 2.0)
    assert out.axes == (B, E)
    np.testing.assert_array_equal(out.array, jnp.clip(x.array, lo.array[None, :], 2.0))
    np.testing.assert_array_equal(x.clip(None, 0.0).array, jnp.minimum(x.array, 0.0))


# ----- comparisons -----
def test_isclose_allclose_and_equality():
    x = _x()
    xt = hax.named(x.array.T + 1e-9, (E, B))
    assert hax.isclose(x, xt).array.all()
    assert hax.allclose(x, xt) is True
    assert hax.allclose(x, x + 1.0) is False
    assert hax.array_equal(x, hax.named(x.array.T, (E, B))) is True
    assert hax.array_equal(x, x.sum("embed")) is False
    assert hax.array_equal(x, hax.named(x.array, (B, E.alias("other")))) is False
    assert hax.array_equiv(hax.named(jnp.ones((2, 3)), (B, E)), hax.named(jnp.ones(3), (E,))) is True
    assert hax.array_equiv(hax.named(jnp.ones(2), (B,)), hax.named(jnp.ones(3), (E,))) is False


# ----- counting and bits -----
def test_bincount_matches_jnp_with_weights():
    x = hax.named(jnp.array([[0, 1, 1], [3, 1, 7]]), (B, E))
    Counts = hax.Axis("count", 5)
    out = hax.bincount(x, Counts)
    assert out.axes == (Counts,)
    np.testing.assert_array_equal(out.array, jnp.bincount(x.array.ravel(), length=5))
    w = hax.named(jnp.array([1.0, 2.0, 3.0]), (E,))
    weighted = hax.bincount(x, Counts, weights=w)
    np.testing.assert_allclose(weighted.array, jnp.bincount(x.array.ravel(), jnp.tile(w.array, 2), length=5))


def test_bincount_needs_a_sized_axis():
    x = hax.named(jnp.array([0, 1]), "pos")
    with pytest.raises(TypeError) as err:
        hax.bincount(x, "count")  # pyright: ignore[reportArgumentType]  # wrong type on purpose: pins the runtime error
    assert str(err.value) == (
        "bincount: Counts must be an Axis with a size (the output size is static), got 'count'; "
        "pass e.g. hax.Axis('count', n)"
    )


def test_nonzero_pads_with_fill_value():
    x = hax.named(jnp.array([0, 4, 0, 5]), "pos")
    (idx,) = hax.nonzero(x, hax.Axis("hit", 3), fill_value=9)
    assert idx.array.tolist() == [1, 3, 9]


def test_packbits_roundtrip_on_a_leading_axis():
    bits = hax.named(
        jnp.array(np.random.default_rng(0).integers(0, 2, (10, 2)), dtype=bool), ("bit", "batch")
    )
    packed = hax.packbits(bits, "bit")
    assert packed.axes == (hax.Axis("bit", 2), hax.Axis("batch", 2))
    np.testing.assert_array_equal(packed.array, jnp.packbits(bits.array, axis=0))
    unpacked = hax.unpackbits(packed, "bit", count=10)
    assert unpacked.axes == bits.axes
    np.testing.assert_array_equal(unpacked.array, bits.array)


def test_searchsorted():
    a = hax.named(jnp.array([1.0, 2.0, 3.0]), "edge")
    v = hax.named(jnp.array([[0.5, 2.0], [2.5, 9.0]]), (B, "x"))
    out = hax.searchsorted(a, v, side="right")
    assert out.axes == v.axes
    np.testing.assert_array_equal(out.array, jnp.searchsorted(a.array, v.array, side="right"))
    assert int(hax.searchsorted(a, 2.5)) == 2
    with pytest.raises(
        TypeError, match=r"^searchsorted: the sorted array must have one axis, got \{batch: 2, embed: 3\}"
    ):
        hax.searchsorted(_x(), 1.0)


# ----- diagonals and triangles -----
def test_trace_over_named_axes_in_any_position():
    raw = jnp.arange(24.0).reshape(R.size, B.size, C.size)
    m = hax.named(raw, (R, B, C))
    out = hax.trace(m, "row", "col", offset=1)
    assert out.axes == (B,)
    np.testing.assert_allclose(out.array, jnp.trace(raw, offset=1, axis1=0, axis2=2))
    np.testing.assert_allclose(m.trace("col", "row").array, jnp.trace(raw, axis1=2, axis2=0))


@pytest.mark.parametrize("k", [-1, 0, 1])
def test_tril_triu_match_jnp_for_any_axis_order(k):
    raw = jnp.arange(24.0).reshape(B.size, R.size, C.size) + 1
    m = hax.named(raw, (B, R, C))
    np.testing.assert_array_equal(hax.tril(m, R, C, k=k).array, jnp.tril(raw, k))
    np.testing.assert_array_equal(hax.triu(m, "row", "col", k=k).array, jnp.triu(raw, k))
    # columns first in memory: still rows=row, cols=col, and (as in Haliax) the result ends in them
    mt = hax.named(jnp.swapaxes(raw, 1, 2), (B, C, R))
    out = hax.tril(mt, "row", "col", k=k)
    assert out.axes == (B, R, C)
    np.testing.assert_array_equal(out.array, jnp.tril(raw, k))
    moved = hax.triu(hax.named(jnp.transpose(raw, (1, 0, 2)), (R, B, C)), "row", "col", k=k)
    assert moved.axes == (B, R, C)
    np.testing.assert_array_equal(moved.array, jnp.triu(raw, k))


def test_triangle_errors():
    m = hax.named(jnp.ones((3, 4)), (R, C))
    with pytest.raises(TypeError, match=r"^tril: axis1 and axis2 must be different axes, both are 'row'$"):
        hax.tril(m, "row", "row")
    with pytest.raises(
        ValueError, match=r"^triu: axis 'cols' not found in \{row: 3, col: 4\}; did you mean 'col'\?$"
    ):
        hax.triu(m, "row", "cols")


# ----- unique -----
def test_unique_variants_match_jnp():
    raw = jnp.array([[3, 1, 3], [2, 1, 1]])
    x = hax.named(raw, (B, E))
    U = hax.Axis("uniq", 4)
    ref = jnp.unique(raw, return_index=True, return_inverse=True, return_counts=True, size=4, fill_value=0)
    values, index, inverse, counts = hax.unique_all(x, U, fill_value=0)
    assert values.axes == (U,) and index.axes == (U,) and counts.axes == (U,)
    assert inverse.axes == (B, E)
    for got, want in zip((values, index, inverse, counts), ref, strict=True):
        np.testing.assert_array_equal(got.array, want)
    assert hax.unique_values(x, U, fill_value=0).array.tolist() == [1, 2, 3, 0]
    assert hax.unique_counts(x, U, fill_value=0)[1].array.tolist() == [3, 1, 2, 0]
    assert hax.unique_inverse(x, U)[1].array.tolist() == [[2, 0, 2], [1, 0, 0]]


def test_unique_along_an_axis_finds_unique_slices():
    raw = jnp.array([[1, 2], [3, 4], [1, 2]])
    x = hax.named(raw, (R, "pair"))
    U = hax.Axis("uniq", 2)
    values, inverse = hax.unique(x, U, axis="row", return_inverse=True)
    assert values.axes == (U, hax.Axis("pair", 2))
    assert values.array.tolist() == [[1, 2], [3, 4]]
    assert inverse.axes == (R,) and inverse.array.tolist() == [0, 1, 0]


def test_unique_shortcuts_take_an_axis():
    raw = jnp.array([[1, 2], [3, 4], [1, 2]])
    x = hax.named(raw, (R, "pair"))
    U = hax.Axis("uniq", 2)
    assert hax.unique_values(x, U, axis="row").array.tolist() == [[1, 2], [3, 4]]
    _, counts = hax.unique_counts(x, U, axis="row")
    assert counts.array.tolist() == [2, 1]
    _, inverse = hax.unique_inverse(x, U, axis="row")
    assert inverse.axes == (R,) and inverse.array.tolist() == [0, 1, 0]
    _, indices, inverse, counts = hax.unique_all(x, U, axis="row")
    assert indices.array.tolist() == [0, 1] and counts.array.tolist() == [2, 1]


# ----- top_k and helpers -----
def test_top_k_on_a_middle_axis():
    raw = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 3))
    x = hax.named(raw, (B, "vocab", E))
    values, indices = hax.top_k(x, "vocab", 2, new_axis="top")
    Top = hax.Axis("top", 2)
    assert values.axes == (B, Top, E) and indices.axes == (B, Top, E)
    ref_v, ref_i = jax.lax.top_k(jnp.moveaxis(raw, 1, -1), 2)
    np.testing.assert_allclose(values.array, jnp.moveaxis(ref_v, -1, 1))
    np.testing.assert_array_equal(indices.array, jnp.moveaxis(ref_i, -1, 1))
    assert hax.top_k(x, "vocab", 3)[0].axes == (B, hax.Axis("vocab", 3), E)
    with pytest.raises(
        ValueError, match=r"^top_k: k=6 does not fit axis 'vocab' of \{batch: 2, vocab: 5, embed: 3\}"
    ):
        hax.top_k(x, "vocab", 6)


def test_raw_array_or_scalar():
    x = _x()
    assert raw_array_or_scalar(x) is x.array
    assert raw_array_or_scalar(3) == 3


def test_divmod_and_frexp_unpack_and_answer_array_as_in_haliax():
    x = hax.named(jnp.array([7, 8, 9]), "a")
    q, r = hax.divmod(x, 4)
    assert q.axes == r.axes == x.axes
    assert q.array.tolist() == [1, 2, 2] and r.array.tolist() == [3, 0, 1]
    pair = hax.divmod(x, 4)
    assert [a.tolist() for a in pair.array] == [[1, 2, 2], [3, 0, 1]]  # Haliax's `.array` tuple
    m, e = jax.jit(hax.frexp)(x.astype(jnp.float32))  # a pytree: it crosses jit
    np.testing.assert_allclose(m.array * 2.0**e.array, [7.0, 8.0, 9.0])
