"""Shape manipulation by axis name: rename, flatten/unflatten, split, concatenate, stack, pad, tile.

Every op computes positions from the axis tuples and calls one ``jax.lax`` / ``jnp`` function on
the raw array; merged axes are made contiguous with at most one transpose.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, overload

import jax
import jax.numpy as jnp

from ..base.axis import Axis, AxisSelection, AxisSelector, AxisSpec, axis_spec_to_tuple, selector_name
from ..base.errors import (
    AxisSizeError,
    DuplicateAxisError,
    NamedTypeError,
    ShapeMismatchError,
    ValueRangeError,
    axis_not_found,
    axis_size_mismatch,
    format_shape,
)
from ..base.named_array import NamedArray, require_named
from .lift import axis_positions


def _check_unique(op: str, axes: Sequence[Axis]) -> None:
    seen: set[str] = set()
    for ax in axes:
        if ax.name in seen:
            raise DuplicateAxisError(
                f"{op}: the result would have axis {ax.name!r} twice: {format_shape(axes)}"
            )
        seen.add(ax.name)


def check_shape(jnp_shape: Sequence[int], hax_axes: AxisSelection) -> tuple[Axis, ...]:
    """Check a positional shape against an axis selection and return the sized axes.

    Bare names take their size from the shape; `Axis` sizes must match it.

    Examples:
        >>> from haliax.core import check_shape
        >>> check_shape((2, 3), ("batch", "embed"))
        (Axis(name='batch', size=2), Axis(name='embed', size=3))
    """
    spec = axis_spec_to_tuple(hax_axes)
    shape = tuple(jnp_shape)
    if len(spec) != len(shape):
        raise ShapeMismatchError(
            f"check_shape: shape {shape} has {len(shape)} dimensions but {len(spec)} axes were given: "
            f"{format_shape(spec)}"
        )
    out = []
    for sel, n in zip(spec, shape, strict=True):
        if isinstance(sel, Axis):
            if sel.size != n:
                raise ShapeMismatchError(
                    f"check_shape: axis {sel.name!r} has size {sel.size} but the shape {shape} has {n} there"
                )
            out.append(sel)
        else:
            out.append(Axis(sel, n))
    _check_unique("check_shape", out)
    return tuple(out)


# ----- renaming -----


def rename(array: NamedArray, renames: Mapping[AxisSelector, AxisSelector]) -> NamedArray:
    """Rename axes through an ``{old: new}`` mapping (names or `Axis`; sizes must agree).

    Renaming an axis the array lacks is an error.

    Examples:
        >>> import haliax as hax
        >>> x = hax.zeros(hax.make_axes(position=4, embed=2))
        >>> x.rename({"position": "key_position"}).shape
        {'key_position': 4, 'embed': 2}
    """
    require_named("rename", array)
    by_name: dict[str, Axis] = {}
    for old, new in renames.items():
        pos = axis_positions("rename", array, old)[0]
        ax = array.axes[pos]
        if isinstance(new, Axis) and new.size != ax.size:
            raise axis_size_mismatch("rename", ax.name, ax.size, new.size)
        if not isinstance(new, (str, Axis)):
            raise NamedTypeError(
                f"rename: the new name for {ax.name!r} must be a string or an Axis, got {type(new).__name__} "
                f"{new!r}; pass the new name, or an Axis of the same size (renaming cannot change a size)"
            )
        by_name[ax.name] = ax.alias(new) if isinstance(new, str) else new
    axes = tuple(by_name.get(ax.name, ax) for ax in array.axes)
    _check_unique("rename", axes)
    return NamedArray._new(array.array, axes)


# ----- flattening -----


def _merged_axis(op: str, new_axis: AxisSelector, size: int) -> Axis:
    if isinstance(new_axis, Axis):
        if new_axis.size != size:
            raise AxisSizeError(
                f"{op}: the new axis {new_axis} has size {new_axis.size} but the merged axes have {size} elements"
            )
        return new_axis
    if not isinstance(new_axis, str):
        raise NamedTypeError(
            f"{op}: the new axis must be a name or an Axis, got {type(new_axis).__name__}; "
            f"pass a name such as 'flat'"
        )
    return Axis(new_axis, size)


@overload
def flatten_axes(array: NamedArray, old_axes: AxisSelection, new_axis: AxisSelector) -> NamedArray: ...
@overload
def flatten_axes(
    array: Mapping[str, int], old_axes: AxisSelection, new_axis: AxisSelector
) -> dict[str, int]: ...
@overload
def flatten_axes(
    array: Axis | Sequence[Axis], old_axes: AxisSelection, new_axis: AxisSelector
) -> tuple[Axis, ...]: ...
def flatten_axes(array: Any, old_axes: AxisSelection, new_axis: AxisSelector) -> Any:
    """Merge several axes into one new axis, placed where the first of them was.

    Works on a NamedArray (moving the merged axes together if needed) or on an axis spec
    (a tuple of axes or a shape dict), returning the spec with the axes merged.

    Examples:
        >>> import haliax as hax
        >>> B, S, E = hax.make_axes(batch=2, seq=3, embed=4)
        >>> hax.flatten_axes(hax.zeros((B, S, E)), ("batch", "seq"), "tokens").shape
        {'tokens': 6, 'embed': 4}
    """
    sel = axis_spec_to_tuple(old_axes)
    if not isinstance(array, NamedArray):
        is_dict = isinstance(array, Mapping)
        spec = tuple(axis_spec_to_tuple(array))
        for s in spec:
            if not isinstance(s, Axis):
                raise NamedTypeError(f"flatten_axes: axis {s!r} of the spec needs a size")
        spec_axes: tuple[Axis, ...] = spec  # type: ignore[assignment]  # checked just above
        dummy = NamedArray._new(None, spec_axes)
        pos = axis_positions("flatten_axes", dummy, sel)
        new = _merged_axis("flatten_axes", new_axis, _prod(spec_axes[p].size for p in pos))
        first = min(pos) if pos else 0
        out = [ax for i, ax in enumerate(spec_axes) if i not in pos]
        out.insert(sum(1 for i in range(first) if i not in pos), new)
        _check_unique("flatten_axes", out)
        return {ax.name: ax.size for ax in out} if is_dict else tuple(out)
    pos = axis_positions("flatten_axes", array, sel)
    if not pos:
        raise NamedTypeError("flatten_axes: no axes to flatten")
    new = _merged_axis("flatten_axes", new_axis, _prod(array.axes[p].size for p in pos))
    first = min(pos)
    rest_before = [i for i in range(first) if i not in pos]
    rest_after = [i for i in range(first, array.ndim) if i not in pos]
    perm = (*rest_before, *pos, *rest_after)
    raw = array.array
    if perm != tuple(range(array.ndim)):
        raw = jax.lax.transpose(raw, perm)
    out_axes = (
        *(array.axes[i] for i in rest_before),
        new,
        *(array.axes[i] for i in rest_after),
    )
    _check_unique("flatten_axes", out_axes)
    raw = jax.lax.reshape(raw, tuple(ax.size for ax in out_axes))
    return NamedArray._new(raw, out_axes)


def _prod(sizes: Any) -> int:
    out = 1
    for s in sizes:
        out *= s
    return out


def unflatten_axis(array: NamedArray, axis: AxisSelector, new_axes: AxisSpec) -> NamedArray:
    """Split one axis into several new axes in its place (their sizes must multiply to its size).

    Examples:
        >>> import haliax as hax
        >>> x = hax.zeros(hax.Axis("tokens", 6))
        >>> hax.unflatten_axis(x, "tokens", hax.make_axes(batch=2, seq=3)).shape
        {'batch': 2, 'seq': 3}
    """
    require_named("unflatten_axis", array)
    (pos,) = axis_positions("unflatten_axis", array, axis)
    new = axis_spec_to_tuple(new_axes)  # type: ignore[arg-type]  # a ShapeDict is a valid selection
    for ax in new:
        if not isinstance(ax, Axis):
            raise NamedTypeError(f"unflatten_axis: new axis {ax!r} needs a size; pass an Axis")
    new_t: tuple[Axis, ...] = new  # type: ignore[assignment]  # checked just above
    old = array.axes[pos]
    if _prod(ax.size for ax in new_t) != old.size:
        raise AxisSizeError(
            f"unflatten_axis: the new axes {format_shape(new_t)} have {_prod(ax.size for ax in new_t)} "
            f"elements but axis {old.name!r} has {old.size}"
        )
    out_axes = array.axes[:pos] + new_t + array.axes[pos + 1 :]
    _check_unique("unflatten_axis", out_axes)
    return NamedArray._new(jax.lax.reshape(array.array, tuple(ax.size for ax in out_axes)), out_axes)


def ravel(array: NamedArray, new_axis_name: AxisSelector) -> NamedArray:
    """Flatten every axis into one new axis.

    Examples:
        >>> import haliax as hax
        >>> hax.ravel(hax.zeros(hax.make_axes(a=2, b=3)), "flat").shape
        {'flat': 6}
    """
    require_named("ravel", array)
    new = _merged_axis("ravel", new_axis_name, array.size)
    return NamedArray._new(jax.lax.reshape(array.array, (new.size,)), (new,))


flatten = ravel


def flatten_all_axes_but(
    a: NamedArray, axis_name: str, axes: AxisSelection, reorder_to_front: bool = False
) -> tuple[NamedArray, Callable[[NamedArray], NamedArray]]:
    """Flatten every axis except ``axes`` into one axis ``axis_name``; also return the inverse.

    The merged axis sits where the first merged axis was (at the front with
    ``reorder_to_front``). The returned function unflattens ``axis_name`` of an array (for
    example the result of a function applied to the flat array) back into the original axes.

    Examples:
        >>> import haliax as hax
        >>> x = hax.zeros(hax.make_axes(batch=2, seq=3, embed=4))
        >>> flat, restore = hax.core.flatten_all_axes_but(x, "rows", "embed")
        >>> flat.shape, restore(flat).shape
        ({'rows': 6, 'embed': 4}, {'batch': 2, 'seq': 3, 'embed': 4})
    """
    require_named("flatten_all_axes_but", a)
    keep = set(axis_positions("flatten_all_axes_but", a, axes))
    merged = tuple(ax for i, ax in enumerate(a.axes) if i not in keep)
    original = a.axes
    if merged:
        out = flatten_axes(a, merged, axis_name)
    else:
        out = NamedArray._new(jnp.expand_dims(a.array, 0), (Axis(axis_name, 1), *a.axes))
    if reorder_to_front and out.axes[0].name != axis_name:
        p = [ax.name for ax in out.axes].index(axis_name)
        perm = (p, *(i for i in range(out.ndim) if i != p))
        out = NamedArray._new(jax.lax.transpose(out.array, perm), tuple(out.axes[i] for i in perm))

    def restore(x: NamedArray) -> NamedArray:
        if merged:
            y = unflatten_axis(x, axis_name, merged)
        else:
            (p,) = axis_positions("flatten_all_axes_but", x, axis_name)
            y = NamedArray._new(jax.lax.squeeze(x.array, (p,)), x.axes[:p] + x.axes[p + 1 :])
        names = [ax.name for ax in y.axes]
        if set(names) == {ax.name for ax in original} and y.axes != original:
            perm = tuple(names.index(ax.name) for ax in original)
            y = NamedArray._new(jax.lax.transpose(y.array, perm), tuple(y.axes[i] for i in perm))
        return y

    return out, restore


# ----- splitting -----


def split(a: NamedArray, axis: AxisSelector, new_axes: Sequence[Axis]) -> list[NamedArray]:
    """Split one axis into consecutive pieces, one per new axis (their sizes must sum to its size).

    Examples:
        >>> import haliax as hax
        >>> x = hax.arange(hax.Axis("pos", 5))
        >>> [p.array.tolist() for p in hax.split(x, "pos", [hax.Axis("a", 2), hax.Axis("b", 3)])]
        [[0, 1], [2, 3, 4]]
    """
    require_named("split", a)
    (pos,) = axis_positions("split", a, axis)
    old = a.axes[pos]
    for ax in new_axes:
        if not isinstance(ax, Axis):
            raise NamedTypeError(f"split: new axis {ax!r} needs a size; pass Axis objects")
    total = sum(ax.size for ax in new_axes)
    if total != old.size:
        raise AxisSizeError(
            f"split: the new axes {format_shape(new_axes)} sum to {total} but axis {old.name!r} has size {old.size}"
        )
    out = []
    start = 0
    for ax in new_axes:
        axes = (*a.axes[:pos], ax, *a.axes[pos + 1 :])
        _check_unique("split", axes)
        out.append(NamedArray._new(jax.lax.slice_in_dim(a.array, start, start + ax.size, axis=pos), axes))
        start += ax.size
    return out


def unbind(array: NamedArray, axis: AxisSelector) -> list[NamedArray]:
    """The slices along an axis, each without that axis.

    Examples:
        >>> import haliax as hax
        >>> rows = hax.unbind(hax.zeros(hax.make_axes(layer=3, embed=2)), "layer")
        >>> len(rows), rows[0].shape
        (3, {'embed': 2})
    """
    require_named("unbind", array)
    (pos,) = axis_positions("unbind", array, axis)
    axes = array.axes[:pos] + array.axes[pos + 1 :]
    return [
        NamedArray._new(jax.lax.index_in_dim(array.array, i, axis=pos, keepdims=False), axes)
        for i in range(array.axes[pos].size)
    ]


def roll(
    array: NamedArray, shift: int | Sequence[int] | jax.Array | NamedArray, axis: AxisSelection
) -> NamedArray:
    """Roll elements along one or more axes (``shift`` an int, a tuple of ints, or a 0-d NamedArray).

    Examples:
        >>> import haliax as hax
        >>> hax.roll(hax.arange(hax.Axis("pos", 4)), 1, "pos").array.tolist()
        [3, 0, 1, 2]
    """
    require_named("roll", array)
    if isinstance(shift, NamedArray) and shift.axes:
        raise NamedTypeError(f"roll: the shift must be 0-d, got a NamedArray {format_shape(shift.axes)}")
    by = shift.array if isinstance(shift, NamedArray) else shift
    pos = axis_positions("roll", array, axis)
    if isinstance(axis, (str, Axis)):
        return NamedArray._new(jnp.roll(array.array, by, axis=pos[0]), array.axes)
    return NamedArray._new(jnp.roll(array.array, by, axis=pos), array.axes)


# ----- combining -----


def _aligned_raw(op: str, a: NamedArray, axes: tuple[Axis, ...], skip: str | None = None) -> Any:
    """``a``'s raw array transposed to ``axes``' order (sizes checked, except along ``skip``)."""
    if a.axes == axes:
        return a.array
    mine = {ax.name: i for i, ax in enumerate(a.axes)}
    if set(mine) != {ax.name for ax in axes}:
        raise ShapeMismatchError(
            f"{op}: arrays must have the same axes, got {format_shape(axes)} and {format_shape(a.axes)}"
        )
    for ax in axes:
        other = a.axes[mine[ax.name]]
        if ax.name != skip and other.size != ax.size:
            raise axis_size_mismatch(op, ax.name, ax.size, other.size)
    perm = tuple(mine[ax.name] for ax in axes)
    return a.array if perm == tuple(range(len(perm))) else jax.lax.transpose(a.array, perm)


def concatenate(axis: AxisSelector, arrays: Sequence[NamedArray]) -> NamedArray:
    """Concatenate along an existing axis; the result keeps the first array's axis order.

    If ``axis`` is an `Axis`, its size must equal the summed size.

    Examples:
        >>> import haliax as hax
        >>> a, b = hax.arange(hax.Axis("pos", 2)), hax.arange(hax.Axis("pos", 3))
        >>> hax.concatenate("pos", [a, b]).array.tolist()
        [0, 1, 0, 1, 2]
    """
    arrays = list(arrays)
    if not arrays:
        raise NamedTypeError("concatenate: needs at least one array")
    for x in arrays:
        require_named("concatenate", x)
    name = selector_name(axis)
    first = arrays[0]
    pos = [ax.name for ax in first.axes].index(name) if first.has_axis(name) else None
    if pos is None:
        raise axis_not_found("concatenate", [name], first.axes)
    raws = []
    total = 0
    for x in arrays:
        if not x.has_axis(name):
            raise axis_not_found("concatenate", [name], x.axes)
        raws.append(_aligned_raw("concatenate", x, first.axes, skip=name))
        total += x.resolve_axis(name).size
    new = Axis(name, total)
    if isinstance(axis, Axis) and axis.size != total:
        raise AxisSizeError(
            f"concatenate: axis {axis} was given but the arrays' {name!r} axes sum to size {total}"
        )
    out_axes = (*first.axes[:pos], new, *first.axes[pos + 1 :])
    raw = raws[0] if len(raws) == 1 else jax.lax.concatenate(raws, pos)
    return NamedArray._new(raw, out_axes)


def stack(axis: AxisSelector, arrays: Sequence[NamedArray]) -> NamedArray:
    """Stack arrays along a new leading axis of size ``len(arrays)``.

    Inputs are first laid out in the first array's axis order.

    Examples:
        >>> import haliax as hax
        >>> E = hax.Axis("embed", 3)
        >>> hax.stack("layer", [hax.zeros(E), hax.ones(E)]).shape
        {'layer': 2, 'embed': 3}
    """
    arrays = list(arrays)
    if not arrays:
        raise NamedTypeError("stack: needs at least one array")
    for x in arrays:
        require_named("stack", x)
    new = Axis(selector_name(axis), len(arrays))
    if isinstance(axis, Axis) and axis.size != len(arrays):
        raise AxisSizeError(f"stack: axis {axis} was given but {len(arrays)} arrays were passed")
    first = arrays[0]
    if first.has_axis(new.name):
        raise DuplicateAxisError(
            f"stack: the arrays already have an axis {new.name!r}: {format_shape(first.axes)}"
        )
    raws = [jax.lax.expand_dims(_aligned_raw("stack", x, first.axes), (0,)) for x in arrays]
    raw = raws[0] if len(raws) == 1 else jax.lax.concatenate(raws, 0)
    return NamedArray._new(raw, (new, *first.axes))


# ----- padding, tiling, repeating -----


def pad(
    array: NamedArray,
    pad_width: Mapping[AxisSelector, tuple[int, int] | int],
    *,
    mode: str = "constant",
    constant_values: Any = 0,
    **kwargs: Any,
) -> NamedArray:
    """Pad by name: ``pad_width`` maps axes to ``(before, after)`` (or one int for both).

    ``mode`` and the other options are those of ``jnp.pad``; padded axes grow.

    Examples:
        >>> import haliax as hax
        >>> hax.pad(hax.arange(hax.Axis("pos", 3)), {"pos": (1, 2)}).array.tolist()
        [0, 0, 1, 2, 0, 0]
    """
    require_named("pad", array)
    widths = [(0, 0)] * array.ndim
    for ax, w in pad_width.items():
        (p,) = axis_positions("pad", array, ax)
        before, after = (w, w) if isinstance(w, int) else w
        if before < 0 or after < 0:
            raise AxisSizeError(
                f"pad: pad widths must be non-negative, got {(before, after)} for axis {selector_name(ax)!r}"
            )
        widths[p] = (int(before), int(after))
    out_axes = tuple(ax.resize(ax.size + b + e) for ax, (b, e) in zip(array.axes, widths, strict=True))
    if mode == "constant" and not kwargs:
        if isinstance(constant_values, NamedArray):
            constant_values = constant_values.scalar()
        fill = jnp.asarray(constant_values, dtype=array.dtype)
        if fill.ndim == 0:
            raw = jax.lax.pad(array.array, fill, tuple((b, e, 0) for b, e in widths))
            return NamedArray._new(raw, out_axes)
    if mode == "constant":
        kwargs["constant_values"] = constant_values
    raw = jnp.pad(array.array, widths, mode=mode, **kwargs)
    return NamedArray._new(raw, out_axes)


def pad_left(array: NamedArray, axis: AxisSelector, new_axis: AxisSelector, value: Any = 0) -> NamedArray:
    """Pad ``axis`` on the left with ``value`` so that it becomes ``new_axis`` (at least as large).

    Examples:
        >>> import haliax as hax
        >>> hax.pad_left(hax.arange(hax.Axis("pos", 2)), "pos", hax.Axis("pos", 4)).array.tolist()
        [0, 0, 0, 1]
    """
    require_named("pad_left", array)
    (p,) = axis_positions("pad_left", array, axis)
    old = array.axes[p]
    if not isinstance(new_axis, Axis):
        raise NamedTypeError(f"pad_left: new_axis {new_axis!r} needs a size; pass an Axis")
    if new_axis.size < old.size:
        raise AxisSizeError(f"pad_left: new axis {new_axis} is smaller than axis {old}")
    out = pad(array, {old.name: (new_axis.size - old.size, 0)}, constant_values=value)
    axes = (*out.axes[:p], new_axis, *out.axes[p + 1 :])
    _check_unique("pad_left", axes)
    return NamedArray._new(out.array, axes)


def tile(a: NamedArray, reps: Mapping[AxisSelector, int]) -> NamedArray:
    """Tile by axis: existing axes are repeated ``reps`` times; unknown names become new leading axes.

    Examples:
        >>> import haliax as hax
        >>> x = hax.arange(hax.Axis("pos", 2))
        >>> hax.tile(x, {"pos": 2, "copy": 3}).shape
        {'copy': 3, 'pos': 4}
    """
    require_named("tile", a)
    names = {ax.name: i for i, ax in enumerate(a.axes)}
    per_dim = [1] * a.ndim
    new_axes: list[Axis] = []
    for ax, r in reps.items():
        name = selector_name(ax)
        if isinstance(r, bool) or not hasattr(r, "__index__") or r < 0:
            raise ValueRangeError(
                f"tile: the repetition count for axis {name!r} must be a non-negative integer, got {r!r}"
            )
        if name in names:
            per_dim[names[name]] = int(r)
        else:
            if isinstance(ax, Axis) and ax.size != r:
                raise AxisSizeError(f"tile: new axis {ax} disagrees with its repetition count {r}")
            new_axes.append(Axis(name, int(r)))
    out_axes = (*new_axes, *(ax.resize(ax.size * n) for ax, n in zip(a.axes, per_dim, strict=True)))
    raw = jnp.tile(a.array, (*(ax.size for ax in new_axes), *per_dim))
    return NamedArray._new(raw, out_axes)


def repeat(
    a: NamedArray, repeats: Any, axis: AxisSelector, total_repeat_length: int | None = None
) -> NamedArray:
    """Repeat each element along an axis (``jnp.repeat``); the axis keeps its name with the new size.

    Examples:
        >>> import haliax as hax
        >>> hax.repeat(hax.arange(hax.Axis("pos", 2)), 2, "pos").array.tolist()
        [0, 0, 1, 1]
    """
    require_named("repeat", a)
    (p,) = axis_positions("repeat", a, axis)
    if isinstance(repeats, NamedArray):
        repeats = repeats.array
    raw = jnp.repeat(a.array, repeats, axis=p, total_repeat_length=total_repeat_length)
    axes = (*a.axes[:p], a.axes[p].resize(raw.shape[p]), *a.axes[p + 1 :])
    return NamedArray._new(raw, axes)
