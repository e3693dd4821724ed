"""shard / shard_with_axis_mapping / auto_sharded without a mesh, under legacy mesh blocks and on Explicit axes."""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec

import haliax as hax
import haliax.partitioning as hp

Batch = hax.Axis("batch", 8)
Embed = hax.Axis("embed", 4)

legacy_mesh_block = pytest.mark.filterwarnings(
    "ignore:.*context manager has been deprecated:DeprecationWarning"
)
NO_MESH = "no mesh is active, so the input is returned as it is, not sharded"


def mesh_2x4() -> jax.sharding.Mesh:
    return jax.sharding.Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))


def test_shard_without_a_mesh_returns_the_input_with_a_warning() -> None:
    x = hax.ones((Batch, Embed))
    with pytest.warns(RuntimeWarning, match=f"^shard: {NO_MESH}"):
        assert hp.shard(x, {"batch": "data"}) is x
    with pytest.warns(RuntimeWarning, match=f"^shard_with_axis_mapping: {NO_MESH}"):
        assert hp.shard_with_axis_mapping(x, {"batch": "data"}) is x
    with hp.axis_mapping({"batch": "data"}), pytest.warns(RuntimeWarning, match=f"^auto_sharded: {NO_MESH}"):
        assert hp.auto_sharded(x) is x


def test_shard_without_a_mesh_warns_at_the_callers_line() -> None:
    with pytest.warns(RuntimeWarning) as record:
        hp.shard(hax.ones((Batch,)), {"batch": "data"})
    assert record[0].filename == __file__


def test_shard_without_a_mesh_inside_jit_is_a_silent_identity() -> None:
    @jax.jit
    def f(x: hax.NamedArray) -> hax.NamedArray:
        return hp.shard(x, {"batch": "data"}) + 1

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = f(hax.ones((Batch,)))
    np.testing.assert_array_equal(out.array, 2 * np.ones(8))


def test_shard_with_an_empty_mapping_replicates_on_the_mesh() -> None:
    with hp.set_mesh(mesh_2x4()):
        out = hp.shard(hax.ones((Batch, Embed)), {})
    assert out.array.sharding.is_fully_replicated and len(out.array.sharding.device_set) == 8


@legacy_mesh_block
def test_shard_and_mesh_queries_see_a_legacy_mesh_block() -> None:
    mesh = mesh_2x4()
    with hp.axis_mapping({"batch": "data"}), mesh:
        assert hp.current_mesh() is mesh
        out = hp.shard(hax.ones((Batch, Embed)))
        assert hp.sharding_for_axis((Batch, Embed)) == NamedSharding(mesh, PartitionSpec("data", None))
        assert hp.physical_axis_size("batch") == 2
        inside = jax.jit(lambda x: hp.shard(x * 2))(hax.ones((Batch, Embed)))
    assert out.array.sharding == NamedSharding(mesh, PartitionSpec("data", None))
    assert inside.array.sharding.is_equivalent_to(NamedSharding(mesh, PartitionSpec("data", None)), 2)
    assert hp.current_mesh() is None


def test_shard_inside_jit_on_a_mesh_with_explicit_axes_reshards() -> None:
    mesh = jax.make_mesh((2, 4), ("data", "model"), axis_types=(jax.sharding.AxisType.Explicit,) * 2)
    with hp.set_mesh(mesh):
        out = jax.jit(lambda x: hp.shard(x * 2, {"batch": "data", "embed": "model"}))(
            hax.ones((Batch, Embed))
        )
    assert out.array.sharding.spec == PartitionSpec("data", "model")
