"""Logical axis names -> mesh axes: the thread-local `axis_mapping` context and PartitionSpecs.

A *resource mapping* sends a logical axis name (``"batch"``, ``"embed"``) to a mesh axis name,
a sequence of them (split over their product), or ``None`` (replicated). Axes it does not name
are replicated. `spec_for_axes` turns the axes of one array into a ``PartitionSpec`` and, when a
mesh is known, checks the mapping against it; its errors name the logical axis, the mesh axis,
their sizes and the fix.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TypeAlias

from jax.sharding import PartitionSpec

from haliax.axis import Axis, AxisSelection, AxisSelector, axis_spec_to_tuple
from haliax.errors import NamedTypeError, PartitioningError
from haliax.extend import did_you_mean, format_shape, reported_as, selector_name

from .mesh import MeshLike, current_mesh, format_mesh, mesh_shape

PhysicalAxisSpec: TypeAlias = str | Sequence[str]
"""One mesh axis name, or several (the logical axis is split over their product)."""

ResourceMapping: TypeAlias = Mapping[str, PhysicalAxisSpec | None]
"""Logical axis name -> mesh axis name(s), or ``None`` for replicated."""


class _MappingState(threading.local):
    def __init__(self) -> None:
        self.mapping: ResourceMapping | None = None


_state = _MappingState()


def current_thread_local_mapping() -> ResourceMapping | None:
    """The axis mapping installed by the innermost `axis_mapping` block of this thread, or None."""
    return _state.mapping


@contextlib.contextmanager
def axis_mapping(
    mapping: ResourceMapping | None = None, *, merge: bool = False, **kwargs: PhysicalAxisSpec | None
) -> Iterator[ResourceMapping]:
    """Install a logical -> mesh axis mapping for this thread inside a ``with`` block.

    Blocks nest; the innermost wins. ``merge=True`` extends the enclosing mapping instead of
    replacing it, and keyword arguments add entries (``axis_mapping(batch="data")``).

    Examples:
        >>> import haliax as hax
        >>> with hax.axis_mapping({"batch": "data"}):
        ...     with hax.axis_mapping(embed="model", merge=True):
        ...         dict(hax.partitioning.current_thread_local_mapping())
        {'batch': 'data', 'embed': 'model'}
    """
    if mapping is not None and not isinstance(mapping, Mapping):
        shown = f"the string {mapping!r}" if isinstance(mapping, str) else f"a {type(mapping).__name__}"
        raise NamedTypeError(
            f"axis_mapping: expected a mapping from logical axis names to mesh axis names, got {shown}; "
            f"write e.g. axis_mapping({{'batch': 'data'}}) or axis_mapping(batch='data')"
        )
    new: dict[str, PhysicalAxisSpec | None] = {}
    if merge and _state.mapping is not None:
        new.update(_state.mapping)
    if mapping is not None:
        new.update(mapping)
    new.update(kwargs)
    previous = _state.mapping
    _state.mapping = new
    try:
        yield new
    finally:
        _state.mapping = previous


def _mesh_axes(op: str, name: str, physical: PhysicalAxisSpec | None) -> tuple[str, ...]:
    if physical is None:
        return ()
    if isinstance(physical, str):
        return (physical,)
    if isinstance(physical, (tuple, list)) and all(isinstance(p, str) for p in physical):
        return tuple(physical)
    raise NamedTypeError(
        f"{op}: the axis mapping sends {name!r} to a {type(physical).__name__}, which is not a mesh axis name; "
        f"map it to a mesh axis name (e.g. 'data'), a tuple of them, or None (replicated)"
    )


def physical_axis_name(axis: AxisSelector, mapping: ResourceMapping | None = None) -> PhysicalAxisSpec | None:
    """The mesh axis name(s) ``axis`` maps to under ``mapping`` (default: the context's), or None."""
    mapping = _state.mapping if mapping is None else mapping
    if mapping is None:
        return None
    return mapping.get(selector_name(axis))


def physical_axis_size(
    axis: AxisSelector, mapping: ResourceMapping | None = None, mesh: MeshLike | None = None
) -> int | None:
    """How many ways ``axis`` is split: the product of its mesh axes' sizes, or None when unmapped."""
    op = "physical_axis_size"
    names = _mesh_axes(op, selector_name(axis), physical_axis_name(axis, mapping))
    if not names:
        return None
    mesh = current_mesh(mesh)
    if mesh is None:
        raise _no_mesh(op, selector_name(axis), names)
    shape = mesh_shape(mesh)
    for n in names:
        if n not in shape:
            raise _unknown_mesh_axis(op, selector_name(axis), n, mesh)
    return math.prod(shape[n] for n in names)


def pspec_for_axis(axis: AxisSelection, mapping: ResourceMapping | None = None) -> PartitionSpec:
    """The ``PartitionSpec`` of an array with axes ``axis`` under ``mapping`` (default: the context's).

    Examples:
        >>> import haliax as hax
        >>> hax.partitioning.pspec_for_axis(("batch", "embed"), {"batch": "data"})
        P('data', None)
    """
    return spec_for_axes("pspec_for_axis", axis_spec_to_tuple(axis), mapping, None)


def round_axis_for_partitioning(
    axis: Axis, mapping: ResourceMapping | None = None, mesh: MeshLike | None = None
) -> Axis:
    """``axis`` grown to the next multiple of the number of ways its mapping splits it.

    Examples:
        >>> import jax, numpy as np
        >>> import haliax as hax
        >>> mesh = jax.sharding.Mesh(np.array(jax.devices()[:4]), ("model",))
        >>> hax.partitioning.round_axis_for_partitioning(hax.Axis("vocab", 50257), {"vocab": "model"}, mesh)
        Axis(name='vocab', size=50260)
    """
    if not isinstance(axis, Axis):
        hint = (
            f"the name {axis!r}; pass hax.Axis({axis!r}, size)"
            if isinstance(axis, str)
            else type(axis).__name__
        )
        raise NamedTypeError(f"round_axis_for_partitioning: expected an Axis with a size, got {hint}")
    with reported_as("round_axis_for_partitioning"):
        ways = physical_axis_size(axis, mapping, mesh)
    if ways is None:
        return axis
    return Axis(axis.name, -(-axis.size // ways) * ways)


def spec_for_axes(
    op: str, axes: Sequence[AxisSelector], mapping: ResourceMapping | None, mesh: MeshLike | None
) -> PartitionSpec:
    """The PartitionSpec for one array's axes; checks the mapping against ``mesh`` when given.

    Raises:
        PartitioningError: a mesh axis is used twice, is missing from ``mesh``, or does not
            divide the size of the axis mapped to it.
    """
    mapping = _state.mapping if mapping is None else mapping
    if not mapping:
        return PartitionSpec(*([None] * len(axes)))
    shape = mesh_shape(mesh) if mesh is not None else None
    used: dict[str, str] = {}
    entries: list[str | tuple[str, ...] | None] = []
    for ax in axes:
        name = selector_name(ax)
        physical = _mesh_axes(op, name, mapping.get(name))
        for mesh_axis in physical:
            if mesh_axis in used:
                raise PartitioningError(
                    f"{op}: mesh axis {mesh_axis!r} is used by both {used[mesh_axis]!r} and {name!r} of "
                    f"{format_shape(axes)}; an array can use each mesh axis once: map one of them to "
                    f"another mesh axis or to None"
                )
            used[mesh_axis] = name
            if shape is not None and mesh_axis not in shape:
                raise _unknown_mesh_axis(op, name, mesh_axis, mesh)  # type: ignore[arg-type]  # mesh set with shape
        if shape is not None and physical and isinstance(ax, Axis):
            ways = math.prod(shape[m] for m in physical)
            if ax.size % ways:
                split = " x ".join(f"{m!r} of size {shape[m]}" for m in physical)
                rounded = -(-ax.size // ways) * ways
                raise PartitioningError(
                    f"{op}: axis {name!r} of size {ax.size} is split over mesh axis {split}, which does "
                    f"not divide it; pad the axis to a multiple with "
                    f"haliax.partitioning.round_axis_for_partitioning (-> {name}: {rounded}) or map "
                    f"{name!r} to another mesh axis"
                )
        entries.append(None if not physical else physical[0] if len(physical) == 1 else physical)
    return PartitionSpec(*entries)


def _unknown_mesh_axis(op: str, name: str, mesh_axis: str, mesh: MeshLike) -> PartitioningError:
    hint = did_you_mean(mesh_axis, mesh_shape(mesh))
    return PartitioningError(
        f"{op}: axis {name!r} maps to mesh axis {mesh_axis!r}, which the mesh {format_mesh(mesh)} does "
        f"not have{hint or ';'} fix the axis mapping or build the mesh with a {mesh_axis!r} axis"
    )


def _no_mesh(op: str, name: str, mesh_axes: Sequence[str]) -> PartitioningError:
    return PartitioningError(
        f"{op}: axis {name!r} maps to mesh axis {', '.join(repr(m) for m in mesh_axes)} but no mesh is "
        f"active; enter one with `with hax.set_mesh(mesh):` (or jax.set_mesh) or pass mesh="
    )
