"""Placing pytrees of NamedArrays on a mesh: `shard`, `pspec_for`, `infer_resource_partitions`.

Outside ``jit`` `shard` moves arrays with ``jax.device_put`` (or a resharding ``jit`` for arrays
that span processes); inside it adds ``with_sharding_constraint`` (``reshard`` on a mesh with
Explicit axes). Plain (unnamed) arrays are
left alone. This module also installs core's sharding hook, which constrains the results of ops
such as ``dot`` under the active mapping while tracing.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import jax
import jax.core  # jax.core.Tracer; the submodule is not re-exported by `import jax` for type checkers
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding

from haliax import NamedArray, is_named_array
from haliax.axis import Axis, AxisSelection, axis_spec_to_tuple
from haliax.errors import PartitioningError
from haliax.extend import named_unchecked, set_constraint_provider

from . import mapping as _mapping
from .mapping import ResourceMapping, spec_for_axes
from .mesh import MeshLike, check_mesh, current_mesh, is_tracing, resolve_mesh

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
    tree: Any,
    on_named: Callable[[Sequence[Axis], Any], Any],
    on_other: Callable[[Any], Any],
    rewrap: bool = False,
) -> Any:
    """Map NamedArrays (and arrays in fields with ``axis_names`` metadata) with ``on_named``.

    ``on_named(axes, array)`` gets the axes and raw array; every other leaf goes to ``on_other``.
    With ``rewrap``, ``on_named`` returns a new raw array and NamedArrays stay NamedArrays.
    """

    def visit(node: Any) -> Any:
        if isinstance(node, NamedArray):
            out = on_named(node.axes, node.array)
            return named_unchecked(out, node.axes) if rewrap else out
        fields = _named_fields(node)
        if fields is None:
            return on_other(node)
        out = object.__new__(type(node))
        for f in fields:
            value = getattr(node, f.name)
            names = f.metadata.get("axis_names")
            if names and _array_like(value):
                axes = tuple(Axis(n, s) for n, s in zip(names, value.shape, strict=True))
                new = on_named(axes, value)
            elif f.metadata.get("static"):
                new = value
            else:
                new = _map_named(value, on_named, on_other, rewrap)
            object.__setattr__(out, f.name, new)
        return out

    return jax.tree.map(visit, tree, is_leaf=lambda x: is_named_array(x) or _named_fields(x) is not None)


def _existing_sharding(array: Any, mesh: MeshLike | None) -> NamedSharding | None:
    """``array``'s NamedSharding when it is a concrete array already laid out on ``mesh``."""
    if isinstance(array, jax.Array) and not isinstance(array, jax.core.Tracer):
        sharding = array.sharding
        if isinstance(sharding, NamedSharding) and (mesh is None or sharding.mesh == mesh):
            return sharding
    return None


def _array_like(x: Any) -> bool:
    """Arrays, tracers and ``jax.ShapeDtypeStruct``: anything with a shape and a dtype."""
    return hasattr(x, "shape") and hasattr(x, "dtype")


def _own_sharding(x: Any) -> Any:
    """The sharding an array-like already carries (None for tracers and bare shape structs)."""
    try:
        return getattr(x, "sharding", None)
    except Exception:  # a tracer outside a mesh context raises rather than answering None
        return None


def _specs(tree: Any, mapping: ResourceMapping, preserve: bool, op: str, mesh: MeshLike | None) -> Any:
    """A ``PartitionSpec`` (or None: keep what it has / not an array) per leaf of ``tree``.

    NamedArrays and ``axis_names`` fields follow ``mapping``; plain arrays are replicated
    (``P()`` for scalars, ``P(None)`` otherwise); Python numbers get ``P()``; other leaves None.
    With ``preserve``, arrays that already carry a sharding get None.
    """

    def on_named(axes: Sequence[Axis], array: Any) -> PartitionSpec | None:
        if not _array_like(array):
            return None
        if preserve and _own_sharding(array) is not None:
            return None
        return spec_for_axes(op, axes, mapping, mesh)

    def on_other(leaf: Any) -> PartitionSpec | None:
        if _array_like(leaf):
            if leaf.shape == ():
                return PartitionSpec()
            sharding = _own_sharding(leaf)
            if preserve and sharding is not None and not isinstance(sharding, SingleDeviceSharding):
                return None
            return PartitionSpec(None)
        if isinstance(leaf, (bool, int, float, complex)):
            return PartitionSpec()
        return None

    return _map_named(tree, on_named, on_other)


def _required_mapping(op: str, mapping: ResourceMapping | None) -> ResourceMapping:
    found = _mapping.current_thread_local_mapping() if mapping is None else mapping
    if found is None:
        raise PartitioningError(
            f"{op}: no axis mapping was passed and none is active; pass one "
            f"({op}(tree, {{'batch': 'data'}})) or enter `with hax.axis_mapping({{...}}):`"
        )
    return found


def pspec_for(
    tree: Any,
    resource_mapping: ResourceMapping | None = None,
    preserve_existing_shardings: bool = True,
    use_auto_sharding: bool = True,
) -> Any:
    """A ``PartitionSpec`` for every NamedArray (and ``axis_names`` field) of ``tree``.

    NamedArrays follow the mapping (default: the context's). Plain arrays are replicated:
    ``P()`` for scalars, ``P(None)`` otherwise; Python numbers get ``P()`` and other leaves
    None. With ``preserve_existing_shardings`` (the default), arrays that already carry a
    sharding (every concrete array does) get None, meaning "keep it". ``use_auto_sharding``
    is accepted for compatibility: unmapped axes are always left to the compiler.

    Raises:
        PartitioningError: no mapping was passed and none is active, or the mapping does not fit
            the active mesh.

    Examples:
        >>> import jax
        >>> import haliax as hax
        >>> x = jax.ShapeDtypeStruct((8, 4), "float32")
        >>> hax.partitioning.pspec_for({"x": hax.named(x, ("batch", "embed"))}, {"batch": "data"})
        {'x': P('data', None)}
    """
    mapping = _required_mapping("pspec_for", resource_mapping)
    return _specs(tree, mapping, preserve_existing_shardings, "pspec_for", current_mesh())


def infer_resource_partitions(
    tree: Any,
    resource_mapping: ResourceMapping | None = None,
    preserve_existing_shardings: bool = True,
    mesh: MeshLike | None = None,
) -> Any:
    """`pspec_for` with every spec made a ``NamedSharding`` on ``mesh`` (for jit's shardings).

    Leaves whose spec is None keep the sharding they already have (None when they have none).
    """
    op = "infer_resource_partitions"
    mapping = _required_mapping(op, resource_mapping)
    found = _require_mesh(op, mesh)

    def finish(spec: PartitionSpec | None, leaf: Any) -> Any:
        if spec is not None:
            return NamedSharding(found, spec)
        return _own_sharding(leaf) if _array_like(leaf) else None

    specs = _specs(tree, mapping, preserve_existing_shardings, op, found)
    leaves, treedef = jax.tree.flatten(tree, is_leaf=is_named_array)
    spec_leaves = treedef.flatten_up_to(specs)
    return treedef.unflatten(
        finish(spec, leaf.array if isinstance(leaf, NamedArray) else leaf)
        for spec, leaf in zip(spec_leaves, leaves, strict=True)
    )


def sharding_for_axis(
    axis: AxisSelection, mapping: ResourceMapping | None = None, mesh: MeshLike | None = None
) -> NamedSharding:
    """The ``NamedSharding`` of an array with axes ``axis`` under ``mapping`` on ``mesh``."""
    mesh = _require_mesh("sharding_for_axis", mesh)
    return NamedSharding(mesh, spec_for_axes("sharding_for_axis", axis_spec_to_tuple(axis), mapping, mesh))


def _require_mesh(op: str, mesh: MeshLike | None) -> MeshLike:
    found = resolve_mesh(op, mesh)
    if found is None:
        raise PartitioningError(
            f"{op}: no mesh is active; enter one with `with hax.set_mesh(mesh):` (or jax.set_mesh) or pass mesh="
        )
    return found


def constrain(array: Any, sharding: NamedSharding) -> Any:
    """Lay out a traced array with ``sharding``: a sharding constraint on Auto mesh axes, a
    ``jax.sharding.reshard`` when the mesh has Explicit axes (where a constraint only asserts)."""
    explicit = jax.sharding.AxisType.Explicit
    if any(t == explicit for t in getattr(sharding.mesh, "axis_types", ())):
        return jax.sharding.reshard(array, sharding)
    return jax.lax.with_sharding_constraint(array, sharding)


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


def _not_sharding(op: str, what: str, stacklevel: int) -> None:
    """Warn (outside tracing only, like Haliax) that ``op`` returns its input unsharded."""
    if not is_tracing():
        warnings.warn(
            f"{op}: {what}, so the input is returned as it is, not sharded; "
            f"enter a mesh with `with hax.set_mesh(mesh):` and a mapping with `with hax.axis_mapping(...):`",
            RuntimeWarning,
            stacklevel=stacklevel + 1,
        )


def shard(x: T, mapping: ResourceMapping | None = None, mesh: MeshLike | None = None) -> T:
    """Lay out the NamedArrays of ``x`` on the mesh by ``mapping`` (default: the context's).

    Inside ``jit`` this adds sharding constraints; outside it moves the arrays. Plain arrays
    and other leaves are returned untouched. With no mapping, or no mesh, ``x`` comes back as
    it is, with a ``RuntimeWarning`` outside ``jit`` (as in Haliax).

    Raises:
        PartitioningError: ``mesh`` is not a mesh, or the mapping does not fit the mesh (unknown
            mesh axis, a size it does not divide, one mesh axis used twice).

    Examples:
        >>> import jax, numpy as np
        >>> import haliax as hax
        >>> mesh = jax.sharding.Mesh(np.array(jax.devices()[:2]), ("data",))
        >>> x = hax.zeros((hax.Axis("batch", 4), hax.Axis("embed", 3)))
        >>> with hax.set_mesh(mesh), hax.axis_mapping({"batch": "data"}):
        ...     hax.shard(x).array.sharding.spec
        P('data', None)
    """
    return _shard("shard", x, mapping, mesh, stacklevel=2)


def _shard(op: str, x: T, mapping: ResourceMapping | None, mesh: MeshLike | None, stacklevel: int) -> T:
    found = resolve_mesh(op, mesh)
    mapping = _mapping.current_thread_local_mapping() if mapping is None else mapping
    if mapping is None:
        _not_sharding(op, "no axis mapping was passed and none is active", stacklevel + 1)
        return x
    if found is None:
        _not_sharding(op, "no mesh is active", stacklevel + 1)
        return x
    if found.empty:
        return x

    def on_named(axes: Sequence[Axis], array: Any) -> Any:
        if not _array_like(array) or isinstance(array, jax.ShapeDtypeStruct):
            return array  # e.g. a filtered-out leaf (None) or a shape placeholder: nothing to place
        spec = spec_for_axes(op, axes, mapping, found)
        if isinstance(array, jax.core.Tracer):
            return constrain(array, NamedSharding(found, spec))
        if isinstance(found, Mesh):
            return put(array, NamedSharding(found, spec))
        raise PartitioningError(
            f"{op}: only an abstract mesh is active, which cannot place concrete arrays; enter a "
            "concrete mesh with `with hax.set_mesh(mesh):` or pass mesh="
        )

    return _map_named(x, on_named, lambda leaf: leaf, rewrap=True)


def shard_with_axis_mapping(x: T, mapping: ResourceMapping, mesh: MeshLike | None = None) -> T:
    """Deprecated spelling of `shard` with an explicit mapping."""
    return _shard("shard_with_axis_mapping", x, mapping, mesh, stacklevel=2)


def auto_sharded(x: T, mesh: MeshLike | None = None) -> T:
    """Deprecated: `shard` with the context mapping; a silent no-op when there is none."""
    if _mapping.current_thread_local_mapping() is None:
        if mesh is not None:
            check_mesh("auto_sharded", mesh)
        return x
    return _shard("auto_sharded", x, None, mesh, stacklevel=2)


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
        return named_unchecked(constrain(array, NamedSharding(mesh, spec)), named.axes)

    if isinstance(x, NamedArray):
        return one(x)
    return jax.tree.map(lambda n: one(n) if isinstance(n, NamedArray) else n, x, is_leaf=is_named_array)


def install_constraint_hook() -> None:
    """Make core ops (``dot``, scan carries) constrain their results by the context mapping."""
    set_constraint_provider(_constrain_hook)
