"""A catalogue of bad partitioning programs: each fails loudly, in the caller's words.

Every case pins the typed error class, the op the user called (first in the message), the axes
and mesh axes involved (with sizes), and that no array value leaks: arrays hold 7.25, which must
never be printed. Meshes are simulated CPU devices (conftest sets eight).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np
import pytest

import haliax as hax
import haliax.partitioning as hp
from haliax.errors import NamedTypeError, PartitioningError
from haliax.testing import ErrorCase as Case

VALUE = 7.25
SHOWN = [str(VALUE)]

Batch, Embed, Hidden = hax.make_axes(batch=8, embed=6, hidden=4)

pytestmark = pytest.mark.needs_devices(8)


def mesh_2x4() -> jax.sharding.Mesh:
    return jax.sharding.Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ("data", "model"))


def x() -> hax.NamedArray:
    return hax.full((Batch, Embed), VALUE)


@contextlib.contextmanager
def on_mesh(mapping: dict[str, Any] | None = None) -> Iterator[None]:
    with hp.set_mesh(mesh_2x4()), hp.axis_mapping(mapping or {}):
        yield


def _named_jit_add_one() -> Any:
    return hp.named_jit(lambda a: a + 1, {"batch": "data"})(x())


CASES = [
    # ----- meshes -----
    Case(
        "shard_mesh_given_as_a_string",
        lambda: hp.shard(x(), {"batch": "data"}, mesh="data"),  # type: ignore[arg-type]  # the mistake under test
        PartitioningError,
        "shard",
        ("'data'", "jax.sharding.Mesh", "hax.set_mesh"),
    ),
    Case(
        "set_mesh_given_a_tuple_of_names",
        lambda: hp.set_mesh(("data", "model")),  # type: ignore[arg-type]  # the mistake under test
        PartitioningError,
        "set_mesh",
        ("tuple", "jax.make_mesh"),
    ),
    Case("set_mesh_given_a_string", lambda: hp.set_mesh("data"), PartitioningError, "set_mesh", ("'data'",)),  # type: ignore[arg-type]  # the mistake under test
    Case(
        "infer_resource_partitions_mesh_given_as_a_string",
        lambda: hp.infer_resource_partitions(x(), {"batch": "data"}, mesh="data"),  # type: ignore[arg-type]  # the mistake under test
        PartitioningError,
        "infer_resource_partitions",
        ("'data'", "jax.sharding.Mesh"),
    ),
    Case(
        "sharding_for_axis_without_a_mesh",
        lambda: hp.sharding_for_axis((Batch,), {"batch": "data"}),
        PartitioningError,
        "sharding_for_axis",
        ("no mesh", "hax.set_mesh"),
    ),
    # ----- mappings that do not fit the mesh -----
    Case(
        "shard_to_an_unknown_mesh_axis",
        lambda: hp.shard(x(), {"batch": "modle"}),
        PartitioningError,
        "shard",
        ("'batch'", "'modle'", "{data: 2, model: 4}", "did you mean 'model'?"),
        on_mesh,
    ),
    Case(
        "shard_axis_size_not_divisible",
        lambda: hp.shard(x(), {"embed": "model"}),
        PartitioningError,
        "shard",
        ("'embed'", "6", "'model' of size 4", "embed: 8", "round_axis_for_partitioning"),
        on_mesh,
    ),
    Case(
        "shard_one_mesh_axis_twice",
        lambda: hp.shard(x(), {"batch": "data", "embed": "data"}),
        PartitioningError,
        "shard",
        ("'data'", "'batch'", "'embed'", "{batch: 8, embed: 6}"),
        on_mesh,
    ),
    Case(
        "shard_with_axis_mapping_unknown_mesh_axis",
        lambda: hp.shard_with_axis_mapping(x(), {"batch": "replica"}),
        PartitioningError,
        "shard_with_axis_mapping",
        ("'batch'", "'replica'", "{data: 2, model: 4}"),
        on_mesh,
    ),
    Case(
        "auto_sharded_context_mapping_does_not_divide",
        lambda: hp.auto_sharded(x()),
        PartitioningError,
        "auto_sharded",
        ("'embed'", "6", "'model' of size 4"),
        lambda: on_mesh({"embed": "model"}),
    ),
    Case(
        "infer_resource_partitions_unknown_mesh_axis",
        lambda: hp.infer_resource_partitions(x(), {"embed": "tensor"}, preserve_existing_shardings=False),
        PartitioningError,
        "infer_resource_partitions",
        ("'embed'", "'tensor'"),
        on_mesh,
    ),
    Case(
        "pspec_for_axis_one_mesh_axis_twice",
        lambda: hp.pspec_for_axis((Batch, Embed), {"batch": "data", "embed": "data"}),
        PartitioningError,
        "pspec_for_axis",
        ("'data'", "'batch'", "'embed'"),
    ),
    Case(
        "pspec_for_without_a_mapping",
        lambda: hp.pspec_for(x()),
        PartitioningError,
        "pspec_for",
        ("no axis mapping", "hax.axis_mapping"),
    ),
    Case(
        "mapping_to_a_non_name",
        lambda: hp.shard(x(), {"batch": 2}),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "shard",
        ("'batch'", "int", "mesh axis name"),
        on_mesh,
    ),
    Case(
        "pspec_for_axis_mapping_to_a_non_name",
        lambda: hp.pspec_for_axis((Batch,), {"batch": ["data", 3]}),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "pspec_for_axis",
        ("'batch'", "list", "mesh axis name"),
    ),
    Case(
        "axis_mapping_given_a_string",
        lambda: hp.axis_mapping("data").__enter__(),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "axis_mapping",
        ("'data'", "{'batch': 'data'}"),
    ),
    # ----- sizes -----
    Case(
        "physical_axis_size_mapped_without_a_mesh",
        lambda: hp.physical_axis_size(Embed, {"embed": "model"}),
        PartitioningError,
        "physical_axis_size",
        ("'embed'", "'model'", "no mesh", "hax.set_mesh"),
    ),
    Case(
        "physical_axis_size_unknown_mesh_axis",
        lambda: hp.physical_axis_size(Embed, {"embed": "tensor"}),
        PartitioningError,
        "physical_axis_size",
        ("'embed'", "'tensor'", "{data: 2, model: 4}"),
        on_mesh,
    ),
    Case(
        "round_axis_for_partitioning_without_a_mesh",
        lambda: hp.round_axis_for_partitioning(Embed, {"embed": "model"}),
        PartitioningError,
        "round_axis_for_partitioning",
        ("'embed'", "'model'", "no mesh"),
    ),
    Case(
        "round_axis_for_partitioning_of_a_bare_name",
        lambda: hp.round_axis_for_partitioning("embed", {"embed": "model"}),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "round_axis_for_partitioning",
        ("'embed'", "hax.Axis"),
        on_mesh,
    ),
    # ----- named_jit / fsdp / shard_map -----
    Case(
        "named_jit_mapping_without_a_mesh",
        _named_jit_add_one,
        PartitioningError,
        "named_jit",
        ("axis mapping", "none is active", "hax.set_mesh", "plain jax.jit"),
    ),
    Case(
        "named_jit_mapping_does_not_divide",
        lambda: hp.named_jit(lambda a: a + 1, {"embed": "model"})(x()),
        PartitioningError,
        "named_jit",
        ("'embed'", "6", "'model' of size 4"),
        on_mesh,
    ),
    Case(
        "named_jit_more_donations_than_arguments",
        lambda: hp.named_jit(lambda a: a + 1, donate_args=(True, True))(x()),
        PartitioningError,
        "named_jit",
        ("donate_args", "2", "1"),
    ),
    Case(
        "fsdp_without_compute_mapping",
        lambda: hp.fsdp(lambda a: a, {"embed": "data"}),
        PartitioningError,
        "fsdp",
        ("parameter_mapping", "compute_mapping"),
    ),
    Case(
        "shard_map_without_a_mesh",
        lambda: hp.shard_map(lambda a: a, mapping={"batch": "data"})(x()),
        PartitioningError,
        "shard_map",
        ("no", "mesh", "hax.set_mesh"),
    ),
    Case(
        "shard_map_unknown_mesh_axis",
        lambda: hp.shard_map(lambda a: a, mapping={"batch": "tensor"})(x()),
        PartitioningError,
        "shard_map",
        ("'batch'", "'tensor'", "{data: 2, model: 4}"),
        on_mesh,
    ),
    # ----- strategies -----
    Case(
        "tensor_parallel_on_a_mesh_without_model_axis",
        lambda: hp.tensor_parallel(None, jax.sharding.Mesh(np.array(jax.devices()[:2]), ("data",))),
        PartitioningError,
        "sharding strategy 'tp'",
        ("'model'", "{data: 2}", "model_axis"),
    ),
    Case(
        "fully_sharded_parameters_do_not_divide",
        lambda: hp.fully_sharded(
            {"w": hax.full((Embed,), VALUE)}, jax.sharding.Mesh(np.array(jax.devices()[:4]), ("data",))
        ),
        PartitioningError,
        "sharding strategy 'fsdp'",
        ("'embed'", "6", "'data' of size 4"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_partitioning_program_fails_loudly(case: Case) -> None:
    case.check(forbidden=SHOWN)


def test_catalogue_cases_have_unique_names() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
