"""Normalising and recognising Python values: tuples, and array-like objects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import jax
import numpy as np

from .errors import NamedTypeError, NoMatchError, format_shape
from .named_array import NamedArray

T = TypeVar("T")


def ensure_tuple(x: Sequence[T] | T) -> tuple[T, ...]:
    """A tuple of ``x``'s elements if it is a sequence (not a string), else ``(x,)``.

    Examples:
        >>> from haliax.util import ensure_tuple
        >>> ensure_tuple([1, 2]), ensure_tuple("batch"), ensure_tuple(3)
        ((1, 2), ('batch',), (3,))
    """
    if isinstance(x, (str, bytes)):
        return (x,)  # type: ignore[return-value]  # a string is one element here
    if isinstance(x, tuple):
        return x
    if isinstance(x, Sequence):
        return tuple(x)
    return (x,)


def index_where(pred: Callable[[T], bool], xs: Sequence[T], start: int = 0) -> int:
    """Index of the first element of ``xs`` from ``start`` on that satisfies ``pred``.

    Raises `NoMatchError` (a ValueError, as ``list.index`` raises) when none does.

    Examples:
        >>> from haliax._src.base.pytypes import index_where
        >>> index_where(lambda n: n > 2, [1, 3, 5]), index_where(lambda n: n > 2, [1, 3, 5], start=2)
        (1, 2)
    """
    for i in range(start, len(xs)):
        if pred(xs[i]):
            return i
    raise NoMatchError(
        f"index_where: no element of the {len(xs)} from index {start} on satisfies the predicate"
    )


def maybe_untuple(x: Any) -> Any:
    """The element of a one-element tuple; anything else unchanged."""
    if isinstance(x, tuple) and len(x) == 1:
        return x[0]
    return x


def is_jax_or_hax_array_like(x: Any) -> bool:
    """True for jax and numpy arrays, `jax.ShapeDtypeStruct`s and NamedArrays."""
    return isinstance(x, (jax.Array, np.ndarray, np.generic, jax.ShapeDtypeStruct, NamedArray))


def is_jax_array_like(x: Any) -> bool:
    """True for anything with a ``shape`` and a ``dtype``: jax/numpy arrays, ``ShapeDtypeStruct``."""
    return hasattr(x, "shape") and hasattr(x, "dtype")


def is_scalarish(x: Any) -> bool:
    """True for Python scalars, 0-d arrays and 0-d NamedArrays."""
    if isinstance(x, NamedArray):
        return len(x.axes) == 0
    if isinstance(x, (bool, int, float, complex)):
        return True
    return is_jax_array_like(x) and len(x.shape) == 0


def ensure_scalar(x: Any, *, name: str = "value") -> Any:
    """Return ``x`` (the raw array of a 0-d NamedArray); a NamedArray with axes is a `TypeError`."""
    if isinstance(x, NamedArray):
        if x.axes:
            raise NamedTypeError(
                f"ensure_scalar: expected a scalar for {name!r}, got a NamedArray {format_shape(x.axes)}; "
                f"reduce its axes first"
            )
        return x.array
    return x


def is_pallas_dslice(x: Any) -> bool:
    """True for the ``Slice`` objects built by ``jax.experimental.pallas.dslice``."""
    try:
        from jax.experimental import pallas
    except ImportError:  # pallas is optional in some jax builds
        return False
    return isinstance(x, pallas.Slice)
