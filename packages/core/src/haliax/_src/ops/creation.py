"""Creating NamedArrays: filled arrays, ``*_like`` copies, and ranges along named axes.

Every function takes an axis spec (an `Axis`, a sequence of them, or a ``{name: size}`` dict).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from ..base.axis import Axis, AxisSelector, AxisSpec, sized_axes
from ..base.errors import NamedTypeError
from ..base.named_array import NamedArray, require_named
from ..base.types import NamedOrNumeric


def _axes(op: str, shape: AxisSpec) -> tuple[Axis, ...]:
    return sized_axes(op, shape)


def full(shape: AxisSpec, fill_value: NamedOrNumeric, dtype: DTypeLike | None = None) -> NamedArray:
    """A NamedArray of the given axes filled with ``fill_value`` (dtype inferred unless given).

    Examples:
        >>> import haliax as hax
        >>> hax.full({"batch": 2}, 7).array.tolist()
        [7, 7]
    """
    axes = _axes("full", shape)
    if isinstance(fill_value, NamedArray):
        fill_value = fill_value.scalar()
    return NamedArray._new(jnp.full(tuple(ax.size for ax in axes), fill_value, dtype=dtype), axes)


def zeros(shape: AxisSpec, dtype: DTypeLike | None = None) -> NamedArray:
    """A NamedArray of zeros (float32 unless ``dtype`` is given).

    Examples:
        >>> import haliax as hax
        >>> hax.zeros(hax.make_axes(batch=2, embed=3)).shape
        {'batch': 2, 'embed': 3}
    """
    axes = _axes("zeros", shape)
    return NamedArray._new(jnp.zeros(tuple(ax.size for ax in axes), dtype=dtype or jnp.float32), axes)


def ones(shape: AxisSpec, dtype: DTypeLike | None = None) -> NamedArray:
    """A NamedArray of ones (float32 unless ``dtype`` is given).

    Examples:
        >>> import haliax as hax
        >>> hax.ones({"pos": 3}).array.tolist()
        [1.0, 1.0, 1.0]
    """
    axes = _axes("ones", shape)
    return NamedArray._new(jnp.ones(tuple(ax.size for ax in axes), dtype=dtype or jnp.float32), axes)


def zeros_like(a: NamedArray, dtype: DTypeLike | None = None) -> NamedArray:
    """Zeros with the axes (and dtype, unless given) of ``a``.

    Examples:
        >>> import haliax as hax
        >>> hax.zeros_like(hax.ones({"pos": 2})).array.tolist()
        [0.0, 0.0]
    """
    require_named("zeros_like", a)
    return NamedArray._new(jnp.zeros_like(a.array, dtype=dtype), a.axes)


def ones_like(a: NamedArray, dtype: DTypeLike | None = None) -> NamedArray:
    """Ones with the axes (and dtype, unless given) of ``a``.

    Examples:
        >>> import haliax as hax
        >>> hax.ones_like(hax.zeros({"pos": 2}), dtype=int).array.tolist()
        [1, 1]
    """
    require_named("ones_like", a)
    return NamedArray._new(jnp.ones_like(a.array, dtype=dtype), a.axes)


def full_like(a: NamedArray, fill_value: NamedOrNumeric, dtype: DTypeLike | None = None) -> NamedArray:
    """``fill_value`` everywhere, with the axes (and dtype, unless given) of ``a``.

    Examples:
        >>> import haliax as hax
        >>> hax.full_like(hax.zeros({"pos": 2}), 3).array.tolist()
        [3.0, 3.0]
    """
    require_named("full_like", a)
    if isinstance(fill_value, NamedArray):
        fill_value = fill_value.scalar()
    return NamedArray._new(jnp.full_like(a.array, fill_value, dtype=dtype), a.axes)


def empty_like(a: NamedArray, dtype: DTypeLike | None = None) -> NamedArray:
    """An array with the axes (and dtype, unless given) of ``a``; its contents are unspecified.

    Examples:
        >>> import haliax as hax
        >>> hax.empty_like(hax.zeros({"pos": 2})).shape
        {'pos': 2}
    """
    require_named("empty_like", a)
    return NamedArray._new(jnp.empty_like(a.array, dtype=dtype), a.axes)


def arange(
    axis: AxisSpec, *, start: ArrayLike = 0, step: ArrayLike = 1, dtype: DTypeLike | None = None
) -> NamedArray:
    """``start + step * i`` along an axis; several axes give the range reshaped over them.

    ``start`` may be traced; the dtype follows ``start`` and ``step`` unless given.

    Examples:
        >>> import haliax as hax
        >>> hax.arange(hax.Axis("pos", 4), start=2).array.tolist()
        [2, 3, 4, 5]
        >>> hax.arange(hax.make_axes(a=2, b=3)).array.tolist()
        [[0, 1, 2], [3, 4, 5]]
    """
    axes = _axes("arange", axis)
    if dtype is None:
        dtype = jnp.result_type(start, step)
    n = 1
    for ax in axes:
        n *= ax.size
    out = jax.lax.iota(dtype, n)
    if not (isinstance(step, int) and step == 1):
        out = out * jnp.asarray(step, dtype)
    if not (isinstance(start, int) and start == 0):
        out = jnp.asarray(start, dtype) + out
    if len(axes) != 1:
        out = jax.lax.reshape(out, tuple(ax.size for ax in axes))
    return NamedArray._new(out, axes)


def _one_axis(op: str, axis: AxisSelector) -> Axis:
    if isinstance(axis, str):
        return Axis(axis, 50)
    if isinstance(axis, Axis):
        return axis
    raise NamedTypeError(f"{op}: expected one axis (an Axis, or a name for 50 samples), got {axis!r}")


def linspace(
    axis: AxisSelector,
    *,
    start: ArrayLike,
    stop: ArrayLike,
    endpoint: bool = True,
    dtype: DTypeLike | None = None,
) -> NamedArray:
    """Evenly spaced values from ``start`` to ``stop`` along one axis (a bare name means 50 samples).

    Examples:
        >>> import haliax as hax
        >>> hax.linspace(hax.Axis("x", 3), start=0.0, stop=1.0).array.tolist()
        [0.0, 0.5, 1.0]
    """
    ax = _one_axis("linspace", axis)
    return NamedArray._new(jnp.linspace(start, stop, ax.size, endpoint=endpoint, dtype=dtype), (ax,))


def logspace(
    axis: AxisSelector,
    *,
    start: ArrayLike,
    stop: ArrayLike,
    endpoint: bool = True,
    base: ArrayLike = 10.0,
    dtype: DTypeLike | None = None,
) -> NamedArray:
    """``base ** linspace(start, stop)`` along one axis (a bare name means 50 samples).

    Examples:
        >>> import haliax as hax
        >>> hax.logspace(hax.Axis("x", 3), start=0.0, stop=2.0).array.tolist()
        [1.0, 10.0, 100.0]
    """
    ax = _one_axis("logspace", axis)
    raw = jnp.logspace(start, stop, ax.size, endpoint=endpoint, base=base, dtype=dtype)
    return NamedArray._new(raw, (ax,))


def geomspace(
    axis: AxisSelector,
    *,
    start: ArrayLike,
    stop: ArrayLike,
    endpoint: bool = True,
    dtype: DTypeLike | None = None,
) -> NamedArray:
    """Geometrically spaced values from ``start`` to ``stop`` along one axis (a bare name means 50).

    Examples:
        >>> import haliax as hax
        >>> hax.geomspace(hax.Axis("x", 3), start=1.0, stop=100.0).array.round().tolist()
        [1.0, 10.0, 100.0]
    """
    ax = _one_axis("geomspace", axis)
    return NamedArray._new(jnp.geomspace(start, stop, ax.size, endpoint=endpoint, dtype=dtype), (ax,))
