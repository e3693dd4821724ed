"""Assorted named ops: selection, clipping, comparison, counting, triangles, searching and `unique`.

`isclose` comes from the `binary` factory; the rest take several arrays, add or resize axes, or
return tuples or Python bools, so they are written by hand. N-ary ops broadcast by name through
`broadcast.broadcast_raw` (one operand's axes must contain every other's).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .axis import Axis, AxisSelector, selector_name
from .broadcast import broadcast_raw, broadcast_to
from .errors import BroadcastError, NamedTypeError, format_shape
from .lift import axis_positions, binary, check_unnamed, raw
from .named_array import NamedArray, require_named

_NAME_IT = "name its axes with hax.named"


def _sized(op: str, axis: Any, what: str) -> Axis:
    if not isinstance(axis, Axis):
        raise NamedTypeError(
            f"{op}: {what} must be an Axis with a size (the output size is static), got {axis!r}; "
            f"pass e.g. hax.Axis({selector_name(axis)!r}, n)"
        )
    return axis


def _named_raw(op: str, arrays: list[Any]) -> tuple[tuple[Axis, ...], list[Any]]:
    """``broadcast_raw`` that also rejects unnamed arrays with dimensions."""
    axes, out = broadcast_raw(op, arrays)
    if any(isinstance(a, NamedArray) for a in arrays):
        for a in arrays:
            if not isinstance(a, NamedArray):
                check_unnamed(op, axes, a)
    return axes, out


def _is_leaf_value(x: Any) -> bool:
    return isinstance(x, (int, float, complex, bool, jax.Array, np.ndarray, np.generic))


def raw_array_or_scalar(x: Any) -> Any:
    """``x.array`` for a NamedArray; anything else is returned unchanged."""
    return raw(x)


# ----- selection and clipping -----
def where(
    condition: Any,
    x: Any = None,
    y: Any = None,
    fill_value: int | None = None,
    new_axis: Axis | None = None,
) -> Any:
    """Select from ``x`` where ``condition`` holds, else from ``y``, broadcasting by name.

    With only ``condition`` this is [haliax.nonzero][]: it returns a tuple of index arrays (one per
    axis of ``condition``) along ``new_axis``, padded with ``fill_value``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([-1.0, 2.0, -3.0]), "pos")
        >>> hax.where(x > 0, x, 0.0).array.tolist()
        [0.0, 2.0, 0.0]
    """
    if x is None and y is None:
        if fill_value is None or new_axis is None:
            raise NamedTypeError(
                "where: the one-argument form needs fill_value= and new_axis= (the number of results "
                "is static in jax); or pass x and y to select elementwise"
            )
        return nonzero(condition, new_axis, fill_value=fill_value)
    if x is None or y is None:
        raise NamedTypeError("where: pass both x and y, or neither (for the index form)")
    if not isinstance(x, NamedArray) and not isinstance(y, NamedArray) and jnp.ndim(raw(condition)) == 0:
        # A scalar condition picks one of two unnamed values: the result is unnamed too (a 0-d
        # NamedArray condition included); pytrees with one structure are picked whole.
        c = raw(condition)
        if _is_leaf_value(x) and _is_leaf_value(y):
            return jnp.where(c, x, y)
        return jax.lax.cond(c, lambda: x, lambda: y)
    axes, (c, a, b) = _named_raw("where", [condition, x, y])
    out = jnp.where(c, a, b)
    if not any(isinstance(v, NamedArray) for v in (condition, x, y)):
        return out
    return NamedArray._new(out, axes)


def clip(array: Any, a_min: Any = None, a_max: Any = None) -> Any:
    """Clip ``array`` to ``[a_min, a_max]``; bounds may be NamedArrays, broadcast by name.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([-2.0, 0.5, 3.0]), "pos")
        >>> hax.clip(x, 0.0, 1.0).array.tolist()
        [0.0, 0.5, 1.0]
    """
    axes, (a, lo, hi) = _named_raw("clip", [array, a_min, a_max])
    out = jnp.clip(a, lo, hi)
    if not any(isinstance(v, NamedArray) for v in (array, a_min, a_max)):
        return out
    return NamedArray._new(out, axes)


# ----- comparison -----
isclose = binary(
    jnp.isclose,
    name="isclose",
    summary="Elementwise closeness test (rtol, atol, equal_nan), broadcasting by name.",
)


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True if every element of ``a`` is close to ``b``'s, broadcasting by name (a Python bool).

    The answer is a Python bool, so the arrays must be concrete (not traced under ``jit``);
    under ``jit`` use ``hax.all(hax.isclose(a, b))``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.ones((2, 3)), ("batch", "embed"))
        >>> hax.allclose(x, hax.named(x.array.T, ("embed", "batch")) + 1e-9)
        True
    """
    _, (x, y) = _named_raw("allclose", [a, b])
    return bool(jnp.allclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))


def array_equal(a: Any, b: Any) -> bool:
    """True if both have the same axes (names and sizes, in any order) and equal values.

    Axis order does not matter: arrays are compared by name. Returns a Python bool, so the
    arrays must be concrete.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.arange(6).reshape(2, 3), ("batch", "embed"))
        >>> xt = hax.named(x.array.T, ("embed", "batch"))
        >>> hax.array_equal(x, xt), hax.array_equal(x, x.sum("embed"))
        (True, False)
    """
    if isinstance(a, NamedArray) and isinstance(b, NamedArray):
        if set(a.axes) != set(b.axes):
            return False
        if a.axes != b.axes:
            b = broadcast_to(b, a.axes, ensure_order=True, enforce_no_extra_axes=True)
        return bool(jnp.array_equal(a.array, b.array))
    if isinstance(a, NamedArray) or isinstance(b, NamedArray):
        named = a if isinstance(a, NamedArray) else b
        other = b if named is a else a
        if named.axes or jnp.ndim(other) != 0:
            return False
    return bool(jnp.array_equal(raw(a), raw(b)))


def array_equiv(a: Any, b: Any) -> bool:
    """True if the arrays broadcast together by name and are equal everywhere (a Python bool).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.ones((2, 3)), ("batch", "embed"))
        >>> hax.array_equiv(x, x.sum("batch") / 2), hax.array_equiv(x, 2.0)
        (True, False)
    """
    try:
        _, (x, y) = _named_raw("array_equiv", [a, b])
    except BroadcastError:
        return False
    return bool(jnp.array_equiv(x, y))


# ----- counting, indices, bits -----
def bincount(x: NamedArray, Counts: Axis, *, weights: Any = None, minlength: int = 0) -> NamedArray:
    """Count occurrences of each non-negative int of ``x`` (all axes), into the ``Counts`` axis.

    ``Counts.size`` is the static number of bins: values at or past it are dropped. ``weights``
    (broadcast to ``x``'s axes by name) sums weights instead of counting.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([0, 1, 1, 3]), "pos")
        >>> hax.bincount(x, hax.Axis("count", 5)).array.tolist()
        [1, 2, 0, 1, 0]
    """
    x = require_named("bincount", x, fix=_NAME_IT)
    Counts = _sized("bincount", Counts, "Counts")
    w = None
    if weights is not None:
        if isinstance(weights, NamedArray):
            w = broadcast_to(weights, x.axes, ensure_order=True, enforce_no_extra_axes=True).array
        else:
            w = jnp.broadcast_to(check_unnamed("bincount", x.axes, weights), x.array.shape)
        w = jnp.ravel(w)
    out = jnp.bincount(jnp.ravel(x.array), w, minlength=minlength, length=Counts.size)
    return NamedArray._new(out, (Counts,))


def nonzero(array: NamedArray, size: Axis, fill_value: int = 0) -> tuple[NamedArray, ...]:
    """Indices of the nonzero elements: one index array per axis of ``array``, along ``size``.

    ``size`` fixes the (static) number of results; missing ones are ``fill_value``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([0, 3, 0, 5]), "pos")
        >>> (idx,) = hax.nonzero(x, hax.Axis("hit", 3), fill_value=-1)
        >>> idx.array.tolist()
        [1, 3, -1]
    """
    array = require_named("nonzero", array, fix=_NAME_IT)
    size = _sized("nonzero", size, "size")
    out = jnp.nonzero(array.array, size=size.size, fill_value=fill_value)
    return tuple(NamedArray._new(i, (size,)) for i in out)


def packbits(a: NamedArray, axis: AxisSelector, bitorder: str = "big") -> NamedArray:
    """Pack booleans along ``axis`` into ``uint8`` bits: the axis shrinks to ``ceil(n / 8)``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> bits = hax.named(jnp.array([1, 0, 1, 0, 0, 0, 0, 1], dtype=bool), "bit")
        >>> hax.packbits(bits, "bit").array.tolist()
        [161]
    """
    a = require_named("packbits", a, fix=_NAME_IT)
    (pos,) = axis_positions("packbits", a, axis)
    out = jnp.packbits(a.array, axis=pos, bitorder=bitorder)
    return NamedArray._new(out, _resized(a.axes, pos, out.shape[pos]))


def unpackbits(
    a: NamedArray, axis: AxisSelector, count: int | None = None, bitorder: str = "big"
) -> NamedArray:
    """Unpack ``uint8`` values along ``axis`` into bits: the axis grows to ``8 * n`` (or ``count``).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([161], dtype=jnp.uint8), "byte")
        >>> hax.unpackbits(x, "byte").array.tolist()
        [1, 0, 1, 0, 0, 0, 0, 1]
    """
    a = require_named("unpackbits", a, fix=_NAME_IT)
    (pos,) = axis_positions("unpackbits", a, axis)
    out = jnp.unpackbits(a.array, axis=pos, count=count, bitorder=bitorder)
    return NamedArray._new(out, _resized(a.axes, pos, out.shape[pos]))


def _resized(axes: tuple[Axis, ...], pos: int, size: int) -> tuple[Axis, ...]:
    return (*axes[:pos], Axis(axes[pos].name, size), *axes[pos + 1 :])


def searchsorted(a: NamedArray, v: Any, side: str = "left", sorter: Any = None, method: str = "scan") -> Any:
    """Indices at which to insert ``v`` into the sorted one-axis ``a``; the result has ``v``'s axes.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> edges = hax.named(jnp.array([0.0, 1.0, 2.0]), "edge")
        >>> hax.searchsorted(edges, hax.named(jnp.array([0.5, 1.5]), "x")).array.tolist()
        [1, 2]
    """
    a = require_named("searchsorted", a, fix=_NAME_IT)
    if len(a.axes) != 1:
        raise NamedTypeError(
            f"searchsorted: the sorted array must have one axis, got {format_shape(a.axes)}; "
            f"select or flatten the others first"
        )
    out = jnp.searchsorted(a.array, raw(v), side=side, sorter=raw(sorter), method=method)
    if isinstance(v, NamedArray):
        return NamedArray._new(out, v.axes)
    return out


# ----- diagonals and triangles over two named axes -----
def _two_axes(op: str, array: NamedArray, axis1: AxisSelector, axis2: AxisSelector) -> tuple[int, int]:
    p1, p2 = axis_positions(op, array, (axis1, axis2))
    if p1 == p2:
        raise NamedTypeError(
            f"{op}: axis1 and axis2 must be different axes, both are {array.axes[p1].name!r}"
        )
    return p1, p2


def trace(
    array: NamedArray, axis1: AxisSelector, axis2: AxisSelector, offset: int = 0, dtype: Any = None
) -> NamedArray:
    """Sum along the diagonal over ``axis1`` and ``axis2`` (shifted by ``offset``); both axes go.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> m = hax.named(jnp.arange(9.0).reshape(3, 3), ("row", "col"))
        >>> hax.trace(m, "row", "col").item()
        12.0
    """
    array = require_named("trace", array, fix=_NAME_IT)
    p1, p2 = _two_axes("trace", array, axis1, axis2)
    out = jnp.trace(array.array, offset=offset, axis1=p1, axis2=p2, dtype=dtype)
    return NamedArray._new(out, tuple(ax for i, ax in enumerate(array.axes) if i not in (p1, p2)))


def _triangle(
    op: str, array: NamedArray, axis1: AxisSelector, axis2: AxisSelector, k: int, lower: bool
) -> NamedArray:
    array = require_named(op, array, fix=_NAME_IT)
    p1, p2 = _two_axes(op, array, axis1, axis2)
    shape = array.array.shape
    rows = jax.lax.broadcasted_iota(jnp.int32, shape, p1)
    cols = jax.lax.broadcasted_iota(jnp.int32, shape, p2)
    keep = cols - rows <= k if lower else cols - rows >= k
    out = jnp.where(keep, array.array, jnp.zeros((), array.dtype))
    # As in Haliax, the two axes move to the end, rows then columns.
    perm = (*(i for i in range(array.ndim) if i not in (p1, p2)), p1, p2)
    if perm != tuple(range(array.ndim)):
        out = jax.lax.transpose(out, perm)
    return NamedArray._new(out, tuple(array.axes[i] for i in perm))


def tril(array: NamedArray, axis1: AxisSelector, axis2: AxisSelector, k: int = 0) -> NamedArray:
    """Lower triangle over ``axis1`` (rows) and ``axis2`` (columns): entries above diagonal ``k`` become 0.

    As in Haliax, the result's last two axes are ``axis1`` then ``axis2``; the others keep their order.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> m = hax.named(jnp.ones((2, 2)), ("row", "col"))
        >>> hax.tril(m, "row", "col").array.tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    return _triangle("tril", array, axis1, axis2, k, lower=True)


def triu(array: NamedArray, axis1: AxisSelector, axis2: AxisSelector, k: int = 0) -> NamedArray:
    """Upper triangle over ``axis1`` (rows) and ``axis2`` (columns): entries below diagonal ``k`` become 0.

    As in Haliax, the result's last two axes are ``axis1`` then ``axis2``; the others keep their order.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> m = hax.named(jnp.ones((2, 2)), ("row", "col"))
        >>> hax.triu(m, "row", "col").array.tolist()
        [[1.0, 1.0], [0.0, 1.0]]
    """
    return _triangle("triu", array, axis1, axis2, k, lower=False)


# ----- unique -----
def unique(
    array: NamedArray,
    Unique: Axis,
    *,
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: AxisSelector | None = None,
    fill_value: Any = None,
) -> NamedArray | tuple[NamedArray, ...]:
    """Sorted unique values of ``array`` along the ``Unique`` axis, whose size is static.

    Missing entries (fewer distinct values than ``Unique.size``) are ``fill_value`` (default: the
    smallest value). With ``axis``, unique slices along that axis are found instead: the values
    keep the other axes and ``axis`` is replaced by ``Unique``. ``return_index`` and
    ``return_counts`` are along ``Unique``; ``return_inverse`` has ``array``'s axes (or ``axis``).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([3, 1, 3, 2]), "pos")
        >>> hax.unique(x, hax.Axis("uniq", 3)).array.tolist()
        [1, 2, 3]
    """
    array = require_named("unique", array, fix=_NAME_IT)
    Unique = _sized("unique", Unique, "Unique")
    pos = None if axis is None else axis_positions("unique", array, axis)[0]
    res = jnp.unique(
        array.array,
        return_index=return_index,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=pos,
        size=Unique.size,
        fill_value=fill_value,
    )
    parts = list(res) if isinstance(res, tuple) else [res]
    if pos is None:
        value_axes: tuple[Axis, ...] = (Unique,)
        inverse_axes = array.axes
    else:
        value_axes = (*array.axes[:pos], Unique, *array.axes[pos + 1 :])
        inverse_axes = (array.axes[pos],)
    out = [NamedArray._new(parts.pop(0), value_axes)]
    if return_index:
        out.append(NamedArray._new(parts.pop(0), (Unique,)))
    if return_inverse:
        out.append(NamedArray._new(jnp.reshape(parts.pop(0), [ax.size for ax in inverse_axes]), inverse_axes))
    if return_counts:
        out.append(NamedArray._new(parts.pop(0), (Unique,)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_values(
    array: NamedArray, Unique: Axis, *, axis: AxisSelector | None = None, fill_value: Any = None
) -> NamedArray:
    """Sorted unique values along the ``Unique`` axis (see [haliax.unique][]).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([2, 2, 5]), "pos")
        >>> hax.unique_values(x, hax.Axis("uniq", 3), fill_value=0).array.tolist()
        [2, 5, 0]
    """
    return unique(array, Unique, axis=axis, fill_value=fill_value)  # type: ignore[return-value]  # one result


def unique_counts(
    array: NamedArray, Unique: Axis, *, axis: AxisSelector | None = None, fill_value: Any = None
) -> tuple[NamedArray, NamedArray]:
    """``(values, counts)``: unique values and how often each occurs, along ``Unique``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([2, 2, 5]), "pos")
        >>> values, counts = hax.unique_counts(x, hax.Axis("uniq", 2))
        >>> counts.array.tolist()
        [2, 1]
    """
    return unique(array, Unique, return_counts=True, axis=axis, fill_value=fill_value)  # type: ignore[return-value]  # two results


def unique_inverse(
    array: NamedArray, Unique: Axis, *, axis: AxisSelector | None = None, fill_value: Any = None
) -> tuple[NamedArray, NamedArray]:
    """``(values, inverse)``: unique values, and for each element of ``array`` its index in them.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([5, 2, 5]), "pos")
        >>> values, inverse = hax.unique_inverse(x, hax.Axis("uniq", 2))
        >>> inverse.array.tolist()
        [1, 0, 1]
    """
    return unique(array, Unique, return_inverse=True, axis=axis, fill_value=fill_value)  # type: ignore[return-value]  # two results


def unique_all(
    array: NamedArray, Unique: Axis, *, axis: AxisSelector | None = None, fill_value: Any = None
) -> tuple[NamedArray, NamedArray, NamedArray, NamedArray]:
    """``(values, indices, inverse, counts)`` in one call (see [haliax.unique][]).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([5, 2, 5]), "pos")
        >>> values, indices, inverse, counts = hax.unique_all(x, hax.Axis("uniq", 2))
        >>> values.array.tolist(), indices.array.tolist(), counts.array.tolist()
        ([2, 5], [1, 0], [1, 2])
    """
    return unique(  # type: ignore[return-value]  # four results
        array,
        Unique,
        return_index=True,
        return_inverse=True,
        return_counts=True,
        axis=axis,
        fill_value=fill_value,
    )
