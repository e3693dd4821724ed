"""One-hot encoding along a named class axis."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike

from haliax import NamedArray
from haliax.axis import Axis
from haliax.errors import NamedIndexError, NamedTypeError
from haliax.extend import named_unchecked


def one_hot(x: NamedArray | int | Any, class_axis: Axis, *, dtype: DTypeLike | None = None) -> NamedArray:
    """One-hot encode integers along ``class_axis``, appended as the last axis.

    ``x`` is an integer NamedArray, a Python int or a 0-d integer (or bool) array. Out-of-range
    entries of a NamedArray give all-zero rows; a scalar may be negative and then counts from
    the end (``-1`` is the last class), as in indexing. ``dtype`` defaults to float32.

    Examples:
        >>> import haliax as hax, haliax.nn as hnn
        >>> hnn.one_hot(2, hax.Axis("label", 4)).array.tolist()
        [0.0, 0.0, 1.0, 0.0]
    """
    op = "one_hot"
    dtype = jnp.float32 if dtype is None else dtype
    if isinstance(x, NamedArray):
        if not jnp.issubdtype(x.dtype, jnp.integer):
            raise NamedTypeError(
                f"{op}: expected an integer array, got dtype {x.dtype}; cast it with .astype(int)"
            )
        return named_unchecked(jax.nn.one_hot(x.array, class_axis.size, dtype=dtype), (*x.axes, class_axis))
    arr = jnp.asarray(x)
    if arr.ndim != 0:
        raise NamedTypeError(
            f"{op}: got an unnamed array of shape {arr.shape}; name its axes first with hax.named(x, axes)"
        )
    if not (jnp.issubdtype(arr.dtype, jnp.integer) or jnp.issubdtype(arr.dtype, jnp.bool_)):
        raise NamedTypeError(
            f"{op}: expected an integer scalar, got dtype {arr.dtype}; cast it with int(...)"
        )
    if isinstance(x, int) and not -class_axis.size <= x < class_axis.size:
        raise NamedIndexError(
            f"{op}: class {x} is out of range for axis {class_axis.name!r} of size {class_axis.size}; "
            f"use a value in [-{class_axis.size}, {class_axis.size})"
        )
    raw = jnp.zeros((class_axis.size,), dtype).at[arr].set(jnp.ones((), dtype))
    return named_unchecked(raw, (class_axis,))
