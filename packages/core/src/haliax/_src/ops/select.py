"""Selecting, clipping, counting, searching and `unique`: ops that pick elements or resize an axis to what they found."""

from __future__ import annotations

from typing import Any, TypeVar, overload

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..base.axis import Axis, AxisSelector
from ..base.errors import AxisSizeError, NamedTypeError, format_shape
from ..base.named_array import NamedArray, require_named
from ..base.types import NamedOrNumeric
from .broadcast import broadcast_to
from .lift import NAME_IT, axis_positions, check_unnamed, named_raw, raw, sized_axis

_Tree = TypeVar("_Tree")


# ----- selection and clipping -----
@overload
def where(
    condition: NamedOrNumeric,
    x: NamedArray,
    y: NamedOrNumeric,
    fill_value: int | None = None,
    new_axis: Axis | None = None,
) -> NamedArray: ...
@overload
def where(
    condition: NamedOrNumeric,
    x: NamedOrNumeric,
    y: NamedArray,
    fill_value: int | None = None,
    new_axis: Axis | None = None,
) -> NamedArray: ...
@overload
def where(
    condition: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    fill_value: int | None = None,
    new_axis: Axis | None = None,
) -> jax.Array: ...
@overload
def where(
    condition: NamedArray,
    x: ArrayLike,
    y: ArrayLike,
    fill_value: int | None = None,
    new_axis: Axis | None = None,
) -> NamedArray | jax.Array: ...
@overload
def where(
    condition: NamedArray, x: None = None, y: None = None, *, fill_value: int, new_axis: Axis
) -> tuple[NamedArray, ...]: ...
@overload
def where(
    condition: NamedOrNumeric, x: _Tree, y: _Tree, fill_value: int | None = None, new_axis: Axis | None = None
) -> _Tree: ...
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
    axes, (c, a, b) = named_raw("where", [condition, x, y])
    out = jnp.where(c, a, b)
    if not any(isinstance(v, NamedArray) for v in (condition, x, y)):
        return out
    return NamedArray._new(out, axes)


@overload
def clip(
    array: NamedArray, a_min: NamedOrNumeric | None = None, a_max: NamedOrNumeric | None = None
) -> NamedArray: ...
@overload
def clip(array: ArrayLike, a_min: ArrayLike | None = None, a_max: ArrayLike | None = None) -> jax.Array: ...
@overload
def clip(
    array: NamedOrNumeric, a_min: NamedOrNumeric | None = None, a_max: NamedOrNumeric | None = None
) -> NamedArray | jax.Array: ...
def clip(array: Any, a_min: Any = None, a_max: Any = None) -> Any:
    """Clip ``array`` to ``[a_min, a_max]``; bounds may be NamedArrays, broadcast by name.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([-2.0, 0.5, 3.0]), "pos")
        >>> hax.clip(x, 0.0, 1.0).array.tolist()
        [0.0, 0.5, 1.0]
    """
    axes, (a, lo, hi) = named_raw("clip", [array, a_min, a_max])
    out = jnp.clip(a, lo, hi)
    if not any(isinstance(v, NamedArray) for v in (array, a_min, a_max)):
        return out
    return NamedArray._new(out, axes)


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
    x = require_named("bincount", x, fix=NAME_IT)
    Counts = sized_axis("bincount", Counts, "Counts")
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
    array = require_named("nonzero", array, fix=NAME_IT)
    size = sized_axis("nonzero", size, "size")
    out = jnp.nonzero(array.array, size=size.size, fill_value=fill_value)
    return tuple(NamedArray._new(i, (size,)) for i in out)


@overload
def searchsorted(
    a: NamedArray,
    v: NamedArray,
    side: str = "left",
    sorter: NamedOrNumeric | None = None,
    method: str = "scan",
) -> NamedArray: ...
@overload
def searchsorted(
    a: NamedArray,
    v: ArrayLike,
    side: str = "left",
    sorter: NamedOrNumeric | None = None,
    method: str = "scan",
) -> jax.Array: ...
def searchsorted(a: NamedArray, v: Any, side: str = "left", sorter: Any = None, method: str = "scan") -> Any:
    """Indices at which to insert ``v`` into the sorted one-axis ``a``; the result has ``v``'s axes.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> edges = hax.named(jnp.array([0.0, 1.0, 2.0]), "edge")
        >>> hax.searchsorted(edges, hax.named(jnp.array([0.5, 1.5]), "x")).array.tolist()
        [1, 2]
    """
    a = require_named("searchsorted", a, fix=NAME_IT)
    if len(a.axes) != 1:
        raise NamedTypeError(
            f"searchsorted: the sorted array must have one axis, got {format_shape(a.axes)}; "
            f"select or flatten the others first"
        )
    out = jnp.searchsorted(a.array, raw(v), side=side, sorter=raw(sorter), method=method)
    if isinstance(v, NamedArray):
        return NamedArray._new(out, v.axes)
    return out


# ----- unique -----
def unique(
    array: NamedArray,
    Unique: Axis,
    *,
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: AxisSelector | None = None,
    fill_value: ArrayLike | None = None,
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
    array = require_named("unique", array, fix=NAME_IT)
    Unique = sized_axis("unique", Unique, "Unique")
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
    array: NamedArray, Unique: Axis, *, axis: AxisSelector | None = None, fill_value: ArrayLike | None = None
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
    array: NamedArray, Unique: Axis, *, axis: AxisSelector | None = None, fill_value: ArrayLike | None = None
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
    array: NamedArray, Unique: Axis, *, axis: AxisSelector | None = None, fill_value: ArrayLike | None = None
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
    array: NamedArray, Unique: Axis, *, axis: AxisSelector | None = None, fill_value: ArrayLike | None = None
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


def _is_leaf_value(x: Any) -> bool:
    return isinstance(x, (int, float, complex, bool, jax.Array, np.ndarray, np.generic))


def top_k(
    arr: NamedArray, axis: AxisSelector, k: int, new_axis: AxisSelector | None = None
) -> tuple[NamedArray, NamedArray]:
    """The ``k`` largest values along ``axis`` and their indices, largest first.

    In both results ``axis`` is replaced, in place, by an axis of size ``k``: ``new_axis`` if
    given (a name or an `Axis` of size ``k``), else ``axis``'s name resized.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([[1.0, 5.0, 3.0], [4.0, 0.0, 2.0]]), ("batch", "vocab"))
        >>> values, indices = hax.top_k(x, "vocab", 2, new_axis="top")
        >>> values.axes, indices.array.tolist()
        ((Axis(name='batch', size=2), Axis(name='top', size=2)), [[1, 2], [0, 2]])
    """
    require_named("top_k", arr)
    (pos,) = axis_positions("top_k", arr, axis)
    size = arr.axes[pos].size
    if not 0 <= k <= size:
        raise AxisSizeError(
            f"top_k: k={k} does not fit axis {arr.axes[pos].name!r} of {format_shape(arr.axes)}; "
            f"k must be between 0 and {size}"
        )
    if new_axis is None:
        out_axis = Axis(arr.axes[pos].name, k)
    elif isinstance(new_axis, Axis):
        if new_axis.size != k:
            raise AxisSizeError(f"top_k: new_axis {new_axis.name!r} has size {new_axis.size} but k={k}")
        out_axis = new_axis
    else:
        out_axis = Axis(new_axis, k)
    values, indices = jax.lax.top_k(arr.array, k, axis=pos)
    axes = (*arr.axes[:pos], out_axis, *arr.axes[pos + 1 :])
    return NamedArray._new(values, axes), NamedArray._new(indices, axes)
