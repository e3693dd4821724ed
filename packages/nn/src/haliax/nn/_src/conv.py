"""`Conv` and `ConvTranspose` over any number of named spatial axes.

The convolution is one ``jax.lax.conv_general_dilated`` whose dimension numbers come from the
axis names, so the input is used in its own layout: channels and spatial axes may sit anywhere.
Axes that are neither channels nor spatial are batch axes (none, one, or several).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import numpy as np

from haliax import NamedArray
from haliax.axis import Axis
from haliax.errors import AxisSizeError, BroadcastError, DuplicateAxisError, NamedTypeError, ValueRangeError
from haliax.extend import axis_not_found, axis_size_mismatch, format_shape, named_unchecked

from .contract import names_of

Padding = str | int | Sequence[int] | Sequence[tuple[int, int]]


def _tuple(op: str, what: str, value: int | Sequence[int], n: int, least: int = 1) -> tuple[int, ...]:
    out = (value,) * n if isinstance(value, int) else tuple(int(v) for v in value)
    if len(out) != n:
        raise AxisSizeError(
            f"{op}: {what} has {len(out)} entries for {n} spatial axes; give one per axis or an int"
        )
    if any(v < least for v in out):
        raise ValueRangeError(f"{op}: every {what} must be at least {least}, got {value!r}")
    return out


def _padding(op: str, padding: Padding, n: int) -> str | tuple[tuple[int, int], ...]:
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID", "SAME_LOWER"):
            raise NamedTypeError(
                f"{op}: padding must be 'SAME', 'SAME_LOWER', 'VALID', an int or pairs, got {padding!r}"
            )
        return padding
    if isinstance(padding, int):
        return ((padding, padding),) * n
    items = list(padding)
    if len(items) != n:
        raise AxisSizeError(
            f"{op}: padding has {len(items)} entries for {n} spatial axes; give one per axis or an int"
        )
    return tuple((p, p) if isinstance(p, int) else (int(p[0]), int(p[1])) for p in items)


class _ConvBase(eqx.Module):
    weight: NamedArray
    bias: NamedArray | None
    Spatial: tuple[str, ...] = eqx.field(static=True)
    In: Axis = eqx.field(static=True)
    Out: Axis = eqx.field(static=True)
    kernel_size: tuple[int, ...] = eqx.field(static=True)
    stride: tuple[int, ...] = eqx.field(static=True)
    padding: Any = eqx.field(static=True)
    dilation: tuple[int, ...] = eqx.field(static=True)
    groups: int = eqx.field(static=True)

    @classmethod
    def _make_params(
        cls,
        op: str,
        Spatial: Any,
        In: Axis,
        Out: Axis,
        kernel_size: Any,
        groups: int,
        use_bias: bool,
        key: jax.Array,
    ) -> tuple[tuple[str, ...], tuple[int, ...], NamedArray, NamedArray | None]:
        spatial = names_of(Spatial)
        for role, ax in (("In", In), ("Out", Out)):
            if ax.name in spatial:
                raise DuplicateAxisError(
                    f"{op}.init: spatial axis {ax.name!r} is also the {role} (channel) axis; a convolution "
                    f"slides over spatial axes and mixes channels, so give the channels another name "
                    f"(e.g. {ax.name!r} -> '{ax.name}_channels')"
                )
        if In.name == Out.name:
            raise DuplicateAxisError(
                f"{op}.init: In and Out are both {In.name!r}; give the output channels another name, e.g. Axis.alias"
            )
        ks = _tuple(f"{op}.init", "kernel_size", kernel_size, len(spatial))
        if groups < 1:
            raise ValueRangeError(f"{op}.init: groups must be at least 1, got {groups}")
        if In.size % groups or Out.size % groups:
            raise AxisSizeError(
                f"{op}.init: groups={groups} must divide both {In.name!r} ({In.size}) and {Out.name!r} ({Out.size})"
            )
        w_axes = (
            Out,
            In.resize(In.size // groups),
            *tuple(Axis(s, k) for s, k in zip(spatial, ks, strict=True)),
        )
        fan_in = (In.size // groups) * math.prod(ks)
        lim = 1.0 / math.sqrt(fan_in)
        wkey, bkey = jax.random.split(key)
        w = jax.random.uniform(wkey, tuple(a.size for a in w_axes), minval=-lim, maxval=lim)
        bias = None
        if use_bias:
            bias = named_unchecked(jax.random.uniform(bkey, (Out.size,), minval=-lim, maxval=lim), (Out,))
        return spatial, ks, named_unchecked(w, w_axes), bias

    def _layout(
        self, op: str, x: NamedArray
    ) -> tuple[Any, Any, tuple[Axis, ...], tuple[int, ...], tuple[Axis, ...]]:
        """Raw input laid out with one batch dim, conv dimension numbers, and the batch axes."""
        if not isinstance(x, NamedArray):
            raise NamedTypeError(f"{op}: expected a NamedArray input, got {type(x).__name__}")
        names = [ax.name for ax in x.axes]
        for n in (self.In.name, *self.Spatial):
            if n not in names:
                raise axis_not_found(op, [n], x.axes)
        if self.Out.name in names:
            raise BroadcastError(
                f"{op}: the input {format_shape(x.axes)} already has the output axis {self.Out.name!r}; "
                f"rename it (x.rename({{{self.Out.name!r}: ...}})) or give the layer an Out axis with another name"
            )
        in_ax = x.axes[names.index(self.In.name)]
        if in_ax.size != self.In.size:
            raise axis_size_mismatch(op, self.In.name, in_ax.size, self.In.size)
        special = {self.In.name, *self.Spatial}
        batch_pos = [i for i, n in enumerate(names) if n not in special]
        batch_axes = tuple(x.axes[i] for i in batch_pos)
        arr, axes = x.array, x.axes
        if len(batch_pos) != 1:
            # lax convolutions take exactly one batch dimension: gather batch axes in front, merge them.
            perm = tuple(batch_pos) + tuple(i for i in range(len(names)) if i not in batch_pos)
            if perm != tuple(range(len(names))):
                arr = jax.lax.transpose(arr, perm)
            axes = tuple(x.axes[i] for i in perm[len(batch_pos) :])
            arr = arr.reshape((math.prod(a.size for a in batch_axes), *(a.size for a in axes)))
            axes = (Axis("__batch__", arr.shape[0]), *axes)
        lnames = [ax.name for ax in axes]
        batch_dim = 0 if len(batch_pos) != 1 else batch_pos[0]
        lhs_spec = (batch_dim, lnames.index(self.In.name), *(lnames.index(s) for s in self.Spatial))
        wnames = [ax.name for ax in self.weight.axes]
        rhs_spec = (
            wnames.index(self.Out.name),
            wnames.index(self.In.name),
            *(wnames.index(s) for s in self.Spatial),
        )
        dn = jax.lax.ConvDimensionNumbers(lhs_spec, rhs_spec, lhs_spec)
        return arr, dn, axes, lhs_spec, batch_axes

    def _finish(
        self,
        op: str,
        raw: Any,
        axes: tuple[Axis, ...],
        lhs_spec: tuple[int, ...],
        batch_axes: tuple[Axis, ...],
        n_batch_orig: int,
    ) -> NamedArray:
        for s, k, pos in zip(self.Spatial, self.kernel_size, lhs_spec[2:], strict=True):
            if raw.shape[pos] == 0 and axes[pos].size > 0:
                raise AxisSizeError(
                    f"{op}: the input {format_shape(axes)} is too small along {s!r} for a kernel of size {k} "
                    f"(dilation {self.dilation}, padding {self.padding}): the output would be empty; "
                    f"pad the input (padding=...) or use a smaller kernel"
                )
        out_axes = list(axes)
        out_axes[lhs_spec[1]] = self.Out
        for s, pos in zip(self.Spatial, lhs_spec[2:], strict=True):
            out_axes[pos] = Axis(s, raw.shape[pos])
        if self.bias is not None:
            shape = [1] * raw.ndim
            shape[lhs_spec[1]] = self.Out.size
            raw = raw + self.bias.array.reshape(shape).astype(raw.dtype)
        if n_batch_orig != 1:
            raw = raw.reshape((*(a.size for a in batch_axes), *raw.shape[1:]))
            out_axes = [*batch_axes, *out_axes[1:]]
        return named_unchecked(raw, tuple(out_axes))


class Conv(_ConvBase):
    """N-d convolution over the named ``Spatial`` axes, mapping channels ``In`` to ``Out``.

    The weight has axes ``(Out, In/groups, *Spatial)`` (kernel sizes along the spatial names).
    With at most one batch axis the output keeps the input's axis order, with ``Out`` where ``In``
    was and the spatial axes resized; several batch axes are merged for the kernel and come first.

    Examples:
        >>> import jax, haliax as hax, haliax.nn as hnn
        >>> H, W, C, D = hax.make_axes(height=8, width=8, chan=3, feat=4)
        >>> conv = hnn.Conv.init((H, W), C, D, kernel_size=3, key=jax.random.PRNGKey(0))
        >>> conv(hax.ones((C, H, W))).shape
        {'feat': 4, 'height': 6, 'width': 6}
    """

    @classmethod
    def init(
        cls,
        Spatial: Any,
        In: Axis,
        Out: Axis,
        kernel_size: int | Sequence[int],
        *,
        stride: int | Sequence[int] = 1,
        padding: Padding = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        key: jax.Array,
    ) -> Conv:
        """A convolution with uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights and bias (as PyTorch)."""
        spatial, ks, w, b = cls._make_params("Conv", Spatial, In, Out, kernel_size, groups, use_bias, key)
        n = len(spatial)
        return Conv(
            w, b, spatial, In, Out, ks,
            _tuple("Conv.init", "stride", stride, n), _padding("Conv.init", padding, n),
            _tuple("Conv.init", "dilation", dilation, n), groups,
        )  # fmt: skip

    def __call__(self, inputs: NamedArray, *, key: jax.Array | None = None) -> NamedArray:
        """Convolve; axes other than ``In`` and the spatial ones are batch axes."""
        arr, dn, axes, lhs_spec, batch_axes = self._layout("Conv", inputs)
        raw = jax.lax.conv_general_dilated(
            arr,
            self.weight.array.astype(arr.dtype),
            window_strides=self.stride,
            padding=self.padding,
            rhs_dilation=self.dilation,
            dimension_numbers=dn,
            feature_group_count=self.groups,
        )
        return self._finish("Conv", raw, axes, lhs_spec, batch_axes, len(batch_axes))


class ConvTranspose(_ConvBase):
    """N-d transposed convolution: the connectivity of a `Conv` with ``In`` and ``Out`` swapped.

    Same padding semantics as ``equinox.nn.ConvTranspose`` (and PyTorch): ``padding`` is the
    padding of the equivalent forward convolution, and ``output_padding`` resolves the output size
    when ``stride > 1``.
    """

    output_padding: tuple[int, ...] = eqx.field(static=True, default=())

    @classmethod
    def init(
        cls,
        Spatial: Any,
        In: Axis,
        Out: Axis,
        kernel_size: int | Sequence[int],
        *,
        stride: int | Sequence[int] = 1,
        padding: Padding = 0,
        output_padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        key: jax.Array,
    ) -> ConvTranspose:
        """A transposed convolution with uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights and bias."""
        spatial, ks, w, b = cls._make_params(
            "ConvTranspose", Spatial, In, Out, kernel_size, groups, use_bias, key
        )
        n = len(spatial)
        return ConvTranspose(
            w, b, spatial, In, Out, ks,
            _tuple("ConvTranspose.init", "stride", stride, n), _padding("ConvTranspose.init", padding, n),
            _tuple("ConvTranspose.init", "dilation", dilation, n), groups,
            _tuple("ConvTranspose.init", "output_padding", output_padding, n, least=0),
        )  # fmt: skip

    def _transposed_padding(self) -> tuple[tuple[int, int], ...]:
        k, s = np.asarray(self.kernel_size), np.asarray(self.stride)
        a, d = np.asarray(self.output_padding), np.asarray(self.dilation)
        if isinstance(self.padding, str):
            if self.padding == "VALID":
                p0 = p1 = np.zeros(len(k), np.int64)
            else:
                total = d * (k - 1) - s + a + 1
                a = np.where(total < 0, -total, 0)
                total = np.maximum(total, 0)
                p0 = (total + (1 if self.padding == "SAME_LOWER" else 0)) // 2
                p1 = total - p0
        else:
            p0 = np.asarray([p[0] for p in self.padding])
            p1 = np.asarray([p[1] for p in self.padding])
        lo = d * (k - 1) - p0
        hi = d * (k - 1) - p1 + a
        return tuple((int(x), int(y)) for x, y in zip(lo, hi, strict=True))

    def __call__(self, inputs: NamedArray, *, key: jax.Array | None = None) -> NamedArray:
        """Transposed-convolve; axes other than ``In`` and the spatial ones are batch axes."""
        arr, dn, axes, lhs_spec, batch_axes = self._layout("ConvTranspose", inputs)
        raw = jax.lax.conv_general_dilated(
            arr,
            self.weight.array.astype(arr.dtype),
            window_strides=(1,) * len(self.Spatial),
            padding=self._transposed_padding(),
            lhs_dilation=self.stride,
            rhs_dilation=self.dilation,
            dimension_numbers=dn,
            feature_group_count=self.groups,
        )
        return self._finish("ConvTranspose", raw, axes, lhs_spec, batch_axes, len(batch_axes))
