"""Indexing by axis name: ``x["batch", 3]``, ``x[{"pos": hax.dslice(i, 16)}]``, gathers and ``.at`` updates.

An index maps axes to selectors. Result axes follow Haliax's rules, which are numpy's rules for
mixing basic and advanced indices, stated by name:

* ints, traced scalars, `dslice` windows, NamedArray indices and 1-d unnamed jax arrays are
  *advanced*; slices and lists of ints keep their axis in place (with its new size);
* the index arrays (a `dslice` counts as an index along an axis named like the one it slices; a
  1-d jax array is named after the first remaining axis of its length, else after the axis it
  indexes) broadcast together by name, and an axis of the array that they also have is matched
  element by element (a batch axis);
* the broadcast axes take the place of the advanced selectors when those are adjacent in the
  array, and go first otherwise.

Whatever the result order, ints, slices, `dslice` windows and traced scalars lower to
``lax.slice`` / ``lax.dynamic_slice`` (never a gather); only index arrays gather.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Mapping
from typing import Any, NamedTuple, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np
from jax._src.indexing import Slice as _PallasSlice  # what jax.experimental.pallas.dslice builds

from ..base.axis import Axis, AxisSelector, axis_position, dslice, selector_name
from ..base.errors import (
    AxisNotFoundError,
    AxisSizeError,
    NamedIndexError,
    NamedTypeError,
    axis_not_found,
    axis_size_mismatch,
    format_shape,
)
from ..base.named_array import NamedArray, require_named
from ..base.types import NamedOrNumeric as NamedOrNumeric
from ..transforms.vmap import vmap

NamedIndex: TypeAlias = (
    int | np.integer | builtins.slice | dslice | list[int] | jax.Array | np.ndarray | NamedArray
)
"""One axis' selector: int, slice, `dslice`, list of ints, integer array or NamedArray."""
SliceSpec: TypeAlias = (
    Mapping[str, NamedIndex]
    | Mapping[Axis, NamedIndex]
    | Mapping[AxisSelector, NamedIndex]
    | tuple[AxisSelector | NamedIndex, ...]
)
"""What ``x[...]`` takes: ``{axis: index}`` or a flat ``(axis, index, axis, index, ...)`` tuple."""

_builtin_slice = builtins.slice

# Kinds of per-axis selectors after classification.
_INT, _SLICE, _DSLICE, _DYN, _LIST, _NAMED, _ARRAY = range(7)


# ----------------------------------------------------------------------------------------------
# Parsing


def _positions(op: str, axes: tuple[Axis, ...], idx: Any) -> dict[int, Any]:
    """``{position: selector}`` from a dict or a flat axis/index tuple, in the order given."""
    if isinstance(idx, Mapping):
        items = list(idx.items())
    elif isinstance(idx, tuple):
        if len(idx) % 2:
            raise NamedIndexError(
                f"{op}: expected alternating axis names and indices like x['batch', 0, 'embed', 1:3], "
                f"got {len(idx)} items for an array {format_shape(axes)}"
            )
        items = list(zip(idx[::2], idx[1::2], strict=True))
    elif isinstance(idx, (str, Axis)):
        name = selector_name(idx)
        raise NamedIndexError(
            f"{op}: axis {name!r} is given without an index; write x[{name!r}, i] or x[{{{name!r}: i}}]"
        )
    else:
        raise NamedIndexError(
            f"{op}: positional indexing is not supported on a NamedArray {format_shape(axes)}; "
            f"name the axis, e.g. x[{axes[0].name if axes else 'axis'!r}, i]"
        )
    out: dict[int, Any] = {}
    for key, value in items:
        pos = _lookup(op, axes, key)
        if pos in out:
            raise NamedIndexError(f"{op}: axis {axes[pos].name!r} is indexed twice")
        out[pos] = value
    return out


def _lookup(op: str, axes: tuple[Axis, ...], key: Any) -> int:
    if not isinstance(key, (str, Axis)):
        raise NamedIndexError(
            f"{op}: expected an axis name or Axis where {key!r} is, as in x['batch', 0]; "
            f"the array has axes {format_shape(axes)}"
        )
    return axis_position(op, axes, key)


def _is_static_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _classify(op: str, ax: Axis, v: Any) -> tuple[int, Any]:
    """The kind of a selector, and the value normalised for that kind.

    `dslice` and pallas ``Slice`` values become ``(start, size, stride)``.
    """
    if _is_static_int(v):
        i = int(v)
        if not -ax.size <= i < ax.size:
            raise NamedIndexError(
                f"{op}: index {i} is out of range for axis {ax.name!r} of size {ax.size} "
                f"(valid indices are {-ax.size} to {ax.size - 1})"
            )
        return _INT, i + ax.size if i < 0 else i
    if isinstance(v, _builtin_slice):
        for part in (v.start, v.stop, v.step):
            if part is not None and not _is_static_int(part):
                raise NamedIndexError(
                    f"{op}: slice bounds on axis {ax.name!r} must be static ints; for a traced start "
                    f"use hax.dslice(start, size)"
                )
        if v.step == 0:
            raise NamedIndexError(f"{op}: slice step on axis {ax.name!r} cannot be zero")
        return _SLICE, v
    if isinstance(v, (dslice, _PallasSlice)):
        stride = getattr(v, "stride", 1)
        if not _is_static_int(v.size) or v.size < 0 or not _is_static_int(stride) or stride < 1:
            raise NamedIndexError(
                f"{op}: a dslice on axis {ax.name!r} needs a static non-negative int size "
                f"(and a positive stride); only its start may be traced"
            )
        start = int(v.start) if _is_static_int(v.start) else jnp.asarray(v.start)
        if not isinstance(start, int):
            _check_int_dtype(op, ax, start.dtype)
        return _DSLICE, (start, int(v.size), int(stride))
    if isinstance(v, NamedArray):
        if not v.axes:
            return _dynamic_scalar(op, ax, v.array)
        _check_int_dtype(op, ax, v.dtype)
        return _NAMED, v
    if isinstance(v, bool | np.bool_):
        raise NamedIndexError(f"{op}: a bool is not an index (axis {ax.name!r}); use an int")
    if isinstance(v, (list, tuple, np.ndarray, jax.Array)):
        arr = v if isinstance(v, jax.Array) else np.asarray(v)
        if arr.ndim == 0:
            if isinstance(arr, np.ndarray):
                return _classify(op, ax, arr.item())
            return _dynamic_scalar(op, ax, arr)
        if arr.ndim != 1:
            raise NamedIndexError(
                f"{op}: an unnamed index array on axis {ax.name!r} must be 1-d, got shape {tuple(arr.shape)}; "
                f"name its axes with hax.named(index, axes) to gather with several dimensions"
            )
        _check_int_dtype(op, ax, arr.dtype)
        if isinstance(arr, jax.Array):
            return _ARRAY, arr
        if arr.size and (arr.min() < -ax.size or arr.max() >= ax.size):
            raise NamedIndexError(
                f"{op}: an index in the list for axis {ax.name!r} is out of range for its size {ax.size}"
            )
        return _LIST, arr
    if v is None or v is Ellipsis:
        raise NamedIndexError(f"{op}: {v!r} is not supported as an index of axis {ax.name!r}")
    raise NamedIndexError(f"{op}: cannot index axis {ax.name!r} with a {type(v).__name__}")


def _dynamic_scalar(op: str, ax: Axis, v: Any) -> tuple[int, Any]:
    _check_int_dtype(op, ax, v.dtype)
    return _DYN, v


def _check_int_dtype(op: str, ax: Axis, dtype: Any) -> None:
    if not jnp.issubdtype(dtype, jnp.integer):
        hint = (
            "; boolean masks have value-dependent sizes, use hax.where instead"
            if jnp.dtype(dtype) == jnp.bool_
            else ""
        )
        raise NamedIndexError(f"{op}: indices for axis {ax.name!r} must be integers, got dtype {dtype}{hint}")


def _new_size(ax: Axis, kind: int | None, v: Any) -> Axis:
    """The axis that a slice or list leaves in place."""
    if kind == _SLICE:
        return ax.resize(len(range(*v.indices(ax.size))))
    if kind == _LIST:
        return ax.resize(int(v.shape[0]))
    return ax


# ----------------------------------------------------------------------------------------------
# Planning: which axes the result has, in which order (metadata only)


class _Plan(NamedTuple):
    sel: dict[int, tuple[int, Any]]  # position -> (kind, value), in the order the user gave them
    batch: tuple[int, ...]  # positions of array axes matched element by element with index axes
    index_axes: tuple[Axis, ...]  # the index arrays broadcast together (empty: no index arrays)
    out_axes: tuple[Axis, ...]
    fill: bool  # a dslice is present: out-of-range reads give 0


def _plan(op: str, axes: tuple[Axis, ...], idx: Any, *, lists_as_arrays: bool = False) -> _Plan:
    """Classify every selector and compute the result's axes, by Haliax's (numpy's) placement rules."""
    given = _positions(op, axes, idx)
    kept = [True] * len(axes)
    sel: dict[int, tuple[int, Any]] = {}
    for p, v in given.items():
        ax = axes[p]
        kind, val = _classify(op, ax, v)
        if kind == _ARRAY:
            # A 1-d unnamed jax array takes the name of the first remaining axis of its length.
            n = int(val.shape[0])
            name = next((a.name for i, a in enumerate(axes) if i != p and kept[i] and a.size == n), ax.name)
            kind, val = _NAMED, NamedArray._new(val, (Axis(name, n),))
        if kind != _SLICE and kind != _LIST:
            kept[p] = False
        sel[p] = (kind, val)
    arrays = any(k in (_NAMED, _DSLICE) for k, _ in sel.values())
    if lists_as_arrays or arrays:
        for p, (k, v) in sel.items():
            if k == _LIST:
                sel[p] = (_NAMED, NamedArray._new(jnp.asarray(v), (axes[p].resize(int(v.shape[0])),)))
                kept[p] = False
        arrays = arrays or any(k == _NAMED for k, _ in sel.values())
    fill = any(k == _DSLICE for k, _ in sel.values())
    if not arrays:
        out = tuple(_new_size(ax, *sel.get(p, (None, None))) for p, ax in enumerate(axes) if kept[p])
        return _Plan(sel, (), (), out, fill)

    groups = [_index_array_axes(axes[p], k, v) for p, (k, v) in sel.items() if k in (_NAMED, _DSLICE)]
    names = {a.name for g in groups for a in g}
    batch = []
    for p, ax in enumerate(axes):
        if kept[p] and ax.name in names:
            if p in sel:
                raise NamedIndexError(
                    f"{op}: axis {ax.name!r} is both sliced and an axis of an index array; "
                    f"slice it first, then index"
                )
            batch.append(p)
            kept[p] = False
            groups.append((ax,))
    full = _broadcast_index_axes(op, groups)
    for p in batch:
        got = next(a for a in full if a.name == axes[p].name)
        if got.size != axes[p].size:
            raise axis_size_mismatch(op, axes[p].name, axes[p].size, got.size)
    adv = [p for p in range(len(axes)) if not kept[p]]
    rest = [(p, _new_size(ax, *sel.get(p, (None, None)))) for p, ax in enumerate(axes) if kept[p]]
    if adv == list(range(adv[0], adv[-1] + 1)):
        out = tuple(a for p, a in rest if p < adv[0]) + full + tuple(a for p, a in rest if p > adv[-1])
    else:
        out = full + tuple(a for _, a in rest)
    seen = [a.name for a in out]
    dup = [n for n in seen if seen.count(n) > 1]
    if dup:
        raise NamedIndexError(
            f"{op}: the result would have axis {dup[0]!r} twice ({format_shape(out)}); rename the index's axis"
        )
    return _Plan(sel, tuple(batch), full, out, fill)


def _index_array_axes(ax: Axis, kind: int, v: Any) -> tuple[Axis, ...]:
    if kind == _DSLICE:
        return (ax.resize(v[1]),)
    return v.axes


def _broadcast_index_axes(op: str, groups: list[tuple[Axis, ...]]) -> tuple[Axis, ...]:
    """Axes of several index arrays broadcast together, in Haliax's order.

    Starting from the largest index (by element count; the first given among equals), each next
    one puts the axes it adds in front.
    """
    order = sorted(range(len(groups)), key=lambda i: -math.prod(a.size for a in groups[i]))
    full = groups[order[0]]
    for i in order[1:]:
        sizes = {a.name: a.size for a in full}
        for a in groups[i]:
            if a.name in sizes and sizes[a.name] != a.size:
                raise axis_size_mismatch(op, a.name, sizes[a.name], a.size)
        full = tuple(a for a in groups[i] if a.name not in sizes) + full
    return full


def _raw_index(axes: tuple[Axis, ...], plan: _Plan) -> tuple[Any, ...]:
    """The positional jnp index that realises ``plan`` (numpy then places the axes as planned)."""
    full = plan.index_axes
    raw: list[Any] = []
    for p, ax in enumerate(axes):
        if p in plan.batch:
            d = next(i for i, a in enumerate(full) if a.name == ax.name)
            shape = tuple(ax.size if i == d else 1 for i in range(len(full)))
            raw.append(jax.lax.broadcasted_iota(jnp.int32, shape, d))
            continue
        kind, v = plan.sel.get(p, (_SLICE, _builtin_slice(None)))
        if kind == _NAMED:
            raw.append(_align_index(v, full))
        elif kind == _DSLICE:
            start, size, stride = v
            window = start + stride * jnp.arange(size, dtype=jnp.int32)
            raw.append(_align_index(NamedArray._new(window, (ax.resize(size),)), full))
        elif kind == _LIST:
            raw.append(jnp.asarray(v))
        else:
            raw.append(v)
    return tuple(raw)


def _align_index(ix: NamedArray, idx_axes: tuple[Axis, ...]) -> Any:
    """The raw index laid out along ``idx_axes`` (size-1 where it lacks an axis; no copy)."""
    pos = {ax.name: i for i, ax in enumerate(ix.axes)}
    order = tuple(pos[ax.name] for ax in idx_axes if ax.name in pos)
    raw = ix.array
    if order != tuple(range(len(order))):
        raw = jax.lax.transpose(raw, order)
    if len(ix.axes) != len(idx_axes):
        raw = jax.lax.reshape(raw, tuple(ax.size if ax.name in pos else 1 for ax in idx_axes))
    return raw


# ----------------------------------------------------------------------------------------------
# Without index arrays: slices, ints, dslices -> lax.slice / dynamic_slice / squeeze


def _basic(array: NamedArray, sel: dict[int, tuple[int, Any]]) -> NamedArray:
    """Apply ints, slices, dslices and lists in place (ints drop their axis), without a gather."""
    raw = array.array
    axes = list(array.axes)
    nd = len(axes)
    starts, limits, strides = [0] * nd, [ax.size for ax in axes], [1] * nd
    static, rev, pads = False, [], [(0, 0)] * nd
    dyn: dict[int, Any] = {}  # traced scalar indices
    windows: list[tuple[int, Any, int]] = []  # traced dslices done by dynamic_slice
    gathers: list[tuple[int, Any]] = []  # dslices that need a gather
    lists: list[tuple[int, Any]] = []
    drop: list[int] = []
    for pos, (kind, v) in sorted(sel.items()):
        n = axes[pos].size
        if kind == _INT:
            starts[pos], limits[pos], static = v, v + 1, True
            drop.append(pos)
        elif kind == _DYN:
            dyn[pos] = jnp.where(v < 0, v + n, v)
            drop.append(pos)
        elif kind == _SLICE:
            s, e, st = v.indices(n)
            size = len(range(s, e, st))
            if st > 0:
                lo, hi = s, (s + (size - 1) * st + 1 if size else s)
            elif size:
                lo, hi = s + (size - 1) * st, s + 1
                rev.append(pos)
            else:
                lo = hi = 0
            starts[pos], limits[pos], strides[pos], static = lo, hi, builtins.abs(st), True
            axes[pos] = axes[pos].resize(size)
        elif kind == _LIST:
            lists.append((pos, v))
            axes[pos] = axes[pos].resize(int(v.shape[0]))
        else:  # _DSLICE
            start, size, stride = v
            if isinstance(start, int) and start >= 0:
                valid = builtins.max(0, builtins.min(size, -(-(n - start) // stride)))
                lo = builtins.min(start, n)
                hi = lo + (valid - 1) * stride + 1 if valid else lo
                starts[pos], limits[pos], strides[pos], static = lo, hi, stride, True
                pads[pos] = (0, size - valid)
            elif isinstance(start, int) or stride != 1 or size > n:
                gathers.append((pos, start + stride * np.arange(size)))
            else:
                windows.append((pos, start, size))
            axes[pos] = axes[pos].resize(size)
    if static:
        raw = jax.lax.slice(
            raw, tuple(starts), tuple(limits), None if max(strides, default=1) == 1 else tuple(strides)
        )
    if rev:
        raw = jax.lax.rev(raw, tuple(rev))
    if any(hi for _, hi in pads):
        raw = jax.lax.pad(raw, jnp.zeros((), raw.dtype), tuple((lo, hi, 0) for lo, hi in pads))
    if dyn:
        raw = jax.lax.dynamic_slice(
            raw, [dyn.get(i, 0) for i in range(nd)], [1 if i in dyn else raw.shape[i] for i in range(nd)]
        )
    for pos, start, size in windows:
        raw = _window(raw, pos, start, size)
    for pos, index in gathers:
        raw = raw.at[(_builtin_slice(None),) * pos + (jnp.asarray(index),)].get(mode="fill", fill_value=0)
    for pos, index in lists:
        raw = raw[(_builtin_slice(None),) * pos + (jnp.asarray(index),)]
    if drop:
        raw = jax.lax.squeeze(raw, tuple(drop))
    return NamedArray._new(raw, tuple(ax for i, ax in enumerate(axes) if i not in drop))


def _window(raw: Any, pos: int, start: Any, size: int) -> Any:
    """``size`` elements from a traced ``start`` along ``pos`` with dynamic slices, as a gather would read them.

    Index ``start + k`` is read as numpy reads an index (negative counts from the end) and gives 0
    where it is still outside the axis. Two windows are read at clamped starts: one for the
    indices in ``[0, n)`` and one for the negative ones; each is rotated back into place.
    """
    n = raw.shape[pos]
    if size == 0:
        return jax.lax.slice_in_dim(raw, 0, 0, axis=pos)
    idx = start + jax.lax.broadcasted_iota(start.dtype, (size,), 0)

    def read(first: Any) -> Any:
        clamped = jnp.clip(first, 0, n - size)
        window = jax.lax.dynamic_slice_in_dim(raw, clamped, size, pos)
        doubled = jax.lax.concatenate([window, window], pos)
        return jax.lax.dynamic_slice_in_dim(doubled, jnp.mod(first - clamped, size), size, pos)

    def spread(mask: Any) -> Any:
        return jax.lax.broadcast_in_dim(mask, (*raw.shape[:pos], size, *raw.shape[pos + 1 :]), (pos,))

    zero = jnp.zeros((), raw.dtype)
    ahead = jnp.where(spread((idx >= 0) & (idx < n)), read(start), zero)
    return jnp.where(spread((idx < 0) & (idx >= -n)), read(start + n), ahead)


def _in_order(x: NamedArray, axes: tuple[Axis, ...]) -> NamedArray:
    """``x`` transposed to ``axes`` (the same axes, by name, maybe in another order)."""
    if x.axes == axes:
        return x
    where = {ax.name: i for i, ax in enumerate(x.axes)}
    perm = tuple(where[ax.name] for ax in axes)
    return NamedArray._new(jax.lax.transpose(x.array, perm), tuple(x.axes[i] for i in perm))


# ----------------------------------------------------------------------------------------------
# Public ops


def index(array: NamedArray, idx: SliceSpec) -> NamedArray:
    """Named indexing, the function behind ``array[...]``.

    ``idx`` is a ``{axis: selector}`` dict or a flat ``(axis, selector, ...)`` tuple. An int drops
    its axis (a static one out of range is an error, never clamped); a slice or a list of ints
    keeps the axis' name with its new size; a [haliax.dslice][] reads a window, 0 past the ends; a
    NamedArray of indices gathers, its axes replacing the indexed axis, and an axis that it shares
    with the array is matched element by element. Where several axes are indexed at once, result
    axes are placed as numpy places them (see the module documentation).

    Examples:
        >>> import haliax as hax
        >>> B, E = hax.make_axes(batch=4, embed=3)
        >>> x = hax.arange((B, E))
        >>> x["batch", 1].shape, x["batch", 1:3, "embed", 0].array.tolist()
        ({'embed': 3}, [3, 6])
    """
    return _index("index", array, idx)


def _index(op: str, array: NamedArray, idx: Any) -> NamedArray:
    require_named(op, array)
    plan = _plan(op, array.axes, idx)
    if not any(k == _NAMED for k, _ in plan.sel.values()):
        return _in_order(_basic(array, plan.sel), plan.out_axes)
    raw = _raw_index(array.axes, plan)
    if plan.fill:
        out = array.array.at[raw].get(mode="fill", fill_value=0)
    else:
        out = array.array[raw]
    return NamedArray._new(out, plan.out_axes)


def take(array: NamedArray, axis: AxisSelector, index: int | jax.Array | NamedArray) -> NamedArray:
    """Select along one axis by an int (dropping it) or by indices (a NamedArray's axes replace it).

    When the index shares axes with the rest of the array, those are matched element by element
    and the result keeps the array's axis order, with the index's other axes in front; otherwise
    the index's axes take the place of ``axis``.

    Examples:
        >>> import haliax as hax, jax.numpy as jnp
        >>> Pos, Sel = hax.make_axes(pos=5, sel=2)
        >>> hax.take(hax.arange(Pos), "pos", hax.named(jnp.array([4, 1]), Sel)).array.tolist()
        [4, 1]
    """
    require_named("take", array)
    out = _index("take", array, {axis: index})
    if not isinstance(index, NamedArray) or not index.axes:
        return out
    p = _lookup("take", array.axes, axis)
    rest = array.axes[:p] + array.axes[p + 1 :]
    rest_names = {a.name for a in rest}
    if not any(a.name in rest_names for a in index.axes):
        return out
    extra = tuple(a for a in index.axes if a.name not in rest_names)
    return _in_order(out, extra + rest)


def slice(
    array: NamedArray,
    axis: AxisSelector | None = None,
    new_axis: AxisSelector | None = None,
    start: Any = 0,
    length: int | Mapping[AxisSelector, int | Axis] | None = None,
) -> NamedArray:
    """Slice ``length`` elements from ``start``: one axis, or several given as dicts.

    One axis: ``slice(a, axis, new_axis=None, start=0, length=None)``; ``new_axis`` renames the
    sliced axis (an `Axis` also gives the length). Several: ``slice(a, start={...},
    length={...})``. A static start out of range is an error; a traced start is treated as
    ``jax.lax.dynamic_slice`` treats it (a negative one counts from the end, then it is clamped).

    Examples:
        >>> import haliax as hax
        >>> x = hax.arange(hax.Axis("pos", 8))
        >>> hax.slice(x, "pos", start=2, length=3).array.tolist()
        [2, 3, 4]
    """
    if isinstance(start, Mapping) or isinstance(length, Mapping):
        if axis is not None or new_axis is not None:
            raise NamedTypeError("slice: give either one axis with start/length, or start and length dicts")
        starts = dict(start) if isinstance(start, Mapping) else {}
        lengths = dict(length) if isinstance(length, Mapping) else {}
        pos_start: dict[int, Any] = {}
        pos_len: dict[int, int | Axis] = {}
        for k, v in starts.items():
            pos_start[_lookup("slice", array.axes, k)] = v
        for k, v in lengths.items():
            pos_len[_lookup("slice", array.axes, k)] = v
        for p in pos_len:
            pos_start.setdefault(p, 0)
        return _slice_many(array, pos_start, pos_len)
    if axis is None:
        raise NamedTypeError("slice: missing the axis to slice")
    p = _lookup("slice", array.axes, axis)
    if isinstance(new_axis, Axis):
        if length is not None and length != new_axis.size:
            raise AxisSizeError(f"slice: length {length} disagrees with new axis {new_axis}")
        ln: int | Axis | None = new_axis
    elif isinstance(new_axis, str):
        if length is None:
            if not _is_static_int(start):
                raise NamedIndexError("slice: a length is needed when start is traced")
            length = array.axes[p].size - int(start)
        ln = Axis(new_axis, length)
    else:
        ln = length
    return _slice_many(array, {p: start}, {} if ln is None else {p: ln})


def _slice_many(array: NamedArray, starts: dict[int, Any], lengths: dict[int, int | Axis]) -> NamedArray:
    axes = list(array.axes)
    nd = len(axes)
    lo = [0] * nd
    sizes = [ax.size for ax in axes]
    traced = False
    for p, s in starts.items():
        ax = array.axes[p]
        ln = lengths.get(p)
        if ln is None:
            if not _is_static_int(s):
                raise NamedIndexError(
                    f"slice: a length for axis {ax.name!r} is needed when its start is traced"
                )
            ln = ax.size - int(s)
        size = ln.size if isinstance(ln, Axis) else int(ln)
        if _is_static_int(s):
            s = int(s)
            if s < 0 or size < 0 or s + size > ax.size:
                raise NamedIndexError(
                    f"slice: start {s} with length {size} is out of range for axis {ax.name!r} of size {ax.size}"
                )
        else:
            traced = True
            if size > ax.size:
                raise NamedIndexError(
                    f"slice: length {size} is larger than axis {ax.name!r} of size {ax.size}"
                )
        lo[p] = s
        sizes[p] = size
        axes[p] = ln if isinstance(ln, Axis) else ax.resize(size)
    if traced:
        raw = jax.lax.dynamic_slice(array.array, lo, sizes)
    else:
        raw = jax.lax.slice(array.array, tuple(lo), tuple(a + b for a, b in zip(lo, sizes, strict=True)))
    return NamedArray._new(raw, tuple(axes))


def updated_slice(array: NamedArray, start: Mapping[AxisSelector, Any], update: NamedArray) -> NamedArray:
    """Write ``update`` into ``array`` at per-axis ``start`` offsets (``dynamic_update_slice`` by name).

    ``update``'s axes are matched to ``array``'s by name; axes of ``array`` that ``update`` lacks
    are written one element wide at their start. A start may be a NamedArray over axes of
    ``array`` (say ``batch``): then each element along them is written at its own offset, as in a
    ragged KV-cache update. Static starts out of range are an error; traced ones are treated as
    ``jax.lax.dynamic_update_slice`` treats them (negative ones count from the end, then they are
    clamped).

    Examples:
        >>> import haliax as hax, jax.numpy as jnp
        >>> Pos, Win = hax.make_axes(pos=5, win=2)
        >>> hax.updated_slice(hax.zeros(Pos), {"pos": 1}, hax.ones(Pos.resize(2))).array.tolist()
        [0.0, 1.0, 1.0, 0.0, 0.0]
        >>> cache = hax.zeros({"batch": 2, "pos": 4})
        >>> at = hax.named(jnp.array([0, 2]), "batch")
        >>> hax.updated_slice(cache, {"pos": at}, hax.ones({"batch": 2, "pos": 2})).array.tolist()
        [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
    """
    op = "updated_slice"
    require_named(op, array)
    if not isinstance(update, NamedArray):
        raise NamedTypeError(f"{op}: the update must be a NamedArray, got {type(update).__name__}")
    extra = [ax.name for ax in update.axes if ax.name not in {a.name for a in array.axes}]
    if extra:
        raise AxisNotFoundError(
            f"{op}: the update {format_shape(update.axes)} has axes {extra} that are not in the original "
            f"array with shape {format_shape(array.axes)}; rename them to axes of the array"
        )
    mapped: list[str] = []
    for s in start.values():
        if isinstance(s, NamedArray):
            mapped += [ax.name for ax in s.axes if ax.name not in mapped]
    if mapped:
        return _updated_slice_per_element(op, array, start, update, mapped)
    starts: list[Any] = [0] * array.ndim
    for k, v in start.items():
        starts[_lookup(op, array.axes, k)] = v.array if isinstance(v, NamedArray) else v
    names = {ax.name: i for i, ax in enumerate(array.axes)}
    have = {}
    for ax in update.axes:
        p = names[ax.name]
        if ax.size > array.axes[p].size:
            raise AxisSizeError(
                f"{op}: the update's axis {ax.name!r} of size {ax.size} is larger than "
                f"the array's, of size {array.axes[p].size}"
            )
        have[ax.name] = ax
    shape = tuple(have[ax.name].size if ax.name in have else 1 for ax in array.axes)
    for p, s in enumerate(starts):
        if _is_static_int(s) and not 0 <= s <= array.axes[p].size - shape[p]:
            raise NamedIndexError(
                f"{op}: start {s} with length {shape[p]} is out of range for axis "
                f"{array.axes[p].name!r} of size {array.axes[p].size}"
            )
    raw = _align_index(update, tuple(have.get(ax.name, ax.resize(1)) for ax in array.axes))
    if raw.shape != shape:
        raw = jax.lax.reshape(raw, shape)
    raw = raw.astype(array.dtype)
    return NamedArray._new(jax.lax.dynamic_update_slice(array.array, raw, starts), array.axes)


def _updated_slice_per_element(
    op: str, array: NamedArray, start: Mapping[AxisSelector, Any], update: NamedArray, mapped: list[str]
) -> NamedArray:
    """`updated_slice` with NamedArray starts: vmapped over the starts' axes."""
    names = {ax.name for ax in array.axes}
    for name in mapped:
        if name not in names:
            raise axis_not_found(op, [name], array.axes)
    fn = updated_slice
    for name in mapped:
        fn = vmap(fn, name)
    out = fn(array, start, update)
    return _in_order(out, array.axes)


# ----------------------------------------------------------------------------------------------
