"""Built-in sharding strategies ``dp``, ``fsdp``, ``tp`` and ``fsdp+tp`` (entry-point group ``haliax.sharding_strategies``).

A strategy turns ``(model, mesh)`` into ``(parameter_mapping, compute_mapping)`` (core's
`haliax.registry.ShardingStrategy` protocol). Which logical axes the built-ins map, by default:

| role | logical axes | dp | fsdp | tp | fsdp+tp |
| --- | --- | --- | --- | --- | --- |
| batch | ``batch`` | data axes | data axes | ``replica``, ``data`` | ``replica``, ``data`` |
| parameter sharding | ``embed`` | - | ``data`` (and ``model``) | - | ``data`` |
| tensor | ``mlp``, ``heads`` | - | - | ``model`` | ``model`` |

"data axes" are the mesh axes ``replica``, ``data`` and, when the strategy has no tensor
parallelism, ``model``: without tensor parallelism the whole mesh splits the batch. Every name
is configurable: ``fully_sharded.configure(fsdp_axes=("embed", "hidden"))`` returns a new strategy.
When ``model`` is given, the strategy checks that every NamedArray of it fits the mesh.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax

from haliax import NamedArray, is_named_array
from haliax.errors import PartitioningError

from .mapping import spec_for_axes
from .mesh import MeshLike, format_mesh, mesh_shape


@dataclasses.dataclass(frozen=True)
class MappingStrategy:
    """A sharding strategy built from axis roles; call it as ``strategy(model, mesh)``."""

    name: str
    shard_parameters: bool
    tensor_parallel: bool
    batch_axes: tuple[str, ...] = ("batch",)
    fsdp_axes: tuple[str, ...] = ("embed",)
    tensor_axes: tuple[str, ...] = ("mlp", "heads")
    replica_axis: str = "replica"
    data_axis: str = "data"
    model_axis: str = "model"

    def configure(self, **changes: Any) -> MappingStrategy:
        """A copy with some fields changed, e.g. ``tensor_axes=("mlp", "heads", "vocab")``."""
        return dataclasses.replace(self, **changes)

    def __call__(self, model: Any, mesh: MeshLike, /) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``(parameter_mapping, compute_mapping)`` of ``model`` on ``mesh``."""
        present = mesh_shape(mesh)
        op = f"sharding strategy {self.name!r}"
        if self.tensor_parallel and self.model_axis not in present:
            raise PartitioningError(
                f"{op}: the mesh {format_mesh(mesh)} has no {self.model_axis!r} axis for tensor parallelism; "
                f"build the mesh with one, or use .configure(model_axis=...)"
            )
        candidates = [self.replica_axis, self.data_axis] + ([] if self.tensor_parallel else [self.model_axis])
        data = tuple(a for a in candidates if a in present)
        if not data:
            raise PartitioningError(
                f"{op}: the mesh {format_mesh(mesh)} has none of the axes {', '.join(repr(c) for c in candidates)} "
                f"to split the batch over; name a mesh axis {self.data_axis!r} or use .configure(data_axis=...)"
            )
        batch: Any = data[0] if len(data) == 1 else data
        compute: dict[str, Any] = {name: batch for name in self.batch_axes}
        if self.tensor_parallel:
            compute.update({name: self.model_axis for name in self.tensor_axes})
        parameters = dict(compute)
        if self.shard_parameters:
            fsdp = tuple(a for a in data if a != self.replica_axis)
            if fsdp:
                parameters.update({name: fsdp[0] if len(fsdp) == 1 else fsdp for name in self.fsdp_axes})
        if model is not None:
            _check_fits(op, model, parameters, mesh)
        return parameters, compute


def _check_fits(op: str, model: Any, mapping: dict[str, Any], mesh: MeshLike) -> None:
    for leaf in jax.tree.leaves(model, is_leaf=is_named_array):
        if isinstance(leaf, NamedArray):
            spec_for_axes(op, leaf.axes, mapping, mesh)


data_parallel = MappingStrategy("dp", shard_parameters=False, tensor_parallel=False)
"""Data parallelism: the batch split over the whole mesh, parameters replicated."""

fully_sharded = MappingStrategy("fsdp", shard_parameters=True, tensor_parallel=False)
"""Fully sharded data parallelism: the batch and the parameters' ``embed`` axis split over the mesh."""

tensor_parallel = MappingStrategy("tp", shard_parameters=False, tensor_parallel=True)
"""Tensor parallelism: ``mlp``/``heads`` over ``model``, the batch over ``replica``/``data``."""

fully_sharded_tensor_parallel = MappingStrategy("fsdp+tp", shard_parameters=True, tensor_parallel=True)
"""FSDP over ``data`` combined with tensor parallelism over ``model``."""
