"""Broadcasting by name: aligning operands' axes, and explicit broadcasts to new axes.

Elementwise ops require one operand's axes to be a subset of the other's (scalars always
broadcast); the result keeps the larger operand's order. The plans that say which transposes and
reshapes to apply are computed from the axis tuples alone and cached.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from ..base.axis import Axis, AxisSelection, AxisSpec, axis_spec_to_tuple, selector_name
from ..base.errors import (
    BroadcastError,
    DuplicateAxisError,
    axis_not_found,
    axis_size_mismatch,
    format_shape,
    reported_as,
)
from ..base.named_array import NamedArray

# A plan turns an operand's raw array into one aligned with the result: an optional permutation,
# then an optional reshape that inserts size-1 dimensions for axes the operand lacks.
Plan = tuple[tuple[int, ...] | None, tuple[int, ...] | None]


def _align_plan(src: tuple[Axis, ...], dst: tuple[Axis, ...]) -> Plan:
    """How to lay ``src`` out along ``dst`` (``src`` must be a subset of ``dst``)."""
    pos = {ax.name: i for i, ax in enumerate(src)}
    order = tuple(pos[ax.name] for ax in dst if ax.name in pos)
    perm = None if order == tuple(range(len(src))) else order
    reshape = None
    if len(src) != len(dst):
        # Always equal ranks: works under jax_numpy_rank_promotion="raise", and costs nothing (a
        # reshape XLA folds under jit; inside the fused eager program otherwise).
        reshape = tuple(ax.size if ax.name in pos else 1 for ax in dst)
    return perm, reshape


def _apply_plan(array: Any, plan: Plan) -> Any:
    perm, reshape = plan
    if perm is not None:
        array = jax.lax.transpose(array, perm)
    if reshape is not None:
        array = jax.lax.reshape(array, reshape)
    return array


def _check_sizes(op: str, a: tuple[Axis, ...], b: tuple[Axis, ...]) -> None:
    sizes = {ax.name: ax.size for ax in a}
    for ax in b:
        size = sizes.get(ax.name)
        if size is not None and size != ax.size:
            raise axis_size_mismatch(op, ax.name, size, ax.size)


def _is_subset(small: tuple[Axis, ...], big: tuple[Axis, ...]) -> bool:
    names = {ax.name for ax in big}
    return all(ax.name in names for ax in small)


@functools.lru_cache(maxsize=4096)
def binary_plan(op: str, a: tuple[Axis, ...], b: tuple[Axis, ...]) -> tuple[tuple[Axis, ...], Plan, Plan]:
    """Result axes and the plans aligning ``a`` and ``b`` for an elementwise binary op."""
    _check_sizes(op, a, b)
    if len(a) >= len(b) and _is_subset(b, a):
        out = a
    elif _is_subset(a, b):
        out = b
    else:
        raise BroadcastError(
            f"{op}: cannot broadcast {format_shape(a)} with {format_shape(b)}: neither operand's axes "
            f"contain the other's, so this would be an outer product; if you mean one, add the missing "
            f"axes explicitly with x.broadcast_axis(...) or hax.broadcast_to(...)"
        )
    return out, _align_plan(a, out), _align_plan(b, out)


@functools.lru_cache(maxsize=1024)
def _fused_eager(fn: Any, pa: Plan, pb: Plan) -> Any:
    """One jitted program that aligns both operands and applies ``fn``: one dispatch in eager mode."""

    def run(x: Any, y: Any) -> Any:
        return fn(_apply_plan(x, pa), _apply_plan(y, pb))

    return jax.jit(run, inline=True)


def broadcast_binary(op: str, fn: Any, a: NamedArray, b: NamedArray) -> NamedArray:
    """``fn(a, b)`` for operands with different axes, broadcasting by name.

    Alignment and op run as one cached jitted program: eagerly one dispatch instead of one per
    transpose/reshape; under tracing it is inlined (``inline=True``), giving the same equations as
    binding them one by one, from a jaxpr jax traced once, which is cheaper than re-binding them.
    """
    out, pa, pb = binary_plan(op, a.axes, b.axes)
    return NamedArray._new(_fused_eager(fn, pa, pb)(a.array, b.array), out)


def align_pair(op: str, a: NamedArray, b: NamedArray) -> tuple[tuple[Axis, ...], Any, Any]:
    """Raw arrays of ``a`` and ``b`` laid out for an elementwise op, and the result axes."""
    out, pa, pb = binary_plan(op, a.axes, b.axes)
    return out, _apply_plan(a.array, pa), _apply_plan(b.array, pb)


def align_raw(op: str, a: NamedArray, axes: tuple[Axis, ...]) -> Any:
    """``a``'s raw array laid out along ``axes`` (which must contain ``a``'s), size 1 where it lacks one.

    jax broadcasts the size-1 dimensions itself, so nothing is materialized.
    """
    _check_sizes(op, a.axes, axes)
    if not _is_subset(a.axes, axes):
        raise axis_not_found(op, [ax.name for ax in a.axes if ax.name not in {b.name for b in axes}], axes)
    return _apply_plan(a.array, _align_plan(a.axes, axes))


def broadcast_order(a: Any, b: Any, require_subset: bool = True) -> tuple[Axis, ...]:
    """The axis order that broadcasting ``a`` with ``b`` produces."""
    a_axes = a.axes if isinstance(a, NamedArray) else tuple(a) if a is not None else ()
    b_axes = b.axes if isinstance(b, NamedArray) else tuple(b) if b is not None else ()
    if require_subset:
        return binary_plan("broadcast", a_axes, b_axes)[0]
    _check_sizes("broadcast", a_axes, b_axes)
    first, second = (b_axes, a_axes) if len(b_axes) > len(a_axes) else (a_axes, b_axes)
    names = {ax.name for ax in first}
    return first + tuple(ax for ax in second if ax.name not in names)


def _raw_broadcast(op: str, a: NamedArray, axes: tuple[Axis, ...]) -> Any:
    """``a``'s array broadcast to exactly ``axes`` (``a``'s axes must be among them)."""
    pos = {ax.name: i for i, ax in enumerate(axes)}
    for ax in a.axes:
        i = pos.get(ax.name)
        if i is None:
            raise axis_not_found(op, [ax.name], axes)
        if axes[i].size != ax.size:
            raise axis_size_mismatch(op, ax.name, ax.size, axes[i].size)
    perm, _ = _align_plan(a.axes, axes)
    array = a.array if perm is None else jax.lax.transpose(a.array, perm)
    if len(a.axes) == len(axes):
        return array
    dims = tuple(sorted(pos[ax.name] for ax in a.axes))
    return jax.lax.broadcast_in_dim(array, tuple(ax.size for ax in axes), dims)


def broadcast_to(
    a: Any, axes: AxisSelection, ensure_order: bool = True, enforce_no_extra_axes: bool = True
) -> NamedArray:
    """Broadcast a NamedArray or scalar to the given axes.

    With ``ensure_order`` the result's axes are ``axes`` (then any extra axes of ``a``); without
    it, new axes are put in front of ``a``'s. ``enforce_no_extra_axes`` makes axes of ``a`` that
    ``axes`` lacks an error.

    Examples:
        >>> import haliax as hax
        >>> B, E = hax.make_axes(batch=2, embed=3)
        >>> hax.broadcast_to(hax.ones(E), (B, E)).shape
        {'batch': 2, 'embed': 3}
    """
    own: dict[str, Axis] | None = None  # a's axes by name, built only if the target has a bare name
    target_list = []
    for t in axis_spec_to_tuple(axes):
        if not isinstance(t, Axis):
            if own is None:
                own = {ax.name: ax for ax in a.axes} if isinstance(a, NamedArray) else {}
            if t not in own:
                raise BroadcastError(
                    f"broadcast_to: axis {t!r} needs a size (the array does not have it); "
                    f"pass an Axis instead of a name"
                )
            t = own[t]
        target_list.append(t)
    target_axes = tuple(target_list)
    if not isinstance(a, NamedArray):
        arr = jnp.asarray(a)
        if arr.ndim != 0:
            raise BroadcastError(
                f"broadcast_to: got an unnamed array of shape {arr.shape}; name its axes with hax.named first"
            )
        return NamedArray._new(jnp.broadcast_to(arr, tuple(ax.size for ax in target_axes)), target_axes)
    names = {ax.name for ax in target_axes}
    extra = tuple(ax for ax in a.axes if ax.name not in names)
    if extra and enforce_no_extra_axes:
        raise BroadcastError(
            f"broadcast_to: the array {format_shape(a.axes)} has axes {[ax.name for ax in extra]} "
            f"not in the target {format_shape(target_axes)}; pass enforce_no_extra_axes=False to keep them"
        )
    _check_sizes("broadcast_to", a.axes, target_axes)
    have = {ax.name for ax in a.axes}
    # New axes go in front of ``a``'s. With ensure_order the target's axes must then appear in the
    # target's order; when they do not, the result is the target followed by ``a``'s extra axes.
    out_axes = tuple(ax for ax in target_axes if ax.name not in have) + a.axes
    if ensure_order and not _in_order(target_axes, out_axes):
        out_axes = target_axes + extra
    if out_axes == a.axes:
        return a
    return NamedArray._new(_raw_broadcast("broadcast_to", a, out_axes), out_axes)


def _in_order(needle: tuple[Axis, ...], haystack: tuple[Axis, ...]) -> bool:
    """True if the names of ``needle`` appear in ``haystack`` in the same order."""
    rest = iter(ax.name for ax in haystack)
    return all(ax.name in rest for ax in needle)


def broadcast_axis(a: NamedArray, axis: AxisSpec) -> NamedArray:
    """Add the given axes in front of ``a``'s if it lacks them (``broadcast_to`` with extra axes kept).

    When ``a`` already has the axes in another order, they are put in the given order.

    Examples:
        >>> import haliax as hax
        >>> Pos, KPos = hax.make_axes(position=4, key_position=4)
        >>> hax.arange(Pos).broadcast_axis(KPos).shape
        {'key_position': 4, 'position': 4}
    """
    with reported_as("broadcast_axis"):
        new = tuple(axis_spec_to_tuple(axis))
        names = [selector_name(ax) for ax in new]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise DuplicateAxisError(
                f"broadcast_axis: axis {dup!r} appears more than once in {format_shape(new)}; "
                f"give each new axis its own name"
            )
        out = broadcast_to(a, new, ensure_order=True, enforce_no_extra_axes=False)
    return out


def broadcast_arrays(*arrays: Any, require_subset: bool = True, ensure_order: bool = True) -> tuple[Any, ...]:
    """Broadcast NamedArrays (scalars and ``None`` pass through) to one common set of axes."""
    return broadcast_arrays_and_return_axes(
        *arrays, require_subset=require_subset, ensure_order=ensure_order
    )[0]


def broadcast_arrays_and_return_axes(
    *arrays: Any, require_subset: bool = True, ensure_order: bool = True
) -> tuple[tuple[Any, ...], tuple[Axis, ...]]:
    """[haliax.broadcast_arrays][] that also returns the common axes."""
    axes: tuple[Axis, ...] = ()
    for a in arrays:
        if isinstance(a, NamedArray):
            axes = broadcast_order(axes, a.axes, require_subset=require_subset)
    out = []
    for a in arrays:
        if isinstance(a, NamedArray) and a.axes != axes:
            if ensure_order:
                a = NamedArray._new(_raw_broadcast("broadcast_arrays", a, axes), axes)
            else:
                a = broadcast_to(a, axes, ensure_order=False, enforce_no_extra_axes=False)
        out.append(a)
    return tuple(out), axes


def broadcast_raw(op: str, arrays: Sequence[Any]) -> tuple[tuple[Axis, ...], list[Any]]:
    """Raw arrays of NamedArrays/scalars laid out over their common axes (subset rule), for n-ary ops."""
    axes: tuple[Axis, ...] | None = None
    for a in arrays:
        if isinstance(a, NamedArray):
            axes = a.axes if axes is None else binary_plan(op, axes, a.axes)[0]
    if axes is None:
        return (), list(arrays)
    out = []
    for a in arrays:
        if isinstance(a, NamedArray):
            out.append(_apply_plan(a.array, _align_plan(a.axes, axes)))
        else:
            out.append(a)
    return axes, out
