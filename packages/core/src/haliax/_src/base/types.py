"""Type aliases used across haliax's signatures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeAlias

import jax
import numpy as np
from jax.typing import ArrayLike
from jax.typing import DTypeLike as DTypeLike

from .named_array import NamedArray

DType: TypeAlias = np.dtype
"""A numpy dtype (the class)."""

Scalar: TypeAlias = float | int | jax.Array
"""A Python number or a (0-d) jax array."""

IntScalar: TypeAlias = int | jax.Array
"""A Python int or an integer jax array."""

PrecisionLike: TypeAlias = (
    str
    | jax.lax.Precision
    | tuple[str, str]
    | tuple[jax.lax.Precision, jax.lax.Precision]
    | jax.lax.DotAlgorithm
    | jax.lax.DotAlgorithmPreset
    | None
)
"""What `dot`'s and `einsum`'s ``precision`` accept: what ``jax.lax.dot_general`` takes."""

NamedOrNumeric: TypeAlias = NamedArray | ArrayLike
"""A NamedArray, or what jax takes as an array: a scalar, a jax or numpy array."""

GatherScatterModeStr: TypeAlias = Literal["promise_in_bounds", "clip", "drop", "fill"]
"""Out-of-bounds modes of ``.at[...]`` updates and gathers."""

FilterSpec: TypeAlias = bool | Callable[[Any], bool]
"""A pytree filter: a bool, or a predicate on leaves."""

FilterTree: TypeAlias = FilterSpec | Any
"""A `FilterSpec`, or a pytree of them matching a model's structure."""
