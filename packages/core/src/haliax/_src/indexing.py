"""Indexing by axis name: ``x["batch", 3]``, ``x[{"pos": hax.dslice(i, 16)}]``, gathers and ``.at`` updates.

An index maps axes to selectors. Basic selectors (ints, slices, `dslice`, traced scalars) lower to
``lax.slice`` / ``lax.dynamic_slice`` and a squeeze, never to a gather. Advanced selectors (lists,
1-d integer arrays, NamedArrays) gather: a NamedArray index's axes replace the indexed axis, several
NamedArray indices broadcast together by name, and an axis of the array that an index also has is
matched element by element (a batch axis) instead of being crossed with it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np

from .axis import Axis, AxisSelector, dslice
from .broadcast import broadcast_to
from .errors import (
    AxisSizeError,
    NamedIndexError,
    NamedTypeError,
    axis_not_found,
    axis_size_mismatch,
    format_shape,
)
from .named_array import NamedArray, require_named

# Type aliases (``Any`` at runtime, as in Haliax: the accepted values are checked when used).
NamedIndex: TypeAlias = Any
"""One axis' selector: int, slice, `dslice`, list of ints, integer array or NamedArray."""
NamedOrNumeric: TypeAlias = Any
"""A NamedArray or a scalar."""
SliceSpec: TypeAlias = Mapping[AxisSelector, NamedIndex] | tuple[Any, ...]
"""What ``x[...]`` takes: ``{axis: index}`` or a flat ``(axis, index, axis, index, ...)`` tuple."""

_builtin_slice = builtins.slice

# Kinds of per-axis selectors after classification.
_INT, _SLICE, _DSLICE, _DYN, _LIST, _NAMED = range(6)


# ----------------------------------------------------------------------------------------------
# Parsing


def _positions(op: str, array: NamedArray, idx: Any) -> dict[int, Any]:
    """``{position: selector}`` from a dict or a flat axis/index tuple."""
    if isinstance(idx, Mapping):
        items = list(idx.items())
    elif isinstance(idx, tuple):
        if len(idx) % 2:
            raise NamedIndexError(
                f"{op}: expected alternating axis names and indices like x['batch', 0, 'embed', 1:3], "
                f"got {len(idx)} items for an array {format_shape(array.axes)}"
            )
        items = list(zip(idx[::2], idx[1::2], strict=True))
    elif isinstance(idx, (str, Axis)):
        name = idx if isinstance(idx, str) else idx.name
        raise NamedIndexError(
            f"{op}: axis {name!r} is given without an index; write x[{name!r}, i] or x[{{{name!r}: i}}]"
        )
    else:
        raise NamedIndexError(
            f"{op}: positional indexing is not supported on a NamedArray {format_shape(array.axes)}; "
            f"name the axis, e.g. x[{array.axes[0].name if array.axes else 'axis'!r}, i]"
        )
    out: dict[int, Any] = {}
    for key, value in items:
        pos = _lookup(op, array.axes, key)
        if pos in out:
            raise NamedIndexError(f"{op}: axis {array.axes[pos].name!r} is indexed twice")
        out[pos] = value
    return out


def _lookup(op: str, axes: tuple[Axis, ...], key: Any) -> int:
    if isinstance(key, str):
        name = key
    elif isinstance(key, Axis):
        name = key.name
    else:
        raise NamedIndexError(
            f"{op}: expected an axis name or Axis where {key!r} is, as in x['batch', 0]; "
            f"the array has axes {format_shape(axes)}"
        )
    for i, ax in enumerate(axes):
        if ax.name == name:
            if isinstance(key, Axis) and key.size != ax.size:
                raise axis_size_mismatch(op, name, ax.size, key.size)
            return i
    raise axis_not_found(op, [name], axes)


def _is_static_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _classify(op: str, ax: Axis, v: Any) -> tuple[int, Any]:
    """The kind of a selector, and the value normalised for that kind."""
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
    if isinstance(v, dslice):
        if not _is_static_int(v.size) or v.size < 0:
            raise NamedIndexError(f"{op}: dslice size on axis {ax.name!r} must be a static non-negative int")
        if _is_static_int(v.start):
            return _DSLICE, (int(v.start), int(v.size))
        return _DSLICE, (v.start, int(v.size))
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
        if isinstance(arr, np.ndarray) and arr.size and (arr.min() < -ax.size or arr.max() >= ax.size):
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


def _fill_value(dtype: Any) -> Any:
    """What out-of-range reads produce (jax's gather ``fill`` defaults)."""
    if jnp.issubdtype(dtype, jnp.inexact):
        return jnp.nan
    if jnp.issubdtype(dtype, jnp.signedinteger):
        return jnp.iinfo(dtype).min
    if jnp.issubdtype(dtype, jnp.unsignedinteger):
        return jnp.iinfo(dtype).max
    return True


# ----------------------------------------------------------------------------------------------
# Basic indexing: slices, ints, dslices -> lax.slice / dynamic_slice / squeeze


def _basic(op: str, array: NamedArray, entries: dict[int, tuple[int, Any]]) -> NamedArray:
    """Apply ints, slices and dslices (positions into ``array``) without a gather."""
    raw = array.array
    axes = list(array.axes)
    nd = len(axes)
    starts = [0] * nd
    limits = [ax.size for ax in axes]
    strides = [1] * nd
    static = False
    rev: list[int] = []
    pads: list[tuple[int, int]] = [(0, 0)] * nd
    padded = False
    dyn: dict[int, tuple[Any, int]] = {}  # position -> (start, size)
    dyn_fill: list[tuple[int, Any]] = []
    drop: list[int] = []
    for pos, (kind, v) in sorted(entries.items()):
        ax = axes[pos]
        n = ax.size
        if kind == _INT:
            starts[pos], limits[pos] = v, v + 1
            static = True
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
            starts[pos], limits[pos], strides[pos] = lo, hi, builtins.abs(st)
            static = True
            axes[pos] = ax.resize(size)
        elif kind == _DSLICE:
            start, size = v
            if isinstance(start, int):
                lo, hi = (
                    builtins.min(builtins.max(start, 0), n),
                    builtins.max(builtins.min(start + size, n), 0),
                )
                lo = builtins.min(lo, hi)
                starts[pos], limits[pos] = lo, hi
                static = True
                if hi - lo != size:
                    before = builtins.max(builtins.min(-start, size), 0)
                    pads[pos] = (before, size - (hi - lo) - before)
                    padded = True
            else:
                if size > n:
                    raise NamedIndexError(
                        f"{op}: dslice of size {size} is larger than axis {ax.name!r} of size {n}"
                    )
                start = jnp.asarray(start)
                # Clamp here: dynamic_slice would wrap a negative start instead.
                dyn[pos] = (jnp.clip(start, 0, n - size), size)
                dyn_fill.append((pos, start))
            axes[pos] = ax.resize(size)
        else:  # _DYN: a traced scalar
            dyn[pos] = (jnp.where(v < 0, v + n, v), 1)
            drop.append(pos)
    if static:
        raw = jax.lax.slice(
            raw, tuple(starts), tuple(limits), None if max(strides, default=1) == 1 else tuple(strides)
        )
    if rev:
        raw = jax.lax.rev(raw, tuple(rev))
    if padded:
        fill = jnp.asarray(_fill_value(raw.dtype), raw.dtype)
        raw = jax.lax.pad(raw, fill, tuple((lo, hi, 0) for lo, hi in pads))
    if dyn:
        dstarts = [dyn[i][0] if i in dyn else 0 for i in range(nd)]
        sizes = [dyn[i][1] if i in dyn else raw.shape[i] for i in range(nd)]
        raw = jax.lax.dynamic_slice(raw, dstarts, sizes)
        for pos, start in dyn_fill:
            raw = _fill_out_of_range(raw, pos, start, dyn[pos][0], array.axes[pos].size)
    if drop:
        raw = jax.lax.squeeze(raw, tuple(drop))
    return NamedArray._new(raw, tuple(ax for i, ax in enumerate(axes) if i not in drop))


def _fill_out_of_range(window: Any, pos: int, start: Any, clamped: Any, n: int) -> Any:
    """Fix up a window read at the ``clamped`` start so that reads past either end fill.

    Where clamping moved the start, rotate the window back by the shift and overwrite the
    positions that fell outside ``[0, n)``.
    """
    size = window.shape[pos]
    if size == 0:
        return window
    shift = jnp.mod(start - clamped, size)
    doubled = jax.lax.concatenate([window, window], pos)
    rolled = jax.lax.dynamic_slice_in_dim(doubled, shift, size, pos)
    idx = start + jax.lax.broadcasted_iota(start.dtype, (size,), 0)
    valid = (idx >= 0) & (idx < n)
    valid = jax.lax.broadcast_in_dim(valid, window.shape, (pos,))
    return jnp.where(valid, rolled, jnp.asarray(_fill_value(window.dtype), window.dtype))


# ----------------------------------------------------------------------------------------------
# Advanced indexing: gathers by name


def _index_axes(op: str, named: list[NamedArray]) -> tuple[Axis, ...]:
    """Axes of several NamedArray indices broadcast together by name (first-seen order)."""
    out: dict[str, Axis] = {}
    for ix in named:
        for ax in ix.axes:
            seen = out.get(ax.name)
            if seen is None:
                out[ax.name] = ax
            elif seen.size != ax.size:
                raise axis_size_mismatch(op, ax.name, seen.size, ax.size)
    return tuple(out.values())


def _advanced_plan(
    op: str, axes: tuple[Axis, ...], sel: dict[int, tuple[int, Any]]
) -> tuple[tuple[Any, ...], tuple[Axis, ...]]:
    """A positional jnp index tuple and the result axes, following numpy's placement rules.

    ``sel`` maps positions to (kind, value); kinds here are _INT, _DYN, _SLICE, _NAMED (lists and
    dslices are already NamedArrays named after their axis). Array axes that an index also has
    become batch axes, indexed by an iota.
    """
    named = {p: v for p, (k, v) in sel.items() if k == _NAMED}
    idx_axes = _index_axes(op, list(named.values()))
    idx_names = {ax.name: i for i, ax in enumerate(idx_axes)}
    batch = []
    for p, ax in enumerate(axes):
        if p in sel or ax.name not in idx_names:
            continue
        if idx_axes[idx_names[ax.name]].size != ax.size:
            raise axis_size_mismatch(op, ax.name, ax.size, idx_axes[idx_names[ax.name]].size)
        batch.append(p)
    for p, (k, _) in sel.items():
        if k == _SLICE and axes[p].name in idx_names:
            raise NamedIndexError(
                f"{op}: axis {axes[p].name!r} is both sliced and an axis of an index array; "
                f"slice it first, then index"
            )
    raw: list[Any] = []
    adv: list[int] = []
    for p, ax in enumerate(axes):
        if p in named:
            ix = named[p]
            raw.append(_align_index(ix, idx_axes))
            adv.append(p)
        elif p in batch:
            shape = [1] * len(idx_axes)
            d = idx_names[ax.name]
            shape[d] = ax.size
            raw.append(jax.lax.broadcasted_iota(jnp.int32, tuple(shape), d))
            adv.append(p)
        elif p in sel:
            k, v = sel[p]
            raw.append(v)
            if k in (_INT, _DYN):
                adv.append(p)
        else:
            raw.append(_builtin_slice(None))
    rest = []
    for p, ax in enumerate(axes):
        if p in adv:
            continue
        if p in sel and sel[p][0] == _SLICE:
            ax = ax.resize(len(range(*sel[p][1].indices(ax.size))))
        rest.append((p, ax))
    if adv == list(range(adv[0], adv[-1] + 1)):
        before = tuple(ax for p, ax in rest if p < adv[0])
        after = tuple(ax for p, ax in rest if p > adv[0])
        out_axes = before + idx_axes + after
    else:
        out_axes = idx_axes + tuple(ax for _, ax in rest)
    names = [ax.name for ax in out_axes]
    dup = [n for n in names if names.count(n) > 1]
    if dup:
        raise NamedIndexError(
            f"{op}: the result would have axis {dup[0]!r} twice ({format_shape(out_axes)}); "
            f"rename the index's axis"
        )
    return tuple(raw), out_axes


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


def _named_list(ax: Axis, arr: Any) -> NamedArray:
    return NamedArray._new(jnp.asarray(arr), (ax.resize(arr.shape[0]),))


def _dslice_as_named(ax: Axis, start: Any, size: int) -> NamedArray:
    return NamedArray._new(start + jnp.arange(size, dtype=jnp.int32), (ax.resize(size),))


# ----------------------------------------------------------------------------------------------
# Public ops


def index(array: NamedArray, idx: SliceSpec) -> Any:
    """Named indexing, the function behind ``array[...]``.

    ``idx`` is a ``{axis: selector}`` dict or a flat ``(axis, selector, ...)`` tuple. An int drops
    its axis (a static one out of range is an error, never clamped); a slice or [haliax.dslice][]
    shrinks it, keeping the name; a list or 1-d integer array gathers along it, keeping the name
    with the new size; a NamedArray of indices gathers, its axes replacing the indexed axis. Axes
    that an index shares with the array are matched element by element.

    Examples:
        >>> import haliax as hax
        >>> B, E = hax.make_axes(batch=4, embed=3)
        >>> x = hax.arange((B, E))
        >>> x["batch", 1].shape, x["batch", 1:3, "embed", 0].array.tolist()
        ({'embed': 3}, [3, 6])
    """
    return _index("index", array, idx)


def _index(op: str, array: NamedArray, idx: Any) -> Any:
    require_named(op, array)
    sel = _positions(op, array, idx)
    basic: dict[int, tuple[int, Any]] = {}
    adv: dict[int, tuple[int, Any]] = {}
    for p, v in sel.items():
        kind, val = _classify(op, array.axes[p], v)
        (adv if kind in (_LIST, _NAMED) else basic)[p] = (kind, val)
    out = _basic(op, array, basic) if basic else array
    if not adv:
        return out
    # Positions of the advanced selectors in the reduced array.
    dropped = sorted(p for p, (k, _) in basic.items() if k in (_INT, _DYN))
    shifted = {p - sum(1 for d in dropped if d < p): kv for p, kv in adv.items()}
    if all(k == _LIST for k, _ in shifted.values()):
        raw = out.array
        axes = list(out.axes)
        for p, (_, arr) in sorted(shifted.items()):
            raw = raw[(_builtin_slice(None),) * p + (jnp.asarray(arr),)]
            axes[p] = axes[p].resize(arr.shape[0])
        return NamedArray._new(raw, tuple(axes))
    named = {p: (_NAMED, _named_list(out.axes[p], v) if k == _LIST else v) for p, (k, v) in shifted.items()}
    raw_idx, out_axes = _advanced_plan(op, out.axes, named)
    return NamedArray._new(out.array[raw_idx], out_axes)


def take(array: NamedArray, axis: AxisSelector, index: Any) -> NamedArray:
    """Select along one axis by an int (dropping it) or by indices (a NamedArray's axes replace it).

    Examples:
        >>> import haliax as hax, jax.numpy as jnp
        >>> Pos, Sel = hax.make_axes(pos=5, sel=2)
        >>> hax.take(hax.arange(Pos), "pos", hax.named(jnp.array([4, 1]), Sel)).array.tolist()
        [4, 1]
    """
    return _index("take", array, {axis: index})


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
    are written one element wide at their start. Static starts out of range are an error; traced
    ones are treated as ``jax.lax.dynamic_update_slice`` treats them (negative ones count from
    the end, then they are clamped).

    Examples:
        >>> import haliax as hax
        >>> Pos, Win = hax.make_axes(pos=5, win=2)
        >>> hax.updated_slice(hax.zeros(Pos), {"pos": 1}, hax.ones(Pos.resize(2))).array.tolist()
        [0.0, 1.0, 1.0, 0.0, 0.0]
    """
    if not isinstance(update, NamedArray):
        raise NamedTypeError(f"updated_slice: the update must be a NamedArray, got {type(update).__name__}")
    starts = [0] * array.ndim
    for k, v in start.items():
        starts[_lookup("updated_slice", array.axes, k)] = v
    names = {ax.name: i for i, ax in enumerate(array.axes)}
    have = {}
    for ax in update.axes:
        p = names.get(ax.name)
        if p is None:
            raise axis_not_found("updated_slice", [ax.name], array.axes)
        if ax.size > array.axes[p].size:
            raise AxisSizeError(
                f"updated_slice: the update's axis {ax.name!r} of size {ax.size} is larger than "
                f"the array's, of size {array.axes[p].size}"
            )
        have[ax.name] = ax
    shape = tuple(have[ax.name].size if ax.name in have else 1 for ax in array.axes)
    for p, s in enumerate(starts):
        if _is_static_int(s) and not 0 <= s <= array.axes[p].size - shape[p]:
            raise NamedIndexError(
                f"updated_slice: start {s} with length {shape[p]} is out of range for axis "
                f"{array.axes[p].name!r} of size {array.axes[p].size}"
            )
    raw = _align_index(update, tuple(have.get(ax.name, ax.resize(1)) for ax in array.axes))
    if raw.shape != shape:
        raw = jax.lax.reshape(raw, shape)
    raw = raw.astype(array.dtype)
    return NamedArray._new(jax.lax.dynamic_update_slice(array.array, raw, starts), array.axes)


# ----------------------------------------------------------------------------------------------
