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

from haliax import NamedArray, is_named_array
from haliax.axis import Axis
from haliax.errors import PartitioningError
from haliax.extend import named_unchecked

from .mapping import ResourceMapping, axis_mapping, current_thread_local_mapping, spec_for_axes
from .mesh import MeshLike, current_mesh, mesh_shape
from .shard import _is_array


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

    out_cache: dict[Any, tuple[Any, tuple[Any, ...]]] = {}

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
        leaves, treedef = jax.tree.flatten((args, kwargs), is_leaf=is_named_array)
        dynamic: list[Any] = []
        specs: list[PartitionSpec] = []
        layout: list[Any] = []
        for leaf in leaves:
            if isinstance(leaf, NamedArray):
                spec = spec_for_axes("shard_map", leaf.axes, used, found)
                layout.append(("n", _resize(leaf.axes, spec, shape, grow=False)))
                dynamic.append(leaf.array)
                specs.append(spec)
            elif _is_array(leaf):
                layout.append(("a",))
                dynamic.append(leaf)
                specs.append(PartitionSpec())
            else:
                layout.append(("s", leaf))

        record: dict[str, Any] = {}

        def kernel(*blocks: Any) -> tuple[Any, ...]:
            it = iter(blocks)
            rebuilt = [
                named_unchecked(next(it), e[1]) if e[0] == "n" else next(it) if e[0] == "a" else e[1]
                for e in layout
            ]
            a, kw = jax.tree.unflatten(treedef, rebuilt)
            with axis_mapping({}):  # every mesh axis is manual here: no sharding constraints
                out = fn(*a, **kw)
            out_leaves, out_tree = jax.tree.flatten(out, is_leaf=is_named_array)
            record["tree"] = out_tree
            record["axes"] = tuple(leaf.axes if isinstance(leaf, NamedArray) else None for leaf in out_leaves)
            return tuple(leaf.array if isinstance(leaf, NamedArray) else leaf for leaf in out_leaves)

        key = (
            treedef,
            tuple(layout),
            tuple(specs),
            tuple((np.shape(d), getattr(d, "dtype", None)) for d in dynamic),
        )
        if key not in out_cache:
            # Trace once with placeholder out specs (nothing runs) to learn the results' axes.
            probe = jax.shard_map(
                kernel, mesh=found, in_specs=tuple(specs), out_specs=PartitionSpec(), check_vma=False
            )
            jax.eval_shape(probe, *dynamic)
            out_cache[key] = (record["tree"], record["axes"])
        out_tree, out_axes = out_cache[key]
        out_specs = tuple(
            PartitionSpec()
            if axes is None
            else spec_for_axes("shard_map", tuple(a.name for a in axes), used, found)
            for axes in out_axes
        )
        mapped = jax.shard_map(
            kernel, mesh=found, in_specs=tuple(specs), out_specs=out_specs, check_vma=check_vma
        )
        results = mapped(*dynamic)
        named = [
            r if axes is None else named_unchecked(r, _resize(axes, spec, shape, grow=True))
            for r, axes, spec in zip(results, out_axes, out_specs, strict=True)
        ]
        return jax.tree.unflatten(out_tree, named)

    return wrapper
