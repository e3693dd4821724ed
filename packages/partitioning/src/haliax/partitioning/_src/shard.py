"""Placing pytrees of NamedArrays on a mesh: `shard`, `pspec_for`, `infer_resource_partitions`.

Outside ``jit`` `shard` moves arrays with ``jax.device_put`` (or a resharding ``jit`` for arrays
that span processes); inside it adds ``with_sharding_constraint``. Plain (unnamed) arrays are
left alone. This module also installs core's sharding hook, which constrains the results of ops
such as ``dot`` under the active mapping while tracing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import jax
import jax.core  # jax.core.Tracer; the submodule is not re-exported by `import jax` for type checkers
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from haliax._src import sharding_hook
from haliax._src.axis import Axis, AxisSelection, axis_spec_to_tuple
from haliax._src.errors import PartitioningError
from haliax._src.named_array import NamedArray, is_named_array

from . import mapping as _mapping
from .mapping import ResourceMapping, no_mesh_error, spec_for_axes
from .mesh import MeshLike, check_auto_axes, current_mesh

T = TypeVar("T")


def _is_array(x: Any) -> bool:
    return isinstance(x, (jax.Array, np.ndarray, np.generic))


def _named_fields(x: Any) -> tuple[dataclasses.Field[Any], ...] | None:
    """The dataclass fields of ``x`` if any carries ``axis_names`` metadata (``hax.field``)."""
    if not dataclasses.is_dataclass(x) or isinstance(x, type):
        return None
    fields = dataclasses.fields(x)
    return fields if any(f.metadata.get("axis_names") for f in fields) else None


def _map_named(
    tree: Any, on_named: Callable[[Sequence[Axis], Any], Any], on_other: Callable[[Any], Any]
) -> Any:
    """Map NamedArrays (and arrays in fields with ``axis_names`` metadata) with ``on_named``.

    ``on_named(axes, array)`` gets the axes and raw array; every other leaf goes to ``on_other``.
    """

    def visit(node: Any) -> Any:
        if isinstance(node, NamedArray):
            return on_named(node.axes, node.array)
        fields = _named_fields(node)
        if fields is None:
            return on_other(node)
        out = object.__new__(type(node))
        for f in fields:
            value = getattr(node, f.name)
            names = f.metadata.get("axis_names")
            if names and _is_array(value):
                axes = tuple(Axis(n, s) for n, s in zip(names, np.shape(value), strict=True))
                new = on_named(axes, value)
            elif f.metadata.get("static"):
                new = value
            else:
                new = _map_named(value, on_named, on_other)
            object.__setattr__(out, f.name, new)
        return out

    return jax.tree.map(visit, tree, is_leaf=lambda x: is_named_array(x) or _named_fields(x) is not None)


def _existing_sharding(array: Any, mesh: MeshLike | None) -> NamedSharding | None:
    if isinstance(array, jax.Array) and not isinstance(array, jax.core.Tracer):
        sharding = array.sharding
        if isinstance(sharding, NamedSharding) and (mesh is None or sharding.mesh == mesh):
            return sharding
    return None


def pspec_for(
    tree: Any,
    resource_mapping: ResourceMapping | None = None,
    preserve_existing_shardings: bool = True,
    use_auto_sharding: bool = True,
) -> Any:
    """A ``PartitionSpec`` for every NamedArray (and ``axis_names`` field) of ``tree``.

    Plain arrays get their existing spec (when ``preserve_existing_shardings``) or a replicated
    one; other leaves get None. ``use_auto_sharding`` is accepted for compatibility: unmapped
    axes are always left to the compiler.

    Examples:
        >>> import haliax as hax
        >>> x = hax.zeros((hax.Axis("batch", 8), hax.Axis("embed", 4)))
        >>> hax.partitioning.pspec_for({"x": x}, {"batch": "data"})
        {'x': P('data', None)}
    """
    mesh = current_mesh()

    def on_named(axes: Sequence[Axis], array: Any) -> PartitionSpec:
        existing = _existing_sharding(array, mesh) if preserve_existing_shardings else None
        if existing is not None:
            return existing.spec
        return spec_for_axes("pspec_for", axes, resource_mapping, mesh)

    def on_other(leaf: Any) -> PartitionSpec | None:
        if not _is_array(leaf):
            return None
        existing = _existing_sharding(leaf, mesh) if preserve_existing_shardings else None
        return existing.spec if existing is not None else PartitionSpec()

    return _map_named(tree, on_named, on_other)


def infer_resource_partitions(
    tree: Any,
    resource_mapping: ResourceMapping | None = None,
    preserve_existing_shardings: bool = True,
    mesh: MeshLike | None = None,
) -> Any:
    """`pspec_for` with every spec wrapped in a ``NamedSharding`` on ``mesh`` (for jit shardings)."""
    mesh = _require_mesh("infer_resource_partitions", mesh)

    def on_named(axes: Sequence[Axis], array: Any) -> NamedSharding:
        existing = _existing_sharding(array, mesh) if preserve_existing_shardings else None
        if existing is not None:
            return existing
        return NamedSharding(mesh, spec_for_axes("infer_resource_partitions", axes, resource_mapping, mesh))

    def on_other(leaf: Any) -> NamedSharding | None:
        if not _is_array(leaf):
            return None
        existing = _existing_sharding(leaf, mesh) if preserve_existing_shardings else None
        return existing if existing is not None else NamedSharding(mesh, PartitionSpec())

    return _map_named(tree, on_named, on_other)


def sharding_for_axis(
    axis: AxisSelection, mapping: ResourceMapping | None = None, mesh: MeshLike | None = None
) -> NamedSharding:
    """The ``NamedSharding`` of an array with axes ``axis`` under ``mapping`` on ``mesh``."""
    mesh = _require_mesh("sharding_for_axis", mesh)
    return NamedSharding(mesh, spec_for_axes("sharding_for_axis", axis_spec_to_tuple(axis), mapping, mesh))


def _require_mesh(op: str, mesh: MeshLike | None) -> MeshLike:
    found = current_mesh(mesh)
    if found is None:
        raise PartitioningError(
            f"{op}: no mesh is active; enter one with `with hax.set_mesh(mesh):` (or jax.set_mesh) or pass mesh="
        )
    return found


def put(array: Any, sharding: NamedSharding) -> jax.Array:
    """Place a concrete array with ``sharding``, also when either side spans several processes."""
    if isinstance(array, jax.Array):
        if array.sharding.is_equivalent_to(sharding, array.ndim):
            return array
        if not array.is_fully_addressable:
            return jax.jit(lambda a: a, out_shardings=sharding)(array)
    if sharding.is_fully_addressable:
        return jax.device_put(array, sharding)
    # Every process holds the whole (identical) value; each keeps the pieces its devices own.
    host = np.asarray(array)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def shard(x: T, mapping: ResourceMapping | None = None, mesh: MeshLike | None = None) -> T:
    """Lay out the NamedArrays of ``x`` on the mesh by ``mapping`` (default: the context's).

    Inside ``jit`` this adds sharding constraints; outside it moves the arrays. Plain arrays
    and other leaves are returned untouched, and with no mapping at all ``x`` comes back as is.

    Raises:
        PartitioningError: an axis is mapped but no mesh is active, or the mapping does not fit
            the mesh (unknown mesh axis, a size it does not divide, one mesh axis used twice).

    Examples:
        >>> import jax, numpy as np
        >>> import haliax as hax
        >>> mesh = jax.sharding.Mesh(np.array(jax.devices()[:2]), ("data",))
        >>> x = hax.zeros((hax.Axis("batch", 4), hax.Axis("embed", 3)))
        >>> with hax.set_mesh(mesh), hax.axis_mapping({"batch": "data"}):
        ...     hax.shard(x).array.sharding.spec
        P('data', None)
    """
    mapping = _mapping.current_thread_local_mapping() if mapping is None else mapping
    if not mapping:
        return x
    found = current_mesh(mesh)
    if found is not None:
        check_auto_axes("shard", found)

    def on_named(axes: Sequence[Axis], array: Any) -> Any:
        if found is None:
            error = no_mesh_error("shard", axes, mapping)
            if error is not None:
                raise error
            return NamedArray._new(array, tuple(axes))
        spec = spec_for_axes("shard", axes, mapping, found)
        if isinstance(array, jax.core.Tracer):
            array = jax.lax.with_sharding_constraint(array, NamedSharding(found, spec))
        elif isinstance(found, Mesh):
            array = put(array, NamedSharding(found, spec))
        else:
            raise PartitioningError(
                "shard: only an abstract mesh is active, which cannot place concrete arrays; enter a "
                "concrete mesh with `with hax.set_mesh(mesh):` or pass mesh="
            )
        return NamedArray._new(array, tuple(axes))

    return _map_named(x, on_named, lambda leaf: leaf)


def shard_with_axis_mapping(x: T, mapping: ResourceMapping, mesh: MeshLike | None = None) -> T:
    """Deprecated spelling of `shard` with an explicit mapping."""
    return shard(x, mapping, mesh)


def auto_sharded(x: T, mesh: MeshLike | None = None) -> T:
    """Deprecated: `shard` with the context mapping (a no-op when there is none)."""
    return shard(x, None, mesh)


def _constrain_hook(x: Any) -> Any:
    """Core's sharding hook: constrain traced NamedArrays by the context mapping, else identity."""
    mapping = _mapping._state.mapping
    if not mapping:
        return x
    mesh = current_mesh()
    if mesh is None:
        return x

    def one(named: NamedArray) -> NamedArray:
        array = named.array
        if not isinstance(array, jax.core.Tracer):
            return named
        spec = spec_for_axes("shard", named.axes, mapping, mesh)
        return NamedArray._new(jax.lax.with_sharding_constraint(array, NamedSharding(mesh, spec)), named.axes)

    if isinstance(x, NamedArray):
        return one(x)
    return jax.tree.map(lambda n: one(n) if isinstance(n, NamedArray) else n, x, is_leaf=is_named_array)


def install_constraint_hook() -> None:
    """Make core ops (``dot``, scan carries) constrain their results by the context mapping."""
    sharding_hook.set_constraint_provider(_constrain_hook)
