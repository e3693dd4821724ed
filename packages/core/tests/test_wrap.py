import dataclasses
import inspect
import pickle

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax import axis as hax_axis
from haliax import types as hax_types
from haliax import util
from haliax.wrap import unwrap_namedarrays

B, Ax, J, K = hax.Axis("batch", 2), hax.Axis("i", 3), hax.Axis("j", 4), hax.Axis("k", 5)


def _rand(shape, seed=0):
    return jax.random.normal(jax.random.PRNGKey(seed), shape)


# ----- the lift factories as calls -----
def test_wrap_elemwise_unary_keeps_axes_and_passes_plain_values():
    x = hax.named(jnp.array([1.0, 4.0]), "pos")
    assert hax.wrap_elemwise_unary(jnp.sqrt, x).array.tolist() == [1.0, 2.0]
    assert hax.wrap_elemwise_unary(jnp.round, hax.named(jnp.array([1.26]), "p"), 1).array.tolist() == [
        pytest.approx(1.3)
    ]
    assert float(hax.wrap_elemwise_unary(jnp.sqrt, 9.0)) == 3.0


def test_wrap_elemwise_binary_decorator_broadcasts_by_name():
    @hax.wrap_elemwise_binary
    def halfdiff(a, b):
        """Half the difference."""
        return (a - b) / 2

    a = hax.named(_rand((2, 3)), (B, Ax))
    b = hax.named(_rand((3, 2), 1), (Ax, B))
    out = halfdiff(a, b)
    assert out.axes == (B, Ax)
    np.testing.assert_allclose(out.array, (a.array - b.array.T) / 2)
    assert halfdiff.__name__ == "halfdiff" and halfdiff.__doc__ == "Half the difference."
    assert halfdiff.__module__ == __name__
    with pytest.raises(ValueError, match=r"^halfdiff: cannot broadcast \{batch: 2\} with \{i: 3\}"):
        halfdiff(hax.named(jnp.ones(2), (B,)), hax.named(jnp.ones(3), (Ax,)))


def test_wrap_reduction_call_with_where_and_single_axis():
    x = hax.named(_rand((2, 3)), (B, Ax))
    mask = hax.named(jnp.array([True, False, True]), (Ax,))
    out = hax.wrap_reduction_call(jnp.sum, x, "i", where=mask)
    np.testing.assert_allclose(out.array, jnp.sum(x.array, axis=1, where=mask.array[None, :]))
    assert hax.wrap_reduction_call(jnp.sum, x, None).axes == ()
    arg = hax.wrap_reduction_call(jnp.argmax, x, "i", single_axis_only=True, supports_where=False)
    np.testing.assert_array_equal(arg.array, jnp.argmax(x.array, axis=1))
    with pytest.raises(TypeError, match=r"^argmax: takes one axis, got \['i', 'batch'\]$"):
        hax.wrap_reduction_call(jnp.argmax, x, ("i", "batch"), single_axis_only=True, supports_where=False)
    with pytest.raises(TypeError, match=r"^argmax: does not take a where= mask$"):
        hax.wrap_reduction_call(jnp.argmax, x, "i", where=mask, single_axis_only=True, supports_where=False)


def test_wrap_axiswise_call_one_or_several_axes():
    x = hax.named(_rand((2, 3)), (B, Ax))
    out = hax.wrap_axiswise_call(jnp.cumsum, x, "i", single_axis_only=True)
    np.testing.assert_allclose(out.array, jnp.cumsum(x.array, axis=1))
    flipped = hax.wrap_axiswise_call(jnp.flip, x, ("i", "batch"), single_axis_only=False)
    assert flipped.axes == x.axes
    np.testing.assert_allclose(flipped.array, jnp.flip(x.array, axis=(0, 1)))
    with pytest.raises(TypeError, match=r"^cumsum: takes one axis, got \['i', 'batch'\]$"):
        hax.wrap_axiswise_call(jnp.cumsum, x, ("i", "batch"), single_axis_only=True)


def test_unwrap_namedarrays():
    x = hax.named(jnp.ones(2), "pos")
    assert unwrap_namedarrays(x, 3, None) == (x.array, 3, None)


def test_reductions_take_axis_by_keyword():
    x = hax.named(_rand((2, 3)), (B, Ax))
    np.testing.assert_allclose(hax.sum(x, axis="i").array, x.array.sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(hax.cumsum(x, axis=B).array, jnp.cumsum(x.array, axis=0), rtol=1e-6)


def test_reduction_protocols_describe_haliax_reductions():
    def apply(fn: hax.ReductionFunction, x):
        return fn(x, axis="i", where=None)

    def apply_simple(fn: hax.SimpleReductionFunction, x):
        return fn(x, axis="i")

    x = hax.named(_rand((2, 3)), (B, Ax))
    np.testing.assert_allclose(apply(hax.mean, x).array, x.array.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(apply_simple(hax.ptp, x).array, jnp.ptp(x.array, axis=1), rtol=1e-6)


# ----- the positional escape hatch -----
def test_apply_positional_moves_chosen_axes_last():
    raw = _rand((3, 2, 3)) + 3 * jnp.eye(3)[:, None, :]
    m = hax.named(raw, (Ax, B, Ax.alias("i2")))
    inv = hax.apply_positional(jnp.linalg.inv, m, axis=("i", "i2"))
    assert inv.axes == (B, Ax, Ax.alias("i2"))
    np.testing.assert_allclose(inv.array, jnp.linalg.inv(jnp.transpose(raw, (1, 0, 2))), rtol=1e-4, atol=1e-5)
    det = hax.apply_positional(jnp.linalg.det, m, axis=("i", "i2"), out_axes=())
    assert det.axes == (B,)


def test_apply_positional_with_two_arrays_and_batch_broadcasting():
    a = hax.named(_rand((4, 2, 3)), (J, B, Ax))
    b = hax.named(_rand((5, 4), 1), (K, J))
    out = hax.apply_positional(jnp.matmul, a, b, axis=("i", "j", "k"), out_axes=("i", "k"))
    assert out.axes == (B, Ax, K)
    ref = jnp.einsum("jbi,kj->bik", a.array, b.array)
    np.testing.assert_allclose(out.array, ref, rtol=1e-4, atol=1e-5)


def test_apply_positional_names_new_and_resized_axes():
    x = hax.named(_rand((2, 6)), (B, "pos"))
    rolled = hax.apply_positional(lambda r: r[..., ::2], x, axis="pos")
    assert rolled.axes == (B, hax.Axis("pos", 3))
    hist = hax.apply_positional(lambda r, n: jnp.stack([r.sum(-1)] * n, -1), x, 4, axis="pos", out_axes="rep")
    assert hist.axes == (B, hax.Axis("rep", 4))


def test_apply_positional_names_every_leaf_of_a_tuple_result():
    x = hax.named(_rand((2, 5)), (B, K))
    values, indices = hax.apply_positional(lambda r: jax.lax.top_k(r, 2), x, axis="k", out_axes="top")
    assert values.axes == indices.axes == (B, hax.Axis("top", 2))


def test_apply_positional_errors():
    x = hax.named(_rand((2, 3)), (B, Ax))
    with pytest.raises(ValueError) as err:
        hax.apply_positional(jnp.sum, x, axis="i")
    assert str(err.value) == (
        "sum: the result has shape (), which does not fit batch axes {batch: 2} followed by out_axes "
        "{i: ?}; pass out_axes= naming the result's trailing dimensions"
    )
    with pytest.raises(
        ValueError, match=r"^sort: out_axes gives 'i' size 5 but the result's dimension has size 3$"
    ):
        hax.apply_positional(jnp.sort, x, axis="i", out_axes=hax.Axis("i", 5))


def test_apply_positional_missing_axis_and_jit():
    x = hax.named(_rand((2, 3)), (B, Ax))
    with pytest.raises(TypeError, match=r"^sort: no argument has axis 'q' named in axis=$"):
        hax.apply_positional(jnp.sort, x, axis="q")
    out = jax.jit(lambda a: hax.apply_positional(jnp.sort, a, axis="batch"))(x)
    assert out.axes == (Ax, B)
    np.testing.assert_allclose(out.array, jnp.sort(x.array, axis=0).T)


# ----- util, types, field, axis manifests -----
def test_util_helpers():
    assert util.ensure_tuple([1, 2]) == (1, 2)
    assert util.ensure_tuple("ab") == ("ab",)
    assert util.ensure_tuple(None) == (None,)
    assert util.maybe_untuple((3,)) == 3 and util.maybe_untuple((1, 2)) == (1, 2)
    assert util.is_jax_or_hax_array_like(jnp.ones(2))
    assert util.is_jax_or_hax_array_like(np.ones(2))
    assert util.is_jax_or_hax_array_like(jax.ShapeDtypeStruct((2,), jnp.float32))
    assert util.is_jax_or_hax_array_like(hax.named(jnp.ones(2), "p"))
    assert not util.is_jax_or_hax_array_like([1.0])
    assert util.is_named_array(hax.named(jnp.ones(2), "p")) and not util.is_named_array(jnp.ones(2))


def test_sentinels():
    assert util.UNSPECIFIED is util.Unspecified()
    assert repr(util.UNSPECIFIED) == "UNSPECIFIED"
    assert pickle.loads(pickle.dumps(util.UNSPECIFIED)) is util.UNSPECIFIED

    class Reduction(metaclass=util.StringHolderEnum):
        MEAN = "mean"
        SUM = "sum"

    assert sorted(Reduction) == ["mean", "sum"] and "sum" in Reduction and "max" not in Reduction
    assert len(Reduction) == 2


def test_safe_wraps_tolerates_callables_without_names():
    import functools

    part = functools.partial(jnp.add, 1)

    @util.safe_wraps(part)
    def wrapper(x):
        return part(x)

    assert inspect.unwrap(wrapper) is part
    assert int(wrapper(1)) == 2

    @util.safe_wraps(jnp.add)
    def add_wrapper(a, b):
        return jnp.add(a, b)

    assert add_wrapper.__name__ == "add"


def test_types_are_importable_aliases():
    assert hax_types.DType is np.dtype
    assert hax.DTypeLike is hax_types.DTypeLike and hax.Scalar is hax_types.Scalar
    for name in ["FilterSpec", "FilterTree", "GatherScatterModeStr", "IntScalar", "PrecisionLike"]:
        assert hasattr(hax_types, name)


def test_field_records_axis_names():
    class Table(eqx.Module):
        weights: jax.Array = hax.field(axis_names=("vocab", "embed"))
        scale: float = hax.field(static=True, default=1.0)

    fields = {f.name: f for f in dataclasses.fields(Table)}
    assert fields["weights"].metadata["axis_names"] == ("vocab", "embed")
    assert fields["scale"].metadata.get("static") is True
    assert fields["scale"].metadata["axis_names"] is None  # always present, as in Haliax
    with pytest.raises(ValueError) as err:  # also a TypeError
        hax.field(axis_names="embed", static=True)
    assert str(err.value) == (
        "field: axis_names names the axes of an array, but static=True fields hold no arrays; drop one of them"
    )


def test_axis_manifest_covers_the_target():
    names = """Axis axis_name axis_size axis_spec_to_shape_dict axis_spec_to_tuple AxisSelection AxisSelector
    AxisSpec concat_axes dblock ds dslice eliminate_axes intersect_axes is_axis_compatible make_axes
    PartialAxisSpec PartialShapeDict rearrange_for_partial_order replace_axis replace_missing_with_ellipsis
    resolve_axis selects_axis ShapeDict to_jax_shape union_axes unsize_axes without_axes overlapping_axes"""
    for name in names.split():
        assert hasattr(hax_axis, name), name
    assert hax_axis.overlapping_axes((B, Ax), ("i", "q")) == ("i",)
    assert hax.axis is hax_axis and hax.ops.where is hax.where and hax.specialized_fns.top_k is hax.top_k
