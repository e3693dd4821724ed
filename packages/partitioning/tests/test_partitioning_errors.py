"""Pinned wording of partitioning errors: each names the logical axis, the mesh axis, sizes and the fix."""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest

import haliax as hax
import haliax.partitioning as hp
from haliax.errors import PartitioningError

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


def test_error_shard_given_a_string_as_the_mesh() -> None:
    with raises(
        "shard: expected a jax.sharding.Mesh as the mesh, got the string 'data'; build one with "
        "jax.make_mesh(shape, axis_names) or jax.sharding.Mesh(devices, axis_names); to split an axis over "
        "mesh axis 'data', map it in the axis mapping (e.g. {'batch': 'data'}) and enter the mesh with "
        "`with hax.set_mesh(mesh):`"
    ):
        hp.shard(hax.ones((Batch,)), {"batch": "data"}, mesh="data")  # type: ignore[arg-type]  # the mistake pinned


def test_error_set_mesh_given_something_that_is_not_a_mesh_fails_at_once() -> None:
    with raises(
        "set_mesh: expected a jax.sharding.Mesh as the mesh, got a dict; build one with "
        "jax.make_mesh(shape, axis_names) or jax.sharding.Mesh(devices, axis_names)"
    ):
        hp.set_mesh({"data": 8})  # type: ignore[arg-type]  # the mistake pinned
    assert hp.current_mesh() is None


def test_error_pspec_for_with_no_mapping() -> None:
    with raises(
        "pspec_for: no axis mapping was passed and none is active; pass one (pspec_for(tree, {'batch': 'data'})) "
        "or enter `with hax.axis_mapping({...}):`"
    ):
        hp.pspec_for(hax.ones((Batch,)))


def test_error_named_jit_under_a_mapping_with_no_mesh() -> None:
    def step(x: hax.NamedArray) -> hax.NamedArray:
        return x

    with raises(
        "named_jit: calling test_error_named_jit_under_a_mapping_with_no_mesh.<locals>.step under an axis mapping "
        "needs a mesh and none is active; enter one with `with hax.set_mesh(mesh):` (or jax.set_mesh), or drop "
        "the axis mapping to compile it as plain jax.jit"
    ):
        hp.named_jit(step, {"batch": "data"})(hax.ones((Batch,)))


def test_error_named_jit_with_more_donate_args_than_arguments() -> None:
    def step(x: hax.NamedArray) -> hax.NamedArray:
        return x

    with raises(
        "named_jit: donate_args of test_error_named_jit_with_more_donate_args_than_arguments.<locals>.step has 2 "
        "entries but it was called with 1 positional arguments; give at most one entry per positional argument"
    ):
        hp.named_jit(step, donate_args=(True, False))(hax.ones((Batch,)))


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
