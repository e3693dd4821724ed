"""One-hot encoding along a named class axis."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from haliax._src.axis import Axis
from haliax._src.errors import NamedTypeError
from haliax._src.named_array import NamedArray


def one_hot(x: NamedArray | int | Any, class_axis: Axis, *, dtype: Any = None) -> NamedArray:
    """One-hot encode integers along ``class_axis``, appended as the last axis.

    ``x`` is an integer NamedArray, a Python int or a 0-d array. Values outside
    ``[0, class_axis.size)`` give all-zero rows. ``dtype`` defaults to float32.

    Examples:
        >>> import haliax as hax, haliax.nn as hnn
        >>> hnn.one_hot(2, hax.Axis("label", 4)).array.tolist()
        [0.0, 0.0, 1.0, 0.0]
    """
    dtype = jnp.float32 if dtype is None else dtype
    if isinstance(x, NamedArray):
        if not jnp.issubdtype(x.dtype, jnp.integer):
            raise NamedTypeError(
                f"one_hot: expected an integer array, got dtype {x.dtype}; cast it with .astype(int)"
            )
        return NamedArray._new(jax.nn.one_hot(x.array, class_axis.size, dtype=dtype), (*x.axes, class_axis))
    arr = jnp.asarray(x)
    if arr.ndim != 0:
        raise NamedTypeError(
            f"one_hot: got an unnamed array of shape {arr.shape}; name its axes first with hax.named(x, axes)"
        )
    return NamedArray._new(jax.nn.one_hot(arr, class_axis.size, dtype=dtype), (class_axis,))
