import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax._src.base import sharding_hook
from haliax._src.base.errors import AxisNotFoundError, AxisSizeError, NamedTypeError


def _arr(names, sizes, seed=0):
    rng = np.random.default_rng(seed)
    return hax.named(jnp.asarray(rng.standard_normal(sizes), dtype=jnp.float32), names)


def _perm(x, order):
    return hax.rearrange(x, order)


def _raw_in(x, names):
    """x's raw array laid out in the order ``names``."""
    return np.asarray(hax.rearrange(x, names).array)


def test_dot_matrix_product_matches_einsum():
    x = _arr(("batch", "embed"), (2, 3))
    w = _arr(("embed", "mlp"), (3, 4), seed=1)
    out = hax.dot(x, w, axis="embed")
    assert out.axes == (hax.Axis("batch", 2), hax.Axis("mlp", 4))
    np.testing.assert_allclose(out.array, np.einsum("be,em->bm", x.array, w.array), rtol=1e-5)


def test_dot_is_independent_of_operand_axis_order():
    x = _arr(("batch", "pos", "embed"), (2, 3, 4))
    w = _arr(("embed", "mlp", "batch"), (4, 5, 2), seed=1)
    expected = np.einsum("bpe,emb->bpm", x.array, w.array)
    for xo in itertools.permutations(("batch", "pos", "embed")):
        for wo in itertools.permutations(("embed", "mlp", "batch")):
            out = hax.dot(_perm(x, xo), _perm(w, wo), axis="embed")
            np.testing.assert_allclose(_raw_in(out, ("batch", "pos", "mlp")), expected, rtol=1e-5)


def test_dot_default_order_is_first_appearance_across_operands():
    q = _arr(("b", "qpos", "h", "d"), (2, 3, 4, 5))
    k = _arr(("b", "kpos", "h", "d"), (2, 6, 4, 5), seed=1)
    out = hax.dot(q, k, axis="d")
    assert [ax.name for ax in out.axes] == ["b", "qpos", "h", "kpos"]
    np.testing.assert_allclose(out.array, np.einsum("bqhd,bkhd->bqhk", q.array, k.array), rtol=1e-5)


def test_dot_order_that_dot_general_gives_needs_no_transpose():
    x = _arr(("b", "h", "qpos", "d"), (2, 4, 3, 5))
    y = _arr(("b", "h", "kpos", "d"), (2, 4, 6, 5), seed=1)
    prims = [e.primitive.name for e in jax.make_jaxpr(lambda a, c: hax.dot(a, c, axis="d").array)(x, y).eqns]
    assert prims == ["dot_general"]
    # batch axes are emitted in the result's order, whatever order the operands hold them in
    y2 = hax.rearrange(y, ("h", "b", ...))
    prims = [e.primitive.name for e in jax.make_jaxpr(lambda a, c: hax.dot(a, c, axis="d").array)(x, y2).eqns]
    assert prims == ["dot_general"]


def test_dot_out_axes_is_a_partial_order():
    q = _arr(("b", "qpos", "h", "d"), (2, 3, 4, 5))
    k = _arr(("b", "kpos", "h", "d"), (2, 6, 4, 5), seed=1)
    out = hax.dot(q, k, axis="d", out_axes=("b", "qpos", ...))
    assert [ax.name for ax in out.axes] == ["b", "qpos", "h", "kpos"]
    np.testing.assert_allclose(out.array, np.einsum("bqhd,bkhd->bqhk", q.array, k.array), rtol=1e-5)
    out = hax.dot(q, k, axis="d", out_axes=(..., hax.Axis("h", 4)))
    assert [ax.name for ax in out.axes] == ["b", "qpos", "kpos", "h"]


def test_dot_axis_none_contracts_every_axis():
    x = _arr(("a", "b"), (2, 3))
    y = _arr(("b", "a"), (3, 2), seed=1)
    out = hax.dot(x, y, axis=None)
    assert out.axes == ()
    np.testing.assert_allclose(out.array, np.sum(x.array * y.array.T), rtol=1e-5)
    z = _arr(("b", "c"), (3, 4), seed=2)
    out = hax.dot(x, z, axis=None)
    assert out.axes == ()
    np.testing.assert_allclose(out.array, np.einsum("ab,bc->", x.array, z.array), rtol=1e-4)


def test_dot_empty_axis_is_outer_product_batched_over_shared_axes():
    x = _arr(("a",), (2,))
    y = _arr(("b",), (3,), seed=1)
    out = hax.dot(x, y, axis=())
    np.testing.assert_allclose(out.array, np.outer(x.array, y.array), rtol=1e-6)
    u = _arr(("a", "b"), (2, 3))
    v = _arr(("b", "c"), (3, 4), seed=1)
    out = hax.dot(u, v, axis=())
    assert [ax.name for ax in out.axes] == ["a", "b", "c"]
    np.testing.assert_allclose(out.array, np.einsum("ab,bc->abc", u.array, v.array), rtol=1e-5)


def test_dot_out_axes_may_hold_several_ellipses():
    u = _arr(("h", "w", "d"), (2, 3, 4))
    v = _arr(("d", "w", "h"), (4, 3, 2), seed=1)
    out = hax.dot(u, v, axis=(), out_axes=(..., "d", "h", ...))
    assert [ax.name for ax in out.axes] == ["d", "h", "w"]
    np.testing.assert_allclose(out.array, np.einsum("hwd,dwh->dhw", u.array, v.array), rtol=1e-5)
    out = hax.dot(u, v, axis=(), out_axes=(..., "d", ...))
    assert [ax.name for ax in out.axes] == ["h", "w", "d"]


def test_dot_axis_in_one_operand_is_summed_there():
    x = _arr(("a", "b"), (2, 3))
    y = _arr(("a", "c"), (2, 4), seed=1)
    out = hax.dot(x, y, axis=("a", "b"))
    assert [ax.name for ax in out.axes] == ["c"]
    np.testing.assert_allclose(out.array, np.einsum("ab,ac->c", x.array, y.array), rtol=1e-5)


def test_dot_single_operand_sums_axis():
    x = _arr(("a", "b"), (2, 3))
    out = hax.dot(x, axis="b")
    np.testing.assert_allclose(out.array, x.array.sum(1), rtol=1e-6)


def test_dot_three_operands_matches_einsum():
    x = _arr(("a", "b"), (2, 3))
    y = _arr(("b", "c"), (3, 4), seed=1)
    z = _arr(("c", "a", "d"), (4, 2, 5), seed=2)
    out = hax.dot(x, y, z, axis=("b", "c"))
    np.testing.assert_allclose(
        _raw_in(out, ("a", "d")), np.einsum("ab,bc,cad->ad", x.array, y.array, z.array), rtol=1e-4
    )
    # an axis that a later operand still needs is batched now and contracted later
    out = hax.dot(x, z, y, axis=("b", "c"))
    np.testing.assert_allclose(
        _raw_in(out, ("a", "d")), np.einsum("ab,bc,cad->ad", x.array, y.array, z.array), rtol=1e-4
    )


def test_dot_accepts_axis_objects_and_precision_options():
    x = _arr(("batch", "embed"), (2, 3)).astype(jnp.bfloat16)
    w = _arr(("embed", "mlp"), (3, 4), seed=1).astype(jnp.bfloat16)
    out = x.dot(w, axis=hax.Axis("embed", 3), preferred_element_type=jnp.float32, precision="highest")
    assert out.dtype == jnp.float32
    assert out.shape == {"batch": 2, "mlp": 4}


def test_dot_custom_dot_general_is_called_once_for_two_operands():
    calls = []

    def my_dot_general(lhs, rhs, dims, precision=None, preferred_element_type=None):
        calls.append(dims)
        return jax.lax.dot_general(
            lhs, rhs, dims, precision=precision, preferred_element_type=preferred_element_type
        )

    x = _arr(("batch", "embed"), (2, 3))
    w = _arr(("mlp", "embed"), (4, 3), seed=1)
    hax.dot(x, w, axis="embed", dot_general=my_dot_general)
    assert calls == [(((1,), (1,)), ((), ()))]


def test_dot_passes_result_through_sharding_hook():
    seen = []
    previous = sharding_hook.set_constraint_provider(lambda x: seen.append(x.axes) or x)
    try:
        hax.dot(_arr(("a", "b"), (2, 3)), _arr(("b",), (3,)), axis="b")
    finally:
        sharding_hook.set_constraint_provider(previous)
    assert seen == [(hax.Axis("a", 2),)]


def test_dot_mixed_dtypes_promote():
    x = _arr(("a", "b"), (2, 3))
    y = hax.named(jnp.ones((3,), dtype=jnp.int32), ("b",))
    out = hax.dot(x, y, axis="b")
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out.array, np.asarray(x.array).sum(1), rtol=1e-6)


def test_dot_missing_axis_error_names_op_axis_and_shapes():
    x = _arr(("batch", "embed"), (2, 3))
    w = _arr(("embed", "mlp"), (3, 4))
    with pytest.raises(AxisNotFoundError) as e:
        hax.dot(x, w, axis="embd")
    assert str(e.value) == (
        "dot: axis 'embd' to contract is not in any operand: {batch: 2, embed: 3}, {embed: 3, mlp: 4}; "
        "did you mean 'embed'?"
    )


def test_dot_size_mismatch_error():
    x = _arr(("batch", "embed"), (2, 3))
    w = _arr(("embed", "mlp"), (5, 4))
    with pytest.raises(AxisSizeError) as e:
        hax.dot(x, w, axis="embed")
    assert str(e.value) == (
        "dot: axis 'embed' has size 3 in one place and 5 in another; "
        "axes that share a name must share a size (rename one of them, e.g. with .rename)"
    )


def test_dot_requires_axis_keyword_and_named_operands():
    x = _arr(("a",), (2,))
    # a ValueError, as in Haliax
    with pytest.raises(ValueError, match=r"^dot: no axes to contract were given; pass them as a keyword"):
        hax.dot(x, x)
    with pytest.raises(NamedTypeError) as e:
        hax.dot(x, jnp.ones(2), axis="a")  # type: ignore[arg-type]  # the error under test
    assert (
        str(e.value)
        == "dot: operand 1 (ArrayImpl) is not a NamedArray; name its axes with hax.named(x, axes)"
    )


def test_dot_bad_out_axes_error():
    x = _arr(("a", "b"), (2, 3))
    y = _arr(("b", "c"), (3, 4))
    with pytest.raises(AxisNotFoundError) as e:
        hax.dot(x, y, axis="b", out_axes=("b", ...))
    assert str(e.value) == "dot: out_axes names axis 'b', which the result {a: 2, c: 4} does not have"


def test_dot_under_jit_and_grad():
    x = _arr(("batch", "embed"), (2, 3))
    w = _arr(("embed", "mlp"), (3, 4), seed=1)

    @jax.jit
    def loss(w):
        return hax.dot(x, w, axis="embed").array.sum()

    g = jax.grad(loss)(w)
    assert g.axes == w.axes
    np.testing.assert_allclose(
        g.array, np.broadcast_to(np.asarray(x.array).sum(0)[:, None], (3, 4)), rtol=1e-5
    )


def test_dot_takes_the_deprecated_axis_first_form_with_a_warning():
    x = _arr(("a", "b"), (2, 3))
    y = _arr(("b", "c"), (3, 4))
    with pytest.warns(DeprecationWarning, match=r"dot\(axis, \*arrays\) is deprecated"):
        old = hax.dot("b", x, y)  # type: ignore[call-overload]  # the deprecated dot(axis, *arrays) form, kept for old callers
    new = hax.dot(x, y, axis="b")
    assert old.axes == new.axes
    np.testing.assert_array_equal(old.array, new.array)
