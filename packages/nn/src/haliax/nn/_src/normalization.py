"""Softmax-family functions and the normalisation layers `LayerNorm` and `RmsNorm`."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Self

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.typing import DTypeLike

from haliax import NamedArray, rsqrt
from haliax.axis import Axis, AxisSelection, AxisSpec
from haliax.errors import StateDictError
from haliax.extend import axis_positions, format_shape, named_unchecked, require_named
from haliax.state_dict import ModuleWithStateDictSerialization

from .sampling import as_axes


def _one_or_many(x: NamedArray, op: str, axis: AxisSelection | None) -> int | tuple[int, ...] | None:
    if axis is None:  # every axis, as Haliax's default
        return None
    pos = axis_positions(op, x, axis)
    return pos[0] if len(pos) == 1 else pos


def softmax(
    a: NamedArray, axis: AxisSelection | None = None, *, where: NamedArray | None = None
) -> NamedArray:
    """Softmax over ``axis`` (one axis or several; all axes when None); the result keeps the axes.

    Examples:
        >>> import haliax as hax, haliax.nn as hnn
        >>> V = hax.Axis("vocab", 4)
        >>> float(hnn.softmax(hax.zeros(V), V).sum().array)
        1.0
    """
    pos = _one_or_many(a, "softmax", axis)
    w = None if where is None else where.broadcast_to(a.axes).array
    return named_unchecked(jax.nn.softmax(a.array, axis=pos, where=w), a.axes)


def log_softmax(
    a: NamedArray, axis: AxisSelection | None = None, *, where: NamedArray | None = None
) -> NamedArray:
    """Log of the softmax over ``axis`` (all axes when None), computed stably; the result keeps the axes."""
    pos = _one_or_many(a, "log_softmax", axis)
    w = None if where is None else where.broadcast_to(a.axes).array
    return named_unchecked(jax.nn.log_softmax(a.array, axis=pos, where=w), a.axes)


def logsumexp(a: NamedArray, axis: AxisSelection | None = None) -> NamedArray:
    """``log(sum(exp(a)))`` over ``axis`` (all axes when None), computed stably; those axes are removed."""
    if axis is None:
        return named_unchecked(jax.nn.logsumexp(a.array), ())
    pos = axis_positions("logsumexp", a, axis)
    out_axes = tuple(ax for i, ax in enumerate(a.axes) if i not in pos)
    return named_unchecked(jax.nn.logsumexp(a.array, axis=pos), out_axes)


def standardize(
    x: NamedArray,
    axis: AxisSelection,
    *,
    mean: NamedArray | None = None,
    variance: NamedArray | None = None,
    epsilon: float = 1e-5,
    where: NamedArray | None = None,
) -> NamedArray:
    """``(x - mean) / sqrt(variance + epsilon)`` over ``axis``; mean and variance computed when not given."""
    axis_positions("standardize", x, axis)
    if mean is None:
        mean = x.mean(axis, where=where)
    if variance is None:
        centered = x - mean
        variance = (centered * centered).mean(axis, where=where)
    out = (x - mean) * rsqrt(variance + epsilon)
    if out.axes != x.axes:
        out = out.broadcast_to(x.axes)
    return out


_EXPORT_AXIS = "__OUT"


class LayerNormBase(ModuleWithStateDictSerialization):
    """Shared fields of the normalisation layers: the normalised axes, optional scale and bias.

    ``dtype``, when set, is the dtype the normalisation is computed in; the result has the
    input's dtype. Parameters are float32, as in Haliax.
    """

    axis: AxisSpec = eqx.field(static=True)
    weight: NamedArray | None
    bias: NamedArray | None
    eps: float = eqx.field(static=True, default=1e-5)
    dtype: DTypeLike | None = eqx.field(static=True, default=None)

    @classmethod
    def init(
        cls,
        axis: AxisSpec,
        eps: float = 1e-5,
        *,
        use_weight: bool = True,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
    ) -> Any:
        """A layer normalising over ``axis``, with scale one and bias zero."""
        axes = as_axes(axis, f"{cls.__name__}.init")
        shape = tuple(ax.size for ax in axes)
        weight = named_unchecked(jnp.ones(shape, dtype=jnp.float32), axes) if use_weight else None
        bias = named_unchecked(jnp.zeros(shape, dtype=jnp.float32), axes) if use_bias else None
        return cls(axis, weight, bias, eps, dtype)

    def flatten_for_export(self) -> Self:
        """Several normalised axes become one (``(heads, head_dim)`` -> ``heads*head_dim``), as torch stores them."""
        if isinstance(self.axis, Axis):
            return self
        axes = as_axes(self.axis)
        flat = Axis(_EXPORT_AXIS, math.prod(ax.size for ax in axes))

        def one(p: NamedArray | None) -> NamedArray | None:
            return None if p is None else named_unchecked(p.rearrange(axes).array.reshape(flat.size), (flat,))

        return dataclasses.replace(self, axis=flat, weight=one(self.weight), bias=one(self.bias))

    def unflatten_from_export(self, template: Self) -> Self:  # pyright: ignore[reportIncompatibleMethodOverride]  # template: always this class
        """Undo `flatten_for_export`: the template's axes (and their order) come back."""
        if template.axis == self.axis:
            return self

        def one(p: NamedArray | None, t: NamedArray | None) -> NamedArray | None:
            if p is None:
                return None
            axes = as_axes(template.axis)
            if p.array.size != math.prod(ax.size for ax in axes):
                raise StateDictError(
                    f"{type(self).__name__}.unflatten_from_export: a parameter of shape {format_shape(p.axes)} "
                    f"does not fit the template's axes {format_shape(axes)}; pass the template it was flattened from"
                )
            out = named_unchecked(p.array.reshape(tuple(ax.size for ax in axes)), axes)
            return out if t is None else out.rearrange(t.axes)

        return dataclasses.replace(
            self,
            axis=template.axis,
            weight=one(self.weight, template.weight),
            bias=one(self.bias, template.bias),
        )

    def _check(self, op: str, x: NamedArray) -> None:
        require_named(op, x)
        axis_positions(op, x, self.axis)

    def _affine(self, out: NamedArray) -> NamedArray:
        if self.weight is not None:
            out = out * self.weight
        if self.bias is not None:
            out = out + self.bias
        return out


class LayerNorm(LayerNormBase):
    """Layer normalisation over ``axis``: subtract the mean, divide by the standard deviation, scale, shift.

    Examples:
        >>> import haliax as hax, haliax.nn as hnn
        >>> Embed = hax.Axis("embed", 8)
        >>> ln = hnn.LayerNorm.init(Embed)
        >>> ln(hax.ones(Embed)).shape
        {'embed': 8}
    """

    def __call__(self, x: NamedArray) -> NamedArray:
        """Normalise ``x`` over the layer's axes; other axes are batch."""
        self._check("LayerNorm", x)
        in_dtype = x.dtype
        if self.dtype is not None:
            x = x.astype(self.dtype)
        mean = x.mean(self.axis)
        centered = x - mean
        var = (centered * centered).mean(self.axis)
        return self._affine((centered * rsqrt(var + self.eps)).astype(in_dtype))


class RmsNorm(LayerNormBase):
    """RMS normalisation over ``axis``: divide by the root mean square, then scale (and shift)."""

    def __call__(self, x: NamedArray) -> NamedArray:
        """Normalise ``x`` over the layer's axes; other axes are batch."""
        self._check("RmsNorm", x)
        in_dtype = x.dtype
        if self.dtype is not None:
            x = x.astype(self.dtype)
        ms = (x * x).mean(self.axis)
        return self._affine((x * rsqrt(ms + self.eps)).astype(in_dtype))
