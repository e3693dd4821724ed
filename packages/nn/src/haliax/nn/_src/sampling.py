"""Parameter sampling for layer initialisers: named arrays drawn with ``jax.random``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp

from haliax._src import random as _random
from haliax._src.axis import Axis, sized_axes
from haliax._src.errors import NamedTypeError
from haliax._src.named_array import NamedArray


def truncated_normal(key: Any, axes: Sequence[Axis], scale: float, dtype: Any = jnp.float32) -> NamedArray:
    """Standard normal samples truncated to [-3, 3], times ``scale``, over ``axes``."""
    samples = _random.truncated_normal(key, tuple(axes), -3.0, 3.0, dtype)
    return NamedArray._new(samples.array * jnp.asarray(scale, dtype=dtype), samples.axes)


def as_axes(spec: Any) -> tuple[Axis, ...]:
    """An axis spec (one Axis, a sequence of them, or a ``{name: size}`` dict) as a tuple of Axis."""
    return sized_axes("layer init", spec, fix="use hax.Axis({ax!r}, size)")
