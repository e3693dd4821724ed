"""Discrete Fourier transforms over named axes, and their frequency helpers.

Every transform takes ``axis`` as one axis name, a sequence of axes (an n-d transform), or a
mapping ``{axis: size}`` that also sets the transform length (jnp's ``n``/``s``): an int keeps the
name, an `Axis` renames the output axis, ``None`` keeps the input length. A single `Axis` is the
one-entry mapping: its size is the transform length and it names the output axis. Without
``axis`` the last axis is transformed, as in jax.numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

import jax.numpy as jnp
from jax.typing import DTypeLike

from ..base.axis import Axis, AxisSelection, AxisSelector
from ..base.errors import NamedTypeError
from ..base.named_array import NamedArray, require_named
from .lift import axis_positions

AxisSizeLike: TypeAlias = int | Axis | None
AxisMapping: TypeAlias = Mapping[AxisSelector, AxisSizeLike]
FFTAxes: TypeAlias = AxisSelector | Sequence[AxisSelector] | AxisMapping


def _plan(
    op: str, a: Any, axis: FFTAxes | None
) -> tuple[NamedArray, tuple[int, ...], tuple[int, ...] | None, list[str]]:
    """Positions of the transformed axes, the lengths (jnp ``s``; None = keep), output names."""
    require_named(op, a)
    if isinstance(axis, Mapping):
        selectors = tuple(axis.keys())
        pos = axis_positions(op, a, selectors)
        sizes = []
        names = []
        for p, value in zip(pos, axis.values(), strict=True):
            old = a.axes[p]
            if value is None:
                sizes.append(old.size)
                names.append(old.name)
            elif isinstance(value, Axis):
                sizes.append(value.size)
                names.append(value.name)
            else:
                sizes.append(int(value))
                names.append(old.name)
        return a, pos, tuple(sizes), names
    if axis is None:
        if not a.axes:
            raise NamedTypeError(f"{op}: got a 0-d array; there is no axis to transform")
        return a, (len(a.axes) - 1,), None, [a.axes[-1].name]
    if isinstance(axis, Axis):
        # One Axis sets the transform length and names the output axis (as the mapping form does).
        pos = axis_positions(op, a, axis.name)
        return a, pos, (axis.size,), [axis.name]
    pos = axis_positions(op, a, axis)
    return a, pos, None, [a.axes[p].name for p in pos]


def _named_out(a: NamedArray, out: Any, pos: tuple[int, ...], names: list[str]) -> NamedArray:
    axes = list(a.axes)
    for p, name in zip(pos, names, strict=True):
        axes[p] = Axis(name, out.shape[p])
    return NamedArray._new(out, tuple(axes))


def _transform(
    op: str,
    one: Callable[..., Any],
    many: Callable[..., Any] | None,
    a: Any,
    axis: FFTAxes | None,
    norm: str | None,
) -> NamedArray:
    a, pos, s, names = _plan(op, a, axis)
    single = axis is None or isinstance(axis, (str, Axis)) or len(pos) == 1
    if single:
        out = one(a.array, n=None if s is None else s[0], axis=pos[0], norm=norm)
    elif many is None:
        raise NamedTypeError(
            f"{op}: transforms one axis at a time, got {len(pos)} axes; call it once per axis"
        )
    else:
        out = many(a.array, s=s, axes=pos, norm=norm)
    return _named_out(a, out, pos, names)


def fft(a: NamedArray, axis: FFTAxes | None = None, norm: str | None = None) -> NamedArray:
    """Discrete Fourier transform over ``axis`` (one, several, or a ``{axis: length}`` mapping).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([1.0, 0.0, 0.0, 0.0]), "time")
        >>> hax.fft(x, "time").array.real.tolist()
        [1.0, 1.0, 1.0, 1.0]
    """
    return _transform("fft", jnp.fft.fft, jnp.fft.fftn, a, axis, norm)


def ifft(a: NamedArray, axis: FFTAxes | None = None, norm: str | None = None) -> NamedArray:
    """Inverse discrete Fourier transform over ``axis`` (same forms as [haliax.fft][]).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([1.0, 2.0, 3.0]), "time")
        >>> jnp.allclose(hax.ifft(hax.fft(x, "time"), "time").array.real, x.array).item()
        True
    """
    return _transform("ifft", jnp.fft.ifft, jnp.fft.ifftn, a, axis, norm)


def rfft(a: NamedArray, axis: FFTAxes | None = None, norm: str | None = None) -> NamedArray:
    """Fourier transform of a real signal: the last transformed axis shrinks to ``n // 2 + 1``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.ones(8), "time")
        >>> hax.rfft(x, "time").shape
        {'time': 5}
    """
    return _transform("rfft", jnp.fft.rfft, jnp.fft.rfftn, a, axis, norm)


def irfft(a: NamedArray, axis: FFTAxes | None = None, norm: str | None = None) -> NamedArray:
    """Inverse of [haliax.rfft][]: real output of length ``2 * (n - 1)`` unless a mapping gives it.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> spectrum = hax.rfft(hax.named(jnp.ones(7), "time"), "time")
        >>> hax.irfft(spectrum, {"time": 7}).shape
        {'time': 7}
    """
    return _transform("irfft", jnp.fft.irfft, jnp.fft.irfftn, a, axis, norm)


def hfft(a: NamedArray, axis: FFTAxes | None = None, norm: str | None = None) -> NamedArray:
    """Fourier transform of a Hermitian-symmetric signal (one axis): real output of length ``2 * (n - 1)``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> hax.hfft(hax.named(jnp.ones(3), "freq"), "freq").shape
        {'freq': 4}
    """
    return _transform("hfft", jnp.fft.hfft, None, a, axis, norm)


def ihfft(a: NamedArray, axis: FFTAxes | None = None, norm: str | None = None) -> NamedArray:
    """Inverse of [haliax.hfft][] (one axis): the axis shrinks to ``n // 2 + 1``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> hax.ihfft(hax.named(jnp.ones(4), "time"), "time").shape
        {'time': 3}
    """
    return _transform("ihfft", jnp.fft.ihfft, None, a, axis, norm)


def fftfreq(axis: Axis, d: float = 1.0, dtype: DTypeLike | None = None) -> NamedArray:
    """Sample frequencies of an FFT over ``axis`` (sample spacing ``d``), along ``axis``.

    Examples:
        >>> import haliax as hax
        >>> hax.fftfreq(hax.Axis("freq", 4)).array.tolist()
        [0.0, 0.25, -0.5, -0.25]
    """
    if not isinstance(axis, Axis):
        raise NamedTypeError(f"fftfreq: axis must be an Axis with a size, got {axis!r}")
    return NamedArray._new(jnp.fft.fftfreq(axis.size, d=d, dtype=dtype), (axis,))


def rfftfreq(axis: Axis, d: float = 1.0, dtype: DTypeLike | None = None) -> NamedArray:
    """Non-negative sample frequencies of an rfft over ``axis``: ``axis`` resized to ``n // 2 + 1``.

    Examples:
        >>> import haliax as hax
        >>> hax.rfftfreq(hax.Axis("freq", 4)).array.tolist()
        [0.0, 0.25, 0.5]
    """
    if not isinstance(axis, Axis):
        raise NamedTypeError(f"rfftfreq: axis must be an Axis with a size, got {axis!r}")
    out = jnp.fft.rfftfreq(axis.size, d=d, dtype=dtype)
    return NamedArray._new(out, (axis.resize(out.shape[0]),))


def _shift(op: str, fn: Callable[..., Any], x: NamedArray, axes: AxisSelection | None) -> NamedArray:
    require_named(op, x)
    pos = None if axes is None else axis_positions(op, x, axes)
    return NamedArray._new(fn(x.array, axes=pos), x.axes)


def fftshift(x: NamedArray, axes: AxisSelection | None = None) -> NamedArray:
    """Move the zero-frequency term to the centre along ``axes`` (all axes when None).

    Examples:
        >>> import haliax as hax
        >>> hax.fftshift(hax.fftfreq(hax.Axis("freq", 4))).array.tolist()
        [-0.5, -0.25, 0.0, 0.25]
    """
    return _shift("fftshift", jnp.fft.fftshift, x, axes)


def ifftshift(x: NamedArray, axes: AxisSelection | None = None) -> NamedArray:
    """Inverse of [haliax.fftshift][].

    Examples:
        >>> import haliax as hax
        >>> f = hax.fftfreq(hax.Axis("freq", 5))
        >>> (hax.ifftshift(hax.fftshift(f)).array == f.array).all().item()
        True
    """
    return _shift("ifftshift", jnp.fft.ifftshift, x, axes)
