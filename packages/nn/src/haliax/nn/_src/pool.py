"""Pooling over named window axes: `pool`, `max_pool`, `mean_pool`, `min_pool`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np

from haliax import NamedArray
from haliax.axis import Axis, AxisSpec
from haliax.errors import AxisSizeError, NamedTypeError, ValueRangeError
from haliax.extend import axis_not_found, format_shape, named_unchecked

from .sampling import as_axes

Padding: TypeAlias = Literal["SAME", "VALID"] | int | Sequence[tuple[int, int]]
DEFAULT_PADDING: Literal["VALID"] = "VALID"


def _plan(
    op: str, Window: AxisSpec, x: NamedArray, stride: Any, padding: Padding, use_ceil: bool
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...]]:
    _require_input(op, x)
    window = as_axes(Window, op)
    names = [ax.name for ax in x.axes]
    for w in window:
        if w.name not in names:
            raise axis_not_found(op, [w.name], x.axes)
    pos = [names.index(w.name) for w in window]
    if stride is None:
        strides_w: tuple[int, ...] = (1,) * len(window)
    elif isinstance(stride, int):
        strides_w = (stride,) * len(window)
    else:
        strides_w = tuple(stride)
        if len(strides_w) != len(window):
            raise AxisSizeError(
                f"{op}: stride has {len(strides_w)} entries for {len(window)} window axes "
                f"{format_shape(window)}; give one stride per window axis, or one int for all"
            )
    bad = [
        (w.name, s)
        for w, s in zip(window, strides_w, strict=True)
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1
    ]
    if bad:
        raise ValueRangeError(
            f"{op}: the stride along {bad[0][0]!r} must be an integer >= 1, got {bad[0][1]!r}"
        )
    dims = [1] * len(names)
    strides = [1] * len(names)
    for p, w, s in zip(pos, window, strides_w, strict=True):
        dims[p], strides[p] = w.size, s
    if isinstance(padding, str):
        pads = list(jax.lax.padtype_to_pads(x.array.shape, dims, strides, padding))
    elif isinstance(padding, int):
        pads = [(0, 0)] * len(names)
        for p in pos:
            pads[p] = (padding, padding)
    else:
        pairs = list(padding)
        if len(pairs) != len(window):
            raise AxisSizeError(
                f"{op}: padding has {len(pairs)} (low, high) pairs for {len(window)} window axes "
                f"{format_shape(window)}; give one pair per window axis, or one int for all"
            )
        pads = [(0, 0)] * len(names)
        for p, pair in zip(pos, pairs, strict=True):
            pads[p] = (int(pair[0]), int(pair[1]))
    for p, w in zip(pos, window, strict=True):
        (lo, hi), n = pads[p], x.array.shape[p]
        if n + lo + hi < w.size:
            padded = f" ({lo} + {n} + {hi} with padding)" if lo or hi else ""
            raise AxisSizeError(
                f"{op}: the window along {w.name!r} has size {w.size}, larger than the input's axis "
                f"{w.name!r} of size {n}{padded} in {format_shape(x.axes)}; use a smaller window or pad "
                f"the input (padding='SAME')"
            )
    if use_ceil:
        for p in pos:
            n, (lo, hi), w, s = x.array.shape[p], pads[p], dims[p], strides[p]
            out = math.ceil((n + lo + hi - w) / s) + 1
            pads[p] = (lo, hi + max(0, (out - 1) * s + w - (n + lo + hi)))
    return tuple(dims), tuple(strides), tuple(pads)


def pool(
    Window: AxisSpec,
    inputs: NamedArray,
    init: Any,
    reduce_fn: Callable[[Any, Any], Any],
    stride: int | Sequence[int] | None = None,
    padding: Padding = DEFAULT_PADDING,
    use_ceil: bool = False,
) -> NamedArray:
    """Reduce windows of the input with ``reduce_fn`` (``jax.lax.reduce_window``).

    ``Window`` names the pooled axes with the window size as each axis' size; other axes are
    batch. ``stride`` defaults to 1 along each window axis. Pooled axes keep their names, resized.
    """
    return _pool("pool", Window, inputs, init, reduce_fn, stride, padding, use_ceil)


def _require_input(op: str, x: Any) -> None:
    if not isinstance(x, NamedArray):
        raise NamedTypeError(
            f"{op}: expected a NamedArray input, got {type(x).__name__}; name its axes with hax.named(array, axes)"
        )


def _pool(
    op: str,
    Window: AxisSpec,
    inputs: NamedArray,
    init: Any,
    reduce_fn: Callable[[Any, Any], Any],
    stride: int | Sequence[int] | None,
    padding: Padding,
    use_ceil: bool,
) -> NamedArray:
    dims, strides, pads = _plan(op, Window, inputs, stride, padding, use_ceil)
    raw = jax.lax.reduce_window(inputs.array, init, reduce_fn, dims, strides, pads)
    out_axes = tuple(
        ax if ax.size == n else Axis(ax.name, n) for ax, n in zip(inputs.axes, raw.shape, strict=True)
    )
    return named_unchecked(raw, out_axes)


# Initial values are numpy scalars, not jax arrays: jax.lax.reduce_window recognises max/min/add
# pools (and so can differentiate them) only from a concrete init, which a jnp value is not under jit.
def _lowest(dtype: Any) -> Any:
    return -jnp.inf if jnp.issubdtype(dtype, jnp.floating) else jnp.iinfo(dtype).min


def _highest(dtype: Any) -> Any:
    return jnp.inf if jnp.issubdtype(dtype, jnp.floating) else jnp.iinfo(dtype).max


def max_pool(
    Window: AxisSpec,
    inputs: NamedArray,
    stride: int | Sequence[int] | None = None,
    padding: Padding = DEFAULT_PADDING,
    use_ceil: bool = False,
) -> NamedArray:
    """Maximum over each window (padding never wins).

    Examples:
        >>> import haliax as hax, haliax.nn as hnn
        >>> X = hax.Axis("x", 6)
        >>> hnn.max_pool(X.resize(2), hax.arange(X), stride=2).array.tolist()
        [1, 3, 5]
    """
    _require_input("max_pool", inputs)
    init = np.asarray(_lowest(inputs.dtype), inputs.dtype)
    return _pool("max_pool", Window, inputs, init, jax.lax.max, stride, padding, use_ceil)


def min_pool(
    Window: AxisSpec,
    inputs: NamedArray,
    stride: int | Sequence[int] | None = None,
    padding: Padding = DEFAULT_PADDING,
    use_ceil: bool = False,
) -> NamedArray:
    """Minimum over each window (padding never wins)."""
    _require_input("min_pool", inputs)
    init = np.asarray(_highest(inputs.dtype), inputs.dtype)
    return _pool("min_pool", Window, inputs, init, jax.lax.min, stride, padding, use_ceil)


def mean_pool(
    Window: AxisSpec,
    inputs: NamedArray,
    stride: int | Sequence[int] | None = None,
    padding: Padding = DEFAULT_PADDING,
    *,
    use_ceil: bool = False,
    count_include_pad: bool = False,
) -> NamedArray:
    """Mean over each window; padded positions count toward the divisor only with ``count_include_pad``."""
    _require_input("mean_pool", inputs)
    zero = np.zeros((), inputs.dtype)
    total = _pool("mean_pool", Window, inputs, zero, jax.lax.add, stride, padding, use_ceil)
    if count_include_pad:
        # an array divisor, not a constant: XLA turns division by a constant into multiplication
        # by its reciprocal, which is off by one ulp for e.g. 25 / 3
        size = math.prod(w.size for w in as_axes(Window, "mean_pool"))
        dtype = total.dtype if jnp.issubdtype(total.dtype, jnp.floating) else jnp.float32
        divisor = jnp.full(total.array.shape, size, dtype)
        return named_unchecked(total.array / divisor, total.axes)
    ones = named_unchecked(jnp.ones(inputs.array.shape, inputs.dtype), inputs.axes)
    counts = _pool("mean_pool", Window, ones, zero, jax.lax.add, stride, padding, use_ceil)
    return named_unchecked(total.array / counts.array, total.axes)
