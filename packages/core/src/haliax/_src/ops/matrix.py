"""Ops on a pair of axes seen as a matrix (`trace`, `tril`, `triu`), and bit packing along one axis."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike

from ..base.axis import Axis, AxisSelector
from ..base.errors import NamedTypeError
from ..base.named_array import NamedArray, require_named
from .lift import NAME_IT, axis_positions


# ----- diagonals and triangles over two named axes -----
def _two_axes(op: str, array: NamedArray, axis1: AxisSelector, axis2: AxisSelector) -> tuple[int, int]:
    p1, p2 = axis_positions(op, array, (axis1, axis2))
    if p1 == p2:
        raise NamedTypeError(
            f"{op}: axis1 and axis2 must be different axes, both are {array.axes[p1].name!r}"
        )
    return p1, p2


def trace(
    array: NamedArray,
    axis1: AxisSelector,
    axis2: AxisSelector,
    offset: int = 0,
    dtype: DTypeLike | None = None,
) -> NamedArray:
    """Sum along the diagonal over ``axis1`` and ``axis2`` (shifted by ``offset``); both axes go.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> m = hax.named(jnp.arange(9.0).reshape(3, 3), ("row", "col"))
        >>> hax.trace(m, "row", "col").item()
        12.0
    """
    array = require_named("trace", array, fix=NAME_IT)
    p1, p2 = _two_axes("trace", array, axis1, axis2)
    out = jnp.trace(array.array, offset=offset, axis1=p1, axis2=p2, dtype=dtype)
    return NamedArray._new(out, tuple(ax for i, ax in enumerate(array.axes) if i not in (p1, p2)))


def _triangle(
    op: str, array: NamedArray, axis1: AxisSelector, axis2: AxisSelector, k: int, lower: bool
) -> NamedArray:
    array = require_named(op, array, fix=NAME_IT)
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


def _resized(axes: tuple[Axis, ...], pos: int, size: int) -> tuple[Axis, ...]:
    return (*axes[:pos], Axis(axes[pos].name, size), *axes[pos + 1 :])


def packbits(a: NamedArray, axis: AxisSelector, bitorder: str = "big") -> NamedArray:
    """Pack booleans along ``axis`` into ``uint8`` bits: the axis shrinks to ``ceil(n / 8)``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> bits = hax.named(jnp.array([1, 0, 1, 0, 0, 0, 0, 1], dtype=bool), "bit")
        >>> hax.packbits(bits, "bit").array.tolist()
        [161]
    """
    a = require_named("packbits", a, fix=NAME_IT)
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
    a = require_named("unpackbits", a, fix=NAME_IT)
    (pos,) = axis_positions("unpackbits", a, axis)
    out = jnp.unpackbits(a.array, axis=pos, count=count, bitorder=bitorder)
    return NamedArray._new(out, _resized(a.axes, pos, out.shape[pos]))
