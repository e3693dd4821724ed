"""A named ``jax.shard_map``: specs inferred from the NamedArrays' axes and the axis mapping.

Each NamedArray argument is split by the mapping (the same `PartitionSpec` `shard` would use);
the kernel sees NamedArrays whose axes have the per-device sizes, runs with every mesh axis
manual (so core's sharding hook stays out of the way), and its NamedArray results are stitched
back along the mesh axes their names map to. Plain arrays go in and come out replicated.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import PartitionSpec

from haliax import NamedArray
from haliax.axis import Axis
from haliax.errors import PartitioningError
from haliax.extend import LeafLayout

from .mapping import ResourceMapping, axis_mapping, current_thread_local_mapping, spec_for_axes
from .mesh import MeshLike, current_mesh, mesh_shape
from .shard import _is_array


def _is_input(x: Any) -> bool:
    """Arguments split across devices (NamedArrays) or replicated (arrays); every other leaf is static."""
    return isinstance(x, NamedArray) or _is_array(x)


def _ways(spec_entry: Any, shape: dict[str, int]) -> int:
    if spec_entry is None:
        return 1
    names = (spec_entry,) if isinstance(spec_entry, str) else tuple(spec_entry)
    return math.prod(shape[n] for n in names)


def _resize(
    axes: tuple[Axis, ...], spec: PartitionSpec, shape: dict[str, int], *, grow: bool
) -> tuple[Axis, ...]:
    out = []
    for ax, entry in zip(axes, tuple(spec) + (None,) * (len(axes) - len(spec)), strict=True):
        ways = _ways(entry, shape)
        out.append(Axis(ax.name, ax.size * ways if grow else ax.size // ways))
    return tuple(out)


def _resized(
    layout: LeafLayout, specs: tuple[PartitionSpec, ...], shape: dict[str, int], *, grow: bool
) -> LeafLayout:
    """``layout`` with each NamedArray's axes resized by its spec: per-device blocks, or (``grow``) the whole."""
    return layout.with_axes(
        [
            None if axes is None else _resize(axes, spec, shape, grow=grow)
            for axes, spec in zip(layout.dynamic_axes, specs, strict=True)
        ]
    )


def _specs(
    layout: LeafLayout, mapping: ResourceMapping | None, mesh: MeshLike, *, check_sizes: bool
) -> tuple[PartitionSpec, ...]:
    """Per array of ``layout``: a NamedArray's spec under ``mapping`` (its sizes checked against the mesh
    when ``check_sizes``, else by name only, as for per-device results); raw arrays replicated."""
    return tuple(
        PartitionSpec()
        if axes is None
        else spec_for_axes("shard_map", axes if check_sizes else tuple(a.name for a in axes), mapping, mesh)
        for axes in layout.dynamic_axes
    )


def _every_leaf(x: Any) -> bool:
    return True  # the kernel's results are all arrays: NamedArrays or raw ones


def shard_map(
    fn: Callable[..., Any] | None = None,
    *,
    mesh: MeshLike | None = None,
    mapping: ResourceMapping | None = None,
    check_vma: bool = True,
) -> Any:
    """Run ``fn`` once per device on its blocks of the NamedArray arguments (``jax.shard_map`` by names).

    Input and output specs come from each NamedArray's axis names under ``mapping`` (default:
    the context's at call time); the mesh defaults to the active one. Inside ``fn`` every mesh
    axis is manual: use ``jax.lax.psum(x.array, "data")`` and friends for collectives. Results
    must be NamedArrays (split along their mapped axes) or arrays (replicated).

    Examples:
        >>> import jax, numpy as np
        >>> import haliax as hax
        >>> mesh = jax.sharding.Mesh(np.array(jax.devices()[:2]), ("data",))
        >>> Batch = hax.Axis("batch", 4)
        >>> x = hax.named(np.arange(4.0), (Batch,))
        >>> with hax.set_mesh(mesh), hax.axis_mapping({"batch": "data"}):
        ...     y = hax.partitioning.shard_map(lambda b: b * b.axis_size("batch"))(x)
        >>> y.array.tolist()
        [0.0, 2.0, 4.0, 6.0]
    """
    if fn is None:
        return functools.partial(shard_map, mesh=mesh, mapping=mapping, check_vma=check_vma)

    out_layouts: dict[Any, LeafLayout] = {}  # the results' per-device layout, per input layout

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        found = current_mesh(mesh)
        if found is None:
            raise PartitioningError(
                f"shard_map: calling {getattr(fn, '__qualname__', fn)!s} needs a mesh and none is active; "
                f"enter one with `with hax.set_mesh(mesh):` or pass mesh="
            )
        shape = dict(mesh_shape(found))
        used = current_thread_local_mapping() if mapping is None else mapping
        layout, dynamic = LeafLayout.split((args, kwargs), is_dynamic=_is_input)
        in_specs = _specs(layout, used, found, check_sizes=True)
        blocks = _resized(layout, in_specs, shape, grow=False)
        traced: list[LeafLayout] = []

        def kernel(*arrays: Any) -> tuple[Any, ...]:
            a, kw = blocks.rebuild(arrays)
            with axis_mapping({}):  # every mesh axis is manual here: no sharding constraints
                out = fn(*a, **kw)
            out_layout, results = LeafLayout.split(out, is_dynamic=_every_leaf)
            traced.append(out_layout)
            return tuple(results)

        key = (blocks, in_specs, tuple((np.shape(d), getattr(d, "dtype", None)) for d in dynamic))
        if key not in out_layouts:
            # Trace once with placeholder out specs (nothing runs) to learn the results' axes.
            probe = jax.shard_map(
                kernel, mesh=found, in_specs=in_specs, out_specs=PartitionSpec(), check_vma=False
            )
            jax.eval_shape(probe, *dynamic)
            out_layouts[key] = traced[-1]
        out_blocks = out_layouts[key]
        out_specs = _specs(out_blocks, used, found, check_sizes=False)
        mapped = jax.shard_map(
            kernel, mesh=found, in_specs=in_specs, out_specs=out_specs, check_vma=check_vma
        )
        return _resized(out_blocks, out_specs, shape, grow=True).rebuild(mapped(*dynamic))

    return wrapper
