"""Ops with no single jax.numpy counterpart that models still need: `top_k`."""

from __future__ import annotations

import jax

from .axis import Axis, AxisSelector
from .errors import AxisSizeError, NamedTypeError, format_shape
from .lift import axis_positions
from .named_array import NamedArray, require_named


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
