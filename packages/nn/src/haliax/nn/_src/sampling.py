"""Parameter sampling for layer initialisers: named arrays drawn with ``jax.random``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike

from haliax import NamedArray
from haliax import random as _random
from haliax.axis import Axis
from haliax.extend import named_unchecked, sized_axes


def truncated_normal(
    key: jax.Array, axes: Any, scale: float, dtype: DTypeLike = jnp.float32, *, op: str = "layer init"
) -> NamedArray:
    """Standard normal samples truncated to [-3, 3], times ``scale``, over ``axes``.

    ``axes`` is an axis spec whose axes all have sizes; ``op`` (the initialiser the user called)
    starts the error message when one does not.
    """
    sized = as_axes(axes, op)
    samples = _random.truncated_normal(key, sized, -3.0, 3.0, dtype)
    return named_unchecked(samples.array * jnp.asarray(scale, dtype=dtype), samples.axes)


def as_axes(spec: Any, op: str = "layer init") -> tuple[Axis, ...]:
    """An axis spec (one Axis, a sequence of them, or a ``{name: size}`` dict) as a tuple of Axis."""
    return sized_axes(op, spec, fix="use hax.Axis({ax!r}, size)")
