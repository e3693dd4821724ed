"""Pinned wording of partitioning errors: each names the logical axis, the mesh axis, sizes and the fix."""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest

import haliax as hax
import haliax.partitioning as hp
from haliax._src.errors import PartitioningError

Batch = hax.Axis("batch", 8)
Embed = hax.Axis("embed", 6)


def mesh_2x4() -> jax.sharding.Mesh:
    return jax.sharding.Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))


def raises(message: str) -> pytest.RaisesExc[PartitioningError]:
    return pytest.raises(PartitioningError, match="^" + re.escape(message) + "$")


def test_error_mapping_to_a_mesh_axis_the_mesh_lacks() -> None:
    with (
        hp.set_mesh(mesh_2x4()),
        raises(
            "shard: axis 'batch' maps to mesh axis 'modle', which the mesh {data: 2, model: 4} does not have; "
            "did you mean 'model'? fix the axis mapping or build the mesh with a 'modle' axis"
        ),
    ):
        hp.shard(hax.ones((Batch,)), {"batch": "modle"})


def test_error_axis_size_the_mesh_axis_does_not_divide() -> None:
    with (
        hp.set_mesh(mesh_2x4()),
        raises(
            "shard: axis 'embed' of size 6 is split over mesh axis 'model' of size 4, which does not divide it; "
            "pad the axis to a multiple with haliax.partitioning.round_axis_for_partitioning (-> embed: 8) or "
            "map 'embed' to another mesh axis"
        ),
    ):
        hp.shard(hax.ones((Batch, Embed)), {"embed": "model"})


def test_error_axis_split_over_several_mesh_axes_that_do_not_divide_it() -> None:
    with (
        hp.set_mesh(mesh_2x4()),
        raises(
            "shard: axis 'embed' of size 6 is split over mesh axis 'data' of size 2 x 'model' of size 4, which "
            "does not divide it; pad the axis to a multiple with haliax.partitioning.round_axis_for_partitioning "
            "(-> embed: 8) or map 'embed' to another mesh axis"
        ),
    ):
        hp.shard(hax.ones((Embed,)), {"embed": ("data", "model")})


def test_error_one_mesh_axis_used_twice_in_one_array() -> None:
    with (
        hp.set_mesh(mesh_2x4()),
        raises(
            "shard: mesh axis 'data' is used by both 'batch' and 'embed' of {batch: 8, embed: 6}; an array can "
            "use each mesh axis once: map one of them to another mesh axis or to None"
        ),
    ):
        hp.shard(hax.ones((Batch, Embed)), {"batch": "data", "embed": "data"})


def test_error_shard_with_no_mesh() -> None:
    with raises(
        "shard: axis 'batch' maps to mesh axis 'data' but no mesh is active; enter one with "
        "`with hax.set_mesh(mesh):` (or jax.set_mesh) or pass mesh="
    ):
        hp.shard(hax.ones((Batch,)), {"batch": "data"})


def test_error_named_jit_with_no_mesh() -> None:
    def step(x: hax.NamedArray) -> hax.NamedArray:
        return x

    with raises(
        "named_jit: calling test_error_named_jit_with_no_mesh.<locals>.step needs a mesh and none is active; "
        "enter one with `with hax.set_mesh(mesh):` (or jax.set_mesh)"
    ):
        hp.named_jit(step, {"batch": "data"})(hax.ones((Batch,)))


def test_error_mesh_with_explicit_axes() -> None:
    mesh = jax.make_mesh((2, 4), ("data", "model"), axis_types=(jax.sharding.AxisType.Explicit,) * 2)
    with raises(
        "set_mesh: mesh axis 'data' of the mesh {data: 2, model: 4} is not an Auto axis; haliax.partitioning "
        "places arrays with sharding constraints, which need Auto mesh axes: build the mesh with "
        "jax.make_mesh(shape, names, axis_types=(jax.sharding.AxisType.Auto,) * 2)"
    ):
        hp.set_mesh(mesh)


def test_error_tensor_parallel_strategy_on_a_mesh_without_a_model_axis() -> None:
    mesh = jax.sharding.Mesh(np.array(jax.devices()), ("data",))
    with raises(
        "sharding strategy 'tp': the mesh {data: 8} has no 'model' axis for tensor parallelism; build the "
        "mesh with one, or use .configure(model_axis=...)"
    ):
        hp.tensor_parallel(None, mesh)


def test_error_strategy_checks_the_model_fits_the_mesh() -> None:
    model = {"w": hax.ones((Embed, hax.Axis("mlp", 8)))}
    with raises(
        "sharding strategy 'fsdp': axis 'embed' of size 6 is split over mesh axis 'data' of size 8, which does "
        "not divide it; pad the axis to a multiple with haliax.partitioning.round_axis_for_partitioning "
        "(-> embed: 8) or map 'embed' to another mesh axis"
    ):
        hp.fully_sharded(model, jax.sharding.Mesh(np.array(jax.devices()), ("data",)))


def test_partitioning_errors_are_value_errors() -> None:
    assert issubclass(PartitioningError, ValueError)
