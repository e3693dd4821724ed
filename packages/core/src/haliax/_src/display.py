"""How a NamedArray prints: its named shape and dtype first, then values."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import numpy as np

from .errors import format_shape

if TYPE_CHECKING:
    from .named_array import NamedArray


def named_shape_str(x: NamedArray) -> str:
    """``f32{batch: 4, embed: 3}``."""
    from .named_array import dtype_abbrev

    dtype = getattr(x.array, "dtype", None)
    prefix = dtype_abbrev(dtype) if dtype is not None else ""
    return f"{prefix}{format_shape(x.axes)}"


def named_array_repr(x: NamedArray) -> str:
    """The named shape, then the values when they are concrete."""
    head = named_shape_str(x)
    arr = x.array
    if isinstance(arr, jax.core.Tracer) or not hasattr(arr, "shape"):
        return f"NamedArray({head}, {arr!r})"
    try:
        values = np.array2string(np.asarray(arr), separator=", ", threshold=64, prefix="  ")
    except Exception:  # e.g. a deleted or non-addressable array: the named shape still prints
        return f"NamedArray({head})"
    return f"NamedArray({head},\n  {values})"
