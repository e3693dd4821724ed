import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import haliax as hax
import haliax.testing as ht
from haliax.testing._src.strategies import DEFAULT_MESH_AXIS_NAMES

SETTINGS = settings(max_examples=25, deadline=None)


@SETTINGS
@given(ht.axis_names(min_size=2, max_size=5))
def test_axis_names_are_identifiers_within_length_bounds(name):
    assert name.isidentifier()
    assert 2 <= len(name) <= 5


def test_axis_names_rejects_bad_bounds():
    with pytest.raises(ValueError, match=r"axis_names: need 1 <= min_size <= max_size"):
        ht.axis_names(min_size=0)


@SETTINGS
@given(ht.axes(min_axes=1, max_axes=3, min_size=2, max_size=5))
def test_axes_have_distinct_names_and_sizes_in_bounds(axes):
    assert 1 <= len(axes) <= 3
    assert len({ax.name for ax in axes}) == len(axes)
    assert all(isinstance(ax, hax.Axis) and 2 <= ax.size <= 5 for ax in axes)


@SETTINGS
@given(ht.axes(names=["x", "y"], max_axes=4))
def test_axes_draw_from_the_name_pool_and_cap_at_its_size(axes):
    assert {ax.name for ax in axes} <= {"x", "y"}
    assert len(axes) <= 2


@SETTINGS
@given(ht.axes(names=ht.axis_names(), min_axes=2, max_axes=3))
def test_axes_accept_a_strategy_of_names(axes):
    assert 2 <= len(axes) <= 3
    assert len({ax.name for ax in axes}) == len(axes)


def test_axes_rejects_a_pool_smaller_than_min_axes():
    with pytest.raises(ValueError, match=r"axes: min_axes=3 but the name pool has only 2 distinct names"):
        ht.axes(names=["a", "b"], min_axes=3)


@SETTINGS
@given(ht.named_arrays())
def test_named_arrays_default_to_small_finite_float32(x):
    assert isinstance(x, hax.NamedArray)
    assert x.dtype == jnp.float32
    assert x.array.shape == tuple(ax.size for ax in x.axes)
    assert bool(jnp.all(jnp.abs(x.array) <= 10))


@SETTINGS
@given(ht.named_arrays(hax.make_axes(batch=2, embed=3), "int32"))
def test_named_arrays_keep_given_axes_and_dtype(x):
    assert x.axes == hax.make_axes(batch=2, embed=3)
    assert x.dtype == jnp.int32


@SETTINGS
@given(ht.named_arrays(dtype=ht.dtypes(["bool", "int8", "uint8", "float16", "bfloat16", "complex64"])))
def test_named_arrays_draw_dtypes_from_a_strategy(x):
    assert x.dtype in [jnp.dtype(d) for d in ("bool", "int8", "uint8", "float16", "bfloat16", "complex64")]
    assert bool(jnp.all(jnp.isfinite(x.array.astype(jnp.complex64))))


@SETTINGS
@given(ht.named_arrays(hax.make_axes(a=3), elements=st.just(7.0)))
def test_named_arrays_use_given_elements(x):
    np.testing.assert_array_equal(np.asarray(x.array), np.full(3, 7.0, np.float32))


def test_dtypes_rejects_an_empty_list():
    with pytest.raises(ValueError, match=r"dtypes: `allowed` is empty"):
        ht.dtypes([])


@SETTINGS
@given(ht.axes(min_axes=1).flatmap(lambda axes: st.tuples(st.just(axes), ht.axis_permutations(axes))))
def test_axis_permutations_reorder_the_same_axes(pair):
    axes, permuted = pair
    assert sorted(permuted, key=lambda a: a.name) == sorted(axes, key=lambda a: a.name)


def test_axis_permutations_reach_a_non_identity_order():
    axes = hax.make_axes(a=1, b=2, c=3)
    found = find(ht.axis_permutations(axes), lambda p: p != axes)
    assert found != axes


@SETTINGS
@given(ht.named_arrays().flatmap(lambda x: st.tuples(st.just(x), ht.permuted_arrays(x))))
def test_permuted_arrays_hold_the_same_named_data(pair):
    x, y = pair
    assert set(y.axes) == set(x.axes)
    order = [[ax.name for ax in x.axes].index(ax.name) for ax in y.axes]
    np.testing.assert_array_equal(np.asarray(y.array), np.transpose(np.asarray(x.array), order))


def test_permute_transposes_to_the_given_order():
    x = hax.named(jnp.arange(6).reshape(2, 3), ("a", "b"))
    y = ht.permute(x, ("b", "a"))
    assert y.axes == hax.make_axes(b=3, a=2)
    np.testing.assert_array_equal(np.asarray(y.array), np.arange(6).reshape(2, 3).T)


def test_permute_rejects_a_non_permutation():
    x = hax.named(jnp.zeros((2, 3)), ("a", "b"))
    with pytest.raises(
        ValueError, match=r"permute: \['a'\] is not a permutation of the array's axes \['a', 'b'\]"
    ):
        ht.permute(x, ("a",))


def _is_name_subset(small, big):
    return {ax.name for ax in small} <= {ax.name for ax in big}


@SETTINGS
@given(ht.broadcastable_axes())
def test_broadcastable_axes_have_one_side_a_subset_of_the_other(pair):
    a, b = pair
    assert _is_name_subset(a, b) or _is_name_subset(b, a)
    sizes = {ax.name: ax.size for ax in a}
    assert all(sizes.get(ax.name, ax.size) == ax.size for ax in b)


def test_broadcastable_axes_put_the_larger_operand_on_either_side():
    find(ht.broadcastable_axes(ht.axes(min_axes=2)), lambda p: len(p[0]) < len(p[1]))
    find(ht.broadcastable_axes(ht.axes(min_axes=2)), lambda p: len(p[0]) > len(p[1]))


@SETTINGS
@given(ht.broadcastable_pairs(dtype="int32"))
def test_broadcastable_pairs_are_accepted_by_elementwise_ops(pair):
    a, b = pair
    assert a.dtype == b.dtype == jnp.int32
    out = hax.add(a, b)
    larger = a if len(a.axes) >= len(b.axes) else b
    assert out.axes == larger.axes


@SETTINGS
@given(ht.mesh_shapes())
def test_mesh_shapes_fit_the_available_devices(shape):
    assert 1 <= math.prod(shape.values()) <= jax.device_count()
    assert list(shape) == list(DEFAULT_MESH_AXIS_NAMES[: len(shape)])


@SETTINGS
@given(ht.mesh_shapes(("x", "y"), max_devices=4, min_axes=2))
def test_mesh_shapes_respect_max_devices_and_min_axes(shape):
    assert list(shape) == ["x", "y"]
    assert math.prod(shape.values()) <= 4


def test_mesh_shapes_reject_min_axes_beyond_the_names():
    with pytest.raises(ValueError, match=r"mesh_shapes: min_axes=3 but only 2 names were given"):
        ht.mesh_shapes(("x", "y"), min_axes=3)


@settings(max_examples=10, deadline=None)
@given(ht.meshes(("data", "model")))
def test_meshes_use_as_many_devices_as_their_shape(mesh):
    assert isinstance(mesh, jax.sharding.Mesh)
    assert mesh.axis_names == tuple(mesh.shape)[: len(mesh.axis_names)]
    assert set(mesh.axis_names) <= {"data", "model"}
    assert mesh.devices.size == math.prod(mesh.shape.values())


def test_make_test_mesh_says_how_to_get_more_devices():
    with pytest.raises(
        ValueError, match=r"make_test_mesh: a mesh of shape \{data: 1000\} needs 1000 devices"
    ):
        ht.make_test_mesh({"data": 1000})
