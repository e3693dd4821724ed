"""Property tests for core's elementwise ops, broadcasting and reductions, through haliax.testing.

Two properties throughout: an op on a permuted input equals the permuted result of the op (names,
not positions, carry the meaning), and a named op agrees with numpy on the positional layout.
"""

from typing import TypedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import haliax as hax
import haliax.testing as ht

SETTINGS = settings(max_examples=25, deadline=None)

BINARY_OPS = {
    "add": (hax.add, np.add),
    "subtract": (hax.subtract, np.subtract),
    "multiply": (hax.multiply, np.multiply),
    "maximum": (hax.maximum, np.maximum),
    "minimum": (hax.minimum, np.minimum),
    "greater": (hax.greater, np.greater),
    "logaddexp": (hax.logaddexp, np.logaddexp),
}
FLOAT_ONLY = {"logaddexp"}

REDUCTIONS = {
    "sum": (hax.sum, np.sum),
    "mean": (hax.mean, np.mean),
    "max": (hax.max, np.max),
    "min": (hax.min, np.min),
    "prod": (hax.prod, np.prod),
    "std": (hax.std, np.std),
}

# Values in [0.5, 2] keep products of up to 4**4 elements well inside float32.
# Small enough that the product of 256 of them stays finite in float32 (numpy warns on overflow).
TAME = st.floats(0.5, 1.25, width=16)


class _Tolerance(TypedDict):
    rtol: float
    atol: float


TOL: _Tolerance = {"rtol": 1e-5, "atol": 1e-5}


def _positional(x, out_axes):
    """numpy layout of ``x`` along ``out_axes`` (``x``'s axes a subset): transpose, then insert 1s."""
    names = [ax.name for ax in x.axes]
    present = [ax.name for ax in out_axes if ax.name in names]
    raw = np.transpose(np.asarray(x.array), [names.index(n) for n in present])
    return raw.reshape([ax.size if ax.name in names else 1 for ax in out_axes])


def _subsets(x):
    """``None`` (reduce all) or a drawn list of ``x``'s axis names, in a drawn order."""
    names = [ax.name for ax in x.axes]
    return (
        st.none() | st.lists(st.sampled_from(names), unique=True, max_size=len(names)) if names else st.none()
    )


@pytest.mark.parametrize("name", sorted(BINARY_OPS))
@SETTINGS
@given(data=st.data())
def test_binary_op_agrees_with_numpy_on_the_positional_layout(name, data):
    named_op, np_op = BINARY_OPS[name]
    dtype = "float32" if name in FLOAT_ONLY else data.draw(ht.dtypes(["float32", "int32"]), label="dtype")
    a, b = data.draw(ht.broadcastable_pairs(dtype=dtype), label="pair")
    out = named_op(a, b)
    larger = a.axes if len(a.axes) >= len(b.axes) else b.axes
    ht.assert_axes_equal(out, larger)
    expected = np_op(_positional(a, larger), _positional(b, larger))
    ht.assert_named_allclose(out, expected, **TOL)


@pytest.mark.parametrize("name", sorted(BINARY_OPS))
@SETTINGS
@given(data=st.data())
def test_binary_op_on_permuted_inputs_equals_the_permuted_result(name, data):
    named_op, _ = BINARY_OPS[name]
    a, b = data.draw(ht.broadcastable_pairs(), label="pair")
    pa = data.draw(ht.permuted_arrays(a), label="permuted a")
    pb = data.draw(ht.permuted_arrays(b), label="permuted b")
    ht.assert_named_allclose(named_op(pa, pb), named_op(a, b), **TOL)


@SETTINGS
@given(ht.named_arrays(), st.floats(-4, 4, width=16))
def test_scalars_broadcast_against_any_named_array(x, c):
    for named_op, np_op in (BINARY_OPS["add"][0], np.add), (BINARY_OPS["multiply"][0], np.multiply):
        out = named_op(x, c)
        ht.assert_axes_equal(out, x)
        ht.assert_named_allclose(out, np_op(np.asarray(x.array), np.float32(c)), **TOL)
        ht.assert_named_allclose(named_op(c, x), out, **TOL)


@SETTINGS
@given(data=st.data())
def test_broadcast_result_keeps_the_larger_operands_axis_order(data):
    big, small = data.draw(ht.broadcastable_axes(), label="axes")
    if len(big) < len(small):
        big, small = small, big
    a = data.draw(ht.named_arrays(big), label="a")
    b = data.draw(ht.named_arrays(small), label="b")
    ht.assert_axes_equal(hax.add(a, b), big)
    # With the same axes on both sides, the first operand's order wins.
    ht.assert_axes_equal(hax.add(b, a), big if len(big) > len(small) else small)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(data=st.data())
def test_reduction_agrees_with_numpy_over_random_axis_subsets(name, data):
    named_op, np_op = REDUCTIONS[name]
    x = data.draw(ht.named_arrays(ht.axes(min_axes=1), elements=TAME), label="x")
    axis = data.draw(_subsets(x), label="axis")
    out = named_op(x, axis)
    if axis is None:
        kept, positions = (), None
    else:
        kept = tuple(ax for ax in x.axes if ax.name not in axis)
        positions = tuple(i for i, ax in enumerate(x.axes) if ax.name in axis)
    ht.assert_axes_equal(out, kept)
    ht.assert_named_allclose(out, np_op(np.asarray(x.array), axis=positions), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(data=st.data())
def test_reduction_of_a_permuted_input_equals_the_permuted_reduction(name, data):
    named_op, _ = REDUCTIONS[name]
    x = data.draw(ht.named_arrays(ht.axes(min_axes=1), elements=TAME), label="x")
    px = data.draw(ht.permuted_arrays(x), label="permuted x")
    axis = data.draw(_subsets(x), label="axis")
    out = named_op(px, axis)
    ht.assert_axes_equal(out, named_op(x, axis), ignore_order=True)
    ht.assert_named_allclose(out, named_op(x, axis), rtol=1e-4, atol=1e-5)


@SETTINGS
@given(ht.named_arrays(ht.axes(min_axes=1)))
def test_reducing_every_axis_by_name_equals_reducing_with_none(x):
    names = [ax.name for ax in x.axes]
    ht.assert_named_allclose(hax.sum(x, names), hax.sum(x), rtol=1e-5, atol=1e-4)
    ht.assert_named_allclose(hax.max(x, names), hax.max(x))
