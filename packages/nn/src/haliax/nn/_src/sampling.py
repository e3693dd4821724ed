"""Parameter sampling for layer initialisers: named arrays drawn with ``jax.random``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from haliax._src.axis import Axis
from haliax._src.errors import NamedTypeError
from haliax._src.named_array import NamedArray


def truncated_normal(key: Any, axes: Sequence[Axis], scale: float, dtype: Any = jnp.float32) -> NamedArray:
    """Standard normal samples truncated to [-3, 3], times ``scale``, over ``axes``."""
    axes = tuple(axes)
    raw = jax.random.truncated_normal(key, -3.0, 3.0, tuple(ax.size for ax in axes), dtype=dtype)
    return NamedArray._new(raw * jnp.asarray(scale, dtype=dtype), axes)


def as_axes(spec: Any) -> tuple[Axis, ...]:
    """An axis spec (one Axis, a sequence of them, or a ``{name: size}`` dict) as a tuple of Axis."""
    if isinstance(spec, Axis):
        return (spec,)
    if isinstance(spec, dict):
        return tuple(Axis(n, s) for n, s in spec.items())
    out = tuple(spec)
    for ax in out:
        if not isinstance(ax, Axis):
            raise NamedTypeError(f"expected Axis objects with sizes, got {ax!r}; use hax.Axis(name, size)")
    return out
